//! Softmax, log-softmax and logsumexp over one axis, computed stably (the maximum is
//! subtracted first): `logsumexp([1e4, 1e4]) = 1e4 + ln 2`, never NaN or inf for finite input.
//!
//! The tensor is walked as `outer × len × inner` (`len` the axis, `inner` the product of the
//! dimensions after it). When the axis is the last one each lane along it is contiguous;
//! otherwise up to 64 neighbouring lanes are processed together, row by row, with their
//! running maxima and sums on the stack, so the loops read contiguous memory and nothing is
//! allocated.
//!
//! Non-finite input follows PyTorch: logsumexp is `-inf` along a lane of `-inf` (or an empty
//! lane) and `+inf` along a lane holding `+inf`; softmax and log-softmax are NaN along a lane
//! whose maximum is infinite; NaN propagates.
//!
//! # Errors
//! Each kernel returns [`TensorError::AxisOutOfRange`] naming it when `axis >= rank` (so a
//! rank-0 tensor has no axis to normalise over); `out` is left untouched then.

use num_traits::Float;
use smallvec::SmallVec;

use crate::{dispatch, Element, Result, Shape, Tensor, TensorError};

/// How many neighbouring lanes are processed together when the axis is not the last.
const LANES: usize = 64;

/// A shape seen around one axis: blocks of `len` rows of `inner` contiguous elements.
#[derive(Debug, Clone, Copy)]
struct Split {
    /// The length of the axis.
    len: usize,
    /// The number of elements after the axis: the product of the later dimensions.
    inner: usize,
}

impl Split {
    fn new(op: &'static str, shape: &Shape, axis: usize) -> Result<Split> {
        let dims = shape.dims();
        if axis >= dims.len() {
            return Err(TensorError::AxisOutOfRange {
                op,
                axis: isize::try_from(axis).unwrap_or(isize::MAX),
                rank: dims.len(),
            });
        }
        Ok(Split {
            len: dims[axis],
            inner: dims[axis + 1..].iter().product(),
        })
    }
}

/// The larger of `max` and `v`, NaN once either is NaN.
#[inline(always)]
fn max_nan<T: Float>(max: T, v: T) -> T {
    if v > max || v.is_nan() {
        v
    } else {
        max
    }
}

/// The logsumexp of a lane from its maximum and `sum(e^(x - max))`. An infinite maximum is the
/// answer itself (`-inf` when every element is `-inf`, `+inf` when one is `+inf`), where
/// `max + ln(sum)` would be NaN.
#[inline(always)]
fn logsumexp_of<T: Float>(max: T, sum: T) -> T {
    if max.is_infinite() {
        max
    } else {
        max + sum.ln()
    }
}

/// Which normalisation [`normalise`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Normalise {
    /// `e^(x - max) / sum`.
    Softmax,
    /// `(x - max) - ln(sum)`, subtracting the two parts apart so that `x - max` stays exact.
    LogSoftmax,
}

/// `e^x / sum(e^x)` along `axis`.
///
/// Rows along `axis` sum to 1 up to rounding; `softmax([1e4, 0]) = [1, 0]`.
pub fn softmax(x: &Tensor, axis: usize, out: &mut Tensor) -> Result<()> {
    normalise("softmax", x, axis, out, Normalise::Softmax)
}

/// `x - logsumexp(x)` along `axis`.
///
/// Computed as `(x - max) - ln(sum(e^(x - max)))`, so `log_softmax([1e4, 1e4]) = -ln 2`
/// exactly, also in `f32`.
pub fn log_softmax(x: &Tensor, axis: usize, out: &mut Tensor) -> Result<()> {
    normalise("log_softmax", x, axis, out, Normalise::LogSoftmax)
}

/// Checks the axis and runs [`normalise_typed`] for the tensor's dtype.
fn normalise(
    op: &'static str,
    x: &Tensor,
    axis: usize,
    out: &mut Tensor,
    kind: Normalise,
) -> Result<()> {
    let split = Split::new(op, x.shape(), axis)?;
    dispatch!(x.dtype(), T => normalise_typed::<T>(x, split, out, kind))
}

