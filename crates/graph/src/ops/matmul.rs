//! Matrix products.

use adnet_tensor::kernels;
use adnet_tensor::Tensor;

use crate::op::{common_dtype, expect_arity};
use crate::{Op, Result, TensorSpec};

/// `y = op(a) @ op(b)`, where `op` transposes the last two axes when asked (without copying);
/// both operands have rank >= 2 and leading (batch) axes broadcast. Runs on the `gemm` crate,
/// on all cores when the product is large.
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
    use crate::{Graph, GraphError};
    use adnet_tensor::{DType, TensorError};

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
}
