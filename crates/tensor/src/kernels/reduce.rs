//! Reductions over chosen axes (sum, mean, max, min, argmax) and `sum_to`, the reverse of
//! broadcasting that every gradient of a broadcast op needs.
//!
//! Axes are given normalised (`0..rank`, see [`Shape::axis`]); an empty list reduces nothing
//! (the result is a copy), as NumPy's `axis=()`. Use [`all_axes`] to reduce over everything.

use crate::{Result, Shape, Tensor};

/// `[0, 1, ..., rank-1]`: every axis of a shape.
pub fn all_axes(shape: &Shape) -> Vec<usize> {
    (0..shape.rank()).collect()
}

/// The shape left by reducing `axes` of `shape`: those dimensions dropped, or kept as 1 with
/// `keepdims`.
///
/// # Errors
/// [`TensorError::AxisOutOfRange`](crate::TensorError::AxisOutOfRange) or
/// [`TensorError::DuplicateAxis`](crate::TensorError::DuplicateAxis), naming `op`.
pub fn reduce_shape(op: &'static str, shape: &Shape, axes: &[usize], keepdims: bool) -> Result<Shape> {
    let _ = (op, shape, axes, keepdims);
    unimplemented!("reduce_shape is being written")
}

/// Sum over `axes`.
pub fn sum(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    let _ = (x, axes, keepdims, out);
    unimplemented!("sum is being written")
}

/// Mean over `axes` (NaN for an empty axis, as NumPy).
pub fn mean(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    let _ = (x, axes, keepdims, out);
    unimplemented!("mean is being written")
}

/// Maximum over `axes` (NaN propagates); an empty reduced axis is an error.
pub fn max(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    let _ = (x, axes, keepdims, out);
    unimplemented!("max is being written")
}

/// Minimum over `axes` (NaN propagates); an empty reduced axis is an error.
pub fn min(x: &Tensor, axes: &[usize], keepdims: bool, out: &mut Tensor) -> Result<()> {
    let _ = (x, axes, keepdims, out);
    unimplemented!("min is being written")
}

/// Index of the maximum along one axis (first one on ties), as a float in `x`'s dtype.
pub fn argmax(x: &Tensor, axis: usize, keepdims: bool, out: &mut Tensor) -> Result<()> {
    let _ = (x, axis, keepdims, out);
    unimplemented!("argmax is being written")
}

/// Sums `x` down to `shape`, the reverse of broadcasting `shape` to `x`'s shape: leading axes
/// are summed away and axes where `shape` has 1 are summed with keepdims.
///
/// # Errors
/// [`TensorError::NotBroadcastable`](crate::TensorError::NotBroadcastable) when `shape` does
/// not broadcast to `x`'s shape.
pub fn sum_to(x: &Tensor, shape: &Shape, out: &mut Tensor) -> Result<()> {
    let _ = (x, shape, out);
    unimplemented!("sum_to is being written")
}
