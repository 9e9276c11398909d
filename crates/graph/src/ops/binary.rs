//! Elementwise functions of two operands (NumPy broadcasting), comparisons, and `where`.

use adnet_tensor::kernels::{self, scalar};
use adnet_tensor::Tensor;

use super::broadcast_spec;
use crate::{Op, Result, ScalarFn, TensorSpec};

/// Defines a broadcasting binary op from its tensor kernel and its scalar function.
macro_rules! binary_op {
    ($(#[$doc:meta])* $op:ident, $name:literal, $kernel:path, $scalar:path) => {
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
        }
    };
}

binary_op! {
    /// `y = a + b`.
    Add, "add", kernels::add, scalar::add
}

binary_op! {
    /// `y = a − b`.
    Sub, "sub", kernels::sub, scalar::sub
}

binary_op! {
    /// `y = a·b`.
    Mul, "mul", kernels::mul, scalar::mul
}

binary_op! {
    /// `y = a/b`.
    Div, "div", kernels::div, scalar::div
}

binary_op! {
    /// `y = a^b`; a negative base gives NaN unless `b` is an integer.
    Pow, "pow", kernels::pow, scalar::pow
}

binary_op! {
    /// `y = min(a, b)` elementwise (NaN if either is NaN).
    Minimum, "min", kernels::minimum, scalar::minimum
}

binary_op! {
    /// `y = max(a, b)` elementwise (NaN if either is NaN).
    Maximum, "max", kernels::maximum, scalar::maximum
}

binary_op! {
    /// `y = [a == b]` as 0 or 1 (not differentiable: a mask).
    Equal, "eq", kernels::eq, scalar::eq
}

binary_op! {
    /// `y = [a != b]` as 0 or 1.
    NotEqual, "ne", kernels::ne, scalar::ne
}

binary_op! {
    /// `y = [a < b]` as 0 or 1.
    Less, "lt", kernels::lt, scalar::lt
}

binary_op! {
    /// `y = [a <= b]` as 0 or 1.
    LessEqual, "le", kernels::le, scalar::le
}

binary_op! {
    /// `y = [a > b]` as 0 or 1.
    Greater, "gt", kernels::gt, scalar::gt
}

binary_op! {
    /// `y = [a >= b]` as 0 or 1.
    GreaterEqual, "ge", kernels::ge, scalar::ge
}

/// NumPy's `where(mask, a, b)`: `a` where `mask` is non-zero, else `b`; all three broadcast.
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
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
