//! Elementwise functions of one tensor.
//!
//! Every kernel here has the signature `fn(x: &Tensor, out: &mut Tensor) -> Result<()>` (plus a
//! parameter for `leaky_relu` and `elu`): `out` takes `x`'s shape and dtype.
//! Stable forms: `softplus(800) = 800`, `sigmoid(-800) = 0`, never NaN for finite input.
//!
//! None of them fails on a tensor: the `Result` is there so every kernel has the same shape.
//! Each runs one tight loop over the data, so the compiler vectorises what the CPU can.

use super::scalar;
use crate::{dispatch, Element, Result, Tensor};

/// Resets `out` to `x`'s shape and dtype (reusing its allocation) and writes `f(v)` for every
/// element `v` of `x`.
fn map<T: Element>(x: &Tensor, out: &mut Tensor, f: impl Fn(T) -> T) -> Result<()> {
    out.reset(x.shape(), T::DTYPE);
    let src = x.as_slice::<T>()?;
    let dst = out.as_mut_slice::<T>()?;
    for (o, &v) in dst.iter_mut().zip(src) {
        *o = f(v);
    }
    Ok(())
}

/// Each kernel maps the function of the same name in [`scalar`], the one definition the scalar
/// fast path of compiled plans uses too.
macro_rules! unary_kernels {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(x: &Tensor, out: &mut Tensor) -> Result<()> {
            dispatch!(x.dtype(), T => map::<T>(x, out, scalar::$name::<T>))
        }
    )*};
}

unary_kernels! {
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
    ///
    /// Computed as `1/(1+e^-x)` for `x >= 0` and `e^x/(1+e^x)` for `x < 0`, so
    /// `sigmoid(-800) = 0` and `sigmoid(800) = 1`, never NaN for finite input.
    sigmoid;
    /// `ln(1+e^x)`, stable: `x + ln(1+e^-x)` for positive x.
    ///
    /// Computed as `max(x, 0) + ln_1p(e^-|x|)`: `softplus(800) = 800`, `softplus(-800) = 0`.
    softplus;
    /// `x/(1+|x|)`.
    softsign;
    /// `max(x, 0)`; `relu(0) = 0`.
    ///
    /// NaN stays NaN.
    relu;
}

/// `x` for `x > 0`, `slope * x` otherwise.
///
/// At the kink, `leaky_relu(0) = 0`; NaN stays NaN.
pub fn leaky_relu(x: &Tensor, slope: f64, out: &mut Tensor) -> Result<()> {
    dispatch!(x.dtype(), T => {
        let slope = <T as Element>::from_f64(slope);
        map::<T>(x, out, |v| scalar::leaky_relu(v, slope))
    })
}

/// `x` for `x > 0`, `alpha * (e^x - 1)` otherwise.
///
/// `e^x - 1` is computed with `exp_m1`, accurate near 0; `elu(0) = 0`; NaN stays NaN.
pub fn elu(x: &Tensor, alpha: f64, out: &mut Tensor) -> Result<()> {
    dispatch!(x.dtype(), T => {
        let alpha = <T as Element>::from_f64(alpha);
        map::<T>(x, out, |v| scalar::elu(v, alpha))
    })
}

