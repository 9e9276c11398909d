//! Elementwise functions of two operands (NumPy broadcasting), comparisons, and `where`.
//!
//! Each derivative rule gives the operands' cotangents at the output's shape; the op sums
//! each back to its operand's shape (`sum_to`) when broadcasting stretched it, and adds no
//! node when it did not.

use adnet_tensor::kernels::{self, scalar};
use adnet_tensor::Tensor;

use super::{broadcast_spec, scalar_like, sum_to_operand};
use crate::{Graph, InputGrads, NodeId, Op, Result, ScalarFn, TensorSpec, Var};

/// Defines a broadcasting binary op from its tensor kernel, its scalar function and its
/// derivative rule.
///
/// The rule is written `vjp: |g, a, b, y, y_bar| (a_bar, b_bar)`: an expression (using `?`)
/// giving both cotangents at the output's shape, which the macro sums back to each operand's
/// shape. `vjp: none` declares an op through which no gradient flows (comparisons).
macro_rules! binary_op {
    (
        $(#[$doc:meta])* $op:ident, $name:literal, $kernel:path, $scalar:path,
        vjp: |$g:ident, $a:ident, $b:ident, $y:ident, $y_bar:ident| $rule:expr
    ) => {
        binary_op!(@define $(#[$doc])* $op, $name, $kernel, $scalar,
            fn vjp(&self, $g: &Graph, operands: &[NodeId], $y: NodeId, $y_bar: NodeId) -> Result<InputGrads> {
                let ($a, $b) = (operands[0], operands[1]);
                let (a_bar, b_bar) = $rule;
                Ok(InputGrads::two(
                    sum_to_operand($g, a_bar, $a)?,
                    sum_to_operand($g, b_bar, $b)?,
                ))
            }
        );
    };
    ($(#[$doc:meta])* $op:ident, $name:literal, $kernel:path, $scalar:path, vjp: none) => {
        binary_op!(@define $(#[$doc])* $op, $name, $kernel, $scalar,
            fn vjp(&self, _: &Graph, _: &[NodeId], _: NodeId, _: NodeId) -> Result<InputGrads> {
                Ok(InputGrads::none(2))
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
                broadcast_spec(self, inputs, 2)
            }
            fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
                Ok($kernel(x[0], x[1], y)?)
            }
            fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
                Ok($scalar(x[0], x[1]))
            }
            fn scalar_fn(&self) -> Option<ScalarFn> {
                Some(ScalarFn::Binary($scalar))
            }
            $vjp
        }
    };
}

binary_op! {
    /// `y = a + b`.
    ///
    /// VJP: `ā = ȳ`, `b̄ = ȳ` (each summed to its operand's shape).
    Add, "add", kernels::add, scalar::add,
    vjp: |_g, _a, _b, _y, y_bar| (y_bar, y_bar)
}

binary_op! {
    /// `y = a − b`.
    ///
    /// VJP: `ā = ȳ`, `b̄ = −ȳ`.
    Sub, "sub", kernels::sub, scalar::sub,
    vjp: |g, _a, _b, _y, y_bar| (y_bar, g.neg(y_bar)?)
}

binary_op! {
    /// `y = a·b`.
    ///
    /// VJP: `ā = ȳ·b`, `b̄ = ȳ·a`.
    Mul, "mul", kernels::mul, scalar::mul,
    vjp: |g, a, b, _y, y_bar| (g.mul(y_bar, b)?, g.mul(y_bar, a)?)
}

binary_op! {
    /// `y = a/b`.
    ///
    /// VJP: `ā = ȳ/b`, `b̄ = −ȳ·y/b` (`= −ȳ·a/b²`, built from the output).
    Div, "div", kernels::div, scalar::div,
    vjp: |g, _a, b, y, y_bar| {
        let a_bar = g.div(y_bar, b)?;
        (a_bar, g.neg(g.mul(a_bar, y)?)?)
    }
}

binary_op! {
    /// `y = a^b`; a negative base gives NaN unless `b` is an integer.
    ///
    /// VJP: `ā = ȳ·b·a^(b−1)`, `b̄ = ȳ·ln(a)·y` where `a > 0` and 0 where `a <= 0` (so an
    /// integer power of a negative base still has a finite, correct `ā`; `ln` sees 1 there, so
    /// the rule's own derivatives stay finite too).
    Pow, "pow", kernels::pow, scalar::pow,
    vjp: |g, a, b, y, y_bar| {
        let one = scalar_like(g, a, 1.0)?;
        let zero = scalar_like(g, a, 0.0)?;
        let a_bar = g.mul(g.mul(y_bar, b)?, g.pow(a, g.sub(b, one)?)?)?;
        let positive = g.gt(a, zero)?;
        let ln_a = g.ln(g.where_(positive, a, one)?)?;
        let b_bar = g.where_(positive, g.mul(g.mul(y_bar, ln_a)?, y)?, zero)?;
        (a_bar, b_bar)
    }
}

/// The cotangent of one side of `min`/`max`: all of `ȳ` where that side `wins`, half of it at
/// a `tie` (PyTorch's split), none elsewhere.
fn winner_grad<'g>(g: &'g Graph, wins: Var<'g>, tie: Var<'g>, y_bar: NodeId) -> Result<Var<'g>> {
    let zero = scalar_like(g, y_bar, 0.0)?;
    let half = g.mul(scalar_like(g, y_bar, 0.5)?, y_bar)?;
    g.where_(wins, y_bar, g.where_(tie, half, zero)?)
}

