//! Reductions over chosen axes (sum, mean, max, min, argmax) and `sum_to`, the reverse of
//! broadcasting that every gradient of a broadcast op needs.
//!
//! Axes are given normalised (`0..rank`, see [`Shape::axis`]); an empty list reduces nothing
//! (the result is a copy), as NumPy's `axis=()`. Use [`all_axes`] to reduce over everything.
//!
//! Every reduction first merges adjacent axes that are all reduced or all kept (and drops axes
//! of length 1), so most calls become one of two loops: contiguous rows reduced to one value
//! each (reducing trailing axes), or rows combined elementwise (reducing leading axes, as
//! `sum_to` does for every bias gradient). Other patterns walk the input once, in order.
//! Sums accumulate in the element type, pairwise, so an `f32` sum of `1e5` elements keeps
//! about 7 significant digits.

use smallvec::{smallvec, SmallVec};

use crate::{dispatch, Element, Result, Shape, Tensor, TensorError};

/// Axis flags or sizes, inline for the ranks tensors have in practice.
type AxisVec<T> = SmallVec<[T; 8]>;

/// `[0, 1, ..., rank-1]`: every axis of a shape.
pub fn all_axes(shape: &Shape) -> Vec<usize> {
    (0..shape.rank()).collect()
}

/// The shape left by reducing `axes` of `shape`: those dimensions dropped, or kept as 1 with
/// `keepdims`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`] or
/// [`TensorError::DuplicateAxis`], naming `op`.
pub fn reduce_shape(
    op: &'static str,
    shape: &Shape,
    axes: &[usize],
    keepdims: bool,
) -> Result<Shape> {
    let reduced = axis_mask(op, shape.rank(), axes)?;
    Ok(reduced_shape(shape, &reduced, keepdims))
}

/// Sum over `axes`; 0 over an empty axis.
///
/// # Errors
/// As [`reduce_shape`].
///
/// # Examples
/// ```
/// use adnet_tensor::{kernels, Tensor};
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3])?;
/// let mut out = Tensor::default();
/// kernels::sum(&x, &[1], false, &mut out)?;
/// assert_eq!(out.to_f64_vec(), vec![6.0, 15.0]);
/// kernels::sum(&x, &[0], true, &mut out)?;
/// assert_eq!(out.dims(), &[1, 3]);
/// # Ok::<(), adnet_tensor::TensorError>(())
/// ```
pub fn sum(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    let reduced = axis_mask("sum", x.rank(), axes)?;
    out.reset(&reduced_shape(x.shape(), &reduced, keepdims), x.dtype());
    dispatch!(x.dtype(), T => reduce_into::<T, Sum>(x.as_slice::<T>()?, x.dims(), &reduced, out.as_mut_slice::<T>()?));
    Ok(())
}

/// Mean over `axes` (NaN for an empty axis, as NumPy); over no axes, a copy.
///
/// # Errors
/// As [`reduce_shape`].
pub fn mean(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    let reduced = axis_mask("mean", x.rank(), axes)?;
    out.reset(&reduced_shape(x.shape(), &reduced, keepdims), x.dtype());
    let count: usize = x
        .dims()
        .iter()
        .zip(&reduced)
        .filter(|(_, &r)| r)
        .map(|(&d, _)| d)
        .product();
    dispatch!(x.dtype(), T => {
        let out = out.as_mut_slice::<T>()?;
        reduce_into::<T, Sum>(x.as_slice::<T>()?, x.dims(), &reduced, out);
        // 0 / 0 is NaN, NumPy's mean of nothing
        let count = T::from_f64(count as f64);
        out.iter_mut().for_each(|v| *v /= count);
    });
    Ok(())
}

/// Maximum over `axes` (NaN propagates).
///
/// # Errors
/// As [`reduce_shape`], and [`TensorError::Empty`] when a reduced axis has length 0 (the
/// maximum of nothing is undefined).
pub fn max(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    extremum::<Max>("max", x, axes, keepdims, out)
}

/// Minimum over `axes` (NaN propagates).
///
/// # Errors
/// As [`reduce_shape`], and [`TensorError::Empty`] when a reduced axis has length 0.
pub fn min(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    extremum::<Min>("min", x, axes, keepdims, out)
}

