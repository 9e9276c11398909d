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

fn matmul(c: &mut Criterion) {
    for case in CASES {
        bench_case::<f32>(c, case);
        bench_case::<f64>(c, case);
    }
}

criterion_group!(benches, matmul);
criterion_main!(benches);
