//! The error type of `adnet-nn`.

use adnet_autodiff::AutodiffError;
use adnet_graph::GraphError;
use adnet_tensor::{Shape, TensorError};

/// Everything building, training or updating a model can reject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NnError {
    /// Building or running a graph failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A derivative could not be built.
    #[error(transparent)]
    Autodiff(#[from] AutodiffError),
    /// A tensor operation failed.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// A setting outside its domain (a negative learning rate, a zero batch size, ...).
    #[error("{what}: {reason}")]
    InvalidSetting {
        /// The setting, as PyTorch names it (`lr`, `betas`, `batch_size`).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Parameters and gradients (or optimizer state) that do not match one another.
    #[error("{what}: parameter {index} has shape {expected}, its {other} has shape {actual}")]
    ShapeMismatch {
        /// The call.
        what: &'static str,
        /// The parameter's position.
        index: usize,
        /// The parameter's shape.
        expected: Shape,
        /// `gradient` or `state`.
        other: &'static str,
        /// The other tensor's shape.
        actual: Shape,
    },
    /// Lists of different lengths (parameters and gradients, say).
    #[error("{what}: {expected} parameters but {actual} {other}")]
    CountMismatch {
        /// The call.
        what: &'static str,
        /// How many parameters.
        expected: usize,
        /// How many of the other.
        actual: usize,
        /// `gradients`, `targets`, ...
        other: &'static str,
    },
}

/// `Result` with [`NnError`] as the default error.
pub type Result<T, E = NnError> = std::result::Result<T, E>;
