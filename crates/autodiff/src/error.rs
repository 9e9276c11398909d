//! The error type of `adnet-autodiff`.

use adnet_tensor::Shape;

use adnet_graph::{GraphError, NodeId};

/// Everything a derivative transformation or a gradient check can reject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AutodiffError {
    /// Building or running a graph failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// `grad` of a node with more than one element, which needs an explicit cotangent.
    #[error("grad needs a one-element output, node {node} has shape {shape}: give a cotangent (vjp) or reduce it first")]
    NotScalar {
        /// The output asked about.
        node: NodeId,
        /// Its shape.
        shape: Shape,
    },
    /// A node whose op has no derivative rule of the order asked for.
    #[error("node {node} ({op}) has no derivative of order {order}")]
    NoDerivative {
        /// The node being differentiated.
        node: NodeId,
        /// Its op's name.
        op: String,
        /// The order that is missing.
        order: usize,
    },
    /// A derivative rule that returned a cotangent of the wrong shape or count.
    #[error("the derivative rule of node {node} ({op}) is malformed: {reason}")]
    BadRule {
        /// The node being differentiated.
        node: NodeId,
        /// Its op's name.
        op: String,
        /// What was wrong.
        reason: String,
    },
    /// A cotangent or tangent whose shape or dtype differs from its node's.
    #[error("{what} for node {node} must be {expected}, got {actual}")]
    SpecMismatch {
        /// `cotangent` or `tangent`.
        what: &'static str,
        /// The node it belongs to.
        node: NodeId,
        /// The node's spec.
        expected: String,
        /// The spec given.
        actual: String,
    },
    /// A transformation given mismatched argument lists (tangents for `wrt`, say).
    #[error("{what}: expected {expected}, got {actual}")]
    Arity {
        /// What was counted.
        what: &'static str,
        /// How many were expected.
        expected: usize,
        /// How many were given.
        actual: usize,
    },
}

/// `Result` with [`AutodiffError`] as the default error.
pub type Result<T, E = AutodiffError> = std::result::Result<T, E>;

impl From<adnet_tensor::TensorError> for AutodiffError {
    fn from(error: adnet_tensor::TensorError) -> Self {
        AutodiffError::Graph(GraphError::Tensor(error))
    }
}
