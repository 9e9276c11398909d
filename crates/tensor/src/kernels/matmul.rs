//! Matrix products through the `gemm` crate, on all cores when the product is big enough.
//!
//! Transposed operands are read through swapped strides, except a large transposed right
//! operand, which is first copied row-major into a reused scratch matrix (see
//! [`TRANSPOSE_COPY_THRESHOLD`]), and a narrow product `aᵀ·b`, which is computed as `bᵀ·a`
//! and transposed into place (see [`NARROW_OUTPUT`]). A batch of products loops over the broadcast batch index;
//! when only the left operand is batched (activations `[B, m, k]` times weights `[k, n]`) the
//! batch is folded into one `B·m x k` product.

use std::cell::RefCell;

use gemm::Parallelism;
use smallvec::SmallVec;

use super::transpose;
use crate::{dispatch, Element, Result, Shape, Tensor, TensorError};

/// Products of at least this many multiply-adds (`m·n·k`) run on all cores; smaller ones stay
/// on the calling thread. On the 2-core development machine, with the other core busy, gemm
/// on rayon was 10-50% slower than on one thread for every product up to `2^21` (128³); inside
/// a whole training step (W3: 64·784·128 = 6.4 M multiply-adds per product) forking at `2^22`
/// cost a quarter of the step in scheduler time, and `2^24` made the step 1.5x faster
/// (564 µs to 374 µs) while leaving W4's products (`2^27` and up) parallel. `gemm` applies its
/// own threshold (`48·48·256` per block) as well.
pub const PARALLEL_THRESHOLD: usize = 1 << 24;

/// Products of at most this many multiply-adds (`m·n·k`) run as a plain loop instead of
/// calling `gemm`, whose setup (and the scratch vector it allocates on every call) costs more
/// than the arithmetic for matrices this small, as in the lecture's 2-2-1 networks.
pub const SMALL_PRODUCT: usize = 256;

/// The shape of `a @ b` (optionally with either operand's last two axes transposed): both
/// rank >= 2, inner dimensions equal, leading (batch) dimensions broadcast.
///
/// # Errors
/// [`TensorError::RankMismatch`] or
/// [`TensorError::ShapeMismatch`] naming `matmul` and both
/// shapes.
pub fn matmul_shape(a: &Shape, b: &Shape, transpose_a: bool, transpose_b: bool) -> Result<Shape> {
    let (m, k_a) = matrix_dims(a, transpose_a)?;
    let (k_b, n) = matrix_dims(b, transpose_b)?;
    let mismatch = || TensorError::ShapeMismatch {
        op: "matmul",
        lhs: a.clone(),
        rhs: b.clone(),
    };
    if k_a != k_b {
        return Err(mismatch());
    }
    let batch =
        Shape::broadcast("matmul", &batch_shape(a), &batch_shape(b)).map_err(|_| mismatch())?;
    let mut dims: SmallVec<[usize; 8]> = batch.dims().into();
    dims.extend([m, n]);
    Ok(Shape::new(&dims))
}