/// Index of the maximum along one axis (first one on ties), as a float in `x`'s dtype.
///
/// NaN counts as larger than every number, as in NumPy: the index of the first NaN wins.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`] when `axis >= rank`, and [`TensorError::Empty`] when the
/// axis has length 0.
pub fn argmax(x: &Tensor, axis: usize, keepdims: bool, out: &mut Tensor) -> Result<()> {
    let reduced = axis_mask("argmax", x.rank(), &[axis])?;
    check_nonempty_axes("argmax", x.shape(), &reduced)?;
    out.reset(&reduced_shape(x.shape(), &reduced, keepdims), x.dtype());
    let inner: usize = x.dims()[axis + 1..].iter().product();
    let len = x.dims()[axis];
    dispatch!(x.dtype(), T => argmax_into::<T>(x.as_slice::<T>()?, len, inner, out.as_mut_slice::<T>()?));
    Ok(())
}

/// Sums `x` down to `shape`, the reverse of broadcasting `shape` to `x`'s shape: leading axes
/// are summed away and axes where `shape` has 1 are summed with keepdims.
///
/// # Errors
/// [`TensorError::NotBroadcastable`] when `shape` does
/// not broadcast to `x`'s shape; its `from` is `shape` and its `to` is `x`'s shape, so the
/// message reads as the broadcast that `sum_to` undoes.
///
/// # Examples
/// ```
/// use adnet_tensor::{kernels, Shape, Tensor};
/// // the gradient of a bias [3] broadcast over a batch of 2
/// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 10.0, 20.0, 30.0], [2, 3])?;
/// let mut out = Tensor::default();
/// kernels::sum_to(&g, &Shape::from([3]), &mut out)?;
/// assert_eq!(out.to_f64_vec(), vec![11.0, 22.0, 33.0]);
/// # Ok::<(), adnet_tensor::TensorError>(())
/// ```
pub fn sum_to(x: &Tensor, shape: &Shape, out: &mut Tensor) -> Result<()> {
    if !shape.broadcasts_to(x.shape()) {
        return Err(TensorError::NotBroadcastable {
            op: "sum_to",
            from: shape.clone(),
            to: x.shape().clone(),
        });
    }
    let leading = x.rank() - shape.rank();
    let reduced: AxisVec<bool> = x
        .dims()
        .iter()
        .enumerate()
        .map(|(i, &d)| i < leading || (shape[i - leading] == 1 && d != 1))
        .collect();
    // the reduced axes kept as 1 and the leading ones dropped: exactly `shape`'s layout
    out.reset(shape, x.dtype());
    dispatch!(x.dtype(), T => reduce_into::<T, Sum>(x.as_slice::<T>()?, x.dims(), &reduced, out.as_mut_slice::<T>()?));
    Ok(())
}

/// Flags the reduced axes, rejecting axes `>= rank` and repeated axes.
fn axis_mask(op: &'static str, rank: usize, axes: &[usize]) -> Result<AxisVec<bool>> {
    let mut reduced: AxisVec<bool> = smallvec![false; rank];
    for &axis in axes {
        if axis >= rank {
            return Err(TensorError::AxisOutOfRange {
                op,
                axis: isize::try_from(axis).unwrap_or(isize::MAX),
                rank,
            });
        }
        if reduced[axis] {
            return Err(TensorError::DuplicateAxis { op, axis });
        }
        reduced[axis] = true;
    }
    Ok(reduced)
}

