//! Shape ops: reshape, permute/transpose, broadcast_to, concat, slice and its adjoint pad.
//! Each copies into `out` (row-major, contiguous); each has a `*_shape` rule.

use crate::{Result, Shape, Tensor};

/// Checks that `shape` holds as many elements as `from`.
///
/// # Errors
/// [`TensorError::InvalidReshape`](crate::TensorError::InvalidReshape).
pub fn reshape_shape(from: &Shape, shape: &Shape) -> Result<Shape> {
    let _ = (from, shape);
    unimplemented!("reshape_shape is being written")
}

/// The same data with another shape of equal element count.
pub fn reshape(x: &Tensor, shape: &Shape, out: &mut Tensor) -> Result<()> {
    let _ = (x, shape, out);
    unimplemented!("reshape is being written")
}

/// The shape after permuting axes: `out.dims[i] = x.dims[perm[i]]`.
///
/// # Errors
/// [`TensorError::InvalidPermutation`](crate::TensorError::InvalidPermutation).
pub fn permute_shape(shape: &Shape, perm: &[usize]) -> Result<Shape> {
    let _ = (shape, perm);
    unimplemented!("permute_shape is being written")
}

/// Permutes axes: `out[i0, i1, ...] = x[i_perm^-1...]`, i.e. `out.dims[i] = x.dims[perm[i]]`,
/// as NumPy's `transpose(x, perm)`.
pub fn permute(x: &Tensor, perm: &[usize], out: &mut Tensor) -> Result<()> {
    let _ = (x, perm, out);
    unimplemented!("permute is being written")
}

/// Swaps the last two axes (rank >= 2).
pub fn transpose(x: &Tensor, out: &mut Tensor) -> Result<()> {
    let _ = (x, out);
    unimplemented!("transpose is being written")
}

/// Checks that `from` broadcasts to `to`.
///
/// # Errors
/// [`TensorError::NotBroadcastable`](crate::TensorError::NotBroadcastable).
pub fn broadcast_to_shape(from: &Shape, to: &Shape) -> Result<Shape> {
    let _ = (from, to);
    unimplemented!("broadcast_to_shape is being written")
}

/// Repeats `x` along broadcast axes to reach `shape` (NumPy's `broadcast_to`, materialised).
pub fn broadcast_to(x: &Tensor, shape: &Shape, out: &mut Tensor) -> Result<()> {
    let _ = (x, shape, out);
    unimplemented!("broadcast_to is being written")
}

/// The shape of concatenating `shapes` along `axis`: all equal except along `axis`.
///
/// # Errors
/// [`TensorError::EmptyConcat`](crate::TensorError::EmptyConcat),
/// [`TensorError::AxisOutOfRange`](crate::TensorError::AxisOutOfRange) or
/// [`TensorError::ShapeMismatch`](crate::TensorError::ShapeMismatch).
pub fn concat_shape(shapes: &[&Shape], axis: usize) -> Result<Shape> {
    let _ = (shapes, axis);
    unimplemented!("concat_shape is being written")
}

/// Joins tensors along an existing axis.
pub fn concat(xs: &[&Tensor], axis: usize, out: &mut Tensor) -> Result<()> {
    let _ = (xs, axis, out);
    unimplemented!("concat is being written")
}

/// The shape of `x[.., start..end, ..]` along `axis`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`](crate::TensorError::AxisOutOfRange) or
/// [`TensorError::SliceOutOfRange`](crate::TensorError::SliceOutOfRange).
pub fn slice_shape(shape: &Shape, axis: usize, start: usize, end: usize) -> Result<Shape> {
    let _ = (shape, axis, start, end);
    unimplemented!("slice_shape is being written")
}

/// Takes `start..end` along `axis`.
pub fn slice(x: &Tensor, axis: usize, start: usize, end: usize, out: &mut Tensor) -> Result<()> {
    let _ = (x, axis, start, end, out);
    unimplemented!("slice is being written")
}

/// The shape of zero-padding `shape` with `before` and `after` elements along `axis`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`](crate::TensorError::AxisOutOfRange).
pub fn pad_shape(shape: &Shape, axis: usize, before: usize, after: usize) -> Result<Shape> {
    let _ = (shape, axis, before, after);
    unimplemented!("pad_shape is being written")
}

/// Zero-pads along `axis`: the adjoint of [`slice`].
pub fn pad(x: &Tensor, axis: usize, before: usize, after: usize, out: &mut Tensor) -> Result<()> {
    let _ = (x, axis, before, after, out);
    unimplemented!("pad is being written")
}
