//! [`Var`]: a handle to a node with operator overloading, so networks read like formulas.

use std::fmt;
use std::ops;

use adnet_tensor::{DType, Shape};

use crate::ops::Axes;
use crate::{Graph, IntoNode, NodeId, Result, TensorSpec};

/// A node of a [`Graph`], with methods and operators that add new nodes: `alpha * x + y.exp()`.
///
/// `Var` is `Copy` (a graph reference and a [`NodeId`]). Elementwise functions of one operand
/// cannot fail and return `Var`. Operations that can fail (shapes that do not broadcast, a bad
/// axis) come in pairs: the `try_` form returns a `Result`, the plain form and the operators
/// panic with the same message, as ndarray's operators do.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// let g = Graph::new();
/// let x = g.scalar_input("x")?;
/// let y = 3.0 * x.square() + 1.0;
/// assert_eq!(g.eval(y, &[("x", 2.0)])?, 13.0);
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Var<'g> {
    graph: &'g Graph,
    id: NodeId,
}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.graph.name_of(self.id) {
            Some(name) => write!(f, "Var({} `{name}`)", self.id),
            None => write!(f, "Var({})", self.id),
        }
    }
}

impl<'g> From<Var<'g>> for NodeId {
    fn from(var: Var<'g>) -> NodeId {
        var.id
    }
}

/// Unwraps a builder result in a panicking operator, with the fallible twin's exact message.
#[track_caller]
#[allow(clippy::panic)] // the documented behaviour of the operator forms; each has a `try_` twin
fn or_panic<T>(result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{error}"),
    }
}

impl<'g> Var<'g> {
    pub(crate) fn new(graph: &'g Graph, id: NodeId) -> Self {
        Var { graph, id }
    }

    /// The node's id.
    pub fn id(self) -> NodeId {
        self.id
    }

    /// The graph the node belongs to.
    pub fn graph(self) -> &'g Graph {
        self.graph
    }

    /// The node's shape and dtype.
    pub fn spec(self) -> TensorSpec {
        self.graph
            .spec(self.id)
            .expect("a Var always names a node of its graph")
    }

    /// The node's shape.
    pub fn shape(self) -> Shape {
        self.spec().shape
    }

    /// The node's dtype.
    pub fn dtype(self) -> DType {
        self.spec().dtype
    }

    /// Names the node (names are unique in a graph), returning it for chaining.
    ///
    /// # Errors
    /// An invalid or already used name.
    pub fn named(self, name: &str) -> Result<Self> {
        self.graph.set_name(self.id, name)?;
        Ok(self)
    }

    /// A scalar constant of this node's dtype, which broadcasts against it.
    pub fn constant_like(self, value: f64) -> Var<'g> {
        self.graph.scalar_of(value, self.dtype())
    }
}

/// Defines infallible `Var` methods for parameterless elementwise ops.
macro_rules! var_unary {
    ($($method:ident),* $(,)?) => {
        impl<'g> Var<'g> {
            $(
                #[doc = concat!("`", stringify!($method), "(self)` elementwise; see [`Graph::", stringify!($method), "`].")]
                pub fn $method(self) -> Var<'g> {
                    self.graph
                        .$method(self.id)
                        .expect("an elementwise op accepts any single operand")
                }
            )*
        }
    };
}

var_unary!(
    exp, ln, sqrt, square, recip, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, sigmoid,
    softplus, softsign, relu, abs, sign,
);

/// Defines a fallible `try_` method and its panicking twin, both taking one other operand.
macro_rules! var_binary {
    ($($method:ident / $try_method:ident => $graph_method:ident;)*) => {
        impl<'g> Var<'g> {
            $(
                #[doc = concat!("`", stringify!($graph_method), "(self, rhs)`; see [`Graph::", stringify!($graph_method), "`].")]
                ///
                /// # Errors
                /// Operands whose shapes or dtypes do not fit, or `rhs` from another graph.
                pub fn $try_method(self, rhs: impl IntoNode) -> Result<Var<'g>> {
                    self.graph.$graph_method(self.id, rhs)
                }

                #[doc = concat!("`", stringify!($graph_method), "(self, rhs)`; see [`Var::", stringify!($try_method), "`].")]
                ///
                /// # Panics
                #[doc = concat!("Where [`Var::", stringify!($try_method), "`] fails, with its message.")]
                #[track_caller]
                pub fn $method(self, rhs: impl IntoNode) -> Var<'g> {
                    or_panic(self.$try_method(rhs))
                }
            )*
        }
    };
}

