//! The error type of `adnet-nn`.

use std::path::PathBuf;

use adnet_autodiff::AutodiffError;
use adnet_graph::GraphError;
use adnet_tensor::{Shape, TensorError};

use crate::checkpoint::CheckpointProblem;

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
    /// A data file that cannot be parsed: a bad number, a ragged row, a missing column.
    #[error("{}:{line}:{column}: {reason}", path.display())]
    Csv {
        /// The file (`<text>` for a string parsed directly).
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The column (field), from 1.
        column: usize,
        /// What is wrong there, quoting the bad text.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {action} failed: {message} ({kind:?})", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// `reading`, `writing`, `renaming`, ...
        action: &'static str,
        /// The operating system's error kind.
        kind: std::io::ErrorKind,
        /// The operating system's message (`std::io::Error` is neither `Clone` nor
        /// `PartialEq`, which this enum is).
        message: String,
    },
    /// A file that is not a readable safetensors checkpoint: truncated, a corrupted header,
    /// invalid JSON, offsets that do not cover the data.
    #[error("{}: not a valid safetensors file: {reason}", path.display())]
    CorruptCheckpoint {
        /// The file.
        path: PathBuf,
        /// What the safetensors reader rejected (its error is neither `Clone` nor `PartialEq`,
        /// so it is kept as its message).
        reason: String,
    },
    /// A valid checkpoint that does not match the model: every problem found is listed.
    #[error(
        "{}: checkpoint does not match the model ({} problem{}): {}",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        list(problems)
    )]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// Every missing, unexpected or mismatched tensor, in name order.
        problems: Vec<CheckpointProblem>,
    },
    /// Drawing a plot failed.
    #[error("{}: plotting failed: {reason}", path.display())]
    Plot {
        /// The file being drawn.
        path: PathBuf,
        /// What the drawing library reported (its error is neither `Clone` nor `PartialEq`).
        reason: String,
    },
}

/// The problems of a checkpoint, separated by `; `.
fn list(problems: &[CheckpointProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Result` with [`NnError`] as the default error.
pub type Result<T, E = NnError> = std::result::Result<T, E>;
