//! Elementwise functions of two tensors, with NumPy broadcasting, and `select` (NumPy's `where`).
//!
//! Every kernel has the signature `fn(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()>`:
//! `a` and `b` must share a dtype and broadcast together ([`Shape::broadcast`]); `out` takes
//! the broadcast shape. Comparisons produce masks of 0 and 1 in the operands' dtype.
//!
//! # Errors
//! Every kernel returns [`TensorError::DTypeMismatch`] when the operands' dtypes differ and
//! [`TensorError::ShapeMismatch`] when their shapes do not broadcast, both naming the kernel
//! (`"add"`, `"select"`, ...); `out` is left untouched then.
//!
//! Operands of equal size, and a single element against anything, run as one flat loop; other
//! broadcasts walk the output row by row, with the innermost dimension as a tight loop.

use smallvec::SmallVec;

use super::scalar;
use crate::{dispatch, DType, Element, Result, Shape, Tensor, TensorError};

/// The common dtype of two operands of `op`.
fn common_dtype(op: &'static str, lhs: &Tensor, rhs: &Tensor) -> Result<DType> {
    if lhs.dtype() == rhs.dtype() {
        Ok(lhs.dtype())
    } else {
        Err(TensorError::DTypeMismatch {
            op,
            lhs: lhs.dtype(),
            rhs: rhs.dtype(),
        })
    }
}

/// A broadcast output seen as rows of its innermost dimension, with each operand's offset at
/// the start of every row.
///
/// Dimensions of length 1 are dropped and neighbouring dimensions that every operand reads
/// contiguously (or broadcasts over both) are merged, so the rows are as long as possible:
/// `[4, 5, 6] + [5, 6]` is 4 rows of 30. Along the innermost dimension every operand's stride
/// is 0 (broadcast) or 1.
struct BroadcastRows<const N: usize> {
    /// The merged output dimensions, outermost first; never empty.
    dims: SmallVec<[usize; 4]>,
    /// Each operand's stride along each of `dims` (0 where it is broadcast).
    strides: [SmallVec<[usize; 4]>; N],
}

impl<const N: usize> BroadcastRows<N> {
    /// The rows of `out`, which every operand shape broadcasts to.
    fn new(out: &Shape, operands: [&Shape; N]) -> Self {
        let full = operands.map(|shape| shape.broadcast_strides(out));
        let mut dims: SmallVec<[usize; 4]> = SmallVec::new();
        let mut strides: [SmallVec<[usize; 4]>; N] = std::array::from_fn(|_| SmallVec::new());
        for (axis, &dim) in out.dims().iter().enumerate() {
            if dim == 1 {
                continue;
            }
            // the previous (outer) dimension steps exactly over this one in every operand
            let contiguous = !dims.is_empty()
                && strides
                    .iter()
                    .zip(&full)
                    .all(|(kept, own)| kept.last() == Some(&(own[axis] * dim)));
            if let (true, Some(last)) = (contiguous, dims.last_mut()) {
                *last *= dim;
                for (kept, own) in strides.iter_mut().zip(&full) {
                    if let Some(stride) = kept.last_mut() {
                        *stride = own[axis];
                    }
                }
            } else {
                dims.push(dim);
                for (kept, own) in strides.iter_mut().zip(&full) {
                    kept.push(own[axis]);
                }
            }
        }
        if dims.is_empty() {
            dims.push(1);
            for kept in &mut strides {
                kept.push(0);
            }
        }
        BroadcastRows { dims, strides }
    }

    /// The length of a row.
    fn row_len(&self) -> usize {
        self.dims.last().copied().unwrap_or(1)
    }

    /// Each operand's stride along a row (0 or 1).
    fn row_strides(&self) -> [usize; N] {
        std::array::from_fn(|k| self.strides[k].last().copied().unwrap_or(0))
    }

    /// Calls `row(index, offsets)` for every row in row-major order, with each operand's
    /// offset at the start of the row.
    fn for_each(&self, mut row: impl FnMut(usize, [usize; N])) {
        let outer = &self.dims[..self.dims.len() - 1];
        let rows: usize = outer.iter().product();
        let mut index: SmallVec<[usize; 4]> = SmallVec::from_elem(0, outer.len());
        let mut offsets = [0; N];
        for r in 0..rows {
            row(r, offsets);
            // odometer step: advance the innermost outer axis, carrying into the ones above
            for axis in (0..outer.len()).rev() {
                index[axis] += 1;
                for (offset, stride) in offsets.iter_mut().zip(&self.strides) {
                    *offset += stride[axis];
                }
                if index[axis] < outer[axis] {
                    break;
                }
                index[axis] = 0;
                for (offset, stride) in offsets.iter_mut().zip(&self.strides) {
                    *offset -= stride[axis] * outer[axis];
                }
            }
        }
    }
}