/// `a @ b`: 2-D, or batched over broadcast leading axes.
///
/// # Errors
/// As [`matmul_t`].
pub fn matmul(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()> {
    matmul_t(a, b, false, false, out)
}

/// `op(a) @ op(b)` where `op` transposes the last two axes when asked (the gradient of a
/// product needs `a^T g` and `g b^T`), materialising only a large right transpose, into a
/// per-thread scratch matrix reused across calls ([`TRANSPOSE_COPY_THRESHOLD`]); a narrow
/// output of `aᵀ·op(b)` is computed transposed and then transposed into place
/// ([`NARROW_OUTPUT`]).
///
/// Runs on all cores (rayon's global pool) when `m·n·k >= `[`PARALLEL_THRESHOLD`], on the
/// calling thread otherwise. An inner dimension of 0 gives zeros.
///
/// # Errors
/// As [`matmul_shape`]; [`TensorError::DTypeMismatch`] when the dtypes differ.
///
/// # Examples
/// ```
/// use adnet_tensor::{kernels, Tensor};
/// let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2])?;
/// let b = Tensor::from_vec(vec![1.0f64, 0.0, 1.0, 1.0], [2, 2])?;
/// let mut out = Tensor::default();
/// kernels::matmul_t(&a, &b, true, false, &mut out)?; // a^T @ b
/// assert_eq!(out.to_f64_vec(), vec![4.0, 3.0, 6.0, 4.0]);
/// # Ok::<(), adnet_tensor::TensorError>(())
/// ```
pub fn matmul_t(
    a: &Tensor,
    b: &Tensor,
    transpose_a: bool,
    transpose_b: bool,
    out: &mut Tensor,
) -> Result<()> {
    let shape = matmul_shape(a.shape(), b.shape(), transpose_a, transpose_b)?;
    if a.dtype() != b.dtype() {
        return Err(TensorError::DTypeMismatch {
            op: "matmul",
            lhs: a.dtype(),
            rhs: b.dtype(),
        });
    }
    out.reset(&shape, a.dtype());
    let (m, n) = (shape[shape.rank() - 2], shape[shape.rank() - 1]);
    let k = matrix_dims(a.shape(), transpose_a)?.1;
    let macs = m.saturating_mul(n).saturating_mul(k);
    let narrow = transpose_a && n < NARROW_OUTPUT && m >= 4 * NARROW_OUTPUT;
    if narrow && macs >= NARROW_PRODUCT && a.rank() == 2 && b.rank() == 2 {
        let done = OUT_SCRATCH.with(|scratch| {
            let Ok(mut scratch) = scratch.try_borrow_mut() else {
                return Ok(false); // in use further up this thread's stack
            };
            // (aᵀ·op(b))ᵀ = op(b)ᵀ·a: `a` is then a row-major right operand, wide along m
            let flipped = Shape::from([n, m]);
            scratch.reset(&flipped, a.dtype());
            strided_product(b, a, !transpose_b, false, &flipped, &mut scratch)?;
            transpose(&scratch, out)?;
            Ok::<_, TensorError>(true)
        })?;
        if done {
            return Ok(());
        }
    }
    if transpose_b && macs >= TRANSPOSE_COPY_THRESHOLD {
        let copied = RIGHT_SCRATCH.with(|scratch| {
            let Ok(mut scratch) = scratch.try_borrow_mut() else {
                return Ok(false); // in use further up this thread's stack: read through strides
            };
            transpose(b, &mut scratch)?;
            strided_product(a, &scratch, transpose_a, false, &shape, out)?;
            Ok::<_, TensorError>(true)
        })?;
        if copied {
            return Ok(());
        }
    }
    strided_product(a, b, transpose_a, transpose_b, &shape, out)
}

/// Products of at least this many multiply-adds (`m·n·k`) with a transposed right operand copy
/// that operand into a row-major scratch matrix ([`transpose`]) and multiply that. `gemm`
/// reads a right operand with contiguous rows in place but packs a transposed one, which
/// (on the 2-core development machine, f32) ran W4's `dX = dY·Wᵀ`, 256x1024 by
/// (1024x1024)ᵀ, at 93-105 GFLOP/s against 145-172 row-major; with the copy (0.8-1.0 ms
/// of the product's 4.0-4.3 ms) it reaches 124-135 and the W4 step drops from about 23 ms to
/// about 21.5 ms. A transposed left operand is not copied: it ran within 5-10% of row-major
/// for W4's `dW = Xᵀ·dY`, and the copy bought nothing there. The threshold is
/// [`PARALLEL_THRESHOLD`]: smaller products were not measured to gain.
pub const TRANSPOSE_COPY_THRESHOLD: usize = PARALLEL_THRESHOLD;

/// Outputs narrower than this many columns, from a transposed left operand (`aᵀ·b` with `a`
/// stored `[k, m]`, as a last layer's weight gradient `Hᵀ·dY`), are computed transposed,
/// `bᵀ·a`, into a scratch matrix, then transposed into place. `gemm` lays its vector lanes
/// along the output's rows, so a 10-wide output fills 10 of 16 `f32` lanes and the narrow
/// kernels run latency-bound: W4's `Hᵀ·dY` (1024x256 by 256x10) ran at 30 GFLOP/s. Transposed,
/// the output is 1024 wide and `a` a row-major right operand that needs no packing; the final
/// transpose moves only `m·n` elements.
pub const NARROW_OUTPUT: usize = 16;

/// The smallest product (`m·n·k` multiply-adds) taking the [`NARROW_OUTPUT`] path: below it
/// the product is too cheap for the extra transpose to pay.
pub const NARROW_PRODUCT: usize = 1 << 16;

thread_local! {
    /// The transposed result of a narrow product ([`NARROW_OUTPUT`]), reused across calls.
    static OUT_SCRATCH: RefCell<Tensor> = RefCell::new(Tensor::default());

    /// The row-major copy of a transposed right operand, reused so that a plan running the
    /// same products again allocates nothing here after its first run. It keeps the largest
    /// such operand this thread has multiplied.
    static RIGHT_SCRATCH: RefCell<Tensor> = RefCell::new(Tensor::default());
}

/// `op(a) @ op(b)` into `out` (already reset to `shape`), reading transposed operands through
/// swapped strides.
fn strided_product(
    a: &Tensor,
    b: &Tensor,
    transpose_a: bool,
    transpose_b: bool,
    shape: &Shape,
    out: &mut Tensor,
) -> Result<()> {
    dispatch!(a.dtype(), T => {
        let lhs = Operand::new(checked_slice::<T>(a)?, a.dims(), transpose_a);
        let rhs = Operand::new(checked_slice::<T>(b)?, b.dims(), transpose_b);
        batched_product(&lhs, &rhs, &batch_shape(shape), out.as_mut_slice::<T>()?);
    });
    Ok(())
}

/// `(rows, cols)` of the last two axes, swapped when `transposed`.
fn matrix_dims(shape: &Shape, transposed: bool) -> Result<(usize, usize)> {
    match *shape.dims() {
        [.., rows, cols] if transposed => Ok((cols, rows)),
        [.., rows, cols] => Ok((rows, cols)),
        _ => Err(TensorError::RankMismatch {
            op: "matmul",
            expected: 2,
            shape: shape.clone(),
        }),
    }
}

/// The leading (batch) axes of a shape of rank >= 2.
fn batch_shape(shape: &Shape) -> Shape {
    Shape::new(&shape.dims()[..shape.rank() - 2])
}

/// The data of `x`, checked to hold exactly its shape's element count (the raw-pointer product
/// relies on it; [`Tensor::storage_mut`] could break it).
fn checked_slice<T: Element>(x: &Tensor) -> Result<&[T]> {
    let data = x.as_slice::<T>()?;
    if data.len() != x.numel() {
        return Err(TensorError::LengthMismatch {
            shape: x.shape().clone(),
            expected: x.numel(),
            actual: data.len(),
        });
    }
    Ok(data)
}

/// One operand of a (batched) product: its data and the layout of `op(x)`.
struct Operand<'a, T> {
    data: &'a [T],
    /// The batch axes.
    batch: Shape,
    /// Rows and columns of `op(x)`.
    rows: usize,
    cols: usize,
    /// Strides (in elements) of a row and a column of `op(x)` within one matrix.
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> Operand<'a, T> {
    /// `dims` has rank >= 2 (checked by [`matmul_shape`]).
    fn new(data: &'a [T], dims: &[usize], transposed: bool) -> Self {
        let (rows, cols) = (dims[dims.len() - 2], dims[dims.len() - 1]);
        let batch = Shape::new(&dims[..dims.len() - 2]);
        if transposed {
            // x is stored [rows, cols]; op(x) = x^T is cols x rows, its (i, j) at j·cols + i
            Operand {
                data,
                batch,
                rows: cols,
                cols: rows,
                row_stride: 1,
                col_stride: cols,
            }
        } else {
            Operand {
                data,
                batch,
                rows,
                cols,
                row_stride: cols,
                col_stride: 1,
            }
        }
    }

    /// The `index`-th matrix of the batch.
    fn matrix(&self, index: usize) -> MatrixRef<'a, T> {
        let len = self.rows * self.cols;
        MatrixRef {
            data: &self.data[index * len..(index + 1) * len],
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }
}