binary_op! {
    /// `y = min(a, b)` elementwise (NaN if either is NaN).
    ///
    /// VJP: `ā = ȳ` where `a < b`, `b̄ = ȳ` where `b < a`; at a tie each gets `ȳ/2` (as
    /// PyTorch's `minimum`).
    Minimum, "min", kernels::minimum, scalar::minimum,
    vjp: |g, a, b, _y, y_bar| {
        let tie = g.eq(a, b)?;
        (winner_grad(g, g.lt(a, b)?, tie, y_bar)?, winner_grad(g, g.lt(b, a)?, tie, y_bar)?)
    }
}

binary_op! {
    /// `y = max(a, b)` elementwise (NaN if either is NaN).
    ///
    /// VJP: `ā = ȳ` where `a > b`, `b̄ = ȳ` where `b > a`; at a tie each gets `ȳ/2` (as
    /// PyTorch's `maximum`).
    Maximum, "max", kernels::maximum, scalar::maximum,
    vjp: |g, a, b, _y, y_bar| {
        let tie = g.eq(a, b)?;
        (winner_grad(g, g.gt(a, b)?, tie, y_bar)?, winner_grad(g, g.gt(b, a)?, tie, y_bar)?)
    }
}

binary_op! {
    /// `y = [a == b]` as 0 or 1 (not differentiable: a mask).
    ///
    /// VJP: none (piecewise constant).
    Equal, "eq", kernels::eq, scalar::eq,
    vjp: none
}

binary_op! {
    /// `y = [a != b]` as 0 or 1.
    ///
    /// VJP: none (piecewise constant).
    NotEqual, "ne", kernels::ne, scalar::ne,
    vjp: none
}

binary_op! {
    /// `y = [a < b]` as 0 or 1.
    ///
    /// VJP: none (piecewise constant).
    Less, "lt", kernels::lt, scalar::lt,
    vjp: none
}

binary_op! {
    /// `y = [a <= b]` as 0 or 1.
    ///
    /// VJP: none (piecewise constant).
    LessEqual, "le", kernels::le, scalar::le,
    vjp: none
}

binary_op! {
    /// `y = [a > b]` as 0 or 1.
    ///
    /// VJP: none (piecewise constant).
    Greater, "gt", kernels::gt, scalar::gt,
    vjp: none
}

binary_op! {
    /// `y = [a >= b]` as 0 or 1.
    ///
    /// VJP: none (piecewise constant).
    GreaterEqual, "ge", kernels::ge, scalar::ge,
    vjp: none
}

/// NumPy's `where(mask, a, b)`: `a` where `mask` is non-zero, else `b`; all three broadcast.
///
/// VJP: no gradient for `mask`; `ā = where(mask, ȳ, 0)`, `b̄ = where(mask, 0, ȳ)` (each
/// summed to its operand's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Where;

impl Op for Where {
    fn name(&self) -> &str {
        "where"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        broadcast_spec(self, inputs, 3)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::select(x[0], x[1], x[2], y)?)
    }
    fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
        Ok(scalar::select(x[0], x[1], x[2]))
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let (mask, a, b) = (x[0], x[1], x[2]);
        let zero = scalar_like(g, y_bar, 0.0)?;
        let a_bar = g.where_(mask, y_bar, zero)?;
        let b_bar = g.where_(mask, zero, y_bar)?;
        Ok(InputGrads::new([
            None,
            Some(sum_to_operand(g, a_bar, a)?),
            Some(sum_to_operand(g, b_bar, b)?),
        ]))
    }
}

