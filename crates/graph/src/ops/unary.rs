//! Elementwise functions of one operand.

use adnet_tensor::kernels::{self, scalar};
use adnet_tensor::Tensor;

use super::same_spec;
use crate::{Op, Result, ScalarFn, TensorSpec};

/// Defines a parameterless elementwise op from its tensor kernel and its scalar function.
macro_rules! unary_op {
    ($(#[$doc:meta])* $op:ident, $name:literal, $kernel:path, $scalar:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $op;

        impl Op for $op {
            fn name(&self) -> &str {
                $name
            }
            fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
                same_spec(self, inputs, 1)
            }
            fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
                Ok($kernel(x[0], y)?)
            }
            fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
                Ok($scalar(x[0]))
            }
            fn scalar_fn(&self) -> Option<ScalarFn> {
                Some(ScalarFn::Unary($scalar))
            }
        }
    };
}

unary_op! {
    /// `y = -x`.
    Neg, "neg", kernels::neg, scalar::neg
}

unary_op! {
    /// `y = |x|`.
    Abs, "abs", kernels::abs, scalar::abs
}

unary_op! {
    /// `y = sign(x)` in {-1, 0, 1}; `sign(0) = 0`.
    Sign, "sign", kernels::sign, scalar::sign
}

unary_op! {
    /// `y = e^x`.
    Exp, "exp", kernels::exp, scalar::exp
}

unary_op! {
    /// `y = ln x`, the natural logarithm (NaN for `x < 0`, `-inf` at 0).
    Ln, "ln", kernels::ln, scalar::ln
}

unary_op! {
    /// `y = √x` (NaN for `x < 0`).
    Sqrt, "sqrt", kernels::sqrt, scalar::sqrt
}

unary_op! {
    /// `y = x²`.
    Square, "square", kernels::square, scalar::square
}

unary_op! {
    /// `y = 1/x`.
    Recip, "recip", kernels::recip, scalar::recip
}

unary_op! {
    /// `y = sin x`.
    Sin, "sin", kernels::sin, scalar::sin
}

unary_op! {
    /// `y = cos x`.
    Cos, "cos", kernels::cos, scalar::cos
}

unary_op! {
    /// `y = tan x`.
    Tan, "tan", kernels::tan, scalar::tan
}

unary_op! {
    /// `y = asin x`, on `[-1, 1]`.
    Asin, "asin", kernels::asin, scalar::asin
}

unary_op! {
    /// `y = acos x`, on `[-1, 1]`.
    Acos, "acos", kernels::acos, scalar::acos
}

unary_op! {
    /// `y = atan x`.
    Atan, "atan", kernels::atan, scalar::atan
}

unary_op! {
    /// `y = sinh x`.
    Sinh, "sinh", kernels::sinh, scalar::sinh
}

unary_op! {
    /// `y = cosh x`.
    Cosh, "cosh", kernels::cosh, scalar::cosh
}

unary_op! {
    /// `y = tanh x`.
    Tanh, "tanh", kernels::tanh, scalar::tanh
}

unary_op! {
    /// `y = 1/(1+e^-x)`, computed without overflow (`sigmoid(-800) = 0`).
    Sigmoid, "sigmoid", kernels::sigmoid, scalar::sigmoid
}

unary_op! {
    /// `y = ln(1+e^x)`, computed without overflow (`softplus(800) = 800`).
    Softplus, "softplus", kernels::softplus, scalar::softplus
}

unary_op! {
    /// `y = x/(1+|x|)`.
    Softsign, "softsign", kernels::softsign, scalar::softsign
}

unary_op! {
    /// `y = max(x, 0)`; at the kink `relu(0) = 0`.
    Relu, "relu", kernels::relu, scalar::relu
}

/// `y = x` for `x > 0`, `slope·x` otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyRelu {
    /// The slope for `x <= 0` (PyTorch's default is 0.01).
    pub slope: f64,
}

impl Op for LeakyRelu {
    fn name(&self) -> &str {
        "leaky_relu"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        same_spec(self, inputs, 1)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::leaky_relu(x[0], self.slope, y)?)
    }
    fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
        Ok(scalar::leaky_relu(x[0], self.slope))
    }
    fn label(&self) -> String {
        format!("leaky_relu({})", self.slope)
    }
}

/// `y = x` for `x > 0`, `alpha·(e^x − 1)` otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elu {
    /// The scale of the negative part (PyTorch's default is 1).
    pub alpha: f64,
}

