//! The error type of `adnet-tensor`.

use crate::{DType, Shape};

/// Everything a tensor constructor or kernel can reject.
///
/// Messages name the operation and the offending shapes, dtypes or values, so the message alone
/// is enough to find the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TensorError {
    /// Two shapes that cannot be broadcast together (or must be equal and are not).
    #[error("{op}: incompatible shapes {lhs} and {rhs}")]
    ShapeMismatch {
        /// The operation that was asked for.
        op: &'static str,
        /// The left (or first) operand's shape.
        lhs: Shape,
        /// The right (or second) operand's shape.
        rhs: Shape,
    },
    /// Operands of different dtypes.
    #[error("{op}: dtype mismatch, {lhs} and {rhs}")]
    DTypeMismatch {
        /// The operation that was asked for.
        op: &'static str,
        /// The left (or first) operand's dtype.
        lhs: DType,
        /// The right (or second) operand's dtype.
        rhs: DType,
    },
    /// A data buffer whose length does not match the number of elements of the shape.
    #[error("shape {shape} needs {expected} elements, got {actual}")]
    LengthMismatch {
        /// The requested shape.
        shape: Shape,
        /// The number of elements the shape holds.
        expected: usize,
        /// The length of the data given.
        actual: usize,
    },
    /// An axis outside `-rank..rank`.
    #[error("{op}: axis {axis} out of range for rank {rank}")]
    AxisOutOfRange {
        /// The operation that was asked for.
        op: &'static str,
        /// The axis as given.
        axis: isize,
        /// The rank of the operand.
        rank: usize,
    },
    /// The same axis named twice.
    #[error("{op}: axis {axis} given twice")]
    DuplicateAxis {
        /// The operation that was asked for.
        op: &'static str,
        /// The repeated axis (normalised to `0..rank`).
        axis: usize,
    },
    /// A reshape to a shape with a different number of elements.
    #[error("reshape: cannot reshape {from} ({from_len} elements) into {to} ({to_len} elements)", from_len = from.numel(), to_len = to.numel())]
    InvalidReshape {
        /// The operand's shape.
        from: Shape,
        /// The requested shape.
        to: Shape,
    },
    /// A permutation that is not a rearrangement of `0..rank`.
    #[error("permute: {perm:?} is not a permutation of the {rank} axes")]
    InvalidPermutation {
        /// The permutation as given.
        perm: Vec<usize>,
        /// The rank of the operand.
        rank: usize,
    },
    /// `broadcast_to` or `sum_to` between shapes that are not broadcast-compatible that way.
    #[error("{op}: cannot broadcast {from} to {to}")]
    NotBroadcastable {
        /// The operation that was asked for.
        op: &'static str,
        /// The operand's shape.
        from: Shape,
        /// The requested shape.
        to: Shape,
    },
    /// A slice whose range does not fit the axis.
    #[error("slice: range {start}..{end} out of bounds for axis {axis} of length {len}")]
    SliceOutOfRange {
        /// The sliced axis.
        axis: usize,
        /// First index taken.
        start: usize,
        /// One past the last index taken.
        end: usize,
        /// The axis length.
        len: usize,
    },
    /// `concat` of no tensors.
    #[error("concat: needs at least one tensor")]
    EmptyConcat,
    /// An operation that needs at least one element got an empty tensor or axis.
    #[error("{op}: empty input of shape {shape}")]
    Empty {
        /// The operation that was asked for.
        op: &'static str,
        /// The operand's shape.
        shape: Shape,
    },
    /// An operation that needs a particular rank.
    #[error("{op}: expected rank {expected}, got shape {shape}")]
    RankMismatch {
        /// The operation that was asked for.
        op: &'static str,
        /// The rank it needs (the minimum rank for ops that take batches).
        expected: usize,
        /// The operand's shape.
        shape: Shape,
    },
    /// A typed accessor used with the other dtype.
    #[error("expected a tensor of dtype {expected}, got {actual}")]
    WrongDType {
        /// The dtype asked for.
        expected: DType,
        /// The tensor's dtype.
        actual: DType,
    },
    /// A bad numeric argument (a negative standard deviation, an empty range, ...).
    #[error("{op}: invalid argument, {reason}")]
    InvalidArgument {
        /// The operation that was asked for.
        op: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// `Result` with [`TensorError`] as the default error.
pub type Result<T, E = TensorError> = std::result::Result<T, E>;
