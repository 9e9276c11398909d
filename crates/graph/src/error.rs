//! The error type of `adnet-graph`.

use adnet_tensor::{DType, Shape, TensorError};

use crate::NodeId;

/// Everything building, compiling or running a graph can reject.
///
/// A rejected call leaves the graph as it was. Messages name the op, the node (`%12`), both
/// shapes or dtypes, or the unknown name, so the message alone is enough to fix the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A kernel or tensor constructor rejected its arguments.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// `.adn` source that does not parse (the message starts with `line:column`).
    #[error(transparent)]
    Parse(#[from] crate::ParseError),
    /// Operands whose shapes do not fit the op.
    #[error("{op}: incompatible shapes {lhs} and {rhs}")]
    ShapeMismatch {
        /// The op's name.
        op: String,
        /// The first operand's shape.
        lhs: Shape,
        /// The second operand's shape.
        rhs: Shape,
    },
    /// Operands of different dtypes.
    #[error("{op}: dtype mismatch, {lhs} and {rhs}")]
    DTypeMismatch {
        /// The op's name.
        op: String,
        /// The first operand's dtype.
        lhs: DType,
        /// The second operand's dtype.
        rhs: DType,
    },
    /// An op given the wrong number of operands.
    #[error("{op}: expected {expected} operand(s), got {actual}")]
    Arity {
        /// The op's name.
        op: String,
        /// How many it takes.
        expected: usize,
        /// How many it got.
        actual: usize,
    },
    /// A node id that does not belong to this graph.
    #[error("unknown node {0}")]
    UnknownNode(crate::NodeId),
    /// A name that no node carries.
    #[error("no node is named `{0}`")]
    UnknownName(String),
    /// A name that another node already carries.
    #[error("the name `{name}` is already used by node {existing}")]
    DuplicateName {
        /// The name asked for.
        name: String,
        /// The node that has it.
        existing: NodeId,
    },
    /// An empty name, or one with characters other than letters, digits, `_` and `.`.
    #[error(
        "invalid node name `{0}`: use letters, digits, `_` and `.`, not starting with a digit"
    )]
    InvalidName(String),
    /// A rewiring that would make the graph cyclic.
    #[error("edge {from} -> {to} would create a cycle")]
    Cycle {
        /// The node that would feed `to`.
        from: NodeId,
        /// The node whose operand was being replaced.
        to: NodeId,
    },
    /// A node of the wrong kind for the call (a parameter was expected, say).
    #[error("node {node} is {actual}, expected {expected}")]
    WrongKind {
        /// The node given.
        node: NodeId,
        /// What the call needs (`a parameter`, `an input`, `an op`).
        expected: &'static str,
        /// What the node is.
        actual: &'static str,
    },
    /// A value whose shape or dtype is not what the node declares.
    #[error(
        "node {node} (`{name}`) holds {expected_dtype} {expected}, got {actual_dtype} {actual}"
    )]
    ValueMismatch {
        /// The input or parameter node.
        node: NodeId,
        /// Its name, or its id when unnamed.
        name: String,
        /// The declared shape.
        expected: Shape,
        /// The declared dtype.
        expected_dtype: DType,
        /// The shape given.
        actual: Shape,
        /// The dtype given.
        actual_dtype: DType,
    },
    /// A plan run before all of its inputs were given.
    #[error("input {node} (`{name}`) was not set before running the plan")]
    MissingInput {
        /// The input node.
        node: NodeId,
        /// Its name.
        name: String,
    },
    /// A node that is not one of the plan's inputs or outputs.
    #[error("node {node} is not {role} of this plan")]
    NotInPlan {
        /// The node asked about.
        node: NodeId,
        /// `an input` or `an output`.
        role: &'static str,
    },
    /// A plan run with a graph other than the one it was compiled from.
    #[error("this plan was compiled from another graph")]
    WrongGraph,
    /// A node's kernel failed while running a plan.
    #[error("node {node} ({op}) failed: {source}")]
    Kernel {
        /// The node that failed.
        node: NodeId,
        /// Its op's name.
        op: String,
        /// What the kernel reported.
        source: Box<GraphError>,
    },
    /// Anomaly detection stopped a run at the first node whose value is NaN or infinite.
    #[error("node {node} (`{name}` = {op}) produced {value} from {}", describe_operands(.operands))]
    NonFinite {
        /// The first node whose result is not finite.
        node: NodeId,
        /// Its name, or its id when unnamed.
        name: String,
        /// Its op's name.
        op: String,
        /// The first non-finite element of its result.
        value: f64,
        /// The ranges of its operands' values.
        operands: Vec<OperandRange>,
    },
    /// An op with no derivative rule of the requested order.
    #[error("{op} has no derivative of order {order}")]
    NoDerivative {
        /// The op's name.
        op: String,
        /// The order asked for (1 for the gradient, 2 for the derivative of the gradient, ...).
        order: usize,
    },
    /// An op argument outside its domain (a negative axis count, a bad slope, ...).
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The op's name.
        op: String,
        /// What is wrong.
        reason: String,
    },
}

/// The range of one operand's values, reported by [`GraphError::NonFinite`].
#[derive(Debug, Clone, PartialEq)]
pub struct OperandRange {
    /// The operand node.
    pub node: NodeId,
    /// Its name, or its id when unnamed.
    pub name: String,
    /// The smallest finite element (NaN when none is finite).
    pub min: f64,
    /// The largest finite element (NaN when none is finite).
    pub max: f64,
    /// How many elements are NaN or infinite.
    pub non_finite: usize,
}

impl OperandRange {
    /// The range of `values`, for the operand `node` called `name`.
    pub fn of(node: NodeId, name: String, values: &[f64]) -> Self {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (min, max) = finite.fold((f64::NAN, f64::NAN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        OperandRange {
            node,
            name,
            min,
            max,
            non_finite: values.iter().filter(|v| !v.is_finite()).count(),
        }
    }
}

impl std::fmt::Display for OperandRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "`{}` = {}", self.name, self.min)?;
        } else {
            write!(f, "`{}` in [{}, {}]", self.name, self.min, self.max)?;
        }
        if self.non_finite > 0 {
            write!(f, " with {} non-finite", self.non_finite)?;
        }
        Ok(())
    }
}

fn describe_operands(operands: &[OperandRange]) -> String {
    if operands.is_empty() {
        return "no operands".to_string();
    }
    operands
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Result` with [`GraphError`] as the default error.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;