impl Op for Elu {
    fn name(&self) -> &str {
        "elu"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        same_spec(self, inputs, 1)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::elu(x[0], self.alpha, y)?)
    }
    fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
        Ok(scalar::elu(x[0], self.alpha))
    }
    fn label(&self) -> String {
        format!("elu({})", self.alpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_tensor::{testing::close, DType};
    use proptest::prelude::*;

    /// An op, its operand's domain (low, high) and the textbook function it must compute.
    type Case = (Box<dyn Op>, f64, f64, fn(f64) -> f64);

    fn cases() -> Vec<Case> {
        vec![
            (Box::new(Neg), -10.0, 10.0, |x| -x),
            (Box::new(Abs), -10.0, 10.0, f64::abs),
            (Box::new(Sign), -10.0, 10.0, f64::signum),
            (Box::new(Exp), -10.0, 10.0, f64::exp),
            (Box::new(Ln), 1e-3, 1e3, f64::ln),
            (Box::new(Sqrt), 1e-3, 1e3, f64::sqrt),
            (Box::new(Square), -10.0, 10.0, |x| x * x),
            (Box::new(Recip), 0.1, 10.0, f64::recip),
            (Box::new(Sin), -10.0, 10.0, f64::sin),
            (Box::new(Cos), -10.0, 10.0, f64::cos),
            (Box::new(Tan), -1.5, 1.5, f64::tan),
            (Box::new(Asin), -0.999, 0.999, f64::asin),
            (Box::new(Acos), -0.999, 0.999, f64::acos),
            (Box::new(Atan), -10.0, 10.0, f64::atan),
            (Box::new(Sinh), -10.0, 10.0, f64::sinh),
            (Box::new(Cosh), -10.0, 10.0, f64::cosh),
            (Box::new(Tanh), -10.0, 10.0, f64::tanh),
            (Box::new(Sigmoid), -30.0, 30.0, |x| 1.0 / (1.0 + (-x).exp())),
            (Box::new(Softplus), -30.0, 30.0, |x| x.exp().ln_1p()),
            (Box::new(Softsign), -10.0, 10.0, |x| x / (1.0 + x.abs())),
            (Box::new(Relu), -10.0, 10.0, |x| x.max(0.0)),
            (Box::new(LeakyRelu { slope: 0.1 }), -10.0, 10.0, |x| {
                if x > 0.0 {
                    x
                } else {
                    0.1 * x
                }
            }),
            (Box::new(Elu { alpha: 1.5 }), -10.0, 10.0, |x| {
                if x > 0.0 {
                    x
                } else {
                    1.5 * x.exp_m1()
                }
            }),
        ]
    }

    proptest! {
        /// The scalar fast path, the tensor kernel (both dtypes) and the textbook formula
        /// agree for every unary op: an op wired to the wrong kernel or function fails here.
        #[test]
        fn scalar_path_tensor_path_and_formula_agree(t in 0.0f64..1.0) {
            for (op, lo, hi, reference) in cases() {
                let x = lo + t * (hi - lo);
                let expected = reference(x);
                let scalar = op.eval_scalar(&[x]).unwrap();
                prop_assert!(close(scalar, expected, 1e-12), "{}({x}): scalar {scalar}, expected {expected}", op.name());
                for dtype in [DType::F32, DType::F64] {
                    let input = Tensor::from_f64s(&[x, x], [2], dtype).unwrap();
                    let mut out = Tensor::default();
                    op.forward(&[&input], &mut out).unwrap();
                    let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
                    for v in out.to_f64_vec() {
                        prop_assert!(close(v, expected, tol), "{}({x}) {dtype}: {v}, expected {expected}", op.name());
                    }
                }
            }
        }
    }

    #[test]
    fn unary_ops_keep_shape_and_dtype() -> Result<()> {
        let spec = TensorSpec::new([2, 3], DType::F32);
        for (op, ..) in cases() {
            assert_eq!(op.infer(&[&spec])?, spec, "{}", op.name());
        }
        Ok(())
    }

    #[test]
    fn labels_show_parameters() {
        assert_eq!(LeakyRelu { slope: 0.2 }.label(), "leaky_relu(0.2)");
        assert_eq!(Elu { alpha: 1.0 }.label(), "elu(1)");
        assert_eq!(Tanh.label(), "tanh");
    }
}
