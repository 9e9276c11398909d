//! Elementwise functions of two tensors, with NumPy broadcasting, and `select` (NumPy's `where`).
//!
//! Every kernel has the signature `fn(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()>`:
//! `a` and `b` must share a dtype and broadcast together ([`Shape::broadcast`]); `out` takes
//! the broadcast shape. Comparisons produce masks of 0 and 1 in the operands' dtype.

use crate::{Result, Shape, Tensor};


macro_rules! binary_stub {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()> {
            let _ = (a, b, out);
            unimplemented!(concat!(stringify!($name), " is being written"))
        }
    )*};
}

binary_stub! {
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
    minimum;
    /// Elementwise maximum (NaN if either is NaN), NumPy's `maximum`.
    maximum;
    /// `a == b` as 0/1.
    eq;
    /// `a != b` as 0/1.
    ne;
    /// `a < b` as 0/1.
    lt;
    /// `a <= b` as 0/1.
    le;
    /// `a > b` as 0/1.
    gt;
    /// `a >= b` as 0/1.
    ge;
}

/// NumPy's `where(mask, a, b)`: `a` where `mask` is non-zero, else `b`; all three broadcast.
pub fn select(mask: &Tensor, a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()> {
    let _ = (mask, a, b, out);
    unimplemented!("select is being written")
}

/// The output shape of [`select`]: the broadcast of all three shapes.
///
/// # Errors
/// [`TensorError::ShapeMismatch`](crate::TensorError::ShapeMismatch) naming the first pair
/// that does not broadcast.
pub fn select_shape(mask: &Shape, a: &Shape, b: &Shape) -> Result<Shape> {
    let _ = (mask, a, b);
    unimplemented!("select_shape is being written")
}
