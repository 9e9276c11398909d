//! The primitive ops, one file per family. Each op is one block: its struct, its doc comment
//! (the function, its domain and kink conventions) and its `impl Op`, with the family's tests
//! at the bottom of the file.

mod binary;
mod matmul;
mod reduce;
mod shape;
mod unary;

pub use binary::*;
pub use matmul::*;
pub use reduce::*;
pub use shape::*;
pub use unary::*;

use adnet_tensor::Shape;

use crate::op::{common_dtype, expect_arity};
use crate::{GraphError, Op, Result, TensorSpec};

/// The rule of elementwise ops: `arity` operands of one spec, and a result of that spec.
///
/// # Errors
/// [`GraphError::Arity`], [`GraphError::DTypeMismatch`] or [`GraphError::ShapeMismatch`].
pub fn same_spec(op: &dyn Op, inputs: &[&TensorSpec], arity: usize) -> Result<TensorSpec> {
    expect_arity(op, inputs, arity)?;
    let dtype = common_dtype(op, inputs)?;
    let shape = &inputs[0].shape;
    if let Some(other) = inputs.iter().find(|s| &s.shape != shape) {
        return Err(GraphError::ShapeMismatch {
            op: op.name().to_string(),
            lhs: shape.clone(),
            rhs: other.shape.clone(),
        });
    }
    Ok(TensorSpec::new(shape.clone(), dtype))
}

/// The rule of broadcasting ops: `arity` operands of one dtype whose shapes broadcast together
/// (NumPy rules); the result has the broadcast shape.
///
/// # Errors
/// [`GraphError::Arity`], [`GraphError::DTypeMismatch`] or [`GraphError::ShapeMismatch`]
/// naming the first pair of shapes that does not broadcast.
pub fn broadcast_spec(op: &dyn Op, inputs: &[&TensorSpec], arity: usize) -> Result<TensorSpec> {
    expect_arity(op, inputs, arity)?;
    let dtype = common_dtype(op, inputs)?;
    let mut shape = inputs[0].shape.clone();
    for other in &inputs[1..] {
        shape =
            Shape::broadcast("", &shape, &other.shape).map_err(|_| GraphError::ShapeMismatch {
                op: op.name().to_string(),
                lhs: shape.clone(),
                rhs: other.shape.clone(),
            })?;
    }
    Ok(TensorSpec::new(shape, dtype))
}
