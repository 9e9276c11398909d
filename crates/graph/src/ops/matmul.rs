//! Matrix products.

use adnet_tensor::kernels;
use adnet_tensor::Tensor;

use super::sum_to_operand;
use crate::op::{common_dtype, expect_arity};
use crate::{Graph, InputGrads, NodeId, Op, Result, TensorSpec};

/// `y = op(a) @ op(b)`, where `op` transposes the last two axes when asked (without copying);
/// both operands have rank >= 2 and leading (batch) axes broadcast. Runs on the `gemm` crate,
/// on all cores when the product is large.
///
/// VJP: with `A = op(a)`, `B = op(b)`: `Ā = ȳ·Bᵀ` and `B̄ = Aᵀ·ȳ`, each computed as one
/// `matmul` with transpose flags (no explicit transposes), then summed over batch axes that
/// broadcasting stretched:
///
/// | `transpose_a`, `transpose_b` | `ā` | `b̄` |
/// | --- | --- | --- |
/// | no, no | `ȳ·bᵀ` | `aᵀ·ȳ` |
/// | yes, no | `b·ȳᵀ` | `a·ȳ` |
/// | no, yes | `ȳ·b` | `ȳᵀ·a` |
/// | yes, yes | `bᵀ·ȳᵀ` | `ȳᵀ·aᵀ` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MatMul {
    /// Use `aᵀ` (last two axes swapped).
    pub transpose_a: bool,
    /// Use `bᵀ` (last two axes swapped).
    pub transpose_b: bool,
}

impl Op for MatMul {
    fn name(&self) -> &str {
        "matmul"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 2)?;
        let dtype = common_dtype(self, inputs)?;
        let shape = kernels::matmul_shape(
            &inputs[0].shape,
            &inputs[1].shape,
            self.transpose_a,
            self.transpose_b,
        )?;
        Ok(TensorSpec::new(shape, dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::matmul_t(
            x[0],
            x[1],
            self.transpose_a,
            self.transpose_b,
            y,
        )?)
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let (a, b) = (x[0], x[1]);
        let (a_bar, b_bar) = match (self.transpose_a, self.transpose_b) {
            (false, false) => (
                g.matmul_t(y_bar, b, false, true)?,
                g.matmul_t(a, y_bar, true, false)?,
            ),
            (true, false) => (
                g.matmul_t(b, y_bar, false, true)?,
                g.matmul_t(a, y_bar, false, false)?,
            ),
            (false, true) => (
                g.matmul_t(y_bar, b, false, false)?,
                g.matmul_t(y_bar, a, true, false)?,
            ),
            (true, true) => (
                g.matmul_t(b, y_bar, true, true)?,
                g.matmul_t(y_bar, a, true, true)?,
            ),
        };
        Ok(InputGrads::two(
            sum_to_operand(g, a_bar, a)?,
            sum_to_operand(g, b_bar, b)?,
        ))
    }
    fn label(&self) -> String {
        match (self.transpose_a, self.transpose_b) {
            (false, false) => "matmul".to_string(),
            (true, false) => "matmul(aᵀ, b)".to_string(),
            (false, true) => "matmul(a, bᵀ)".to_string(),
            (true, true) => "matmul(aᵀ, bᵀ)".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_vjp_with, tensor_in, VjpCheck};
    use crate::{Graph, GraphError};
    use adnet_tensor::{DType, Shape, TensorError};
    use proptest::prelude::*;

    #[test]
    fn transposed_products_match_explicit_transposes() -> Result<()> {
        let g = Graph::new();
        let a = g.param(
            "a",
            Tensor::from_vec((0..6).map(f64::from).collect(), [2, 3])?,
        )?;
        let b = g.param(
            "b",
            Tensor::from_vec((0..12).map(f64::from).collect(), [4, 3])?,
        )?;
        let fused = g.matmul_t(a, b, false, true)?;
        let explicit = a.matmul(b.t());
        // (b aᵀ)ᵀ = a bᵀ, and (aᵀ)ᵀ bᵀ = a bᵀ with both operands transposed
        let swapped = g.matmul_t(b, a, false, true)?.t();
        let both = g.matmul_t(a.t(), b, true, true)?;
        let mut plan = g.compile([fused, explicit, swapped, both])?;
        plan.run(&g)?;
        assert_eq!(plan.output(fused)?.dims(), &[2, 4]);
        assert_eq!(
            plan.output(fused)?.to_f64_vec(),
            plan.output(explicit)?.to_f64_vec()
        );
        assert_eq!(
            plan.output(fused)?.to_f64_vec()[..4],
            [5.0, 14.0, 23.0, 32.0]
        );
        assert_eq!(
            plan.output(swapped)?.to_f64_vec(),
            plan.output(fused)?.to_f64_vec()
        );
        assert_eq!(
            plan.output(both)?.to_f64_vec(),
            plan.output(fused)?.to_f64_vec()
        );
        Ok(())
    }

    #[test]
    fn matmul_rejects_bad_shapes_and_dtypes() -> Result<()> {
        let g = Graph::new();
        let a = g.input("a", [2, 3], DType::F32)?;
        let b = g.input("b", [2, 3], DType::F32)?;
        let c = g.input("c", [3, 2], DType::F64)?;
        let v = g.input("v", [3], DType::F32)?;
        let before = g.len();
        assert!(matches!(
            a.try_matmul(b),
            Err(GraphError::Tensor(TensorError::ShapeMismatch {
                op: "matmul",
                ..
            }))
        ));
        assert!(matches!(
            a.try_matmul(c),
            Err(GraphError::DTypeMismatch { .. })
        ));
        assert!(matches!(
            a.try_matmul(v),
            Err(GraphError::Tensor(TensorError::RankMismatch { .. }))
        ));
        assert!(g.matmul_t(a, b, false, true).is_ok());
        assert_eq!(g.len(), before + 1);
        Ok(())
    }

    /// Swaps the last two dims of `dims` when `transpose` (the stored shape of an operand the
    /// product uses transposed).
    fn stored(mut dims: Vec<usize>, transpose: bool) -> Shape {
        if transpose {
            let n = dims.len();
            dims.swap(n - 2, n - 1);
        }
        dims.into()
    }

    /// `(op(a) shape, op(b) shape)` pairs: plain matrices, a batch against a matrix, and batch
    /// axes that broadcast against each other.
    fn product_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
        prop_oneof![
            Just((vec![2, 3], vec![3, 4])),
            Just((vec![1, 3], vec![3, 1])),
            Just((vec![2, 2, 3], vec![3, 4])),
            Just((vec![2, 3], vec![2, 3, 4])),
            Just((vec![2, 1, 2, 3], vec![3, 3, 2])),
        ]
    }

