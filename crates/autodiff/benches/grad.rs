//! Gradient benchmarks, each beside its hand-written baseline in the same group:
//! - `w1/value_and_grad`: the lecture's network, value and the gradient w.r.t. its 5 leaves
//!   (new input each run), against hand-derived straight-line Rust;
//! - `w2/value_and_grad/N`: the random scalar DAG, value and gradient w.r.t. its 16 leaves,
//!   against a flat tape doing one forward and one reverse pass;
//! - `w2/grad_build/N` and `w2/grad_compile/N`: building the gradient graph and compiling it.
//!
//! Memory (bytes held after construction, and peak during a run) is printed per N, measured
//! with a counting allocator.
//!
//! Run: `cargo bench -p adnet-autodiff --bench grad`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adnet_autodiff::{grad, value_and_grad};
use adnet_graph::random::{random_dag, RandomDag, RandomDagConfig};
use adnet_graph::{networks, Graph, NodeId, NodeKind};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Tracks live and peak heap bytes.
struct Tracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

fn w1(c: &mut Criterion) {
    let mut group = c.benchmark_group("w1/value_and_grad");
    let g = Graph::new();
    let net = networks::lecture(&g).expect("builds");
    let (x, y, o, wrt) = (net.x, net.y, net.o, net.leaves());
    let mut step = value_and_grad(&g, o, &wrt).expect("differentiates");
    step.plan().set_scalar(y, 0.5).expect("input");
    println!("w1: {:?}", step.plan().stats());
    let mut i = 0u64;
    group.bench_function("plan", |b| {
        b.iter(|| {
            i += 1;
            let plan = step.plan();
            plan.set_scalar(x, black_box(1.0 + 1e-6 * (i % 100_000) as f64))
                .expect("input");
            step.run(&g).expect("runs");
            black_box((step.value().expect("value"), step.grad(4).flat(0)))
        })
    });
    let mut i = 0u64;
    group.bench_function("handwritten", |b| {
        b.iter(|| {
            i += 1;
            let x = black_box(1.0 + 1e-6 * (i % 100_000) as f64);
            black_box(networks::lecture_gradient(
                x,
                black_box(0.5),
                black_box(networks::LECTURE_PARAMS),
            ))
        })
    });
    group.finish();
}

/// The W2 DAG as a flat tape with a reverse pass.
struct Tape {
    codes: Vec<u8>,
    lhs: Vec<u32>,
    rhs: Vec<u32>,
    values: Vec<f64>,
    adjoints: Vec<f64>,
    leaves: usize,
    output: Vec<u32>,
}

impl Tape {
    fn from_dag(g: &Graph, dag: &RandomDag) -> Tape {
        let mut tape = Tape {
            codes: Vec::new(),
            lhs: Vec::new(),
            rhs: Vec::new(),
            values: dag
                .leaf_values
                .iter()
                .map(|v| v.to_scalar().expect("scalar"))
                .collect(),
            adjoints: Vec::new(),
            leaves: dag.leaves.len(),
            output: Vec::new(),
        };
        for &node in &dag.nodes {
            let NodeKind::Op { op, inputs } = g.kind(node).expect("exists") else {
                unreachable!("dag nodes are ops")
            };
            let code = ["add", "sub", "mul", "tanh", "sin", "sigmoid"]
                .iter()
                .position(|&n| n == op.name())
                .expect("a W2 op") as u8;
            tape.codes.push(code);
            tape.lhs.push(inputs[0].index() as u32);
            tape.rhs.push(inputs.get(1).map_or(0, |i| i.index() as u32));
            tape.values.push(0.0);
        }
        tape.adjoints = vec![0.0; tape.values.len()];
        let first = dag.nodes.len().saturating_sub(16);
        tape.output = dag.nodes[first..]
            .iter()
            .map(|n| n.index() as u32)
            .collect();
        tape
    }

    fn bytes(&self) -> usize {
        self.codes.len()
            + 4 * (self.lhs.len() + self.rhs.len() + self.output.len())
            + 8 * (self.values.len() + self.adjoints.len())
    }