/// Softmax or log-softmax of `x` into `out` (reset to `x`'s shape), block by block.
fn normalise_typed<T: Element>(
    x: &Tensor,
    split: Split,
    out: &mut Tensor,
    kind: Normalise,
) -> Result<()> {
    out.reset(x.shape(), T::DTYPE);
    let src = x.as_slice::<T>()?;
    let dst = out.as_mut_slice::<T>()?;
    if src.is_empty() {
        return Ok(());
    }
    // non-empty, so every factor of the block size is positive
    let block = split.len * split.inner;
    for (src, dst) in src.chunks_exact(block).zip(dst.chunks_exact_mut(block)) {
        if split.inner == 1 {
            normalise_lane(src, dst, kind);
        } else {
            for start in (0..split.inner).step_by(LANES) {
                normalise_lanes(src, dst, split.inner, start, kind);
            }
        }
    }
    Ok(())
}

/// Normalises one contiguous lane.
fn normalise_lane<T: Float>(src: &[T], dst: &mut [T], kind: Normalise) {
    let max = src.iter().fold(T::neg_infinity(), |m, &v| max_nan(m, v));
    match kind {
        Normalise::Softmax => {
            let mut sum = T::zero();
            for (o, &v) in dst.iter_mut().zip(src) {
                let e = (v - max).exp();
                *o = e;
                sum = sum + e;
            }
            for o in dst {
                *o = *o / sum;
            }
        }
        Normalise::LogSoftmax => {
            let sum = src.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
            let log_sum = sum.ln();
            for (o, &v) in dst.iter_mut().zip(src) {
                *o = (v - max) - log_sum;
            }
        }
    }
}

/// Normalises the lanes `start..start + LANES` (fewer at the end) of one block of `len` rows of
/// `inner` elements, reading the block row by row.
fn normalise_lanes<T: Float>(
    src: &[T],
    dst: &mut [T],
    inner: usize,
    start: usize,
    kind: Normalise,
) {
    let width = LANES.min(inner - start);
    let lanes = start..start + width;
    let mut max = [T::neg_infinity(); LANES];
    let max = &mut max[..width];
    for row in src.chunks_exact(inner) {
        for (m, &v) in max.iter_mut().zip(&row[lanes.clone()]) {
            *m = max_nan(*m, v);
        }
    }
    let mut sum = [T::zero(); LANES];
    let sum = &mut sum[..width];
    for (row, row_out) in src.chunks_exact(inner).zip(dst.chunks_exact_mut(inner)) {
        let lane_values = row[lanes.clone()].iter().zip(&*max);
        for ((o, s), (&v, &m)) in row_out[lanes.clone()]
            .iter_mut()
            .zip(sum.iter_mut())
            .zip(lane_values)
        {
            let e = (v - m).exp();
            *o = e;
            *s = *s + e;
        }
    }
    match kind {
        Normalise::Softmax => {
            for row_out in dst.chunks_exact_mut(inner) {
                for (o, &s) in row_out[lanes.clone()].iter_mut().zip(&*sum) {
                    *o = *o / s;
                }
            }
        }
        Normalise::LogSoftmax => {
            for s in sum.iter_mut() {
                *s = s.ln();
            }
            for (row, row_out) in src.chunks_exact(inner).zip(dst.chunks_exact_mut(inner)) {
                let lane_values = row[lanes.clone()].iter().zip(&*max);
                for ((o, &log_sum), (&v, &m)) in row_out[lanes.clone()]
                    .iter_mut()
                    .zip(&*sum)
                    .zip(lane_values)
                {
                    *o = (v - m) - log_sum;
                }
            }
        }
    }
}

/// `ln(sum(e^x))` along `axis` (the shape rule is [`reduce_shape`](super::reduce_shape)).
///
/// The axis is dropped from the shape, or kept with length 1 when `keepdims`. An empty axis
/// gives `-inf` (the logarithm of an empty sum).
pub fn logsumexp(x: &Tensor, axis: usize, keepdims: bool, out: &mut Tensor) -> Result<()> {
    let split = Split::new("logsumexp", x.shape(), axis)?;
    let mut dims: SmallVec<[usize; 4]> = SmallVec::from_slice(x.dims());
    if keepdims {
        dims[axis] = 1;
    } else {
        dims.remove(axis);
    }
    let shape = Shape::new(&dims);
    dispatch!(x.dtype(), T => logsumexp_typed::<T>(x, split, &shape, out))
}