/// `shape` without the reduced axes (or with them as 1 under `keepdims`).
fn reduced_shape(shape: &Shape, reduced: &[bool], keepdims: bool) -> Shape {
    let dims: AxisVec<usize> = shape
        .dims()
        .iter()
        .zip(reduced)
        .filter_map(|(&d, &r)| match (r, keepdims) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    Shape::new(&dims)
}

/// Rejects a reduction without identity (max, min, argmax) over an axis of length 0.
fn check_nonempty_axes(op: &'static str, shape: &Shape, reduced: &[bool]) -> Result<()> {
    if shape.dims().iter().zip(reduced).any(|(&d, &r)| r && d == 0) {
        return Err(TensorError::Empty {
            op,
            shape: shape.clone(),
        });
    }
    Ok(())
}

fn extremum<R>(
    op: &'static str,
    x: &Tensor,
    axes: &[usize],
    keepdims: bool,
    out: &mut Tensor,
) -> Result<()>
where
    R: Reduction<f32> + Reduction<f64>,
{
    let reduced = axis_mask(op, x.rank(), axes)?;
    check_nonempty_axes(op, x.shape(), &reduced)?;
    out.reset(&reduced_shape(x.shape(), &reduced, keepdims), x.dtype());
    dispatch!(x.dtype(), T => reduce_into::<T, R>(x.as_slice::<T>()?, x.dims(), &reduced, out.as_mut_slice::<T>()?));
    Ok(())
}

/// An associative reduction with an identity, and its fast loops.
trait Reduction<T: Element> {
    /// The result of reducing nothing.
    fn identity() -> T;

    /// Folds one more value into an accumulator.
    fn combine(acc: T, value: T) -> T;

    /// Reduces a contiguous run to one value.
    fn reduce_run(run: &[T]) -> T {
        run.iter()
            .fold(Self::identity(), |acc, &v| Self::combine(acc, v))
    }

    /// `out[j] = reduce_i x[i * width + j]` where `width = out.len()` and `x` holds whole rows.
    fn reduce_rows(x: &[T], out: &mut [T]) {
        out.fill(Self::identity());
        for row in x.chunks_exact(out.len()) {
            Self::combine_into(out, row);
        }
    }

    /// `acc[j] = combine(acc[j], row[j])`.
    fn combine_into(acc: &mut [T], row: &[T]) {
        for (a, &v) in acc.iter_mut().zip(row) {
            *a = Self::combine(*a, v);
        }
    }
}

struct Sum;
struct Max;
struct Min;

/// Runs up to this long are summed directly (with 8 interleaved accumulators); longer ones are
/// split in halves, so rounding error grows with the logarithm of the length.
const PAIRWISE_BLOCK: usize = 128;
/// Up to this many rows are added straight into the output; more are summed pairwise in
/// column strips of [`COLUMN_STRIP`] elements held on the stack.
const ROW_BLOCK: usize = 256;
const COLUMN_STRIP: usize = 64;

impl<T: Element> Reduction<T> for Sum {
    fn identity() -> T {
        T::zero()
    }

    fn combine(acc: T, value: T) -> T {
        acc + value
    }

    fn reduce_run(run: &[T]) -> T {
        pairwise_sum(run)
    }

    fn reduce_rows(x: &[T], out: &mut [T]) {
        let width = out.len();
        let rows = x.len() / width;
        if rows <= ROW_BLOCK {
            out.fill(T::zero());
            for row in x.chunks_exact(width) {
                Self::combine_into(out, row);
            }
            return;
        }
        for (strip, out_strip) in out.chunks_mut(COLUMN_STRIP).enumerate() {
            sum_strip_pairwise(x, width, strip * COLUMN_STRIP, 0, rows, out_strip);
        }
    }
}

fn pairwise_sum<T: Element>(run: &[T]) -> T {
    if run.len() > PAIRWISE_BLOCK {
        // split on a multiple of 8 so both halves keep whole lanes
        let mid = (run.len() / 2).next_multiple_of(8);
        let (left, right) = run.split_at(mid);
        return pairwise_sum(left) + pairwise_sum(right);
    }
    let mut lanes = [T::zero(); 8];
    let chunks = run.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = *lane + v;
        }
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    let mut total = ((a + b) + (c + d)) + ((e + f) + (g + h));
    for &v in rest {
        total = total + v;
    }
    total
}

/// `acc[j] = Σ_{i in first..first+rows} x[i * width + column + j]`, pairwise over the rows.
fn sum_strip_pairwise<T: Element>(
    x: &[T],
    width: usize,
    column: usize,
    first: usize,
    rows: usize,
    acc: &mut [T],
) {
    if rows <= ROW_BLOCK {
        acc.fill(T::zero());
        for i in first..first + rows {
            let start = i * width + column;
            <Sum as Reduction<T>>::combine_into(acc, &x[start..start + acc.len()]);
        }
        return;
    }
    let half = rows / 2;
    sum_strip_pairwise(x, width, column, first, half, acc);
    let mut right = [T::zero(); COLUMN_STRIP];
    let right = &mut right[..acc.len()];
    sum_strip_pairwise(x, width, column, first + half, rows - half, right);
    <Sum as Reduction<T>>::combine_into(acc, right);
}

/// NaN-propagating maximum: NaN if either side is NaN.
impl<T: Element> Reduction<T> for Max {
    fn identity() -> T {
        T::neg_infinity()
    }

    fn combine(acc: T, value: T) -> T {
        if value > acc || value.is_nan() {
            value
        } else {
            acc
        }
    }
}

/// NaN-propagating minimum: NaN if either side is NaN.
impl<T: Element> Reduction<T> for Min {
    fn identity() -> T {
        T::infinity()
    }

    fn combine(acc: T, value: T) -> T {
        if value < acc || value.is_nan() {
            value
        } else {
            acc
        }
    }
}

