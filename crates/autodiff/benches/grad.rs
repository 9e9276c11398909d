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
use adnet_graph::random::{random_dag, FlatTape, RandomDagConfig};
use adnet_graph::{networks, Graph, NodeId};
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

        let mut tape = FlatTape::from_dag(&g, &dag).expect("a W2 graph");
        let tape_check = tape.value_and_grad() + tape.gradient().iter().sum::<f64>();
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
            tape.memory_bytes() / 1_000_000
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