/// `dst[i] = f(xs[i], ys[i])`.
#[inline(always)]
fn zip_into<T: Copy>(dst: &mut [T], xs: &[T], ys: &[T], f: &impl Fn(T, T) -> T) {
    for ((o, &x), &y) in dst.iter_mut().zip(xs).zip(ys) {
        *o = f(x, y);
    }
}

/// `dst[i] = f(x, ys[i])`.
#[inline(always)]
fn scalar_lhs_into<T: Copy>(dst: &mut [T], x: T, ys: &[T], f: &impl Fn(T, T) -> T) {
    for (o, &y) in dst.iter_mut().zip(ys) {
        *o = f(x, y);
    }
}

/// `dst[i] = f(xs[i], y)`.
#[inline(always)]
fn scalar_rhs_into<T: Copy>(dst: &mut [T], xs: &[T], y: T, f: &impl Fn(T, T) -> T) {
    for (o, &x) in dst.iter_mut().zip(xs) {
        *o = f(x, y);
    }
}

/// Resets `out` to the broadcast shape of `a` and `b` and writes `f(a, b)` elementwise: the
/// loop behind every binary kernel. The caller has checked that both operands hold `T`.
fn zip_broadcast<T: Element>(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    out: &mut Tensor,
    f: impl Fn(T, T) -> T,
) -> Result<()> {
    let shape = Shape::broadcast(op, a.shape(), b.shape())?;
    out.reset(&shape, T::DTYPE);
    let xs = a.as_slice::<T>()?;
    let ys = b.as_slice::<T>()?;
    let dst = out.as_mut_slice::<T>()?;
    let n = dst.len();
    // an operand as large as the output is read in the output's order: broadcasting only
    // added dimensions of length 1 to it
    match (xs, ys) {
        _ if n == 0 => {}
        _ if xs.len() == n && ys.len() == n => zip_into(dst, xs, ys, &f),
        (&[x], _) if ys.len() == n => scalar_lhs_into(dst, x, ys, &f),
        (_, &[y]) if xs.len() == n => scalar_rhs_into(dst, xs, y, &f),
        _ => {
            let rows = BroadcastRows::new(&shape, [a.shape(), b.shape()]);
            let len = rows.row_len();
            let [step_a, step_b] = rows.row_strides();
            rows.for_each(|r, [at_a, at_b]| {
                let dst = &mut dst[r * len..][..len];
                match (step_a, step_b) {
                    (1, 1) => zip_into(dst, &xs[at_a..][..len], &ys[at_b..][..len], &f),
                    (0, 1) => scalar_lhs_into(dst, xs[at_a], &ys[at_b..][..len], &f),
                    (1, 0) => scalar_rhs_into(dst, &xs[at_a..][..len], ys[at_b], &f),
                    _ => {
                        for (k, o) in dst.iter_mut().enumerate() {
                            *o = f(xs[at_a + k * step_a], ys[at_b + k * step_b]);
                        }
                    }
                }
            });
        }
    }
    Ok(())
}

/// Each kernel zips the function of the same name in [`scalar`], the one definition the
/// scalar fast path of compiled plans uses too.
macro_rules! binary_kernels {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()> {
            let dtype = common_dtype(stringify!($name), a, b)?;
            dispatch!(dtype, T => zip_broadcast::<T>(stringify!($name), a, b, out, scalar::$name::<T>))
        }
    )*};
}