/// Reduces the flagged axes of `x` (of `dims`) into `out`, laid out row-major over the kept
/// axes. An empty `x` gives the identity everywhere.
fn reduce_into<T: Element, R: Reduction<T>>(
    x: &[T],
    dims: &[usize],
    reduced: &[bool],
    out: &mut [T],
) {
    if out.is_empty() {
        return;
    }
    if x.is_empty() {
        out.fill(R::identity());
        return;
    }
    let groups = merge_axes(dims, reduced);
    let reduced_groups = groups.iter().filter(|g| g.1).count();
    if reduced_groups == 0 {
        out.copy_from_slice(x);
        return;
    }
    if reduced_groups == 1 {
        // [outer kept..., len reduced, inner kept...]
        let at = groups
            .iter()
            .position(|g| g.1)
            .expect("one group is reduced");
        let len = groups[at].0;
        let inner: usize = groups[at + 1..].iter().map(|g| g.0).product();
        if inner == 1 {
            for (o, row) in out.iter_mut().zip(x.chunks_exact(len)) {
                *o = R::reduce_run(row);
            }
        } else {
            for (o, block) in out.chunks_exact_mut(inner).zip(x.chunks_exact(len * inner)) {
                R::reduce_rows(block, o);
            }
        }
        return;
    }
    reduce_walk::<T, R>(x, &groups, out);
}

/// Merges runs of adjacent axes that are all reduced or all kept into `(size, reduced)`
/// groups, dropping axes of length 1 (they change no offsets). `dims` has no 0.
fn merge_axes(dims: &[usize], reduced: &[bool]) -> AxisVec<(usize, bool)> {
    let mut groups: AxisVec<(usize, bool)> = SmallVec::new();
    for (&d, &r) in dims.iter().zip(reduced) {
        match groups.last_mut() {
            _ if d == 1 => {}
            Some(last) if last.1 == r => last.0 *= d,
            _ => groups.push((d, r)),
        }
    }
    groups
}

/// The general case (two or more separate reduced groups): walks `x` in order, one innermost
/// run at a time, keeping the matching output offset with an odometer.
fn reduce_walk<T: Element, R: Reduction<T>>(x: &[T], groups: &[(usize, bool)], out: &mut [T]) {
    let (&(run, run_reduced), outer) = groups.split_last().expect("at least three groups");
    // output strides of the outer groups: row-major over the kept ones, 0 for reduced ones
    let mut out_strides: AxisVec<usize> = smallvec![0; outer.len()];
    let mut acc = if run_reduced { 1 } else { run };
    for (stride, &(size, reduced)) in out_strides.iter_mut().zip(outer).rev() {
        if !reduced {
            *stride = acc;
            acc *= size;
        }
    }
    out.fill(R::identity());
    let mut index: AxisVec<usize> = smallvec![0; outer.len()];
    let mut offset = 0;
    for x_run in x.chunks_exact(run) {
        if run_reduced {
            out[offset] = R::combine(out[offset], R::reduce_run(x_run));
        } else {
            R::combine_into(&mut out[offset..offset + run], x_run);
        }
        for axis in (0..outer.len()).rev() {
            index[axis] += 1;
            offset += out_strides[axis];
            if index[axis] < outer[axis].0 {
                break;
            }
            offset -= out_strides[axis] * outer[axis].0;
            index[axis] = 0;
        }
    }
}