var_binary! {
    pow / try_pow => pow;
    minimum / try_minimum => minimum;
    maximum / try_maximum => maximum;
    lt / try_lt => lt;
    le / try_le => le;
    gt / try_gt => gt;
    ge / try_ge => ge;
    equal / try_equal => eq;
    not_equal / try_not_equal => ne;
    matmul / try_matmul => matmul;
}

impl<'g> Var<'g> {
    /// `self + rhs`, the fallible twin of `+`.
    ///
    /// # Errors
    /// Shapes that do not broadcast, dtypes that differ, or `rhs` from another graph.
    pub fn try_add(self, rhs: impl IntoNode) -> Result<Var<'g>> {
        self.graph.add(self.id, rhs)
    }

    /// `self - rhs`, the fallible twin of `-`.
    ///
    /// # Errors
    /// As [`Var::try_add`].
    pub fn try_sub(self, rhs: impl IntoNode) -> Result<Var<'g>> {
        self.graph.sub(self.id, rhs)
    }

    /// `self * rhs`, the fallible twin of `*`.
    ///
    /// # Errors
    /// As [`Var::try_add`].
    pub fn try_mul(self, rhs: impl IntoNode) -> Result<Var<'g>> {
        self.graph.mul(self.id, rhs)
    }

    /// `self / rhs`, the fallible twin of `/`.
    ///
    /// # Errors
    /// As [`Var::try_add`].
    pub fn try_div(self, rhs: impl IntoNode) -> Result<Var<'g>> {
        self.graph.div(self.id, rhs)
    }

    /// `self^p` for a constant exponent.
    pub fn powf(self, p: f64) -> Var<'g> {
        let exponent = self.constant_like(p);
        self.graph
            .pow(self.id, exponent)
            .expect("a scalar of the same dtype broadcasts against anything")
    }

    /// `x` for `x > 0`, `slope·x` otherwise.
    pub fn leaky_relu(self, slope: f64) -> Var<'g> {
        self.graph
            .leaky_relu(self.id, slope)
            .expect("an elementwise op accepts any single operand")
    }

    /// `x` for `x > 0`, `alpha·(e^x − 1)` otherwise.
    pub fn elu(self, alpha: f64) -> Var<'g> {
        self.graph
            .elu(self.id, alpha)
            .expect("an elementwise op accepts any single operand")
    }

    /// The sum of every element (a scalar).
    pub fn sum_all(self) -> Var<'g> {
        self.graph
            .sum(self.id, Axes::All, false)
            .expect("reducing over every axis cannot fail")
    }

    /// The mean of every element (a scalar).
    pub fn mean_all(self) -> Var<'g> {
        self.graph
            .mean(self.id, Axes::All, false)
            .expect("reducing over every axis cannot fail")
    }

    /// The sum over `axes` (negative counts from the end), dropping them.
    ///
    /// # Errors
    /// An axis out of range or repeated.
    pub fn try_sum(self, axes: &[isize]) -> Result<Var<'g>> {
        self.graph.sum(self.id, Axes::List(axes.to_vec()), false)
    }

    /// The sum over `axes`; see [`Var::try_sum`].
    ///
    /// # Panics
    /// Where [`Var::try_sum`] fails, with its message.
    #[track_caller]
    pub fn sum(self, axes: &[isize]) -> Var<'g> {
        or_panic(self.try_sum(axes))
    }

    /// The mean over `axes`, dropping them.
    ///
    /// # Errors
    /// An axis out of range or repeated.
    pub fn try_mean(self, axes: &[isize]) -> Result<Var<'g>> {
        self.graph.mean(self.id, Axes::List(axes.to_vec()), false)
    }

    /// The mean over `axes`; see [`Var::try_mean`].
    ///
    /// # Panics
    /// Where [`Var::try_mean`] fails, with its message.
    #[track_caller]
    pub fn mean(self, axes: &[isize]) -> Var<'g> {
        or_panic(self.try_mean(axes))
    }

    /// The same elements under another shape.
    ///
    /// # Errors
    /// The element counts differ.
    pub fn try_reshape(self, shape: impl Into<Shape>) -> Result<Var<'g>> {
        self.graph.reshape(self.id, shape)
    }

    /// The same elements under another shape; see [`Var::try_reshape`].
    ///
    /// # Panics
    /// Where [`Var::try_reshape`] fails, with its message.
    #[track_caller]
    pub fn reshape(self, shape: impl Into<Shape>) -> Var<'g> {
        or_panic(self.try_reshape(shape))
    }

    /// The last two axes swapped.
    ///
    /// # Errors
    /// A rank below 2.
    pub fn try_t(self) -> Result<Var<'g>> {
        self.graph.transpose(self.id)
    }

    /// The last two axes swapped; see [`Var::try_t`].
    ///
    /// # Panics
    /// Where [`Var::try_t`] fails, with its message.
    #[track_caller]
    pub fn t(self) -> Var<'g> {
        or_panic(self.try_t())
    }

    /// Softmax along `axis`.
    ///
    /// # Errors
    /// The axis out of range, or a scalar.
    pub fn try_softmax(self, axis: isize) -> Result<Var<'g>> {
        self.graph.softmax(self.id, axis)
    }

    /// Softmax along `axis`; see [`Var::try_softmax`].
    ///
    /// # Panics
    /// Where [`Var::try_softmax`] fails, with its message.
    #[track_caller]
    pub fn softmax(self, axis: isize) -> Var<'g> {
        or_panic(self.try_softmax(axis))
    }

    /// Log-softmax along `axis`.
    ///
    /// # Errors
    /// The axis out of range, or a scalar.
    pub fn try_log_softmax(self, axis: isize) -> Result<Var<'g>> {
        self.graph.log_softmax(self.id, axis)
    }

    /// Log-softmax along `axis`; see [`Var::try_log_softmax`].
    ///
    /// # Panics
    /// Where [`Var::try_log_softmax`] fails, with its message.
    #[track_caller]
    pub fn log_softmax(self, axis: isize) -> Var<'g> {
        or_panic(self.try_log_softmax(axis))
    }
}