/// Applies a scalar function elementwise (in `f64`, rounded back for `f32`): the kernel behind
/// user-defined elementwise functions.
pub fn map_f64(x: &Tensor, f: &dyn Fn(f64) -> f64, out: &mut Tensor) -> Result<()> {
    dispatch!(x.dtype(), T => {
        map::<T>(x, out, |v| <T as Element>::from_f64(f(Element::to_f64(v))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_tensors_close, dtype, shape, tolerance};
    use crate::{assert_close, DType, Shape};
    use proptest::prelude::*;

    type Kernel = fn(&Tensor, &mut Tensor) -> Result<()>;

    /// A kernel, its naive `f64` reference from std, and the input domain it is tested on.
    struct Case {
        name: &'static str,
        kernel: Kernel,
        reference: fn(f64) -> f64,
        low: f64,
        high: f64,
    }

    const SLOPE: f64 = 0.1;
    const ALPHA: f64 = 1.5;

    fn leaky_relu_fixed(x: &Tensor, out: &mut Tensor) -> Result<()> {
        leaky_relu(x, SLOPE, out)
    }

    fn elu_fixed(x: &Tensor, out: &mut Tensor) -> Result<()> {
        elu(x, ALPHA, out)
    }

    fn cubic(v: f64) -> f64 {
        v * v * v - 2.0 * v
    }

    fn map_cubic(x: &Tensor, out: &mut Tensor) -> Result<()> {
        map_f64(x, &cubic, out)
    }

    fn cases() -> Vec<Case> {
        let case = |name, kernel, reference, low, high| Case {
            name,
            kernel,
            reference,
            low,
            high,
        };
        vec![
            case("neg", neg as Kernel, |v: f64| -v, -10.0, 10.0),
            case("abs", abs, f64::abs, -10.0, 10.0),
            // std's signum(0) is 1; sign(0) is 0
            case(
                "sign",
                sign,
                |v| if v == 0.0 { 0.0 } else { v.signum() },
                -10.0,
                10.0,
            ),
            case("exp", exp, f64::exp, -10.0, 10.0),
            case("ln", ln, f64::ln, 1e-3, 1e3),
            case("sqrt", sqrt, f64::sqrt, 1e-3, 1e3),
            case("square", square, |v| v * v, -10.0, 10.0),
            case("recip", recip, |v| 1.0 / v, -10.0, 10.0),
            case("sin", sin, f64::sin, -10.0, 10.0),
            case("cos", cos, f64::cos, -10.0, 10.0),
            // tan's poles are at ±π/2; stay inside them
            case("tan", tan, f64::tan, -1.5, 1.5),
            case("asin", asin, f64::asin, -0.999, 0.999),
            case("acos", acos, f64::acos, -0.999, 0.999),
            case("atan", atan, f64::atan, -10.0, 10.0),
            case("sinh", sinh, f64::sinh, -10.0, 10.0),
            case("cosh", cosh, f64::cosh, -10.0, 10.0),
            case("tanh", tanh, f64::tanh, -10.0, 10.0),
            case(
                "sigmoid",
                sigmoid,
                |v| 1.0 / (1.0 + (-v).exp()),
                -10.0,
                10.0,
            ),
            case("softplus", softplus, |v| (1.0 + v.exp()).ln(), -10.0, 10.0),
            case("softsign", softsign, |v| v / (1.0 + v.abs()), -10.0, 10.0),
            case("relu", relu, |v| v.max(0.0), -10.0, 10.0),
            case(
                "leaky_relu",
                leaky_relu_fixed,
                |v| if v > 0.0 { v } else { SLOPE * v },
                -10.0,
                10.0,
            ),
            case(
                "elu",
                elu_fixed,
                |v| if v > 0.0 { v } else { ALPHA * (v.exp() - 1.0) },
                -10.0,
                10.0,
            ),
            case("map_f64", map_cubic, cubic, -10.0, 10.0),
        ]
    }

    /// The kernel on one value as a rank-0 tensor of `dtype`.
    fn eval(kernel: Kernel, value: f64, dtype: DType) -> Result<f64> {
        let mut out = Tensor::default();
        kernel(&Tensor::scalar_of(value, dtype), &mut out)?;
        assert_eq!(out.dtype(), dtype);
        assert!(out.shape().is_scalar());
        out.to_scalar()
    }

    /// Checks `case` on `input` against its reference, evaluated in `f64` on the values the
    /// input actually holds and rounded to the input's dtype.
    fn check_against_reference(case: &Case, input: &Tensor, out: &mut Tensor) -> Result<()> {
        (case.kernel)(input, out)?;
        let expected: Vec<f64> = input.to_f64_vec().into_iter().map(case.reference).collect();
        let expected = Tensor::from_f64s(&expected, input.shape().clone(), input.dtype())?;
        assert_tensors_close(out, &expected, tolerance(input.dtype()));
        Ok(())
    }

    #[test]
    fn kernels_match_std_at_pinned_values() -> Result<()> {
        for case in cases() {
            for dtype in [DType::F32, DType::F64] {
                for t in [0.0, 0.13, 0.5, 0.77, 0.999] {
                    let x = case.low + (case.high - case.low) * t;
                    let x = Tensor::scalar_of(x, dtype).to_scalar()?;
                    let actual = eval(case.kernel, x, dtype)?;
                    let expected = (case.reference)(x);
                    assert!(
                        crate::testing::close(actual, expected, tolerance(dtype)),
                        "{}({x}) in {dtype}: {actual} vs {expected}",
                        case.name
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn kinks_take_the_documented_values() -> Result<()> {
        for dtype in [DType::F32, DType::F64] {
            assert_eq!(eval(relu, 0.0, dtype)?, 0.0);
            assert_eq!(eval(relu, -3.0, dtype)?, 0.0);
            assert_eq!(eval(relu, 2.5, dtype)?, 2.5);
            assert_eq!(eval(sign, 0.0, dtype)?, 0.0);
            assert_eq!(eval(sign, -0.0, dtype)?, 0.0);
            assert_eq!(eval(sign, -2.0, dtype)?, -1.0);
            assert_eq!(eval(sign, 1e-30, dtype)?, 1.0);
            assert_eq!(eval(leaky_relu_fixed, 0.0, dtype)?, 0.0);
            assert_close!(eval(leaky_relu_fixed, -2.0, dtype)?, -0.2, 1e-7);
            assert_eq!(eval(elu_fixed, 0.0, dtype)?, 0.0);
            assert_eq!(eval(elu_fixed, 3.0, dtype)?, 3.0);
            assert_close!(
                eval(elu_fixed, -1.0, dtype)?,
                ALPHA * (-1.0f64).exp_m1(),
                1e-7
            );
        }
        Ok(())
    }

    #[test]
    fn nan_propagates_through_every_kernel() -> Result<()> {
        for case in cases() {
            for dtype in [DType::F32, DType::F64] {
                let y = eval(case.kernel, f64::NAN, dtype)?;
                assert!(y.is_nan(), "{}(NaN) in {dtype} gave {y}", case.name);
            }
        }
        Ok(())
    }

    #[test]
    fn sigmoid_and_softplus_are_stable_at_extremes() -> Result<()> {
        for dtype in [DType::F32, DType::F64] {
            assert_eq!(eval(sigmoid, -800.0, dtype)?, 0.0);
            assert_eq!(eval(sigmoid, 800.0, dtype)?, 1.0);
            assert_eq!(eval(sigmoid, 0.0, dtype)?, 0.5);
            assert_eq!(eval(softplus, 800.0, dtype)?, 800.0);
            let tiny = eval(softplus, -800.0, dtype)?;
            assert!((0.0..1e-300).contains(&tiny), "softplus(-800) = {tiny}");
            assert_close!(eval(tanh, 20.0, dtype)?, 1.0, 1e-15);
            assert_close!(eval(tanh, -20.0, dtype)?, -1.0, 1e-15);
        }
        // the small tails keep their relative accuracy: a naive ln(1 + e^-40) rounds to 0
        assert_close!(
            eval(softplus, -40.0, DType::F64)? / (-40.0f64).exp(),
            1.0,
            1e-12
        );
        assert_close!(
            eval(sigmoid, -40.0, DType::F64)? / (-40.0f64).exp(),
            1.0,
            1e-12
        );
        assert_close!(
            eval(softplus, -20.0, DType::F32)? / (-20.0f64).exp(),
            1.0,
            1e-5
        );
        Ok(())
    }

    #[test]
    fn exp_700_is_finite_in_f64() -> Result<()> {
        let y = eval(exp, 700.0, DType::F64)?;
        assert!(y.is_finite());
        assert_close!(y, 700.0f64.exp());
        Ok(())
    }

    #[test]
    fn map_f64_rounds_back_to_f32() -> Result<()> {
        let x = Tensor::from_vec(vec![0.1f32, 2.0], [2])?;
        let mut out = Tensor::default();
        map_f64(&x, &|v| v / 3.0, &mut out)?;
        assert_eq!(out.dtype(), DType::F32);
        assert_eq!(
            out.as_slice::<f32>()?,
            &[(0.1f32 as f64 / 3.0) as f32, (2.0 / 3.0) as f32]
        );
        Ok(())
    }

    #[test]
    fn kernels_reuse_the_output_allocation() -> Result<()> {
        let x = Tensor::from_vec(vec![0.5f32; 12], [3, 4])?;
        for case in cases() {
            let mut out = Tensor::default();
            (case.kernel)(&x, &mut out)?;
            let first = out.as_slice::<f32>()?.as_ptr();
            (case.kernel)(&x, &mut out)?;
            assert_eq!(
                out.as_slice::<f32>()?.as_ptr(),
                first,
                "{} reallocated",
                case.name
            );
        }
        Ok(())
    }

    #[test]
    fn output_takes_the_input_shape_and_dtype() -> Result<()> {
        let mut out = Tensor::full([7], f64::NAN, DType::F64);
        let x = Tensor::from_vec(vec![1.0f32, -2.0, 3.0, -4.0], [2, 1, 2])?;
        abs(&x, &mut out)?;
        assert_eq!(out.shape(), &Shape::from([2, 1, 2]));
        assert_eq!(out.as_slice::<f32>()?, &[1.0, 2.0, 3.0, 4.0]);
        Ok(())
    }

    /// A shape and dtype with values in `0..1`, mapped onto each kernel's domain by the test.
    fn unit_input() -> impl Strategy<Value = (Shape, DType, Vec<f64>)> {
        (shape(4, 5), dtype()).prop_flat_map(|(shape, dtype)| {
            let n = shape.numel();
            (
                Just(shape),
                Just(dtype),
                prop::collection::vec(0.0..1.0f64, n),
            )
        })
    }

    proptest! {
        #[test]
        fn every_kernel_matches_its_naive_reference((shape, dtype, unit) in unit_input()) {
            // one output reused across kernels of different domains, as a plan would
            let mut out = Tensor::full([3], f64::NAN, DType::F64);
            for case in cases() {
                let values: Vec<f64> =
                    unit.iter().map(|t| case.low + (case.high - case.low) * t).collect();
                let input = Tensor::from_f64s(&values, shape.clone(), dtype)?;
                check_against_reference(&case, &input, &mut out)?;
            }
        }
    }
}