/// Argmax over the middle axis of `x` viewed as `[outer, len, inner]`; `len >= 1`.
fn argmax_into<T: Element>(x: &[T], len: usize, inner: usize, out: &mut [T]) {
    if out.is_empty() {
        return;
    }
    // `v` replaces the best so far when larger, or when it is the first NaN
    let better = |v: T, best: T| v > best || (v.is_nan() && !best.is_nan());
    if inner == 1 {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(len)) {
            let mut best = (0, row[0]);
            for (i, &v) in row.iter().enumerate().skip(1) {
                if better(v, best.1) {
                    best = (i, v);
                }
            }
            *o = T::from_f64(best.0 as f64);
        }
        return;
    }
    for (o, block) in out.chunks_exact_mut(inner).zip(x.chunks_exact(len * inner)) {
        for (strip, o_strip) in o.chunks_mut(COLUMN_STRIP).enumerate() {
            let column = strip * COLUMN_STRIP;
            let width = o_strip.len();
            let mut best = [T::zero(); COLUMN_STRIP];
            best[..width].copy_from_slice(&block[column..column + width]);
            o_strip.fill(T::zero());
            for i in 1..len {
                let row = &block[i * inner + column..i * inner + column + width];
                for ((b, o), &v) in best.iter_mut().zip(o_strip.iter_mut()).zip(row) {
                    if better(v, *b) {
                        *b = v;
                        *o = T::from_f64(i as f64);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{
        assert_tensors_close, broadcast_pair, dtype, nonempty_shape, shape, tensor, tolerance,
    };
    use crate::testing::{ravel, unravel};
    use crate::DType;
    use proptest::prelude::*;

    /// Reference reduction: for each output element, gathers every input element that maps to
    /// it by brute force, then folds the gathered values with `fold` (in f64).
    fn naive_reduce(
        x: &Tensor,
        axes: &[usize],
        keepdims: bool,
        fold: impl Fn(&[f64]) -> f64,
    ) -> Tensor {
        let dims = x.dims();
        let out_dims: Vec<usize> = (0..dims.len())
            .filter_map(|i| match (axes.contains(&i), keepdims) {
                (false, _) => Some(dims[i]),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect();
        let values = x.to_f64_vec();
        let n_out: usize = out_dims.iter().product();
        let mut result = Vec::with_capacity(n_out);
        for o in 0..n_out {
            let out_index = unravel(o, &out_dims);
            let mut gathered = Vec::new();
            for (flat, &v) in values.iter().enumerate() {
                let index = unravel(flat, dims);
                let kept: Vec<usize> = (0..dims.len())
                    .filter(|i| !axes.contains(i) || keepdims)
                    .map(|i| if axes.contains(&i) { 0 } else { index[i] })
                    .collect();
                if kept == out_index {
                    gathered.push(v);
                }
            }
            result.push(fold(&gathered));
        }
        Tensor::from_f64s(&result, out_dims, x.dtype()).unwrap()
    }

    fn naive_sum(values: &[f64]) -> f64 {
        values.iter().sum()
    }

    fn naive_max(values: &[f64]) -> f64 {
        values.iter().fold(f64::NEG_INFINITY, |a, &v| {
            if a.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                a.max(v)
            }
        })
    }

    fn naive_min(values: &[f64]) -> f64 {
        values.iter().fold(f64::INFINITY, |a, &v| {
            if a.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                a.min(v)
            }
        })
    }

    /// A tensor of up to rank 4 and a random subset of its axes (in random order).
    fn tensor_and_axes(nonempty: bool) -> impl Strategy<Value = (Tensor, Vec<usize>, bool)> {
        let shapes = if nonempty {
            nonempty_shape(4, 5).boxed()
        } else {
            shape(4, 5).boxed()
        };
        (shapes, dtype())
            .prop_flat_map(|(s, d)| {
                let rank = s.rank();
                (
                    tensor(s, d),
                    Just((0..rank).collect::<Vec<_>>()).prop_shuffle(),
                    0..=rank,
                    any::<bool>(),
                )
            })
            .prop_map(|(t, mut axes, n, keepdims)| {
                axes.truncate(n);
                (t, axes, keepdims)
            })
    }

    fn run(
        kernel: fn(&Tensor, &[usize], bool, &mut Tensor) -> Result<()>,
        x: &Tensor,
        axes: &[usize],
        keepdims: bool,
    ) -> Tensor {
        let mut out = Tensor::default();
        kernel(x, axes, keepdims, &mut out).unwrap();
        out
    }

    proptest! {
        #[test]
        fn sum_matches_naive_reference((x, axes, keepdims) in tensor_and_axes(false)) {
            let expected = naive_reduce(&x, &axes, keepdims, naive_sum);
            // sums of up to 625 terms in -10..10 may cancel: allow for it
            assert_tensors_close(&run(sum, &x, &axes, keepdims), &expected, tolerance(x.dtype()) * 100.0);
        }

        #[test]
        fn mean_matches_naive_reference((x, axes, keepdims) in tensor_and_axes(false)) {
            let expected = naive_reduce(&x, &axes, keepdims, |v| naive_sum(v) / v.len() as f64);
            assert_tensors_close(&run(mean, &x, &axes, keepdims), &expected, tolerance(x.dtype()) * 100.0);
        }

        #[test]
        fn max_matches_naive_reference((x, axes, keepdims) in tensor_and_axes(true)) {
            let expected = naive_reduce(&x, &axes, keepdims, naive_max);
            assert_tensors_close(&run(max, &x, &axes, keepdims), &expected, 0.0);
        }

        #[test]
        fn min_matches_naive_reference((x, axes, keepdims) in tensor_and_axes(true)) {
            let expected = naive_reduce(&x, &axes, keepdims, naive_min);
            assert_tensors_close(&run(min, &x, &axes, keepdims), &expected, 0.0);
        }

        #[test]
        fn max_and_min_propagate_nan(
            (x, axes, keepdims) in tensor_and_axes(true),
            nan_at in any::<prop::sample::Index>(),
        ) {
            prop_assume!(x.numel() > 0);
            let mut values = x.to_f64_vec();
            let at = nan_at.index(values.len());
            values[at] = f64::NAN;
            let x = Tensor::from_f64s(&values, x.shape().clone(), x.dtype()).unwrap();
            assert_tensors_close(&run(max, &x, &axes, keepdims), &naive_reduce(&x, &axes, keepdims, naive_max), 0.0);
            assert_tensors_close(&run(min, &x, &axes, keepdims), &naive_reduce(&x, &axes, keepdims, naive_min), 0.0);
        }

        #[test]
        fn argmax_matches_first_maximum(
            s in nonempty_shape(4, 5).prop_filter("rank >= 1", |s| s.rank() >= 1),
            d in dtype(),
            axis_pick in any::<prop::sample::Index>(),
            keepdims in any::<bool>(),
            // few distinct values, so ties are common
            values in prop::collection::vec(-2i32..3, 625),
        ) {
            let axis = axis_pick.index(s.rank());
            let values: Vec<f64> = values[..s.numel()].iter().map(|&v| v as f64).collect();
            let x = Tensor::from_f64s(&values, s.clone(), d).unwrap();
            let mut out = Tensor::default();
            argmax(&x, axis, keepdims, &mut out).unwrap();
            let mut out_dims = s.dims().to_vec();
            out_dims[axis] = 1;
            let mut expected = Vec::new();
            for o in 0..out_dims.iter().product() {
                let mut index = unravel(o, &out_dims);
                let mut best = (0, f64::NEG_INFINITY);
                for i in 0..s[axis] {
                    index[axis] = i;
                    let v = values[ravel(&index, s.dims())];
                    if v > best.1 {
                        best = (i, v);
                    }
                }
                expected.push(best.0 as f64);
            }
            if !keepdims {
                out_dims.remove(axis);
            }
            assert_tensors_close(&out, &Tensor::from_f64s(&expected, out_dims, d).unwrap(), 0.0);
        }

        #[test]
        fn sum_to_matches_naive_reference(
            (a, b) in broadcast_pair(4, 4),
            d in dtype(),
            seed in any::<u64>(),
        ) {
            let full = Shape::broadcast("test", &a, &b).unwrap();
            let values: Vec<f64> = (0..full.numel())
                .map(|i| ((i as u64 ^ seed) % 17) as f64 - 8.0)
                .collect();
            let x = Tensor::from_f64s(&values, full.clone(), d).unwrap();
            for target in [&a, &b] {
                let mut out = Tensor::default();
                sum_to(&x, target, &mut out).unwrap();
                // every element of x lands on the target index with broadcast axes set to 0
                let mut expected = vec![0.0; target.numel()];
                let offset = full.rank() - target.rank();
                for (flat, &v) in values.iter().enumerate() {
                    let index = unravel(flat, full.dims());
                    let target_index: Vec<usize> = (0..target.rank())
                        .map(|i| if target[i] == 1 { 0 } else { index[offset + i] })
                        .collect();
                    expected[ravel(&target_index, target.dims())] += v;
                }
                assert_tensors_close(&out, &Tensor::from_f64s(&expected, target.clone(), d).unwrap(), 1e-6);
            }
        }

        #[test]
        fn reduce_shape_rejects_out_of_range_axes(s in shape(4, 3), extra in 0usize..3) {
            let axis = s.rank() + extra;
            let err = reduce_shape("sum", &s, &[axis], false).unwrap_err();
            prop_assert_eq!(err, TensorError::AxisOutOfRange { op: "sum", axis: axis as isize, rank: s.rank() });
        }
    }

    #[test]
    fn reduce_shape_drops_or_keeps_axes() -> Result<()> {
        let s = Shape::from([2, 3, 4]);
        assert_eq!(reduce_shape("sum", &s, &[0, 2], false)?, Shape::from([3]));
        assert_eq!(
            reduce_shape("sum", &s, &[2, 0], true)?,
            Shape::from([1, 3, 1])
        );
        assert_eq!(reduce_shape("sum", &s, &[], false)?, s);
        assert_eq!(
            reduce_shape("sum", &s, &all_axes(&s), false)?,
            Shape::scalar()
        );
        Ok(())
    }

    #[test]
    fn reduce_shape_rejects_duplicate_axes() {
        let err = reduce_shape("mean", &Shape::from([2, 3]), &[1, 0, 1], false).unwrap_err();
        assert_eq!(
            err,
            TensorError::DuplicateAxis {
                op: "mean",
                axis: 1
            }
        );
        assert_eq!(err.to_string(), "mean: axis 1 given twice");
    }

    #[test]
    fn kernels_report_axis_errors_with_their_name() {
        let x = Tensor::zeros([2, 3], DType::F32);
        let mut out = Tensor::default();
        let err = max(&x, &[2], false, &mut out).unwrap_err();
        assert_eq!(
            err,
            TensorError::AxisOutOfRange {
                op: "max",
                axis: 2,
                rank: 2
            }
        );
        assert_eq!(err.to_string(), "max: axis 2 out of range for rank 2");
        let err = argmax(&x, 5, false, &mut out).unwrap_err();
        assert_eq!(
            err,
            TensorError::AxisOutOfRange {
                op: "argmax",
                axis: 5,
                rank: 2
            }
        );
        assert!(matches!(
            sum(&x, &[0, 0], false, &mut out),
            Err(TensorError::DuplicateAxis { op: "sum", axis: 0 })
        ));
        assert!(matches!(
            min(&x, &[3], false, &mut out),
            Err(TensorError::AxisOutOfRange { op: "min", .. })
        ));
        assert!(matches!(
            mean(&x, &[3], false, &mut out),
            Err(TensorError::AxisOutOfRange { op: "mean", .. })
        ));
    }

    #[test]
    fn max_min_argmax_of_an_empty_axis_are_errors() {
        let x = Tensor::zeros([3, 0], DType::F64);
        let mut out = Tensor::default();
        let empty = |op| TensorError::Empty {
            op,
            shape: Shape::from([3, 0]),
        };
        assert_eq!(max(&x, &[1], false, &mut out).unwrap_err(), empty("max"));
        assert_eq!(min(&x, &[0, 1], true, &mut out).unwrap_err(), empty("min"));
        assert_eq!(argmax(&x, 1, false, &mut out).unwrap_err(), empty("argmax"));
        assert_eq!(empty("max").to_string(), "max: empty input of shape [3, 0]");
        // reducing the non-empty axis leaves an empty result, which is fine
        max(&x, &[0], false, &mut out).unwrap();
        assert_eq!(out.shape(), &Shape::from([0]));
    }

    #[test]
    fn sum_and_mean_of_an_empty_axis_are_zero_and_nan() -> Result<()> {
        let x = Tensor::zeros([0, 2], DType::F32);
        let mut out = Tensor::default();
        sum(&x, &[0], false, &mut out)?;
        assert_eq!(out.to_f64_vec(), vec![0.0, 0.0]);
        mean(&x, &[0], true, &mut out)?;
        assert_eq!(out.shape(), &Shape::from([1, 2]));
        assert!(out.to_f64_vec().iter().all(|v| v.is_nan()));
        Ok(())
    }

    #[test]
    fn reducing_no_axes_copies() -> Result<()> {
        let x = Tensor::from_vec(vec![1.0f64, -2.0, 3.5], [3])?;
        let mut out = Tensor::default();
        for kernel in [sum, mean, max, min] {
            kernel(&x, &[], false, &mut out)?;
            assert_eq!(out, x);
        }
        Ok(())
    }

    #[test]
    fn argmax_takes_the_first_tie_and_the_first_nan() -> Result<()> {
        let x = Tensor::from_vec(vec![1.0f32, 3.0, 3.0, f32::NAN, 2.0, f32::NAN], [1, 6])?;
        let mut out = Tensor::default();
        argmax(&x, 1, false, &mut out)?;
        assert_eq!(out.to_f64_vec(), vec![3.0]);
        let x = Tensor::from_vec(vec![5.0f64, 1.0, 5.0, f64::NAN, 5.0, 0.0], [3, 2])?;
        argmax(&x, 0, true, &mut out)?;
        assert_eq!(out.shape(), &Shape::from([1, 2]));
        assert_eq!(out.to_f64_vec(), vec![0.0, 1.0]);
        assert_eq!(out.dtype(), DType::F64);
        Ok(())
    }

    #[test]
    fn sum_to_rejects_shapes_that_do_not_broadcast() {
        let x = Tensor::zeros([2, 4], DType::F32);
        let mut out = Tensor::default();
        let err = sum_to(&x, &Shape::from([3]), &mut out).unwrap_err();
        assert_eq!(
            err,
            TensorError::NotBroadcastable {
                op: "sum_to",
                from: Shape::from([3]),
                to: Shape::from([2, 4])
            }
        );
        assert_eq!(err.to_string(), "sum_to: cannot broadcast [3] to [2, 4]");
        assert!(sum_to(&x, &Shape::from([1, 2, 4]), &mut out).is_err());
    }

    #[test]
    fn sum_to_result_has_exactly_the_requested_shape() -> Result<()> {
        let x = Tensor::from_vec((0..24).map(f64::from).collect(), [2, 3, 4])?;
        let mut out = Tensor::default();
        sum_to(&x, &Shape::from([1, 4]), &mut out)?;
        assert_eq!(out.shape(), &Shape::from([1, 4]));
        assert_eq!(out.to_f64_vec(), vec![60.0, 66.0, 72.0, 78.0]);
        sum_to(&x, &Shape::scalar(), &mut out)?;
        assert_eq!(out.to_f64_vec(), vec![276.0]);
        Ok(())
    }

    /// Summing 0.1 one after another in f32 drifts by about 1e-4 after 1e5 terms; pairwise
    /// summation stays within a few ulps.
    #[test]
    fn f32_sums_of_1e5_elements_stay_accurate() -> Result<()> {
        let n = 100_000;
        let expected = n as f64 * f64::from(0.1f32);
        let mut out = Tensor::default();
        let x = Tensor::full([n], 0.1, DType::F32);
        sum(&x, &[0], false, &mut out)?;
        crate::assert_close!(out.to_scalar()?, expected, 1e-5);
        // the same along the leading axis, as a bias gradient sums a batch
        let x = Tensor::full([n, 3], 0.1, DType::F32);
        sum_to(&x, &Shape::from([3]), &mut out)?;
        for v in out.to_f64_vec() {
            crate::assert_close!(v, expected, 1e-5);
        }
        // and along a middle axis
        let x = Tensor::full([2, n / 10, 10], 0.1, DType::F32);
        mean(&x, &[1], false, &mut out)?;
        for v in out.to_f64_vec() {
            crate::assert_close!(v, f64::from(0.1f32), 1e-5);
        }
        Ok(())
    }

    /// More than `ROW_BLOCK` rows and more than one `COLUMN_STRIP` of columns: the pairwise
    /// strip loops of `sum` and the strip loop of `argmax`, against the naive references.
    #[test]
    fn many_rows_and_wide_columns_match_naive_references() -> Result<()> {
        for dims in [vec![600, 150], vec![3, 700, 70]] {
            let n: usize = dims.iter().product();
            let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
            let x = Tensor::from_f64s(&values, dims.clone(), DType::F64)?;
            let axis = dims.len() - 2;
            let expected = naive_reduce(&x, &[axis], false, naive_sum);
            assert_tensors_close(&run(sum, &x, &[axis], false), &expected, 1e-12);
            let mut out = Tensor::default();
            argmax(&x, axis, false, &mut out)?;
            let best = naive_reduce(&x, &[axis], false, naive_max).to_f64_vec();
            // the first index along `axis` that reaches the maximum
            let (len, inner) = (dims[axis], dims[axis + 1]);
            for (o, (&index, &max)) in out.to_f64_vec().iter().zip(&best).enumerate() {
                let (outer, column) = (o / inner, o % inner);
                let at = |i: usize| values[(outer * len + i) * inner + column];
                let first = (0..len)
                    .find(|&i| at(i) == max)
                    .expect("the maximum occurs");
                assert_eq!(index, first as f64);
            }
        }
        Ok(())
    }

    #[test]
    fn reductions_reuse_the_output_allocation() -> Result<()> {
        let x = Tensor::ones([300, 70], DType::F32);
        let mut out = Tensor::zeros([70], DType::F32);
        let before = out.as_slice::<f32>()?.as_ptr();
        sum_to(&x, &Shape::from([70]), &mut out)?;
        sum(&x, &[0], false, &mut out)?;
        max(&x, &[0], false, &mut out)?;
        argmax(&x, 0, false, &mut out)?;
        mean(&x, &[1, 0], false, &mut out)?;
        assert_eq!(out.as_slice::<f32>()?.as_ptr(), before);
        assert_eq!(out.to_f64_vec(), vec![1.0]);
        Ok(())
    }
}
