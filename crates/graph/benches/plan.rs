//! Plan benchmarks, each beside its hand-written baseline in the same group so the ratio is
//! measured in one sitting:
//! - `w1/forward`: the lecture's network (f64 scalars, new input each run) against
//!   straight-line Rust computing the same formula;
//! - `w2/forward/N`: the random scalar DAG of N nodes against a flat struct-of-arrays tape;
//! - `w2/build/N`, `w2/compile/N`: graph construction and compilation, timed apart.
//!
//! Run: `cargo bench -p adnet-graph --bench plan`.

use std::hint::black_box;
use std::time::Duration;

use adnet_graph::random::{random_dag, FlatTape, RandomDagConfig};
use adnet_graph::{networks, Graph, NodeId};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn w1(c: &mut Criterion) {
    let mut group = c.benchmark_group("w1/forward");
    let g = Graph::new();
    let net = networks::lecture(&g).expect("the lecture network builds");
    let (x, y, o) = (net.x, net.y, net.o);
    let mut plan = g.compile([o]).expect("compiles");
    plan.set_scalar(y, 0.5).expect("y is an input");
    let mut i = 0u64;
    group.bench_function("plan", |b| {
        b.iter(|| {
            i += 1;
            plan.set_scalar(x, black_box(1.0 + 1e-6 * (i % 100_000) as f64))
                .expect("x is an input");
            plan.run(&g).expect("runs");
            black_box(plan.scalar(o).expect("o is an output"))
        })
    });
    let mut i = 0u64;
    group.bench_function("handwritten", |b| {
        b.iter(|| {
            i += 1;
            let x = black_box(1.0 + 1e-6 * (i % 100_000) as f64);
            black_box(networks::lecture_value(
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
            .measurement_time(Duration::from_secs(3))
            .warm_up_time(Duration::from_secs(1));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("build", n), &n, |b, &n| {
            b.iter(|| {
                let g = Graph::new();
                black_box(
                    random_dag(&g, &RandomDagConfig::w2(n, 42))
                        .expect("builds")
                        .output,
                )
            })
        });
        let g = Graph::new();
        let dag = random_dag(&g, &RandomDagConfig::w2(n, 42)).expect("builds");
        group.bench_with_input(BenchmarkId::new("compile", n), &n, |b, _| {
            b.iter(|| black_box(g.compile([dag.output]).expect("compiles").stats()))
        });
        let mut plan = g.compile([dag.output]).expect("compiles");
        let read: Vec<NodeId> = plan.inputs().collect();
        for (leaf, value) in dag.leaves.iter().zip(&dag.leaf_values) {
            if read.contains(leaf) {
                plan.set_input(*leaf, value).expect("leaf is an input");
            }
        }
        println!("w2 N={n}: {:?}", plan.stats());
        group.bench_with_input(BenchmarkId::new("forward/plan", n), &n, |b, _| {
            b.iter(|| {
                plan.run(&g).expect("runs");
                black_box(plan.scalar(dag.output).expect("output"))
            })
        });
        let mut tape = FlatTape::from_dag(&g, &dag).expect("a W2 graph");
        plan.run(&g).expect("runs");
        let expected = plan.scalar(dag.output).expect("output");
        assert!((tape.forward() - expected).abs() <= 1e-9 * expected.abs().max(1.0));
        group.bench_with_input(BenchmarkId::new("forward/tape", n), &n, |b, _| {
            b.iter(|| black_box(tape.forward()))
        });
        group.finish();
    }
}

criterion_group!(benches, w1, w2);
criterion_main!(benches);