/// Logsumexp of `x` into `out`, reset to `shape` (`outer × inner` elements).
fn logsumexp_typed<T: Element>(
    x: &Tensor,
    split: Split,
    shape: &Shape,
    out: &mut Tensor,
) -> Result<()> {
    out.reset(shape, T::DTYPE);
    let src = x.as_slice::<T>()?;
    let dst = out.as_mut_slice::<T>()?;
    if dst.is_empty() {
        return Ok(());
    }
    // non-empty output, so `inner` is positive; `block` is 0 for an empty axis
    let block = split.len * split.inner;
    for (o, dst) in dst.chunks_exact_mut(split.inner).enumerate() {
        let src = &src[o * block..][..block];
        if split.inner == 1 {
            let max = src.iter().fold(T::neg_infinity(), |m, &v| max_nan(m, v));
            let sum = src.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
            dst[0] = logsumexp_of(max, sum);
        } else {
            for start in (0..split.inner).step_by(LANES) {
                logsumexp_lanes(src, split.inner, start, dst);
            }
        }
    }
    Ok(())
}

/// Logsumexp of the lanes `start..start + LANES` (fewer at the end) of one block of rows of
/// `inner` elements, into the same positions of `dst`.
fn logsumexp_lanes<T: Float>(src: &[T], inner: usize, start: usize, dst: &mut [T]) {
    let width = LANES.min(inner - start);
    let lanes = start..start + width;
    let mut max = [T::neg_infinity(); LANES];
    let max = &mut max[..width];
    for row in src.chunks_exact(inner) {
        for (m, &v) in max.iter_mut().zip(&row[lanes.clone()]) {
            *m = max_nan(*m, v);
        }
    }
    let mut sum = [T::zero(); LANES];
    let sum = &mut sum[..width];
    for row in src.chunks_exact(inner) {
        for ((s, &v), &m) in sum.iter_mut().zip(&row[lanes.clone()]).zip(&*max) {
            *s = *s + (v - m).exp();
        }
    }
    for ((o, &m), &s) in dst[lanes].iter_mut().zip(&*max).zip(&*sum) {
        *o = logsumexp_of(m, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_tensors_close, dtype, tensor, tolerance};
    use crate::{assert_close, DType};
    use proptest::prelude::*;

    /// The multi-indices of `dims` in row-major order.
    fn indices(dims: &[usize]) -> Vec<Vec<usize>> {
        let numel: usize = dims.iter().product();
        (0..numel)
            .map(|mut flat| {
                let mut index = vec![0; dims.len()];
                for (i, &d) in index.iter_mut().zip(dims).rev() {
                    *i = flat % d;
                    flat /= d;
                }
                index
            })
            .collect()
    }

    /// The values of `x` along `axis` through `index` (whose entry at `axis` is ignored).
    fn lane(x: &Tensor, axis: usize, index: &[usize]) -> Vec<f64> {
        (0..x.dims()[axis])
            .map(|k| {
                let mut at = index.to_vec();
                at[axis] = k;
                x.get(&at).unwrap()
            })
            .collect()
    }

    /// Naive `ln(sum(e^x))` straight from the definition (fine for inputs in `-10..10`).
    fn naive_logsumexp_of(values: &[f64]) -> f64 {
        values.iter().map(|v| v.exp()).sum::<f64>().ln()
    }

    fn naive_normalise(x: &Tensor, axis: usize, log: bool) -> Tensor {
        let values: Vec<f64> = indices(x.dims())
            .iter()
            .map(|index| {
                let v = x.get(index).unwrap();
                let lane = lane(x, axis, index);
                let sum: f64 = lane.iter().map(|w| w.exp()).sum();
                if log {
                    v - sum.ln()
                } else {
                    v.exp() / sum
                }
            })
            .collect();
        Tensor::from_f64s(&values, x.shape().clone(), x.dtype()).unwrap()
    }

    fn naive_logsumexp(x: &Tensor, axis: usize, keepdims: bool) -> Tensor {
        let mut dims = x.dims().to_vec();
        dims[axis] = 1;
        let values: Vec<f64> = indices(&dims)
            .iter()
            .map(|index| naive_logsumexp_of(&lane(x, axis, index)))
            .collect();
        if !keepdims {
            dims.remove(axis);
        }
        Tensor::from_f64s(&values, dims, x.dtype()).unwrap()
    }

    /// A tensor of rank 1..=4 (empty dimensions included), an axis of it, and a dtype.
    fn tensor_and_axis() -> impl Strategy<Value = (Tensor, usize)> {
        (prop::collection::vec(0..=5usize, 1..=4), dtype()).prop_flat_map(|(dims, dtype)| {
            let rank = dims.len();
            (tensor(Shape::from(dims), dtype), 0..rank)
        })
    }

    proptest! {
        #[test]
        fn kernels_match_naive_definitions((x, axis) in tensor_and_axis(), keepdims: bool) {
            let tol = tolerance(x.dtype());
            let mut out = Tensor::full([2], f64::NAN, DType::F64);
            softmax(&x, axis, &mut out)?;
            assert_tensors_close(&out, &naive_normalise(&x, axis, false), tol);
            log_softmax(&x, axis, &mut out)?;
            assert_tensors_close(&out, &naive_normalise(&x, axis, true), tol);
            logsumexp(&x, axis, keepdims, &mut out)?;
            assert_tensors_close(&out, &naive_logsumexp(&x, axis, keepdims), tol);
        }

        #[test]
        fn softmax_rows_sum_to_one((x, axis) in tensor_and_axis()) {
            let mut out = Tensor::default();
            softmax(&x, axis, &mut out)?;
            prop_assert!(out.all_finite());
            if x.dims()[axis] > 0 {
                let mut dims = x.dims().to_vec();
                dims[axis] = 1;
                for index in indices(&dims) {
                    let total: f64 = lane(&out, axis, &index).iter().sum();
                    assert_close!(total, 1.0, 10.0 * tolerance(x.dtype()));
                }
            }
        }
    }

    fn eval(
        kernel: fn(&Tensor, usize, &mut Tensor) -> Result<()>,
        values: &[f64],
        dtype: DType,
    ) -> Result<Vec<f64>> {
        let mut out = Tensor::default();
        kernel(
            &Tensor::from_f64s(values, [values.len()], dtype)?,
            0,
            &mut out,
        )?;
        Ok(out.to_f64_vec())
    }

    fn eval_logsumexp(values: &[f64], dtype: DType) -> Result<f64> {
        let mut out = Tensor::default();
        logsumexp(
            &Tensor::from_f64s(values, [values.len()], dtype)?,
            0,
            false,
            &mut out,
        )?;
        assert!(out.shape().is_scalar());
        out.to_scalar()
    }

    #[test]
    fn logsumexp_of_large_equal_values_is_max_plus_ln_2() -> Result<()> {
        assert_eq!(
            eval_logsumexp(&[1e4, 1e4], DType::F64)?,
            1e4 + std::f64::consts::LN_2
        );
        let f32_expected = 1e4f32 + std::f32::consts::LN_2;
        assert_eq!(
            eval_logsumexp(&[1e4, 1e4], DType::F32)?,
            f64::from(f32_expected)
        );
        assert_eq!(
            eval_logsumexp(&[-1e4, -1e4], DType::F64)?,
            -1e4 + std::f64::consts::LN_2
        );
        Ok(())
    }

    #[test]
    fn softmax_of_large_inputs_has_no_nan() -> Result<()> {
        for dtype in [DType::F32, DType::F64] {
            assert_eq!(eval(softmax, &[1e4, 0.0], dtype)?, vec![1.0, 0.0]);
            assert_eq!(eval(softmax, &[1e4, 1e4], dtype)?, vec![0.5, 0.5]);
            assert_eq!(
                eval(softmax, &[-1e4, -1e4, -1e4, -1e4], dtype)?,
                vec![0.25; 4]
            );
            let ln_half = -std::f64::consts::LN_2;
            let log = eval(log_softmax, &[1e4, 1e4], dtype)?;
            assert_close!(log[0], ln_half, dtype.epsilon());
            assert_eq!(eval(log_softmax, &[1e4, 0.0], dtype)?, vec![0.0, -1e4]);
        }
        let extreme = eval(softmax, &[f64::MAX, -f64::MAX, 0.0], DType::F64)?;
        assert_eq!(extreme, vec![1.0, 0.0, 0.0]);
        Ok(())
    }

    #[test]
    fn infinite_inputs_follow_the_limits() -> Result<()> {
        let inf = f64::INFINITY;
        for dtype in [DType::F32, DType::F64] {
            assert_eq!(eval_logsumexp(&[-inf, -inf], dtype)?, -inf);
            assert_eq!(eval_logsumexp(&[inf, 1.0], dtype)?, inf);
            assert_eq!(eval_logsumexp(&[-inf, 0.0], dtype)?, 0.0);
            assert!(eval_logsumexp(&[f64::NAN, inf], dtype)?.is_nan());
            // a masked entry gets probability 0, as in attention masks
            assert_eq!(eval(softmax, &[0.0, -inf], dtype)?, vec![1.0, 0.0]);
            assert_eq!(eval(log_softmax, &[0.0, -inf], dtype)?, vec![0.0, -inf]);
        }
        Ok(())
    }

    #[test]
    fn logsumexp_of_an_empty_axis_is_minus_infinity() -> Result<()> {
        let mut out = Tensor::default();
        logsumexp(&Tensor::zeros([2, 0], DType::F64), 1, false, &mut out)?;
        assert_eq!(out.to_f64_vec(), vec![f64::NEG_INFINITY; 2]);
        logsumexp(&Tensor::zeros([0, 3], DType::F32), 0, true, &mut out)?;
        assert_eq!(out.dims(), &[1, 3]);
        assert_eq!(out.to_f64_vec(), vec![f64::NEG_INFINITY; 3]);
        Ok(())
    }

    #[test]
    fn logsumexp_drops_or_keeps_the_axis() -> Result<()> {
        let x = Tensor::zeros([2, 3, 4], DType::F64);
        let mut out = Tensor::default();
        logsumexp(&x, 1, false, &mut out)?;
        assert_eq!(out.dims(), &[2, 4]);
        assert_close!(out.to_f64_vec()[0], 3.0f64.ln());
        logsumexp(&x, 1, true, &mut out)?;
        assert_eq!(out.dims(), &[2, 1, 4]);
        logsumexp(&x, 2, false, &mut out)?;
        assert_eq!(out.dims(), &[2, 3]);
        Ok(())
    }

    #[test]
    fn wide_inner_dimensions_match_the_definition() -> Result<()> {
        // 150 lanes after the axis: two full groups of 64 and a partial one
        let values: Vec<f64> = (0..3 * 4 * 150)
            .map(|i| ((i * 37) % 101) as f64 / 10.0 - 5.0)
            .collect();
        for dtype in [DType::F32, DType::F64] {
            let x = Tensor::from_f64s(&values, [3, 4, 150], dtype)?;
            let mut out = Tensor::default();
            softmax(&x, 1, &mut out)?;
            assert_tensors_close(&out, &naive_normalise(&x, 1, false), tolerance(dtype));
            log_softmax(&x, 0, &mut out)?;
            assert_tensors_close(&out, &naive_normalise(&x, 0, true), tolerance(dtype));
            logsumexp(&x, 1, false, &mut out)?;
            assert_tensors_close(&out, &naive_logsumexp(&x, 1, false), tolerance(dtype));
        }
        Ok(())
    }

    #[test]
    fn axis_past_the_rank_names_op_axis_and_rank() {
        let x = Tensor::zeros([2, 3], DType::F32);
        let mut out = Tensor::full([1], 7.0, DType::F64);
        let errors = [
            ("softmax", softmax(&x, 2, &mut out)),
            ("log_softmax", log_softmax(&x, 2, &mut out)),
            ("logsumexp", logsumexp(&x, 2, true, &mut out)),
        ];
        for (op, result) in errors {
            let err = result.unwrap_err();
            assert_eq!(
                err,
                TensorError::AxisOutOfRange {
                    op,
                    axis: 2,
                    rank: 2
                }
            );
            assert_eq!(
                err.to_string(),
                format!("{op}: axis 2 out of range for rank 2")
            );
        }
        assert_eq!(out, Tensor::full([1], 7.0, DType::F64));
        let scalar_err = softmax(&Tensor::scalar(1.0), 0, &mut out).unwrap_err();
        assert_eq!(
            scalar_err,
            TensorError::AxisOutOfRange {
                op: "softmax",
                axis: 0,
                rank: 0
            }
        );
    }

    #[test]
    fn kernels_reuse_the_output_allocation() -> Result<()> {
        let x = Tensor::ones([4, 5, 6], DType::F32);
        for axis in 0..3 {
            for kernel in [
                softmax as fn(&Tensor, usize, &mut Tensor) -> Result<()>,
                log_softmax,
            ] {
                let mut out = Tensor::default();
                kernel(&x, axis, &mut out)?;
                let first = out.as_slice::<f32>()?.as_ptr();
                kernel(&x, axis, &mut out)?;
                assert_eq!(out.as_slice::<f32>()?.as_ptr(), first);
            }
            let mut out = Tensor::default();
            logsumexp(&x, axis, false, &mut out)?;
            let first = out.as_slice::<f32>()?.as_ptr();
            logsumexp(&x, axis, false, &mut out)?;
            assert_eq!(out.as_slice::<f32>()?.as_ptr(), first);
        }
        Ok(())
    }
}