    /// A product with random transpose flags and operands of the matching stored shapes.
    fn product() -> impl Strategy<Value = (MatMul, Tensor, Tensor)> {
        (product_shapes(), any::<bool>(), any::<bool>()).prop_flat_map(
            |((a_dims, b_dims), transpose_a, transpose_b)| {
                let op = MatMul {
                    transpose_a,
                    transpose_b,
                };
                (
                    Just(op),
                    tensor_in(stored(a_dims, transpose_a), -2.0, 2.0),
                    tensor_in(stored(b_dims, transpose_b), -2.0, 2.0),
                )
            },
        )
    }

    proptest! {
        /// Both operands' cotangents agree with finite differences for all four transpose
        /// flag combinations, with and without (broadcast) batch axes.
        #[test]
        fn matmul_vjp_matches_finite_differences((op, a, b) in product(), seed in any::<u64>()) {
            check_vjp_with(&op, &[a, b], &VjpCheck::seeded(seed))?;
        }
    }

    #[test]
    fn matmul_rule_uses_transpose_flags_not_transposes() -> Result<()> {
        for (transpose_a, transpose_b) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let g = Graph::new();
            let a = g.input("a", stored(vec![2, 3], transpose_a), DType::F64)?;
            let b = g.input("b", stored(vec![3, 4], transpose_b), DType::F64)?;
            let y = g.matmul_t(a, b, transpose_a, transpose_b)?;
            let y_bar = g.input("y_bar", [2, 4], DType::F64)?;
            let op = MatMul {
                transpose_a,
                transpose_b,
            };
            op.vjp(&g, &[a.id(), b.id()], y.id(), y_bar.id())?;
            assert_eq!(crate::testing::count_ops(&g, "transpose"), 0);
            assert_eq!(crate::testing::count_ops(&g, "matmul"), 3);
        }
        Ok(())
    }

    #[test]
    fn all_four_flag_combinations_check() -> Result<()> {
        for (transpose_a, transpose_b) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let values = |n: usize, scale: f64| -> Vec<f64> {
                (0..n).map(|k| (k as f64 * scale).sin()).collect()
            };
            let a = Tensor::from_f64s(
                &values(12, 0.7),
                stored(vec![2, 2, 3], transpose_a),
                DType::F64,
            )?;
            let b = Tensor::from_f64s(
                &values(12, 1.3),
                stored(vec![3, 4], transpose_b),
                DType::F64,
            )?;
            crate::testing::check_vjp(
                &MatMul {
                    transpose_a,
                    transpose_b,
                },
                &[a, b],
            )?;
        }
        Ok(())
    }
}
