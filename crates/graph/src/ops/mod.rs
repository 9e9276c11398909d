//! The primitive ops, one file per family. Each op is one block: its struct, its doc comment
//! (the function, its derivative, its domain and kink conventions) and its `impl Op` with the
//! derivative rule ([`Op::vjp`]), with the family's tests at the bottom of the file. The
//! derivative table in `docs/derivatives.md` lists every rule.

mod binary;
mod custom;
mod matmul;
mod reduce;
mod shape;
mod unary;

pub use binary::*;
pub use custom::{ElementwiseFn, ScalarFunction};
pub use matmul::*;
pub use reduce::*;
pub use shape::*;
pub use unary::*;

use adnet_tensor::Shape;

use crate::op::{common_dtype, expect_arity};
use crate::{Graph, GraphError, NodeId, Op, Result, TensorSpec, Var};

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

/// A scalar constant of `like`'s dtype (so `f32` graphs stay `f32` in derivative rules).
///
/// # Errors
/// [`GraphError::UnknownNode`] when `like` is not in `g`.
pub(crate) fn scalar_like(g: &Graph, like: NodeId, value: f64) -> Result<Var<'_>> {
    Ok(g.scalar_of(value, g.spec(like)?.dtype))
}

/// `x_bar` summed down to `operand`'s shape: the cotangent of an operand a broadcasting op
/// stretched. Returns `x_bar` itself when the shapes already agree (no node added).
///
/// # Errors
/// [`GraphError::UnknownNode`], or a shape that does not broadcast (a bug in the rule).
pub(crate) fn sum_to_operand(
    g: &Graph,
    x_bar: impl Into<NodeId>,
    operand: NodeId,
) -> Result<NodeId> {
    let x_bar = x_bar.into();
    let shape = g.spec(operand)?.shape;
    if g.spec(x_bar)?.shape == shape {
        Ok(x_bar)
    } else {
        Ok(g.sum_to(x_bar, shape)?.id())
    }
}

/// `x` broadcast to `shape`, or `x` itself when it already has that shape (no node added).
///
/// # Errors
/// [`GraphError::UnknownNode`], or a shape `x` does not broadcast to.
pub(crate) fn broadcast_to_shape(g: &Graph, x: impl Into<NodeId>, shape: &Shape) -> Result<NodeId> {
    let x = x.into();
    if &g.spec(x)?.shape == shape {
        Ok(x)
    } else {
        Ok(g.broadcast_to(x, shape.clone())?.id())
    }
}

/// `x` reshaped to `shape`, or `x` itself when it already has that shape (no node added).
///
/// # Errors
/// [`GraphError::UnknownNode`], or element counts that differ.
pub(crate) fn reshape_to(g: &Graph, x: impl Into<NodeId>, shape: &Shape) -> Result<NodeId> {
    let x = x.into();
    if &g.spec(x)?.shape == shape {
        Ok(x)
    } else {
        Ok(g.reshape(x, shape.clone())?.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_tensor::{kernels, Tensor};

    /// A user op with a forward kernel and no derivative rule.
    #[derive(Debug, Clone)]
    struct Cube;

    impl Op for Cube {
        fn name(&self) -> &str {
            "cube"
        }
        fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
            same_spec(self, inputs, 1)
        }
        fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
            Ok(kernels::map_f64(x[0], &|v| v * v * v, y)?)
        }
    }

    #[test]
    fn op_without_a_rule_has_no_derivative() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_param("x", 2.0)?;
        let y = g.apply(Cube, [x])?;
        let y_bar = g.scalar(1.0);
        let before = g.len();
        let error = Cube
            .vjp(&g, &[x.id()], y.id(), y_bar.id())
            .expect_err("cube has no rule");
        assert_eq!(
            error,
            GraphError::NoDerivative {
                op: "cube".to_string(),
                order: 1
            }
        );
        assert_eq!(error.to_string(), "cube has no derivative of order 1");
        assert_eq!(g.len(), before, "a missing rule adds no node");
        Ok(())
    }

    #[test]
    fn helpers_add_no_node_when_shapes_already_agree() -> Result<()> {
        let g = Graph::new();
        let x = g.param("x", Tensor::zeros([2, 3], adnet_tensor::DType::F32))?;
        let before = g.len();
        assert_eq!(sum_to_operand(&g, x, x.id())?, x.id());
        assert_eq!(broadcast_to_shape(&g, x, &Shape::from([2, 3]))?, x.id());
        assert_eq!(reshape_to(&g, x, &Shape::from([2, 3]))?, x.id());
        assert_eq!(g.len(), before);
        assert_eq!(
            scalar_like(&g, x.id(), 2.0)?.dtype(),
            adnet_tensor::DType::F32
        );
        Ok(())
    }
}
