//! Elementwise functions of one tensor.
//!
//! Every kernel here has the signature `fn(x: &Tensor, out: &mut Tensor) -> Result<()>` (plus a
//! parameter for `leaky_relu` and `elu`): `out` takes `x`'s shape and dtype.
//! Stable forms: `softplus(800) = 800`, `sigmoid(-800) = 0`, never NaN for finite input.

use crate::{Result, Tensor};

macro_rules! unary_stub {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(x: &Tensor, out: &mut Tensor) -> Result<()> {
            let _ = (x, out);
            unimplemented!(concat!(stringify!($name), " is being written"))
        }
    )*};
}

unary_stub! {
    /// `-x`.
    neg;
    /// `|x|`.
    abs;
    /// `sign(x)`: -1, 0 or 1 (0 for ±0; NaN stays NaN).
    sign;
    /// `e^x`.
    exp;
    /// Natural logarithm.
    ln;
    /// Square root.
    sqrt;
    /// `x²`.
    square;
    /// `1/x`.
    recip;
    /// Sine.
    sin;
    /// Cosine.
    cos;
    /// Tangent.
    tan;
    /// Arcsine.
    asin;
    /// Arccosine.
    acos;
    /// Arctangent.
    atan;
    /// Hyperbolic sine.
    sinh;
    /// Hyperbolic cosine.
    cosh;
    /// Hyperbolic tangent.
    tanh;
    /// Logistic sigmoid `1/(1+e^-x)`, stable for large |x|.
    sigmoid;
    /// `ln(1+e^x)`, stable: `x + ln(1+e^-x)` for positive x.
    softplus;
    /// `x/(1+|x|)`.
    softsign;
    /// `max(x, 0)`; `relu(0) = 0`.
    relu;
}

/// `x` for `x > 0`, `slope * x` otherwise.
pub fn leaky_relu(x: &Tensor, slope: f64, out: &mut Tensor) -> Result<()> {
    let _ = (x, slope, out);
    unimplemented!("leaky_relu is being written")
}

/// `x` for `x > 0`, `alpha * (e^x - 1)` otherwise.
pub fn elu(x: &Tensor, alpha: f64, out: &mut Tensor) -> Result<()> {
    let _ = (x, alpha, out);
    unimplemented!("elu is being written")
}

/// Applies a scalar function elementwise (in `f64`, rounded back for `f32`): the kernel behind
/// user-defined elementwise functions.
pub fn map_f64(x: &Tensor, f: &dyn Fn(f64) -> f64, out: &mut Tensor) -> Result<()> {
    let _ = (x, f, out);
    unimplemented!("map_f64 is being written")
}