/// A matrix read through strides.
struct MatrixRef<'a, T> {
    data: &'a [T],
    row_stride: usize,
    col_stride: usize,
}

impl<T> MatrixRef<'_, T> {
    /// Whether every element of a `rows x cols` matrix read through the strides lies inside
    /// `data`: the largest offset, `(rows-1)·row_stride + (cols-1)·col_stride`, is in bounds.
    fn holds(&self, rows: usize, cols: usize) -> bool {
        rows > 0 && cols > 0 && {
            let last = (rows - 1)
                .checked_mul(self.row_stride)
                .zip((cols - 1).checked_mul(self.col_stride))
                .and_then(|(r, c)| r.checked_add(c));
            last.is_some_and(|last| last < self.data.len())
        }
    }
}

/// Writes `op(a) @ op(b)` for every index of the broadcast `batch` into `out`, row-major
/// `[batch..., m, n]`.
fn batched_product<T: Element>(a: &Operand<T>, b: &Operand<T>, batch: &Shape, out: &mut [T]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if out.is_empty() {
        return;
    }
    if k == 0 {
        // the sum over an empty inner dimension
        out.fill(T::zero());
        return;
    }
    let count = batch.numel();
    if a.batch.numel() == count && b.batch.numel() == 1 && a.row_stride == k && a.col_stride == 1 {
        // a's row-major matrices stack into one (count·m) x k matrix, all times the same b
        let lhs = MatrixRef {
            data: a.data,
            row_stride: k,
            col_stride: 1,
        };
        product(count * m, n, k, &lhs, &b.matrix(0), out);
        return;
    }
    let a_strides = a.batch.broadcast_strides(batch);
    let b_strides = b.batch.broadcast_strides(batch);
    for (i, out_matrix) in out.chunks_exact_mut(m * n).enumerate() {
        let (a_index, b_index) = batch_offsets(i, batch.dims(), &a_strides, &b_strides);
        product(m, n, k, &a.matrix(a_index), &b.matrix(b_index), out_matrix);
    }
}