    #[inline(never)]
    fn value_and_grad(&mut self) -> f64 {
        let (v, n) = (&mut self.values, self.leaves);
        for k in 0..self.codes.len() {
            let (a, b) = (v[self.lhs[k] as usize], v[self.rhs[k] as usize]);
            v[n + k] = match self.codes[k] {
                0 => a + b,
                1 => a - b,
                2 => a * b,
                3 => a.tanh(),
                4 => a.sin(),
                _ => 1.0 / (1.0 + (-a).exp()),
            };
        }
        let adj = &mut self.adjoints;
        adj.fill(0.0);
        for &o in &self.output {
            adj[o as usize] += 1.0;
        }
        for k in (0..self.codes.len()).rev() {
            let (l, r, bar) = (self.lhs[k] as usize, self.rhs[k] as usize, adj[n + k]);
            if bar == 0.0 {
                continue;
            }
            let y = v[n + k];
            match self.codes[k] {
                0 => {
                    adj[l] += bar;
                    adj[r] += bar;
                }
                1 => {
                    adj[l] += bar;
                    adj[r] -= bar;
                }
                2 => {
                    adj[l] += bar * v[r];
                    adj[r] += bar * v[l];
                }
                3 => adj[l] += bar * (1.0 - y * y),
                4 => adj[l] += bar * v[l].cos(),
                _ => adj[l] += bar * y * (1.0 - y),
            }
        }
        self.output.iter().map(|&o| v[o as usize]).sum::<f64>() + adj[..n].iter().sum::<f64>()
    }
}

fn w2(c: &mut Criterion) {
    for &n in &[10_000usize, 100_000, 1_000_000] {
        let mut group = c.benchmark_group("w2");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(4))
            .warm_up_time(Duration::from_secs(1));
        group.throughput(Throughput::Elements(n as u64));

        let before = LIVE.load(Ordering::Relaxed);
        let g = Graph::new();
        let dag = random_dag(&g, &RandomDagConfig::w2(n, 42)).expect("builds");
        let forward_bytes = LIVE.load(Ordering::Relaxed) - before;
        group.bench_with_input(BenchmarkId::new("grad_build", n), &n, |b, _| {
            b.iter_batched(
                || {
                    let g = Graph::new();
                    let dag = random_dag(&g, &RandomDagConfig::w2(n, 42)).expect("builds");
                    (g, dag)
                },
                |(g, dag)| black_box(grad(&g, dag.output, &dag.leaves).expect("grad").len()),
                criterion::BatchSize::PerIteration,
            )
        });
        let grads: Vec<NodeId> = grad(&g, dag.output, &dag.leaves)
            .expect("grad")
            .iter()
            .map(|v| v.id())
            .collect();
        let graph_bytes = LIVE.load(Ordering::Relaxed) - before;
        let outputs: Vec<NodeId> = std::iter::once(dag.output)
            .chain(grads.iter().copied())
            .collect();
        group.bench_with_input(BenchmarkId::new("grad_compile", n), &n, |b, _| {
            b.iter(|| {
                black_box(
                    g.compile(outputs.iter().copied())
                        .expect("compiles")
                        .stats(),
                )
            })
        });
        let before_plan = LIVE.load(Ordering::Relaxed);
        let mut plan = g.compile(outputs.iter().copied()).expect("compiles");
        let plan_bytes = LIVE.load(Ordering::Relaxed) - before_plan;
        let read: Vec<NodeId> = plan.inputs().collect();
        for (leaf, value) in dag.leaves.iter().zip(&dag.leaf_values) {
            if read.contains(leaf) {
                plan.set_input(*leaf, value).expect("leaf");
            }
        }
        plan.run(&g).expect("runs");
        let live = LIVE.load(Ordering::Relaxed);
        PEAK.store(live, Ordering::Relaxed);
        plan.run(&g).expect("runs");
        let run_peak = PEAK.load(Ordering::Relaxed) - live;

        let mut tape = Tape::from_dag(&g, &dag);
        let tape_check = tape.value_and_grad();
        let ours: f64 = plan.scalar(dag.output).expect("value")
            + (0..dag.leaves.len())
                .map(|k| plan.output_at(k + 1).to_scalar().expect("scalar"))
                .sum::<f64>();
        assert!(
            (ours - tape_check).abs() <= 1e-9 * tape_check.abs().max(1.0),
            "{ours} vs {tape_check}"
        );
        println!(
            "w2 N={n}: {:?}; forward graph {} MB, with gradient {} MB, plan {} MB, run peak {} B; tape {} MB",
            plan.stats(),
            forward_bytes / 1_000_000,
            graph_bytes / 1_000_000,
            plan_bytes / 1_000_000,
            run_peak,
            tape.bytes() / 1_000_000
        );
        group.bench_with_input(BenchmarkId::new("value_and_grad/plan", n), &n, |b, _| {
            b.iter(|| {
                plan.run(&g).expect("runs");
                black_box(plan.output_at(1).flat(0))
            })
        });
        group.bench_with_input(BenchmarkId::new("value_and_grad/tape", n), &n, |b, _| {
            b.iter(|| black_box(tape.value_and_grad()))
        });
        group.finish();
    }
}

criterion_group!(benches, w1, w2);
criterion_main!(benches);
