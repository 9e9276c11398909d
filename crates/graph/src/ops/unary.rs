//! Elementwise functions of one operand.
//!
//! Each op's derivative rule sits in its definition, next to the doc comment that states it.
//! Where the derivative is a function of the output (`exp`, `tanh`, `sigmoid`, `sqrt`,
//! `recip`, `tan`, `elu`), the rule is built from the output node `y`, so backward repeats no
//! forward work.

use adnet_tensor::kernels::{self, scalar};
use adnet_tensor::Tensor;

use super::{same_spec, scalar_like};
use crate::{Graph, InputGrads, NodeId, Op, Result, ScalarFn, TensorSpec};

/// Defines a parameterless elementwise op from its tensor kernel, its scalar function and its
/// derivative rule.
///
/// The rule is written `vjp: |g, x, y, y_bar| x_bar`: an expression (using `?`) that adds the
/// nodes of `x̄` to `g`, given the operand `x`, the output `y` and its cotangent `ȳ`. `vjp: none`
/// declares an op through which no gradient flows.
macro_rules! unary_op {
    (
        $(#[$doc:meta])* $op:ident, $name:literal, $kernel:path, $scalar:path,
        vjp: |$g:ident, $x:ident, $y:ident, $y_bar:ident| $rule:expr
    ) => {
        unary_op!(@define $(#[$doc])* $op, $name, $kernel, $scalar,
            fn vjp(&self, $g: &Graph, operands: &[NodeId], $y: NodeId, $y_bar: NodeId) -> Result<InputGrads> {
                let $x = operands[0];
                Ok(InputGrads::one($rule))
            }
        );
    };
    ($(#[$doc:meta])* $op:ident, $name:literal, $kernel:path, $scalar:path, vjp: none) => {
        unary_op!(@define $(#[$doc])* $op, $name, $kernel, $scalar,
            fn vjp(&self, _: &Graph, _: &[NodeId], _: NodeId, _: NodeId) -> Result<InputGrads> {
                Ok(InputGrads::none(1))
            }
        );
    };
    (@define $(#[$doc:meta])* $op:ident, $name:literal, $kernel:path, $scalar:path, $vjp:item) => {
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
            $vjp
        }
    };
}

unary_op! {
    /// `y = -x`.
    ///
    /// VJP: `x̄ = −ȳ`.
    Neg, "neg", kernels::neg, scalar::neg,
    vjp: |g, _x, _y, y_bar| g.neg(y_bar)?
}

unary_op! {
    /// `y = |x|`.
    ///
    /// VJP: `x̄ = ȳ · sign(x)`; at the kink `abs'(0) = sign(0) = 0`.
    Abs, "abs", kernels::abs, scalar::abs,
    vjp: |g, x, _y, y_bar| g.mul(y_bar, g.sign(x)?)?
}

unary_op! {
    /// `y = sign(x)` in {-1, 0, 1}; `sign(0) = 0`.
    ///
    /// VJP: none (piecewise constant; no gradient flows to `x`).
    Sign, "sign", kernels::sign, scalar::sign,
    vjp: none
}

unary_op! {
    /// `y = e^x`.
    ///
    /// VJP: `x̄ = ȳ · y`, built from the output (no second `exp` in backward).
    Exp, "exp", kernels::exp, scalar::exp,
    vjp: |g, _x, y, y_bar| g.mul(y_bar, y)?
}

unary_op! {
    /// `y = ln x`, the natural logarithm (NaN for `x < 0`, `-inf` at 0).
    ///
    /// VJP: `x̄ = ȳ / x`.
    Ln, "ln", kernels::ln, scalar::ln,
    vjp: |g, x, _y, y_bar| g.div(y_bar, x)?
}

unary_op! {
    /// `y = √x` (NaN for `x < 0`).
    ///
    /// VJP: `x̄ = ȳ / (2y)`, built from the output.
    Sqrt, "sqrt", kernels::sqrt, scalar::sqrt,
    vjp: |g, _x, y, y_bar| {
        let two_y = g.mul(scalar_like(g, y, 2.0)?, y)?;
        g.div(y_bar, two_y)?
    }
}

unary_op! {
    /// `y = x²`.
    ///
    /// VJP: `x̄ = ȳ · 2x`.
    Square, "square", kernels::square, scalar::square,
    vjp: |g, x, _y, y_bar| {
        let two_x = g.mul(scalar_like(g, x, 2.0)?, x)?;
        g.mul(y_bar, two_x)?
    }
}

unary_op! {
    /// `y = 1/x`.
    ///
    /// VJP: `x̄ = −ȳ · y²`, built from the output.
    Recip, "recip", kernels::recip, scalar::recip,
    vjp: |g, _x, y, y_bar| g.neg(g.mul(y_bar, g.square(y)?)?)?
}

unary_op! {
    /// `y = sin x`.
    ///
    /// VJP: `x̄ = ȳ · cos x`.
    Sin, "sin", kernels::sin, scalar::sin,
    vjp: |g, x, _y, y_bar| g.mul(y_bar, g.cos(x)?)?
}

unary_op! {
    /// `y = cos x`.
    ///
    /// VJP: `x̄ = −ȳ · sin x`.
    Cos, "cos", kernels::cos, scalar::cos,
    vjp: |g, x, _y, y_bar| g.neg(g.mul(y_bar, g.sin(x)?)?)?
}

unary_op! {
    /// `y = tan x`.
    ///
    /// VJP: `x̄ = ȳ · (1 + y²)`, built from the output.
    Tan, "tan", kernels::tan, scalar::tan,
    vjp: |g, _x, y, y_bar| {
        let one = scalar_like(g, y, 1.0)?;
        g.mul(y_bar, g.add(one, g.square(y)?)?)?
    }
}

unary_op! {
    /// `y = asin x`, on `[-1, 1]`.
    ///
    /// VJP: `x̄ = ȳ / √(1 − x²)` (infinite at ±1).
    Asin, "asin", kernels::asin, scalar::asin,
    vjp: |g, x, _y, y_bar| {
        let one = scalar_like(g, x, 1.0)?;
        g.div(y_bar, g.sqrt(g.sub(one, g.square(x)?)?)?)?
    }
}

unary_op! {
    /// `y = acos x`, on `[-1, 1]`.
    ///
    /// VJP: `x̄ = −ȳ / √(1 − x²)` (infinite at ±1).
    Acos, "acos", kernels::acos, scalar::acos,
    vjp: |g, x, _y, y_bar| {
        let one = scalar_like(g, x, 1.0)?;
        g.neg(g.div(y_bar, g.sqrt(g.sub(one, g.square(x)?)?)?)?)?
    }
}

unary_op! {
    /// `y = atan x`.
    ///
    /// VJP: `x̄ = ȳ / (1 + x²)`.
    Atan, "atan", kernels::atan, scalar::atan,
    vjp: |g, x, _y, y_bar| {
        let one = scalar_like(g, x, 1.0)?;
        g.div(y_bar, g.add(one, g.square(x)?)?)?
    }
}

unary_op! {
    /// `y = sinh x`.
    ///
    /// VJP: `x̄ = ȳ · cosh x`.
    Sinh, "sinh", kernels::sinh, scalar::sinh,
    vjp: |g, x, _y, y_bar| g.mul(y_bar, g.cosh(x)?)?
}

unary_op! {
    /// `y = cosh x`.
    ///
    /// VJP: `x̄ = ȳ · sinh x`.
    Cosh, "cosh", kernels::cosh, scalar::cosh,
    vjp: |g, x, _y, y_bar| g.mul(y_bar, g.sinh(x)?)?
}

unary_op! {
    /// `y = tanh x`.
    ///
    /// VJP: `x̄ = ȳ · (1 − y²)`, built from the output (no second `tanh` in backward).
    Tanh, "tanh", kernels::tanh, scalar::tanh,
    vjp: |g, _x, y, y_bar| {
        let one = scalar_like(g, y, 1.0)?;
        g.mul(y_bar, g.sub(one, g.square(y)?)?)?
    }
}

unary_op! {
    /// `y = 1/(1+e^-x)`, computed without overflow (`sigmoid(-800) = 0`).
    ///
    /// VJP: `x̄ = ȳ · y · (1 − y)`, built from the output.
    Sigmoid, "sigmoid", kernels::sigmoid, scalar::sigmoid,
    vjp: |g, _x, y, y_bar| {
        let one = scalar_like(g, y, 1.0)?;
        g.mul(g.mul(y_bar, y)?, g.sub(one, y)?)?
    }
}

unary_op! {
    /// `y = ln(1+e^x)`, computed without overflow (`softplus(800) = 800`).
    ///
    /// VJP: `x̄ = ȳ · sigmoid(x)`.
    Softplus, "softplus", kernels::softplus, scalar::softplus,
    vjp: |g, x, _y, y_bar| g.mul(y_bar, g.sigmoid(x)?)?
}

unary_op! {
    /// `y = x/(1+|x|)`.
    ///
    /// VJP: `x̄ = ȳ / (1 + |x|)²` (smooth at 0, where the slope is 1).
    Softsign, "softsign", kernels::softsign, scalar::softsign,
    vjp: |g, x, _y, y_bar| {
        let one = scalar_like(g, x, 1.0)?;
        g.div(y_bar, g.square(g.add(one, g.abs(x)?)?)?)?
    }
}

unary_op! {
    /// `y = max(x, 0)`; at the kink `relu(0) = 0`.
    ///
    /// VJP: `x̄ = ȳ` where `x > 0`, else 0, as one [`ReluGrad`](super::ReluGrad) node; at the
    /// kink `relu'(0) = 0` (PyTorch's choice).
    Relu, "relu", kernels::relu, scalar::relu,
    vjp: |g, x, _y, y_bar| g.apply(super::ReluGrad, [x, y_bar])?
}

/// `y = x` for `x > 0`, `slope·x` otherwise.
///
/// VJP: `x̄ = ȳ` where `x > 0`, else `slope · ȳ`; at the kink `leaky_relu'(0) = slope`.
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
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let x = x[0];
        let zero = scalar_like(g, x, 0.0)?;
        let slope = scalar_like(g, x, self.slope)?;
        let x_bar = g.where_(g.gt(x, zero)?, y_bar, g.mul(slope, y_bar)?)?;
        Ok(InputGrads::one(x_bar))
    }
    fn label(&self) -> String {
        format!("leaky_relu({})", self.slope)
    }
}

/// `y = x` for `x > 0`, `alpha·(e^x − 1)` otherwise.
///
/// VJP: `x̄ = ȳ` where `x > 0`, else `ȳ · alpha·e^x = ȳ · (y + alpha)` (built from the
/// output); at the kink the `x <= 0` branch is used, `elu'(0) = alpha`.
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
    fn vjp(&self, g: &Graph, x: &[NodeId], y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let x = x[0];
        let zero = scalar_like(g, x, 0.0)?;
        let alpha = scalar_like(g, x, self.alpha)?;
        // for x <= 0, d/dx alpha·(e^x − 1) = alpha·e^x = y + alpha
        let negative_side = g.mul(y_bar, g.add(y, alpha)?)?;
        let x_bar = g.where_(g.gt(x, zero)?, y_bar, negative_side)?;
        Ok(InputGrads::one(x_bar))
    }
    fn label(&self) -> String {
        format!("elu({})", self.alpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{
        check_vjp, check_vjp_with, count_ops, eval_vjp, tensor_of_shapes, VjpCheck,
    };
    use adnet_tensor::{testing::close, DType, Shape};
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

    /// A scalar or a `[2, 3]` tensor with elements in `low..high`.
    fn operand(low: f64, high: f64) -> impl Strategy<Value = Tensor> {
        tensor_of_shapes(vec![Shape::scalar(), Shape::from([2, 3])], low, high)
    }

    /// Whether every element of `x` is farther than 1e-3 from the kink at `at`.
    fn away_from(x: &Tensor, at: f64) -> bool {
        x.to_f64_vec().iter().all(|v| (v - at).abs() > 1e-3)
    }

    /// One property test per op: its rule agrees with central finite differences over its
    /// domain (scalars and tensors, a fresh cotangent and direction per case), staying 1e-3
    /// away from kinks.
    macro_rules! vjp_properties {
        ($($test:ident: $op:expr, $low:expr, $high:expr $(, kink at $kink:expr)?;)*) => {
            proptest! {
                $(
                    #[test]
                    fn $test(x in operand($low, $high), seed in any::<u64>()) {
                        $(prop_assume!(away_from(&x, $kink));)?
                        check_vjp_with(&$op, &[x], &VjpCheck::seeded(seed))?;
                    }
                )*
            }
        };
    }

    vjp_properties! {
        neg_vjp_matches_finite_differences: Neg, -10.0, 10.0;
        abs_vjp_matches_finite_differences: Abs, -10.0, 10.0, kink at 0.0;
        sign_has_no_gradient_and_finite_differences_agree: Sign, -10.0, 10.0, kink at 0.0;
        exp_vjp_matches_finite_differences: Exp, -10.0, 10.0;
        ln_vjp_matches_finite_differences: Ln, 1e-3, 1e3;
        sqrt_vjp_matches_finite_differences: Sqrt, 1e-3, 1e3;
        square_vjp_matches_finite_differences: Square, -10.0, 10.0;
        recip_vjp_matches_finite_differences: Recip, 0.1, 10.0;
        sin_vjp_matches_finite_differences: Sin, -10.0, 10.0;
        cos_vjp_matches_finite_differences: Cos, -10.0, 10.0;
        // poles at ±π/2 ≈ ±1.5708
        tan_vjp_matches_finite_differences: Tan, -1.4, 1.4;
        asin_vjp_matches_finite_differences: Asin, -0.99, 0.99;
        acos_vjp_matches_finite_differences: Acos, -0.99, 0.99;
        atan_vjp_matches_finite_differences: Atan, -10.0, 10.0;
        sinh_vjp_matches_finite_differences: Sinh, -5.0, 5.0;
        cosh_vjp_matches_finite_differences: Cosh, -5.0, 5.0;
        tanh_vjp_matches_finite_differences: Tanh, -6.0, 6.0;
        sigmoid_vjp_matches_finite_differences: Sigmoid, -30.0, 30.0;
        softplus_vjp_matches_finite_differences: Softplus, -30.0, 30.0;
        softsign_vjp_matches_finite_differences: Softsign, -10.0, 10.0;
        relu_vjp_matches_finite_differences: Relu, -10.0, 10.0, kink at 0.0;
        leaky_relu_vjp_matches_finite_differences: LeakyRelu { slope: 0.1 }, -10.0, 10.0, kink at 0.0;
        elu_vjp_matches_finite_differences: Elu { alpha: 1.5 }, -10.0, 10.0, kink at 0.0;
    }

    /// The one cotangent a unary rule gives for `ȳ = 1` at the scalar `x`.
    fn slope_at<O: Op + Clone>(op: &O, x: f64) -> Result<f64> {
        let grads = eval_vjp(op, &[x], 1.0)?;
        Ok(grads[0].as_ref().expect("a gradient flows")[0])
    }

    #[test]
    fn kinks_use_the_documented_one_sided_slopes() -> Result<()> {
        assert_eq!(slope_at(&Relu, 0.0)?, 0.0);
        assert_eq!(slope_at(&Relu, 1e-300)?, 1.0);
        assert_eq!(slope_at(&Abs, 0.0)?, 0.0);
        assert_eq!(slope_at(&Abs, -2.0)?, -1.0);
        assert_eq!(slope_at(&LeakyRelu { slope: 0.2 }, 0.0)?, 0.2);
        assert_eq!(slope_at(&LeakyRelu { slope: 0.2 }, 3.0)?, 1.0);
        assert_eq!(slope_at(&Elu { alpha: 1.5 }, 0.0)?, 1.5);
        assert_eq!(slope_at(&Elu { alpha: 1.5 }, 2.0)?, 1.0);
        assert_eq!(eval_vjp(&Sign, &[0.0], 1.0)?, vec![None]);
        Ok(())
    }

    #[test]
    fn extremes_have_finite_slopes() -> Result<()> {
        // tanh(±20) and sigmoid(±800) saturate: the slope underflows to 0, not NaN
        assert_eq!(slope_at(&Tanh, 20.0)?, 0.0);
        assert_eq!(slope_at(&Tanh, -20.0)?, 0.0);
        assert_eq!(slope_at(&Sigmoid, -800.0)?, 0.0);
        assert_eq!(slope_at(&Sigmoid, 800.0)?, 0.0);
        assert_eq!(slope_at(&Softplus, 800.0)?, 1.0);
        assert!(close(slope_at(&Exp, 700.0)?, 700f64.exp(), 1e-12));
        Ok(())
    }

    #[test]
    fn exp_rule_reuses_the_output() -> Result<()> {
        let g = crate::Graph::new();
        let x = g.scalar_param("x", 0.5)?;
        let y = g.exp(x)?;
        let y_bar = g.scalar(1.0);
        let x_bar = Exp.vjp(&g, &[x.id()], y.id(), y_bar.id())?;
        assert_eq!(count_ops(&g, "exp"), 1, "the rule built a second exp");
        let x_bar = x_bar.0[0].expect("a gradient flows");
        assert_eq!(g.eval(x_bar, &[])?, 0.5f64.exp());
        Ok(())
    }

    #[test]
    fn rules_keep_f32_graphs_f32() -> Result<()> {
        for (op, ..) in cases() {
            let g = crate::Graph::new();
            let x = g.param("x", Tensor::from_f64s(&[0.5, 0.25], [2], DType::F32)?)?;
            let op: std::sync::Arc<dyn Op> = std::sync::Arc::from(op);
            let y = g.apply_arc(op.clone(), [x])?;
            let y_bar = g.constant(Tensor::ones([2], DType::F32));
            for x_bar in op
                .vjp(&g, &[x.id()], y.id(), y_bar.id())?
                .0
                .into_iter()
                .flatten()
            {
                assert_eq!(g.spec(x_bar)?, x.spec(), "{}", op.name());
            }
        }
        Ok(())
    }

    #[test]
    fn one_element_scalars_check_directly() -> Result<()> {
        check_vjp(&Tanh, &[0.3])?;
        check_vjp(&Ln, &[2.0])?;
        Ok(())
    }
}