/// The offsets (in matrices) of batch position `flat` in two broadcast operands.
fn batch_offsets(mut flat: usize, dims: &[usize], a: &[usize], b: &[usize]) -> (usize, usize) {
    let (mut a_offset, mut b_offset) = (0, 0);
    for ((&dim, &a_stride), &b_stride) in dims.iter().zip(a).zip(b).rev() {
        let i = flat % dim;
        a_offset += i * a_stride;
        b_offset += i * b_stride;
        flat /= dim;
    }
    (a_offset, b_offset)
}

/// `dst = lhs @ rhs` for an `m x k` by `k x n` product into row-major `dst`, through `gemm`.
///
/// # Panics
/// When an operand's strides reach outside its data or `dst` is shorter than `m·n`: callers
/// derive both from checked shapes, so this guards soundness, not input.
#[allow(unsafe_code)] // the one call into gemm's raw-pointer API, bounds checked just above it
fn product<T: Element>(
    m: usize,
    n: usize,
    k: usize,
    lhs: &MatrixRef<T>,
    rhs: &MatrixRef<T>,
    dst: &mut [T],
) {
    assert!(
        lhs.holds(m, k) && rhs.holds(k, n) && m.checked_mul(n).is_some_and(|len| len <= dst.len()),
        "matmul: operand strides out of bounds for {m}x{k} by {k}x{n}"
    );
    if m * n * k <= SMALL_PRODUCT {
        small_product(m, n, k, lhs, rhs, dst);
        return;
    }
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_THRESHOLD {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: `m, n, k >= 1` and, by the assert above, every element `gemm` reads, at
    // `i·row_stride + j·col_stride` for `i < rows` and `j < cols`, lies inside `lhs.data` or
    // `rhs.data`, and every element it writes, at `i·n + j` for `i < m`, `j < n`, lies inside
    // `dst`. Strides are at most a slice length, so they fit in `isize`. `dst` is a unique
    // borrow, so it overlaps neither input. `T` is `f32` or `f64`, which `gemm` supports.
    // With `read_dst = false` gemm overwrites `dst` with `beta·lhs·rhs` (alpha is ignored), so
    // stale contents in `dst` are never read.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            T::zero(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `dst = lhs @ rhs` by the textbook loop, for products below [`SMALL_PRODUCT`].
fn small_product<T: Element>(
    m: usize,
    n: usize,
    k: usize,
    lhs: &MatrixRef<T>,
    rhs: &MatrixRef<T>,
    dst: &mut [T],
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for p in 0..k {
                acc = acc
                    + lhs.data[i * lhs.row_stride + p * lhs.col_stride]
                        * rhs.data[p * rhs.row_stride + j * rhs.col_stride];
            }
            dst[i * n + j] = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{broadcast_pair, dtype, tensor};
    use crate::{DType, Storage};
    use proptest::prelude::*;
    use rand::SeedableRng;

    /// `x[index]` for a tensor's row-major values.
    fn at(values: &[f64], dims: &[usize], index: &[usize]) -> f64 {
        values[index.iter().zip(dims).fold(0, |acc, (&i, &d)| acc * d + i)]
    }

    /// Element `(i, j)` of `op(x)` for the matrix at batch index `batch` (already broadcast).
    fn op_at(values: &[f64], dims: &[usize], batch: &[usize], i: usize, j: usize, t: bool) -> f64 {
        let mut index = batch.to_vec();
        index.extend(if t { [j, i] } else { [i, j] });
        at(values, dims, &index)
    }

    /// Naive batched product in f64: the result, and for each element `Σ_p |a_ip|·|b_pj|`,
    /// which bounds the rounding error of any summation order.
    fn naive_matmul(
        a: &Tensor,
        b: &Tensor,
        ta: bool,
        tb: bool,
    ) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
        let (ad, bd) = (a.dims(), b.dims());
        let (ar, br) = (ad.len(), bd.len());
        let (m, k) = if ta {
            (ad[ar - 1], ad[ar - 2])
        } else {
            (ad[ar - 2], ad[ar - 1])
        };
        let n = if tb { bd[br - 2] } else { bd[br - 1] };
        let batch_rank = (ar - 2).max(br - 2);
        let batch: Vec<usize> = (0..batch_rank)
            .map(|i| {
                let dim =
                    |d: &[usize], r: usize| (i + r - 2).checked_sub(batch_rank).map_or(1, |j| d[j]);
                let (x, y) = (dim(ad, ar), dim(bd, br));
                if x == 1 {
                    y
                } else {
                    x
                }
            })
            .collect();
        let (av, bv) = (a.to_f64_vec(), b.to_f64_vec());
        let mut out_dims = batch.clone();
        out_dims.extend([m, n]);
        let (mut values, mut bounds) = (Vec::new(), Vec::new());
        for flat in 0..batch.iter().product::<usize>() {
            let mut index = vec![0; batch_rank];
            let mut rest = flat;
            for (i, &d) in batch.iter().enumerate().rev() {
                index[i] = rest % d;
                rest /= d;
            }
            // each operand's own batch index: leading axes dropped, broadcast axes at 0
            let own = |dims: &[usize], rank: usize| -> Vec<usize> {
                let offset = batch_rank - (rank - 2);
                (0..rank - 2)
                    .map(|i| if dims[i] == 1 { 0 } else { index[offset + i] })
                    .collect()
            };
            let (a_batch, b_batch) = (own(ad, ar), own(bd, br));
            for i in 0..m {
                for j in 0..n {
                    let (mut sum, mut bound) = (0.0, 0.0);
                    for p in 0..k {
                        let x = op_at(&av, ad, &a_batch, i, p, ta);
                        let y = op_at(&bv, bd, &b_batch, p, j, tb);
                        sum += x * y;
                        bound += (x * y).abs();
                    }
                    values.push(sum);
                    bounds.push(bound);
                }
            }
        }
        (out_dims, values, bounds)
    }

    /// Checks `matmul_t` against the naive product, within `(k + 2)·eps·Σ|a||b|`, the
    /// worst-case rounding error of a length-k dot product.
    fn check_against_naive(a: &Tensor, b: &Tensor, ta: bool, tb: bool) {
        let mut out = Tensor::default();
        matmul_t(a, b, ta, tb, &mut out).unwrap();
        let (dims, expected, bounds) = naive_matmul(a, b, ta, tb);
        assert_eq!(out.dims(), dims.as_slice());
        assert_eq!(out.dtype(), a.dtype());
        let k = if ta {
            a.dims()[a.rank() - 2]
        } else {
            a.dims()[a.rank() - 1]
        };
        let eps = a.dtype().epsilon();
        for (i, ((v, e), bound)) in out
            .to_f64_vec()
            .into_iter()
            .zip(expected)
            .zip(bounds)
            .enumerate()
        {
            let tol = (k + 2) as f64 * eps * bound + f64::MIN_POSITIVE;
            assert!(
                (v - e).abs() <= tol,
                "element {i}: {v} vs {e} (tolerance {tol:e})"
            );
        }
    }

    /// Operands for `op(a) @ op(b)` with m, n, k in `0..40` and broadcast batch axes.
    fn operands() -> impl Strategy<Value = (Tensor, Tensor, bool, bool)> {
        (
            0usize..40,
            0usize..40,
            0usize..40,
            any::<bool>(),
            any::<bool>(),
            broadcast_pair(2, 3),
            dtype(),
        )
            .prop_flat_map(|(m, n, k, ta, tb, (batch_a, batch_b), d)| {
                let mut a_dims = batch_a.dims().to_vec();
                a_dims.extend(if ta { [k, m] } else { [m, k] });
                let mut b_dims = batch_b.dims().to_vec();
                b_dims.extend(if tb { [n, k] } else { [k, n] });
                (
                    tensor(a_dims.into(), d),
                    tensor(b_dims.into(), d),
                    Just(ta),
                    Just(tb),
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn matmul_matches_naive_triple_loop((a, b, ta, tb) in operands()) {
            check_against_naive(&a, &b, ta, tb);
        }
    }

    #[test]
    fn all_four_transpose_combinations_match_the_naive_product() -> Result<()> {
        let (m, n, k) = (7, 5, 3);
        let a = Tensor::from_vec((0..m * k).map(|i| i as f64 - 10.0).collect(), [m, k])?;
        let a_t = Tensor::from_vec((0..m * k).map(|i| (i * 7 % 11) as f64).collect(), [k, m])?;
        let b = Tensor::from_vec((0..k * n).map(|i| (i % 4) as f64 + 0.5).collect(), [k, n])?;
        let b_t = Tensor::from_vec((0..k * n).map(|i| i as f64 * 0.25).collect(), [n, k])?;
        for (lhs, ta) in [(&a, false), (&a_t, true)] {
            for (rhs, tb) in [(&b, false), (&b_t, true)] {
                check_against_naive(lhs, rhs, ta, tb);
            }
        }
        Ok(())
    }

    #[test]
    fn large_products_take_the_parallel_path_and_stay_correct() -> Result<()> {
        let (m, n, k) = (300, 300, 200);
        assert!(m * n * k >= PARALLEL_THRESHOLD);
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for dtype in [DType::F32, DType::F64] {
            let a = Tensor::uniform([k, m], -1.0, 1.0, dtype, &mut rng)?;
            let b = Tensor::uniform([n, k], -1.0, 1.0, dtype, &mut rng)?;
            check_against_naive(&a, &b, true, true);
            // a batch of two stacked into one product
            let a = Tensor::uniform([2, m, k], -1.0, 1.0, dtype, &mut rng)?;
            let b = Tensor::uniform([k, n], -1.0, 1.0, dtype, &mut rng)?;
            check_against_naive(&a, &b, false, false);
        }
        Ok(())
    }

    #[test]
    fn small_and_gemm_paths_agree_at_the_threshold() -> Result<()> {
        // 4x8x8 = 256 multiply-adds takes the loop, 4x8x9 = 288 takes gemm
        for (m, k, n) in [(4, 8, 8), (4, 9, 8)] {
            let a = Tensor::from_f64s(
                &(0..m * k).map(|v| v as f64 * 0.5 - 3.0).collect::<Vec<_>>(),
                [m, k],
                DType::F64,
            )?;
            let b = Tensor::from_f64s(
                &(0..k * n)
                    .map(|v| 1.0 - v as f64 * 0.25)
                    .collect::<Vec<_>>(),
                [k, n],
                DType::F64,
            )?;
            for (ta, tb) in [(false, false), (true, true)] {
                let (a, b) = if ta {
                    (transpose_copy(&a), transpose_copy(&b))
                } else {
                    (a.clone(), b.clone())
                };
                check_against_naive(&a, &b, ta, tb);
            }
        }
        Ok(())
    }

    #[test]
    fn narrow_outputs_of_a_transposed_left_operand_are_computed_transposed() -> Result<()> {
        // aᵀ·b with 10-wide outputs past NARROW_PRODUCT take the transposed path (with either
        // flag on b); a batched one, a wide one and one without aᵀ do not, and all agree with
        // the naive product
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for dtype in [DType::F32, DType::F64] {
            let mut uniform =
                |dims: &[usize]| Tensor::uniform(dims, -1.0, 1.0, dtype, &mut rng).unwrap();
            let (m, k, n) = (200, 300, 10);
            assert!(n < NARROW_OUTPUT && m * n * k >= NARROW_PRODUCT);
            let a = uniform(&[k, m]);
            check_against_naive(&a, &uniform(&[k, n]), true, false);
            check_against_naive(&a, &uniform(&[n, k]), true, true);
            check_against_naive(&uniform(&[2, k, m]), &uniform(&[k, n]), true, false);
            check_against_naive(&a, &uniform(&[k, 40]), true, false);
            check_against_naive(&uniform(&[m, k]), &uniform(&[k, n]), false, false);
        }
        Ok(())
    }

    /// A materialised transpose of a matrix, so the flags can be exercised on the same values.
    fn transpose_copy(x: &Tensor) -> Tensor {
        let mut out = Tensor::default();
        crate::kernels::transpose(x, &mut out).expect("a matrix");
        out
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() -> Result<()> {
        let a = Tensor::zeros([3, 0], DType::F32);
        let b = Tensor::zeros([0, 2], DType::F32);
        let mut out = Tensor::full([3, 2], 7.0, DType::F32);
        matmul(&a, &b, &mut out)?;
        assert_eq!(out, Tensor::zeros([3, 2], DType::F32));
        matmul(
            &Tensor::zeros([0, 4], DType::F64),
            &Tensor::zeros([4, 5], DType::F64),
            &mut out,
        )?;
        assert_eq!(out.shape(), &Shape::from([0, 5]));
        Ok(())
    }

    #[test]
    fn matmul_shape_broadcasts_batch_axes() -> Result<()> {
        let s = |d: &[usize]| Shape::from(d);
        assert_eq!(
            matmul_shape(&s(&[2, 3]), &s(&[3, 4]), false, false)?,
            s(&[2, 4])
        );
        assert_eq!(
            matmul_shape(&s(&[3, 2]), &s(&[4, 3]), true, true)?,
            s(&[2, 4])
        );
        assert_eq!(
            matmul_shape(&s(&[5, 1, 2, 3]), &s(&[4, 3, 6]), false, false)?,
            s(&[5, 4, 2, 6])
        );
        Ok(())
    }

    #[test]
    fn matmul_rejects_low_rank_operands() {
        let err = matmul_shape(&Shape::from([3]), &Shape::from([3, 2]), false, false).unwrap_err();
        assert_eq!(
            err,
            TensorError::RankMismatch {
                op: "matmul",
                expected: 2,
                shape: Shape::from([3])
            }
        );
        assert_eq!(err.to_string(), "matmul: expected rank 2, got shape [3]");
        let err = matmul_shape(&Shape::from([3, 2]), &Shape::scalar(), false, false).unwrap_err();
        assert_eq!(
            err,
            TensorError::RankMismatch {
                op: "matmul",
                expected: 2,
                shape: Shape::scalar()
            }
        );
    }

    #[test]
    fn matmul_rejects_mismatched_inner_and_batch_dimensions() {
        let mut out = Tensor::default();
        let a = Tensor::zeros([2, 3], DType::F32);
        let err = matmul(&a, &Tensor::zeros([2, 3], DType::F32), &mut out).unwrap_err();
        assert_eq!(
            err,
            TensorError::ShapeMismatch {
                op: "matmul",
                lhs: Shape::from([2, 3]),
                rhs: Shape::from([2, 3])
            }
        );
        assert_eq!(
            err.to_string(),
            "matmul: incompatible shapes [2, 3] and [2, 3]"
        );
        // the same operands fit once b is transposed
        assert!(matmul_t(
            &a,
            &Tensor::zeros([2, 3], DType::F32),
            false,
            true,
            &mut out
        )
        .is_ok());
        let err = matmul_shape(
            &Shape::from([2, 4, 3]),
            &Shape::from([3, 3, 5]),
            false,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "matmul: incompatible shapes [2, 4, 3] and [3, 3, 5]",
            "a batch mismatch names both full shapes"
        );
    }

    #[test]
    fn matmul_rejects_mixed_dtypes() {
        let a = Tensor::zeros([2, 3], DType::F32);
        let b = Tensor::zeros([3, 2], DType::F64);
        let err = matmul(&a, &b, &mut Tensor::default()).unwrap_err();
        assert_eq!(
            err,
            TensorError::DTypeMismatch {
                op: "matmul",
                lhs: DType::F32,
                rhs: DType::F64
            }
        );
        assert_eq!(err.to_string(), "matmul: dtype mismatch, f32 and f64");
    }

    /// The raw-pointer call must never see a buffer shorter than its shape claims.
    #[test]
    fn matmul_rejects_storage_shorter_than_the_shape() {
        let mut a = Tensor::zeros([2, 2], DType::F32);
        *a.storage_mut() = Storage::F32(vec![1.0; 3]);
        let err = matmul(
            &a,
            &Tensor::zeros([2, 2], DType::F32),
            &mut Tensor::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            TensorError::LengthMismatch {
                shape: Shape::from([2, 2]),
                expected: 4,
                actual: 3
            }
        );
    }

    #[test]
    fn matmul_reuses_the_output_allocation() -> Result<()> {
        let a = Tensor::ones([2, 30, 20], DType::F64);
        let b = Tensor::ones([20, 10], DType::F64);
        let mut out = Tensor::default();
        matmul(&a, &b, &mut out)?;
        let before = out.as_slice::<f64>()?.as_ptr();
        matmul(&a, &b, &mut out)?;
        matmul_t(&b, &b, true, false, &mut out)?;
        assert_eq!(out.as_slice::<f64>()?.as_ptr(), before);
        assert_eq!(out.to_f64_vec(), vec![20.0; 100]);
        Ok(())
    }
}