/// Defines `Var ∘ Var`, `Var ∘ f64` and `f64 ∘ Var` for an arithmetic operator.
macro_rules! var_operator {
    ($trait:ident, $method:ident, $try_method:ident) => {
        impl<'g> ops::$trait<Var<'g>> for Var<'g> {
            type Output = Var<'g>;
            /// # Panics
            /// Where the `try_` twin fails (shapes, dtypes, another graph), with its message.
            #[track_caller]
            fn $method(self, rhs: Var<'g>) -> Var<'g> {
                or_panic(self.$try_method(rhs))
            }
        }

        impl<'g> ops::$trait<f64> for Var<'g> {
            type Output = Var<'g>;
            /// The constant takes the node's dtype.
            #[track_caller]
            fn $method(self, rhs: f64) -> Var<'g> {
                or_panic(self.$try_method(self.constant_like(rhs)))
            }
        }

        impl<'g> ops::$trait<Var<'g>> for f64 {
            type Output = Var<'g>;
            /// The constant takes the node's dtype.
            #[track_caller]
            fn $method(self, rhs: Var<'g>) -> Var<'g> {
                or_panic(rhs.constant_like(self).$try_method(rhs))
            }
        }
    };
}

var_operator!(Add, add, try_add);
var_operator!(Sub, sub, try_sub);
var_operator!(Mul, mul, try_mul);
var_operator!(Div, div, try_div);

impl<'g> ops::Neg for Var<'g> {
    type Output = Var<'g>;
    fn neg(self) -> Var<'g> {
        self.graph
            .neg(self.id)
            .expect("an elementwise op accepts any single operand")
    }
}
