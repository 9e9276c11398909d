//! The [`Op`] trait every node's function implements, built-in or user-defined.

use std::fmt;

use adnet_tensor::{DType, Shape, Tensor};
use smallvec::SmallVec;

use crate::{Graph, GraphError, NodeId, Result};

/// The static type of a node's value: its shape and dtype, known when the node is built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TensorSpec {
    /// The value's shape.
    pub shape: Shape,
    /// The value's element type.
    pub dtype: DType,
}

impl TensorSpec {
    /// A spec from its parts.
    pub fn new(shape: impl Into<Shape>, dtype: DType) -> Self {
        TensorSpec {
            shape: shape.into(),
            dtype,
        }
    }

    /// The spec of a tensor.
    pub fn of(tensor: &Tensor) -> Self {
        TensorSpec {
            shape: tensor.shape().clone(),
            dtype: tensor.dtype(),
        }
    }

    /// Whether this is an `f64` scalar (rank 0), the case plans run on their scalar fast path.
    pub fn is_f64_scalar(&self) -> bool {
        self.shape.is_scalar() && self.dtype == DType::F64
    }
}

impl fmt::Display for TensorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.dtype, self.shape)
    }
}

/// The function a node computes from its operands.
///
/// Built-in primitives and user-defined ops implement the same trait: a name, a shape and dtype
/// rule checked when the node is built, and a forward kernel that writes into a buffer the plan
/// owns. (The derivative rule joins the trait with `adnet-autodiff`.)
///
/// # Examples
/// A user-defined op, `y = x³`, used exactly like a built-in one:
/// ```
/// use adnet_graph::{Graph, Op, Result, TensorSpec, ops::same_spec};
/// use adnet_tensor::{kernels, Tensor};
///
/// #[derive(Debug)]
/// struct Cube;
///
/// impl Op for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> { same_spec(self, inputs, 1) }
///     fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
///         Ok(kernels::map_f64(x[0], &|v| v * v * v, y)?)
///     }
///     fn eval_scalar(&self, x: &[f64]) -> Result<f64> { Ok(x[0] * x[0] * x[0]) }
/// }
///
/// let g = Graph::new();
/// let x = g.scalar_input("x")?;
/// let y = g.apply(Cube, &[x.id()])?;
/// assert_eq!(g.eval(y, &[("x", 2.0)])?, 8.0);
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
pub trait Op: AsAny + fmt::Debug + Send + Sync + 'static {
    /// The op's name, as the formula parser spells it (`tanh`, `matmul`).
    fn name(&self) -> &str;

    /// The shape and dtype of the result for operands of the given specs.
    ///
    /// # Errors
    /// A [`GraphError`] naming the op and the operands' shapes or dtypes when they do not fit.
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec>;

    /// Computes the result into `out`. The operands have the specs `infer` accepted; `out` is a
    /// buffer the plan owns, to be [reset](Tensor::reset) to the result's spec and overwritten,
    /// which reuses its allocation.
    ///
    /// # Errors
    /// Whatever the kernel reports.
    fn forward(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<()>;

    /// The result for `f64` scalar operands: the fast path plans use when every value is an
    /// `f64` scalar (the lecture's networks), tens of nanoseconds per node.
    ///
    /// The default wraps the operands in tensors and calls [`Op::forward`], which is correct
    /// but allocates; built-in ops override it, and so should a user op that runs in scalar
    /// graphs often.
    ///
    /// # Errors
    /// Whatever `forward` reports.
    fn eval_scalar(&self, inputs: &[f64]) -> Result<f64> {
        let tensors: SmallVec<[Tensor; 4]> = inputs.iter().map(|&v| Tensor::scalar(v)).collect();
        let refs: SmallVec<[&Tensor; 4]> = tensors.iter().collect();
        let mut out = Tensor::default();
        self.forward(&refs, &mut out)?;
        Ok(out.to_scalar()?)
    }

    /// The derivative rule: given the operands `x`, the output `y` and the output's cotangent
    /// `y_bar` (a node of `y`'s shape), adds nodes to `g` computing each operand's cotangent
    /// `x̄ᵢ = ȳ · ∂y/∂xᵢ` (summed back to the operand's shape where the op broadcast it).
    ///
    /// The rule is made of ordinary graph nodes, so it can itself be differentiated: the
    /// derivative of every order comes from this one rule. Return `None` for an operand that
    /// gets no gradient (a mask, an index). The rule must be linear in `y_bar`, which is what
    /// forward mode relies on.
    ///
    /// # Errors
    /// [`GraphError::NoDerivative`] (the default) when the op has no rule; a rule's own
    /// failure to build a node.
    fn vjp(&self, g: &Graph, x: &[NodeId], y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let _ = (g, x, y, y_bar);
        Err(GraphError::NoDerivative {
            op: self.name().to_string(),
            order: 1,
        })
    }

    /// The op as a plain function of one or two `f64`s, when it is one: the scalar tape then
    /// calls it directly (a few nanoseconds) instead of [`Op::eval_scalar`]. Built-in
    /// elementwise ops return one; `None` (the default) falls back to `eval_scalar`.
    fn scalar_fn(&self) -> Option<ScalarFn> {
        None
    }

    /// The text shown for the node in DOT exports; the name plus any parameters by default.
    fn label(&self) -> String {
        self.name().to_string()
    }
}