/// `y = ȳ` where `x > 0`, else 0: the ReLU's backward step as one op (PyTorch's
/// `threshold_backward`), which [`Relu`](super::Relu)'s VJP adds instead of a comparison and a
/// `where`. The operands are the ReLU's input `x` and a cotangent `ȳ`.
///
/// VJP: none to `x` (piecewise constant in `x`; `relu'' = 0` away from the kink), and
/// `relu_grad(x, z̄)` to `ȳ` (summed to its shape), so derivatives of any order go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReluGrad;

impl Op for ReluGrad {
    fn name(&self) -> &str {
        "relu_grad"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        broadcast_spec(self, inputs, 2)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::relu_grad(x[0], x[1], y)?)
    }
    fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
        Ok(scalar::relu_grad(x[0], x[1]))
    }
    fn scalar_fn(&self) -> Option<ScalarFn> {
        Some(ScalarFn::Binary(scalar::relu_grad))
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, z_bar: NodeId) -> Result<InputGrads> {
        let y_bar_bar = g.apply(ReluGrad, [x[0], z_bar])?;
        Ok(InputGrads::new([
            None,
            Some(sum_to_operand(g, y_bar_bar, x[1])?),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{broadcast_operands, check_vjp_with, eval_vjp, tensor_in, VjpCheck};
    use adnet_tensor::{testing::close, DType, Shape};
    use proptest::prelude::*;

    /// An op and the textbook function it must compute.
    type Case = (Box<dyn Op>, fn(f64, f64) -> f64);

    fn cases() -> Vec<Case> {
        vec![
            (Box::new(Add), |a, b| a + b),
            (Box::new(Sub), |a, b| a - b),
            (Box::new(Mul), |a, b| a * b),
            (Box::new(Div), |a, b| a / b),
            (Box::new(Pow), f64::powf),
            (Box::new(Minimum), f64::min),
            (Box::new(Maximum), f64::max),
            (Box::new(Equal), |a, b| f64::from(u8::from(a == b))),
            (Box::new(NotEqual), |a, b| f64::from(u8::from(a != b))),
            (Box::new(Less), |a, b| f64::from(u8::from(a < b))),
            (Box::new(LessEqual), |a, b| f64::from(u8::from(a <= b))),
            (Box::new(Greater), |a, b| f64::from(u8::from(a > b))),
            (Box::new(GreaterEqual), |a, b| f64::from(u8::from(a >= b))),
            (Box::new(ReluGrad), |x, g| if x > 0.0 { g } else { 0.0 }),
        ]
    }

    proptest! {
        /// The scalar fast path, the tensor kernel (both dtypes, with a broadcast operand)
        /// and the textbook formula agree for every binary op.
        #[test]
        fn scalar_path_tensor_path_and_formula_agree(a in 0.1f64..5.0, b in -3.0f64..3.0, equal in any::<bool>()) {
            let b = if equal { a } else { b };
            for (op, reference) in cases() {
                let expected = reference(a, b);
                let scalar = op.eval_scalar(&[a, b]).unwrap();
                prop_assert!(close(scalar, expected, 1e-12), "{}({a}, {b}): {scalar}, expected {expected}", op.name());
                for dtype in [DType::F32, DType::F64] {
                    // f32 rounding of the operands would change comparisons at ties: round first
                    let (ar, br) = if dtype == DType::F32 { (a as f32 as f64, b as f32 as f64) } else { (a, b) };
                    let lhs = Tensor::from_f64s(&[ar, ar, ar], [3, 1], dtype).unwrap();
                    let rhs = Tensor::from_f64s(&[br], [1], dtype).unwrap();
                    let mut out = Tensor::default();
                    op.forward(&[&lhs, &rhs], &mut out).unwrap();
                    prop_assert_eq!(out.shape(), &Shape::from([3, 1]));
                    let expected = reference(ar, br);
                    let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
                    for v in out.to_f64_vec() {
                        prop_assert!(close(v, expected, tol), "{}({ar}, {br}) {dtype}: {v}, expected {expected}", op.name());
                    }
                }
            }
        }
    }

    #[test]
    fn where_picks_by_mask_on_both_paths() -> Result<()> {
        assert_eq!(Where.eval_scalar(&[1.0, 2.0, 3.0])?, 2.0);
        assert_eq!(Where.eval_scalar(&[0.0, 2.0, 3.0])?, 3.0);
        let mask = Tensor::from_vec(vec![1.0f64, 0.0], [2, 1])?;
        let a = Tensor::from_vec(vec![10.0f64, 20.0, 30.0], [3])?;
        let b = Tensor::scalar(-1.0);
        let mut out = Tensor::default();
        Where.forward(&[&mask, &a, &b], &mut out)?;
        assert_eq!(out.to_f64_vec(), vec![10.0, 20.0, 30.0, -1.0, -1.0, -1.0]);
        Ok(())
    }

    #[test]
    fn broadcast_rule_names_the_op() {
        let a = TensorSpec::new([2, 3], DType::F64);
        let b = TensorSpec::new([4], DType::F64);
        let err = Add.infer(&[&a, &b]).unwrap_err();
        assert_eq!(err.to_string(), "add: incompatible shapes [2, 3] and [4]");
        let c = TensorSpec::new([3], DType::F64);
        assert_eq!(Mul.infer(&[&a, &c]).unwrap().shape, Shape::from([2, 3]));
        let m = TensorSpec::new([2, 1], DType::F64);
        assert_eq!(
            Where.infer(&[&m, &c, &b]).unwrap_err().to_string(),
            "where: incompatible shapes [2, 3] and [4]"
        );
    }

    /// Whether no element of `a` is within 1e-3 of an element of `b` (so no tie is near, and
    /// a finite-difference step cannot flip a comparison).
    fn apart(a: &Tensor, b: &Tensor) -> bool {
        let b = b.to_f64_vec();
        a.to_f64_vec()
            .iter()
            .all(|x| b.iter().all(|y| (x - y).abs() > 1e-3))
    }

    /// One property test per op: both operands' cotangents agree with central finite
    /// differences, for every broadcasting shape pair (scalar with tensor included).
    macro_rules! vjp_properties {
        ($($test:ident: $op:expr, $a:expr, $b:expr $(, assuming $ok:ident)?;)*) => {
            proptest! {
                $(
                    #[test]
                    fn $test((a, b) in broadcast_operands($a, $b), seed in any::<u64>()) {
                        $(prop_assume!($ok(&a, &b));)?
                        check_vjp_with(&$op, &[a, b], &VjpCheck::seeded(seed))?;
                    }
                )*
            }
        };
    }

    /// Whether every element of `b` is at least 0.1 away from 0.
    fn nonzero_divisor(_: &Tensor, b: &Tensor) -> bool {
        b.to_f64_vec().iter().all(|v| v.abs() > 0.1)
    }

    vjp_properties! {
        add_vjp_matches_finite_differences: Add, -10.0..10.0, -10.0..10.0;
        sub_vjp_matches_finite_differences: Sub, -10.0..10.0, -10.0..10.0;
        mul_vjp_matches_finite_differences: Mul, -10.0..10.0, -10.0..10.0;
        div_vjp_matches_finite_differences: Div, -10.0..10.0, -5.0..5.0, assuming nonzero_divisor;
        pow_vjp_matches_finite_differences: Pow, 0.1..5.0, -3.0..3.0;
        minimum_vjp_matches_finite_differences: Minimum, -10.0..10.0, -10.0..10.0, assuming apart;
        maximum_vjp_matches_finite_differences: Maximum, -10.0..10.0, -10.0..10.0, assuming apart;
        equal_has_no_gradient: Equal, -10.0..10.0, -10.0..10.0, assuming apart;
        not_equal_has_no_gradient: NotEqual, -10.0..10.0, -10.0..10.0, assuming apart;
        less_has_no_gradient: Less, -10.0..10.0, -10.0..10.0, assuming apart;
        less_equal_has_no_gradient: LessEqual, -10.0..10.0, -10.0..10.0, assuming apart;
        greater_has_no_gradient: Greater, -10.0..10.0, -10.0..10.0, assuming apart;
        greater_equal_has_no_gradient: GreaterEqual, -10.0..10.0, -10.0..10.0, assuming apart;
        relu_grad_vjp_matches_finite_differences: ReluGrad, -10.0..10.0, -10.0..10.0, assuming nonzero_input;
    }

    /// Whether every element of `x` is at least 1e-3 away from 0 (no finite-difference step
    /// crosses the ReLU's kink).
    fn nonzero_input(x: &Tensor, _: &Tensor) -> bool {
        x.to_f64_vec().iter().all(|v| v.abs() > 1e-3)
    }

    proptest! {
        /// `ā` of an integer power of a negative base is finite and right; the exponent is held
        /// fixed, as `a^b` is not defined for a negative base off the integers.
        #[test]
        fn pow_of_negative_base_has_the_power_rule_slope(
            a in tensor_in([2, 3], -5.0, -0.1),
            b in prop_oneof![Just(-2.0), Just(1.0), Just(2.0), Just(3.0)],
            seed in any::<u64>(),
        ) {
            let check = VjpCheck::seeded(seed).with_constants(&[1]);
            check_vjp_with(&Pow, &[a, Tensor::scalar(b)], &check)?;
        }

        /// The mask gets no gradient; `a` and `b` get `ȳ` where they were picked, summed back
        /// over broadcast axes.
        #[test]
        fn where_vjp_matches_finite_differences(
            mask in proptest::collection::vec(any::<bool>(), 2),
            (a, b) in broadcast_operands(-10.0..10.0, -10.0..10.0),
            seed in any::<u64>(),
        ) {
            let mask: Vec<f64> = mask.into_iter().map(f64::from).collect();
            let mask = Tensor::from_f64s(&mask, [2, 1], DType::F64).unwrap();
            let check = VjpCheck::seeded(seed).with_constants(&[0]);
            check_vjp_with(&Where, &[mask, a, b], &check)?;
        }
    }

    #[test]
    fn ties_split_the_gradient_evenly() -> Result<()> {
        let half_each = vec![Some(vec![0.5]), Some(vec![0.5])];
        assert_eq!(eval_vjp(&Minimum, &[2.0, 2.0], 1.0)?, half_each);
        assert_eq!(eval_vjp(&Maximum, &[2.0, 2.0], 1.0)?, half_each);
        // away from a tie the winner takes all
        assert_eq!(
            eval_vjp(&Maximum, &[3.0, 2.0], 1.0)?,
            vec![Some(vec![1.0]), Some(vec![0.0])]
        );
        assert_eq!(
            eval_vjp(&Minimum, &[3.0, 2.0], 1.0)?,
            vec![Some(vec![0.0]), Some(vec![1.0])]
        );
        Ok(())
    }

    #[test]
    fn pow_exponent_gets_no_gradient_from_a_nonpositive_base() -> Result<()> {
        // (-2)³: ā = 3·(-2)² = 12, and b̄ = 0 rather than NaN from ln(-2)
        assert_eq!(
            eval_vjp(&Pow, &[-2.0, 3.0], 1.0)?,
            vec![Some(vec![12.0]), Some(vec![0.0])]
        );
        assert_eq!(
            eval_vjp(&Pow, &[0.0, 2.0], 1.0)?,
            vec![Some(vec![0.0]), Some(vec![0.0])]
        );
        let grads = eval_vjp(&Pow, &[2.0, 3.0], 1.0)?;
        assert_eq!(grads[0], Some(vec![12.0]));
        assert!(close(grads[1].as_ref().unwrap()[0], 8.0 * 2f64.ln(), 1e-15));
        Ok(())
    }

    #[test]
    fn comparisons_and_where_mask_get_no_gradient() -> Result<()> {
        assert_eq!(eval_vjp(&Less, &[1.0, 2.0], 1.0)?, vec![None, None]);
        let grads = eval_vjp(&Where, &[1.0, 2.0, 3.0], 5.0)?;
        assert_eq!(grads, vec![None, Some(vec![5.0]), Some(vec![0.0])]);
        Ok(())
    }

    #[test]
    fn same_shape_operands_need_no_sum_to() -> Result<()> {
        let g = crate::Graph::new();
        let a = g.scalar_param("a", 2.0)?;
        let b = g.scalar_param("b", 3.0)?;
        let y = g.mul(a, b)?;
        let before = g.len();
        let y_bar = g.scalar(1.0);
        Mul.vjp(&g, &[a.id(), b.id()], y.id(), y_bar.id())?;
        assert_eq!(g.len(), before + 3, "y_bar and the two products, no sum_to");
        assert_eq!(crate::testing::count_ops(&g, "sum_to"), 0);
        Ok(())
    }
}
