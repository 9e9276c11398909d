//! Levenberg-Marquardt epochs (`docs/benchmarks.md`), split into their parts so each is
//! measured in the same sitting as the forward pass it is compared with:
//! - `forward`: the residuals `r(θ)` of the whole batch (one run of the value plan);
//! - `jacobian`: the residuals and their Jacobian `∂r/∂θ` (one run of the Jacobian plan);
//! - `normal_equations`: `JᵀJ` and `Jᵀr`;
//! - `solve`: Cholesky factorisation of `JᵀJ + μI` and the two triangular solves;
//! - `epoch`: one whole Levenberg-Marquardt iteration (Jacobian, normal equations, as many
//!   damped solves and trial evaluations as it takes).
//!
//! Two fits: `lm_1_10_1`, a 1-10-1 tanh network (31 parameters) on 100 points of `sin`, and
//! `lm_10_20_1`, a 10-20-1 tanh network (241 parameters) on the 331 training rows of the
//! diabetes data (standardised). Both f64.
//!
//! Run: `cargo bench -p adnet-nn --bench classic` (about a minute on 2 cores).

use std::hint::black_box;
use std::time::Duration;

use adnet_graph::Graph;
use adnet_nn::classic::{linalg, FullBatchMethod, GraphObjective, LevenbergMarquardt, Objective};
use adnet_nn::data::{CsvOptions, DataSet, TargetColumns};
use adnet_nn::layers::{Activation, Mlp, Module};
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::SeedableRng;
use adnet_tensor::{DType, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};

/// A network's residuals `net(x) − t` over a whole data set, as a least-squares objective, and
/// its parameters `θ`.
fn fit<'g>(
    g: &'g Graph,
    sizes: &[usize],
    x: &Tensor,
    t: &Tensor,
) -> (GraphObjective<'g>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(7);
    let model = Mlp::new(sizes)
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(g, "net", &mut rng)
        .expect("valid sizes");
    let input = g
        .input("x", x.shape().clone(), DType::F64)
        .expect("new name");
    let target = g
        .input("t", t.shape().clone(), DType::F64)
        .expect("new name");
    let residuals = model.forward(g, input).expect("shapes match") - target;
    let ids: Vec<_> = model.parameters().into_iter().map(|(_, id)| id).collect();
    let mut objective = GraphObjective::least_squares(g, residuals, &ids).expect("residuals");
    objective.set_input(input, x).expect("input");
    objective.set_input(target, t).expect("input");
    let theta = objective.params();
    (objective, theta)
}

/// `sin` on 100 points of `[-π, π]`.
fn sine() -> (Tensor, Tensor) {
    let x: Vec<f64> = (0..100)
        .map(|i| -std::f64::consts::PI + 2.0 * std::f64::consts::PI * i as f64 / 99.0)
        .collect();
    let t: Vec<f64> = x.iter().map(|x| x.sin()).collect();
    (
        Tensor::from_vec(x, [100, 1]).expect("100 values"),
        Tensor::from_vec(t, [100, 1]).expect("100 values"),
    )
}

/// The diabetes data's 75 % training split, features standardised, target standardised.
fn diabetes() -> (Tensor, Tensor) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/diabetes.csv");
    let options = CsvOptions {
        targets: TargetColumns::Columns(vec![10]),
        has_header: true,
        dtype: DType::F64,
        ..CsvOptions::default()
    };
    let data = DataSet::from_csv(path, &options).expect("data/diabetes.csv");
    let (mut train, _) = data.split(0.75, 0).expect("a fraction in (0, 1)");
    train.standardize();
    let t = train.targets().to_f64_vec();
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    let std = (t.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / t.len() as f64).sqrt();
    let t: Vec<f64> = t.iter().map(|v| (v - mean) / std).collect();
    let n = t.len();
    (
        train.features().clone(),
        Tensor::from_vec(t, [n, 1]).expect("n values"),
    )
}

fn bench_fit(c: &mut Criterion, name: &str, sizes: &[usize], x: &Tensor, t: &Tensor) {
    let g = Graph::new();
    let (mut objective, theta) = fit(&g, sizes, x, t);
    let (m, n) = (
        objective.residual_count().expect("least squares"),
        objective.dim(),
    );
    let mut r = vec![0.0; m];
    let mut jac = vec![0.0; m * n];
    let mut gram = vec![0.0; n * n];
    let mut gradient = vec![0.0; n];
    objective
        .residuals_jacobian(&theta, &mut r, &mut jac)
        .expect("runs");
    let mut group = c.benchmark_group(name);
    group.bench_function("forward", |b| {
        b.iter(|| {
            objective
                .residuals(black_box(&theta), &mut r)
                .expect("runs")
        })
    });
    group.bench_function("jacobian", |b| {
        b.iter(|| {
            objective
                .residuals_jacobian(black_box(&theta), &mut r, &mut jac)
                .expect("runs")
        })
    });
    group.bench_function("normal_equations", |b| {
        b.iter(|| {
            linalg::gram(black_box(&jac), m, n, &mut gram);
            linalg::gemv_transposed(&jac, m, n, &r, &mut gradient);
        })
    });
    linalg::gram(&jac, m, n, &mut gram);
    let mut factor = gram.clone();
    let mut step = gradient.clone();
    group.bench_function("solve", |b| {
        b.iter(|| {
            factor.copy_from_slice(&gram);
            for i in 0..n {
                factor[i * n + i] += 1e-3;
            }
            linalg::cholesky(&mut factor, n).expect("positive definite");
            step.copy_from_slice(&gradient);
            linalg::cholesky_solve(&factor, n, &mut step);
        })
    });
    group.bench_function("epoch", |b| {
        b.iter_batched(
            || (LevenbergMarquardt::default(), theta.clone()),
            |(mut lm, mut theta)| lm.iterate(&mut objective, &mut theta).expect("runs"),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn lm(c: &mut Criterion) {
    let (x, t) = sine();
    bench_fit(c, "lm_1_10_1", &[1, 10, 1], &x, &t);
    let (x, t) = diabetes();
    bench_fit(c, "lm_10_20_1", &[10, 20, 1], &x, &t);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = lm
}
criterion_main!(benches);
