//! Matrix products: `kernels::matmul` against a direct `gemm::gemm` call on the same buffers
//! with the same parallelism, so the difference is adnet's own overhead (shape checks,
//! dispatch, output reset). Throughput is `2·m·n·k` elements, so criterion's elements/s is
//! FLOP/s.
//!
//! Run with `cargo bench -p adnet-tensor --bench matmul`.

use std::hint::black_box;
use std::time::Duration;

use adnet_tensor::rand::{rngs::StdRng, SeedableRng};
use adnet_tensor::{kernels, Element, Tensor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gemm::Parallelism;

/// `[m x k] @ [k x n]` cases: an MLP layer's forward pass on a 256 batch (784-1024 and
/// 1024-1024) and a small 64 batch.
const CASES: [(usize, usize, usize); 3] = [(256, 784, 1024), (256, 1024, 1024), (64, 784, 128)];

fn bench_case<T: Element>(c: &mut Criterion, (m, k, n): (usize, usize, usize)) {
    let dtype = T::DTYPE;
    let mut rng = StdRng::seed_from_u64(42);
    let a = Tensor::uniform([m, k], -1.0, 1.0, dtype, &mut rng).expect("valid bounds");
    let b = Tensor::uniform([k, n], -1.0, 1.0, dtype, &mut rng).expect("valid bounds");
    let mut out = Tensor::zeros([m, n], dtype);

    let mut group = c.benchmark_group(format!("matmul/{dtype}/{m}x{k}x{n}"));
    group.throughput(Throughput::Elements((2 * m * n * k) as u64));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    group.bench_function("adnet", |bencher| {
        bencher
            .iter(|| kernels::matmul(black_box(&a), black_box(&b), &mut out).expect("shapes fit"))
    });

    let parallelism = if m * n * k >= kernels::PARALLEL_THRESHOLD {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    let lhs = a.as_slice::<T>().expect("dtype T");
    let rhs = b.as_slice::<T>().expect("dtype T");
    let mut dst = vec![T::zero(); m * n];
    group.bench_function("gemm", |bencher| {
        bencher.iter(|| {
            #[allow(unsafe_code)] // the hand-written baseline: gemm's raw-pointer API
            // SAFETY: lhs is m x k, rhs k x n and dst m x n, all row-major and exactly that
            // long (built above), so every offset `gemm` touches is in bounds; dst is a
            // separate vector, written only (`read_dst = false`).
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    dst.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    black_box(lhs).as_ptr(),
                    1,
                    k as isize,
                    black_box(rhs).as_ptr(),
                    1,
                    n as isize,
                    T::zero(),
                    T::one(),
                    false,
                    false,
                    false,
                    parallelism,
                )
            }
        })
    });
    group.finish();
}

/// W4's backward products `op(a) @ op(b)` as `(m, k, n, transpose_a, transpose_b)`:
/// `dX = dY·Wᵀ` (256x1024 by (1024x1024)ᵀ) and `dW = Xᵀ·dY` ((256x1024)ᵀ and (256x784)ᵀ by
/// 256x1024); and the three products of W4's 10-wide last layer, forward `H·W` (256x1024 by
/// 1024x10), `dH = dY·Wᵀ` (256x10 by (1024x10)ᵀ) and `dW = Hᵀ·dY`.
const BACKWARD_CASES: [(usize, usize, usize, bool, bool); 6] = [
    (256, 1024, 1024, false, true),
    (1024, 256, 1024, true, false),
    (784, 256, 1024, true, false),
    (256, 1024, 10, false, false),
    (256, 10, 1024, false, true),
    (1024, 256, 10, true, false),
];

/// Each backward product with its transpose flags beside the same `m x k x n` product on
/// row-major operands.
fn bench_transposed(c: &mut Criterion, (m, k, n, ta, tb): (usize, usize, usize, bool, bool)) {
    let mut rng = StdRng::seed_from_u64(42);
    let mut uniform = |dims: [usize; 2]| {
        Tensor::uniform(dims, -1.0, 1.0, f32::DTYPE, &mut rng).expect("valid bounds")
    };
    let (a, b) = (uniform([m, k]), uniform([k, n]));
    let a_t = uniform(if ta { [k, m] } else { [m, k] });
    let b_t = uniform(if tb { [n, k] } else { [k, n] });
    let mut out = Tensor::zeros([m, n], f32::DTYPE);

    let flags = format!(
        "{}{}",
        if ta { "T" } else { "N" },
        if tb { "T" } else { "N" }
    );
    let mut group = c.benchmark_group(format!("matmul_t/f32/{m}x{k}x{n}"));
    group.throughput(Throughput::Elements((2 * m * n * k) as u64));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("NN", |bencher| {
        bencher.iter(|| kernels::matmul(black_box(&a), black_box(&b), &mut out).expect("fits"))
    });
    if ta || tb {
        group.bench_function(flags, |bencher| {
            bencher.iter(|| {
                kernels::matmul_t(black_box(&a_t), black_box(&b_t), ta, tb, &mut out).expect("fits")
            })
        });
    }
    group.finish();
}

/// `kernels::transpose` of the matrices W4's backward products read transposed.
fn bench_transpose(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(42);
    let mut group = c.benchmark_group("transpose/f32");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    for (rows, cols) in [(1024, 1024), (256, 1024), (256, 784)] {
        let x = Tensor::uniform([rows, cols], -1.0, 1.0, f32::DTYPE, &mut rng).expect("bounds");
        let mut out = Tensor::default();
        group.throughput(Throughput::Bytes((rows * cols * 4) as u64));
        group.bench_function(format!("{rows}x{cols}"), |bencher| {
            bencher.iter(|| kernels::transpose(black_box(&x), &mut out).expect("a matrix"))
        });
    }
    group.finish();
}

fn matmul(c: &mut Criterion) {
    for case in CASES {
        bench_case::<f32>(c, case);
        bench_case::<f64>(c, case);
    }
    for case in BACKWARD_CASES {
        bench_transposed(c, case);
    }
    bench_transpose(c);
}

criterion_group!(benches, matmul);
criterion_main!(benches);
