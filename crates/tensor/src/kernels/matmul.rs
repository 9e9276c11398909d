//! Matrix products through the `gemm` crate, on all cores when the product is big enough.

use crate::{Result, Shape, Tensor};

/// The shape of `a @ b` (optionally with either operand's last two axes transposed): both
/// rank >= 2, inner dimensions equal, leading (batch) dimensions broadcast.
///
/// # Errors
/// [`TensorError::RankMismatch`](crate::TensorError::RankMismatch) or
/// [`TensorError::ShapeMismatch`](crate::TensorError::ShapeMismatch) naming `matmul` and both
/// shapes.
pub fn matmul_shape(a: &Shape, b: &Shape, transpose_a: bool, transpose_b: bool) -> Result<Shape> {
    let _ = (a, b, transpose_a, transpose_b);
    unimplemented!("matmul_shape is being written")
}

/// `a @ b`: 2-D, or batched over broadcast leading axes.
pub fn matmul(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<()> {
    matmul_t(a, b, false, false, out)
}

/// `op(a) @ op(b)` where `op` transposes the last two axes when asked, without materialising
/// the transpose (the gradient of a product needs `a^T g` and `g b^T`).
pub fn matmul_t(a: &Tensor, b: &Tensor, transpose_a: bool, transpose_b: bool, out: &mut Tensor) -> Result<()> {
    let _ = (a, b, transpose_a, transpose_b, out);
    unimplemented!("matmul_t is being written")
}
