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