binary_kernels! {
    /// `a + b`.
    add;
    /// `a - b`.
    sub;
    /// `a * b`.
    mul;
    /// `a / b`.
    div;
    /// `a^b` (`powf`; a negative base gives NaN unless `b` is an integer).
    pow;
    /// Elementwise minimum (NaN if either is NaN), NumPy's `minimum`.
    ///
    /// On ties the left operand is returned (`minimum(-0, 0) = -0`, as NumPy).
    minimum;
    /// Elementwise maximum (NaN if either is NaN), NumPy's `maximum`.
    ///
    /// On ties the left operand is returned (`maximum(0, -0) = 0`, as NumPy).
    maximum;
    /// `a == b` as 0/1.
    eq;
    /// `a != b` as 0/1 (1 where either is NaN).
    ne;
    /// `a < b` as 0/1.
    lt;
    /// `a <= b` as 0/1.
    le;
    /// `a > b` as 0/1.
    gt;
    /// `a >= b` as 0/1.
    ge;
    /// `b` where `a > 0`, else 0: the ReLU's backward step, `a` the ReLU's input and `b` the
    /// cotangent of its output.
    relu_grad;
}

/// NumPy's `where(mask, a, b)`: `a` where `mask` is non-zero, else `b`; all three broadcast.
///
/// A NaN in the mask counts as non-zero, as in NumPy.
///
/// # Errors
/// [`TensorError::DTypeMismatch`] naming `select` and the first two of `mask`, `a`, `b`
/// (in that order) whose dtypes differ; [`TensorError::ShapeMismatch`] as [`select_shape`].
pub fn select(mask: &Tensor, a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()> {
    common_dtype("select", mask, a)?;
    let dtype = common_dtype("select", a, b)?;
    let shape = select_shape(mask.shape(), a.shape(), b.shape())?;
    dispatch!(dtype, T => select_typed::<T>(&shape, mask, a, b, out))
}

/// [`select`] once the dtypes and the output shape are checked.
fn select_typed<T: Element>(
    shape: &Shape,
    mask: &Tensor,
    a: &Tensor,
    b: &Tensor,
    out: &mut Tensor,
) -> Result<()> {
    out.reset(shape, T::DTYPE);
    let ms = mask.as_slice::<T>()?;
    let xs = a.as_slice::<T>()?;
    let ys = b.as_slice::<T>()?;
    let dst = out.as_mut_slice::<T>()?;
    let n = dst.len();
    if n == 0 {
        return Ok(());
    }
    if ms.len() == n && xs.len() == n && ys.len() == n {
        select_row(dst, Lane::Run(ms), Lane::Run(xs), Lane::Run(ys));
        return Ok(());
    }
    let rows = BroadcastRows::new(shape, [mask.shape(), a.shape(), b.shape()]);
    let len = rows.row_len();
    let steps = rows.row_strides();
    rows.for_each(|r, at| {
        let [m, x, y] = [ms, xs, ys];
        select_row(
            &mut dst[r * len..][..len],
            Lane::of(m, at[0], steps[0], len),
            Lane::of(x, at[1], steps[1], len),
            Lane::of(y, at[2], steps[2], len),
        );
    });
    Ok(())
}

/// One operand of [`select`] along an output row: its elements in order, or one element
/// repeated (broadcast).
#[derive(Clone, Copy)]
enum Lane<'a, T> {
    Run(&'a [T]),
    Repeat(T),
}

impl<'a, T: Copy> Lane<'a, T> {
    /// The `len` elements of `values` from `at` on (`step` 1), or `values[at]` repeated
    /// (`step` 0).
    fn of(values: &'a [T], at: usize, step: usize, len: usize) -> Self {
        if step == 0 {
            Lane::Repeat(values[at])
        } else {
            Lane::Run(&values[at..][..len])
        }
    }
}

/// `dst[k] = select(m[k], a[k], b[k])`, with each operand's kind resolved once per row so the
/// loop is straight-line and vectorises (a stride multiplied in per element does not).
fn select_row<T: Element>(dst: &mut [T], m: Lane<'_, T>, a: Lane<'_, T>, b: Lane<'_, T>) {
    match m {
        Lane::Run(ms) => select_row_a(dst, ms.iter().copied(), a, b),
        Lane::Repeat(m) => select_row_a(dst, std::iter::repeat(m), a, b),
    }
}

fn select_row_a<T: Element>(
    dst: &mut [T],
    m: impl Iterator<Item = T>,
    a: Lane<'_, T>,
    b: Lane<'_, T>,
) {
    match a {
        Lane::Run(xs) => select_row_b(dst, m, xs.iter().copied(), b),
        Lane::Repeat(x) => select_row_b(dst, m, std::iter::repeat(x), b),
    }
}

fn select_row_b<T: Element>(
    dst: &mut [T],
    m: impl Iterator<Item = T>,
    a: impl Iterator<Item = T>,
    b: Lane<'_, T>,
) {
    match b {
        Lane::Run(ys) => select_fill(dst, m, a, ys.iter().copied()),
        Lane::Repeat(y) => select_fill(dst, m, a, std::iter::repeat(y)),
    }
}

#[inline(always)]
fn select_fill<T: Element>(
    dst: &mut [T],
    m: impl Iterator<Item = T>,
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
) {
    for (((o, m), a), b) in dst.iter_mut().zip(m).zip(a).zip(b) {
        *o = scalar::select(m, a, b);
    }
}

/// The output shape of [`select`]: the broadcast of all three shapes.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] naming `select` and the first pair that does not broadcast,
/// checked in the order `(mask, a)`, `(a, b)`, `(mask, b)`.
pub fn select_shape(mask: &Shape, a: &Shape, b: &Shape) -> Result<Shape> {
    // three shapes broadcast together exactly when every pair does: along each axis the
    // lengths other than 1 must all be equal
    let mask_a = Shape::broadcast("select", mask, a)?;
    Shape::broadcast("select", a, b)?;
    Shape::broadcast("select", mask, b)?;
    Shape::broadcast("select", &mask_a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::unravel;
    use crate::testing::{
        assert_tensors_close, broadcast_pair, dtype, shape, tensor_in, tolerance,
    };
    use proptest::prelude::*;

    type Kernel = fn(&Tensor, &Tensor, &mut Tensor) -> Result<()>;
    type Reference = fn(f64, f64) -> f64;

    fn mask(condition: bool) -> f64 {
        if condition {
            1.0
        } else {
            0.0
        }
    }

    /// Every two-operand kernel with its name and a naive `f64` reference.
    fn kernels() -> Vec<(&'static str, Kernel, Reference)> {
        vec![
            ("add", add as Kernel, |x, y| x + y),
            ("sub", sub, |x, y| x - y),
            ("mul", mul, |x, y| x * y),
            ("div", div, |x, y| x / y),
            ("pow", pow, f64::powf),
            ("minimum", minimum, |x, y| {
                if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else {
                    x.min(y)
                }
            }),
            ("maximum", maximum, |x, y| {
                if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else {
                    x.max(y)
                }
            }),
            ("eq", eq, |x, y| mask(x == y)),
            ("ne", ne, |x, y| mask(x != y)),
            ("lt", lt, |x, y| mask(x < y)),
            ("le", le, |x, y| mask(x <= y)),
            ("gt", gt, |x, y| mask(x > y)),
            ("ge", ge, |x, y| mask(x >= y)),
            ("relu_grad", relu_grad, |x, g| if x > 0.0 { g } else { 0.0 }),
        ]
    }

    /// NumPy's broadcast shape of compatible shapes, written out per axis.
    fn naive_broadcast_shape(shapes: &[&Shape]) -> Vec<usize> {
        let rank = shapes.iter().map(|s| s.rank()).max().unwrap_or(0);
        (0..rank)
            .map(|axis| {
                shapes
                    .iter()
                    .filter_map(|s| (axis + s.rank()).checked_sub(rank).map(|i| s.dims()[i]))
                    .find(|&d| d != 1)
                    .unwrap_or(1)
            })
            .collect()
    }

    /// The element of `t` that output position `out_index` reads under broadcasting.
    fn read_broadcast(t: &Tensor, out_index: &[usize]) -> f64 {
        let skip = out_index.len() - t.rank();
        let index: Vec<usize> = t
            .dims()
            .iter()
            .zip(&out_index[skip..])
            .map(|(&d, &i)| if d == 1 { 0 } else { i })
            .collect();
        t.get(&index).unwrap()
    }

    /// `f` applied at every output position of the broadcast of `operands`, in `f64`, rounded
    /// to the operands' dtype.
    fn naive(operands: &[&Tensor], f: impl Fn(&[f64]) -> f64) -> Tensor {
        let shapes: Vec<&Shape> = operands.iter().map(|t| t.shape()).collect();
        let dims = naive_broadcast_shape(&shapes);
        let numel = dims.iter().product();
        let values: Vec<f64> = (0..numel)
            .map(|flat| {
                let index = unravel(flat, &dims);
                let args: Vec<f64> = operands.iter().map(|t| read_broadcast(t, &index)).collect();
                f(&args)
            })
            .collect();
        Tensor::from_f64s(&values, dims, operands[0].dtype()).unwrap()
    }

    /// Small integers in `low..=high`, so that ties, zeros and integer powers occur.
    fn ints(shape: Shape, dtype: DType, low: i32, high: i32) -> impl Strategy<Value = Tensor> {
        prop::collection::vec(low..=high, shape.numel()).prop_map(move |v| {
            let values: Vec<f64> = v.into_iter().map(f64::from).collect();
            Tensor::from_f64s(&values, shape.clone(), dtype).unwrap()
        })
    }

    /// Continuous values in `-4..4`, or small integers.
    fn operand(shape: Shape, dtype: DType) -> impl Strategy<Value = Tensor> {
        prop_oneof![
            tensor_in(shape.clone(), dtype, -4.0, 4.0),
            ints(shape, dtype, -3, 3)
        ]
    }

    fn operand_pair() -> impl Strategy<Value = (Tensor, Tensor)> {
        (broadcast_pair(4, 4), dtype())
            .prop_flat_map(|((sa, sb), dtype)| (operand(sa, dtype), operand(sb, dtype)))
    }

    /// Three shapes that broadcast together, built as `broadcast_pair` builds two.
    fn broadcast_triple() -> impl Strategy<Value = [Shape; 3]> {
        shape(4, 4).prop_flat_map(|full| {
            let rank = full.rank();
            let variant = (prop::collection::vec(any::<bool>(), rank), 0..=rank);
            (Just(full), [variant.clone(), variant.clone(), variant]).prop_map(
                |(full, variants)| {
                    variants.map(|(ones, drop)| {
                        let dims: Vec<usize> = full
                            .dims()
                            .iter()
                            .zip(&ones)
                            .map(|(&d, &one)| if one { 1 } else { d })
                            .skip(drop)
                            .collect();
                        Shape::from(dims)
                    })
                },
            )
        })
    }

    fn select_operands() -> impl Strategy<Value = (Tensor, Tensor, Tensor)> {
        (broadcast_triple(), dtype()).prop_flat_map(|([sm, sa, sb], dtype)| {
            (
                ints(sm, dtype, -1, 1),
                operand(sa, dtype),
                operand(sb, dtype),
            )
        })
    }

    proptest! {
        #[test]
        fn every_kernel_matches_naive_broadcasting((a, b) in operand_pair()) {
            let mut out = Tensor::full([2], f64::NAN, DType::F64);
            for (name, kernel, reference) in kernels() {
                kernel(&a, &b, &mut out)?;
                let expected = naive(&[&a, &b], |v| reference(v[0], v[1]));
                prop_assert_eq!(out.shape(), expected.shape(), "{}", name);
                assert_tensors_close(&out, &expected, tolerance(a.dtype()));
            }
        }

        #[test]
        fn select_matches_naive_three_way_broadcasting((m, a, b) in select_operands()) {
            let mut out = Tensor::default();
            select(&m, &a, &b, &mut out)?;
            let expected = naive(&[&m, &a, &b], |v| if v[0] != 0.0 { v[1] } else { v[2] });
            // a selected value is copied, so the match is exact
            assert_tensors_close(&out, &expected, 0.0);
            prop_assert_eq!(
                select_shape(m.shape(), a.shape(), b.shape())?,
                expected.shape().clone()
            );
        }
    }

    fn f64s(values: &[f64], dims: &[usize]) -> Tensor {
        Tensor::from_f64s(values, dims, DType::F64).unwrap()
    }

    #[test]
    fn bias_add_broadcasts_over_rows() -> Result<()> {
        let a: Vec<f64> = (0..2560).map(|i| i as f64 * 0.5).collect();
        let b: Vec<f64> = (0..10).map(|i| 1000.0 * i as f64).collect();
        let (a, b) = (f64s(&a, &[256, 10]), f64s(&b, &[10]));
        let mut out = Tensor::default();
        add(&a, &b, &mut out)?;
        assert_tensors_close(&out, &naive(&[&a, &b], |v| v[0] + v[1]), 0.0);
        // the same bias as a column, and on the left
        let column = f64s(&b.to_f64_vec()[..4], &[4, 1, 1]);
        let c = f64s(&a.to_f64_vec()[..60], &[5, 12]);
        sub(&column, &c, &mut out)?;
        assert_eq!(out.dims(), &[4, 5, 12]);
        assert_tensors_close(&out, &naive(&[&column, &c], |v| v[0] - v[1]), 0.0);
        Ok(())
    }

    #[test]
    fn rows_merge_contiguous_dimensions() {
        let out = Shape::from([4, 5, 6]);
        let rows = BroadcastRows::new(&out, [&out, &Shape::from([5, 6])]);
        assert_eq!(rows.dims.as_slice(), &[4, 30]);
        assert_eq!(rows.strides[1].as_slice(), &[0, 1]);
        let out = Shape::from([256, 1, 10]);
        let rows = BroadcastRows::new(&out, [&out, &Shape::from([10])]);
        assert_eq!(rows.dims.as_slice(), &[256, 10]);
        assert_eq!(rows.strides[0].as_slice(), &[10, 1]);
        assert_eq!(rows.strides[1].as_slice(), &[0, 1]);
        let rows = BroadcastRows::new(&Shape::scalar(), [&Shape::scalar()]);
        assert_eq!((rows.row_len(), rows.row_strides()), (1, [0]));
    }

    #[test]
    fn minimum_and_maximum_propagate_nan() -> Result<()> {
        for dtype in [DType::F32, DType::F64] {
            let a = Tensor::from_f64s(&[f64::NAN, 1.0, f64::NAN, -0.0], [4], dtype)?;
            let b = Tensor::from_f64s(&[1.0, f64::NAN, f64::NAN, 0.0], [4], dtype)?;
            let mut out = Tensor::default();
            for kernel in [minimum as Kernel, maximum] {
                kernel(&a, &b, &mut out)?;
                let values = out.to_f64_vec();
                assert!(values[..3].iter().all(|v| v.is_nan()), "{values:?}");
            }
            // ties return the left operand, as NumPy
            minimum(&a, &b, &mut out)?;
            assert!(out.to_f64_vec()[3].is_sign_negative());
            maximum(&b, &a, &mut out)?;
            assert!(out.to_f64_vec()[3].is_sign_positive());
        }
        Ok(())
    }

    #[test]
    fn comparisons_give_masks_in_the_operand_dtype() -> Result<()> {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, f32::NAN], [3])?;
        let b = Tensor::from_vec(vec![2.0f32, 2.0, f32::NAN], [3])?;
        let mut out = Tensor::default();
        let cases: [(Kernel, [f32; 3]); 6] = [
            (eq, [0.0, 1.0, 0.0]),
            (ne, [1.0, 0.0, 1.0]),
            (lt, [1.0, 0.0, 0.0]),
            (le, [1.0, 1.0, 0.0]),
            (gt, [0.0, 0.0, 0.0]),
            (ge, [0.0, 1.0, 0.0]),
        ];
        for (kernel, expected) in cases {
            kernel(&a, &b, &mut out)?;
            assert_eq!(out.as_slice::<f32>()?, &expected);
        }
        Ok(())
    }

    #[test]
    fn pow_of_negative_base_needs_an_integer_exponent() -> Result<()> {
        let a = f64s(&[-2.0, -2.0, 0.0, 4.0], &[4]);
        let b = f64s(&[3.0, 0.5, 0.0, 0.5], &[4]);
        let mut out = Tensor::default();
        pow(&a, &b, &mut out)?;
        let values = out.to_f64_vec();
        assert_eq!(values[0], -8.0);
        assert!(values[1].is_nan());
        assert_eq!(&values[2..], &[1.0, 2.0]);
        Ok(())
    }

    #[test]
    fn select_takes_a_where_the_mask_is_non_zero() -> Result<()> {
        let m = f64s(&[1.0, 0.0, -0.5, f64::NAN, -0.0], &[5]);
        let a = f64s(&[10.0], &[]);
        let b = f64s(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5]);
        let mut out = Tensor::default();
        select(&m, &a, &b, &mut out)?;
        assert_eq!(out.to_f64_vec(), vec![10.0, 2.0, 10.0, 10.0, 5.0]);
        Ok(())
    }

    #[test]
    fn dtype_mismatch_names_op_and_both_dtypes() -> Result<()> {
        let a = Tensor::zeros([2], DType::F32);
        let b = Tensor::zeros([2], DType::F64);
        for (name, kernel, _) in kernels() {
            let mut out = Tensor::full([3], 7.0, DType::F64);
            let err = kernel(&a, &b, &mut out).unwrap_err();
            assert_eq!(
                err,
                TensorError::DTypeMismatch {
                    op: name,
                    lhs: DType::F32,
                    rhs: DType::F64
                }
            );
            assert_eq!(
                err.to_string(),
                format!("{name}: dtype mismatch, f32 and f64")
            );
            assert_eq!(
                out,
                Tensor::full([3], 7.0, DType::F64),
                "{name} touched out"
            );
        }
        let mut out = Tensor::default();
        let err = select(&a, &b, &b, &mut out).unwrap_err();
        assert_eq!(
            err,
            TensorError::DTypeMismatch {
                op: "select",
                lhs: DType::F32,
                rhs: DType::F64
            }
        );
        let err = select(&b, &b, &a, &mut out).unwrap_err();
        assert_eq!(
            err,
            TensorError::DTypeMismatch {
                op: "select",
                lhs: DType::F64,
                rhs: DType::F32
            }
        );
        Ok(())
    }

    #[test]
    fn incompatible_shapes_name_op_and_both_shapes() -> Result<()> {
        let a = Tensor::zeros([2, 3], DType::F64);
        let b = Tensor::zeros([3, 2], DType::F64);
        for (name, kernel, _) in kernels() {
            let mut out = Tensor::full([3], 7.0, DType::F64);
            let err = kernel(&a, &b, &mut out).unwrap_err();
            assert_eq!(
                err,
                TensorError::ShapeMismatch {
                    op: name,
                    lhs: Shape::from([2, 3]),
                    rhs: Shape::from([3, 2])
                }
            );
            assert_eq!(
                err.to_string(),
                format!("{name}: incompatible shapes [2, 3] and [3, 2]")
            );
            assert_eq!(
                out,
                Tensor::full([3], 7.0, DType::F64),
                "{name} touched out"
            );
        }
        Ok(())
    }

    #[test]
    fn select_shape_names_the_first_pair_that_does_not_broadcast() -> Result<()> {
        let s = |dims: &[usize]| Shape::from(dims);
        let mismatch = |lhs: &[usize], rhs: &[usize]| TensorError::ShapeMismatch {
            op: "select",
            lhs: s(lhs),
            rhs: s(rhs),
        };
        assert_eq!(
            select_shape(&s(&[2]), &s(&[3]), &s(&[1])),
            Err(mismatch(&[2], &[3]))
        );
        assert_eq!(
            select_shape(&s(&[1]), &s(&[3]), &s(&[4])),
            Err(mismatch(&[3], &[4]))
        );
        assert_eq!(
            select_shape(&s(&[3]), &s(&[1]), &s(&[4])),
            Err(mismatch(&[3], &[4]))
        );
        assert_eq!(
            select_shape(&s(&[3, 1]), &s(&[1]), &s(&[2, 1, 4]))?,
            s(&[2, 3, 4])
        );
        let err = select(
            &Tensor::zeros([3], DType::F32),
            &Tensor::zeros([1], DType::F32),
            &Tensor::zeros([4], DType::F32),
            &mut Tensor::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "select: incompatible shapes [3] and [4]");
        Ok(())
    }

    #[test]
    fn kernels_reuse_the_output_allocation() -> Result<()> {
        let full = Tensor::ones([8, 6], DType::F32);
        let row = Tensor::ones([6], DType::F32);
        let one = Tensor::ones([], DType::F32);
        let column = Tensor::ones([8, 1], DType::F32);
        // equal shapes, a single element, and the row-by-row walk
        for (a, b) in [
            (&full, &full),
            (&one, &full),
            (&full, &row),
            (&column, &row),
        ] {
            for (name, kernel, _) in kernels() {
                let mut out = Tensor::default();
                kernel(a, b, &mut out)?;
                let first = out.as_slice::<f32>()?.as_ptr();
                kernel(a, b, &mut out)?;
                assert_eq!(out.as_slice::<f32>()?.as_ptr(), first, "{name} reallocated");
            }
        }
        let mut out = Tensor::default();
        select(&column, &row, &full, &mut out)?;
        let first = out.as_slice::<f32>()?.as_ptr();
        select(&column, &row, &full, &mut out)?;
        assert_eq!(out.as_slice::<f32>()?.as_ptr(), first);
        Ok(())
    }
}
