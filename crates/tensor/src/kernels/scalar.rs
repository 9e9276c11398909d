//! The elementwise functions on one element: the single definition that both the tensor
//! kernels and the scalar fast path of compiled plans use, so the two can never disagree.

use crate::Element;

/// `-x`.
pub fn neg<T: Element>(x: T) -> T {
    -x
}

/// `|x|`.
pub fn abs<T: Element>(x: T) -> T {
    x.abs()
}

/// -1, 0 or 1; `sign(±0) = 0`, NaN stays NaN.
pub fn sign<T: Element>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        x * T::zero()
    }
}

/// `e^x`.
pub fn exp<T: Element>(x: T) -> T {
    x.exp()
}

/// Natural logarithm.
pub fn ln<T: Element>(x: T) -> T {
    x.ln()
}

/// Square root.
pub fn sqrt<T: Element>(x: T) -> T {
    x.sqrt()
}

/// `x²`.
pub fn square<T: Element>(x: T) -> T {
    x * x
}

/// `1/x`.
pub fn recip<T: Element>(x: T) -> T {
    x.recip()
}

/// Sine.
pub fn sin<T: Element>(x: T) -> T {
    x.sin()
}

/// Cosine.
pub fn cos<T: Element>(x: T) -> T {
    x.cos()
}

/// Tangent.
pub fn tan<T: Element>(x: T) -> T {
    x.tan()
}

/// Arcsine.
pub fn asin<T: Element>(x: T) -> T {
    x.asin()
}

/// Arccosine.
pub fn acos<T: Element>(x: T) -> T {
    x.acos()
}

/// Arctangent.
pub fn atan<T: Element>(x: T) -> T {
    x.atan()
}

/// Hyperbolic sine.
pub fn sinh<T: Element>(x: T) -> T {
    x.sinh()
}

/// Hyperbolic cosine.
pub fn cosh<T: Element>(x: T) -> T {
    x.cosh()
}

/// Hyperbolic tangent.
pub fn tanh<T: Element>(x: T) -> T {
    x.tanh()
}

/// `1/(1+e^-x)`, never NaN: for negative `x` it is `e^x/(1+e^x)`, so `e^-x` cannot overflow.
pub fn sigmoid<T: Element>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `ln(1+e^x)` as `max(x, 0) + ln(1+e^-|x|)`, so `softplus(800) = 800` and `softplus(-800)` is
/// a tiny positive number, never inf or NaN.
pub fn softplus<T: Element>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// `x/(1+|x|)`.
pub fn softsign<T: Element>(x: T) -> T {
    x / (T::one() + x.abs())
}

/// `max(x, 0)`; `relu(0) = 0`, NaN stays NaN.
pub fn relu<T: Element>(x: T) -> T {
    if x < T::zero() {
        T::zero()
    } else {
        x
    }
}

/// `x` for `x > 0`, `slope * x` otherwise.
pub fn leaky_relu<T: Element>(x: T, slope: T) -> T {
    if x > T::zero() {
        x
    } else {
        slope * x
    }
}

/// `x` for `x > 0`, `alpha * (e^x - 1)` otherwise.
pub fn elu<T: Element>(x: T, alpha: T) -> T {
    if x > T::zero() {
        x
    } else {
        alpha * x.exp_m1()
    }
}

/// `a + b`.
pub fn add<T: Element>(a: T, b: T) -> T {
    a + b
}

/// `a - b`.
pub fn sub<T: Element>(a: T, b: T) -> T {
    a - b
}

/// `a * b`.
pub fn mul<T: Element>(a: T, b: T) -> T {
    a * b
}

/// `a / b`.
pub fn div<T: Element>(a: T, b: T) -> T {
    a / b
}

/// `a^b` (`powf`: a negative base gives NaN unless `b` is an integer).
pub fn pow<T: Element>(a: T, b: T) -> T {
    a.powf(b)
}

/// The smaller of `a` and `b`; NaN if either is NaN (NumPy's `minimum`).
pub fn minimum<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if b < a {
        b
    } else {
        a
    }
}

/// The larger of `a` and `b`; NaN if either is NaN (NumPy's `maximum`).
pub fn maximum<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if b > a {
        b
    } else {
        a
    }
}

/// 1 where the condition holds, else 0.
fn mask<T: Element>(condition: bool) -> T {
    if condition {
        T::one()
    } else {
        T::zero()
    }
}

/// `g` where `x > 0`, else 0 (also for a NaN `x`): the ReLU's derivative applied to a
/// cotangent `g`, in one step (PyTorch's `threshold_backward`).
pub fn relu_grad<T: Element>(x: T, g: T) -> T {
    if x > T::zero() {
        g
    } else {
        T::zero()
    }
}

/// `a == b` as 0/1.
pub fn eq<T: Element>(a: T, b: T) -> T {
    mask(a == b)
}

/// `a != b` as 0/1.
pub fn ne<T: Element>(a: T, b: T) -> T {
    mask(a != b)
}

/// `a < b` as 0/1.
pub fn lt<T: Element>(a: T, b: T) -> T {
    mask(a < b)
}

/// `a <= b` as 0/1.
pub fn le<T: Element>(a: T, b: T) -> T {
    mask(a <= b)
}

/// `a > b` as 0/1.
pub fn gt<T: Element>(a: T, b: T) -> T {
    mask(a > b)
}

/// `a >= b` as 0/1.
pub fn ge<T: Element>(a: T, b: T) -> T {
    mask(a >= b)
}

/// `a` where `mask` is non-zero, else `b` (NumPy's `where`).
pub fn select<T: Element>(mask: T, a: T, b: T) -> T {
    if mask != T::zero() {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_forms_stay_finite_at_extremes() {
        assert_eq!(sigmoid(-800.0f64), 0.0);
        assert_eq!(sigmoid(800.0f64), 1.0);
        assert_eq!(softplus(800.0f64), 800.0);
        assert!(softplus(-800.0f64) >= 0.0 && softplus(-800.0f64) < 1e-300);
        assert_eq!(sigmoid(-200.0f32), 0.0);
        assert_eq!(softplus(200.0f32), 200.0);
    }

    #[test]
    fn kinks_take_the_documented_values() {
        assert_eq!(relu(0.0f64), 0.0);
        assert_eq!(sign(0.0f64), 0.0);
        assert_eq!(sign(-0.0f64), 0.0);
        assert_eq!(leaky_relu(0.0f64, 0.1), 0.0);
        assert_eq!(elu(0.0f64, 1.0), 0.0);
        assert!(maximum(f64::NAN, 1.0).is_nan() && minimum(1.0, f64::NAN).is_nan());
    }
}