/// The cotangents a VJP rule returns, one per operand; `None` means "no gradient flows here"
/// (treated as zero).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputGrads(pub SmallVec<[Option<NodeId>; 2]>);

impl InputGrads {
    /// The cotangent of a single operand.
    pub fn one(x_bar: impl Into<NodeId>) -> Self {
        InputGrads(smallvec::smallvec![Some(x_bar.into())])
    }

    /// The cotangents of two operands.
    pub fn two(a_bar: impl Into<NodeId>, b_bar: impl Into<NodeId>) -> Self {
        InputGrads(smallvec::smallvec![Some(a_bar.into()), Some(b_bar.into())])
    }

    /// No gradient for any of `n` operands (masks, indices, comparisons).
    pub fn none(n: usize) -> Self {
        InputGrads(smallvec::smallvec![None; n])
    }

    /// From one optional cotangent per operand.
    pub fn new(grads: impl IntoIterator<Item = Option<NodeId>>) -> Self {
        InputGrads(grads.into_iter().collect())
    }
}

/// An elementwise op as a plain `f64` function, for the scalar tape (see [`Op::scalar_fn`]).
#[derive(Debug, Clone, Copy)]
pub enum ScalarFn {
    /// `y = f(x)`.
    Unary(fn(f64) -> f64),
    /// `y = f(a, b)`.
    Binary(fn(f64, f64) -> f64),
}

/// Access to the concrete type behind a `dyn Op`, so graph rewrites can recognise an op
/// (`op.as_any().is::<Mul>()`) without trusting its name. Implemented for every type.
pub trait AsAny {
    /// `self` as `&dyn Any`.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T: std::any::Any> AsAny for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Checks an op got `expected` operands.
///
/// # Errors
/// [`GraphError::Arity`] naming the op.
pub fn expect_arity(op: &dyn Op, inputs: &[&TensorSpec], expected: usize) -> Result<()> {
    if inputs.len() == expected {
        Ok(())
    } else {
        Err(GraphError::Arity {
            op: op.name().to_string(),
            expected,
            actual: inputs.len(),
        })
    }
}

/// Checks all operands share one dtype and returns it.
///
/// # Errors
/// [`GraphError::DTypeMismatch`] naming the op and the first two dtypes that differ.
pub fn common_dtype(op: &dyn Op, inputs: &[&TensorSpec]) -> Result<DType> {
    let first = inputs.first().map_or(DType::F64, |s| s.dtype);
    match inputs.iter().find(|s| s.dtype != first) {
        None => Ok(first),
        Some(other) => Err(GraphError::DTypeMismatch {
            op: op.name().to_string(),
            lhs: first,
            rhs: other.dtype,
        }),
    }
}
