//! The named builder methods on [`Graph`]: one per primitive op, each checking its operands
//! and returning a [`Var`] for the new node. (The [`Var`] methods and operators wrap these.)

use adnet_tensor::Shape;

use crate::ops::*;
use crate::{Graph, IntoNode, Result, Var};

/// Defines `Graph::$method(x)` for parameterless elementwise ops.
macro_rules! graph_unary {
    ($($method:ident => $op:expr;)*) => {
        impl Graph {
            $(
                #[doc = concat!("Adds `", stringify!($method), "(x)`; see [`", stringify!($op), "`].")]
                ///
                /// # Errors
                /// [`GraphError::UnknownNode`](crate::GraphError::UnknownNode) when `x` is not
                /// in this graph.
                pub fn $method(&self, x: impl IntoNode) -> Result<Var<'_>> {
                    self.apply($op, [x.node_in(self)?])
                }
            )*
        }
    };
}

graph_unary! {
    neg => Neg;
    abs => Abs;
    sign => Sign;
    exp => Exp;
    ln => Ln;
    sqrt => Sqrt;
    square => Square;
    recip => Recip;
    sin => Sin;
    cos => Cos;
    tan => Tan;
    asin => Asin;
    acos => Acos;
    atan => Atan;
    sinh => Sinh;
    cosh => Cosh;
    tanh => Tanh;
    sigmoid => Sigmoid;
    softplus => Softplus;
    softsign => Softsign;
    relu => Relu;
    transpose => Transpose;
}

/// Defines `Graph::$method(a, b)` for broadcasting binary ops.
macro_rules! graph_binary {
    ($($method:ident => $op:expr;)*) => {
        impl Graph {
            $(
                #[doc = concat!("Adds `", stringify!($method), "(a, b)` with NumPy broadcasting; see [`", stringify!($op), "`].")]
                ///
                /// # Errors
                /// [`GraphError::UnknownNode`](crate::GraphError::UnknownNode),
                /// [`GraphError::DTypeMismatch`](crate::GraphError::DTypeMismatch), or
                /// [`GraphError::ShapeMismatch`](crate::GraphError::ShapeMismatch) naming
                /// both shapes; the graph is unchanged.
                pub fn $method(&self, a: impl IntoNode, b: impl IntoNode) -> Result<Var<'_>> {
                    self.apply($op, [a.node_in(self)?, b.node_in(self)?])
                }
            )*
        }
    };
}

graph_binary! {
    add => Add;
    sub => Sub;
    mul => Mul;
    div => Div;
    pow => Pow;
    minimum => Minimum;
    maximum => Maximum;
    eq => Equal;
    ne => NotEqual;
    lt => Less;
    le => LessEqual;
    gt => Greater;
    ge => GreaterEqual;
    matmul => MatMul::default();
}

impl Graph {
    /// Adds `leaky_relu(x)`: `x` for `x > 0`, `slope·x` otherwise.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`](crate::GraphError::UnknownNode).
    pub fn leaky_relu(&self, x: impl IntoNode, slope: f64) -> Result<Var<'_>> {
        self.apply(LeakyRelu { slope }, [x.node_in(self)?])
    }

    /// Adds `elu(x)`: `x` for `x > 0`, `alpha·(e^x − 1)` otherwise.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`](crate::GraphError::UnknownNode).
    pub fn elu(&self, x: impl IntoNode, alpha: f64) -> Result<Var<'_>> {
        self.apply(Elu { alpha }, [x.node_in(self)?])
    }

    /// Adds NumPy's `where(mask, a, b)`.
    ///
    /// # Errors
    /// As the binary ops, for any pair of the three operands.
    pub fn where_(
        &self,
        mask: impl IntoNode,
        a: impl IntoNode,
        b: impl IntoNode,
    ) -> Result<Var<'_>> {
        let ids = [mask.node_in(self)?, a.node_in(self)?, b.node_in(self)?];
        self.apply(Where, ids)
    }

    /// Adds `op(a) @ op(b)` with either operand's last two axes transposed (no copy).
    ///
    /// # Errors
    /// Rank, inner-dimension and batch-broadcast errors naming both shapes.
    pub fn matmul_t(
        &self,
        a: impl IntoNode,
        b: impl IntoNode,
        transpose_a: bool,
        transpose_b: bool,
    ) -> Result<Var<'_>> {
        let op = MatMul {
            transpose_a,
            transpose_b,
        };
        self.apply(op, [a.node_in(self)?, b.node_in(self)?])
    }

    /// Adds the sum over `axes` (negative counts from the end).
    ///
    /// # Errors
    /// An axis out of range or repeated.
    pub fn sum(&self, x: impl IntoNode, axes: Axes, keepdims: bool) -> Result<Var<'_>> {
        self.apply(Sum { axes, keepdims }, [x.node_in(self)?])
    }

    /// Adds the mean over `axes`.
    ///
    /// # Errors
    /// An axis out of range or repeated.
    pub fn mean(&self, x: impl IntoNode, axes: Axes, keepdims: bool) -> Result<Var<'_>> {
        self.apply(Mean { axes, keepdims }, [x.node_in(self)?])
    }

    /// Adds the maximum over `axes`.
    ///
    /// # Errors
    /// An axis out of range or repeated.
    pub fn max(&self, x: impl IntoNode, axes: Axes, keepdims: bool) -> Result<Var<'_>> {
        self.apply(Max { axes, keepdims }, [x.node_in(self)?])
    }

    /// Adds the minimum over `axes`.
    ///
    /// # Errors
    /// An axis out of range or repeated.
    pub fn min(&self, x: impl IntoNode, axes: Axes, keepdims: bool) -> Result<Var<'_>> {
        self.apply(Min { axes, keepdims }, [x.node_in(self)?])
    }

    /// Adds the index of the maximum along `axis`.
    ///
    /// # Errors
    /// The axis out of range.
    pub fn argmax(&self, x: impl IntoNode, axis: isize, keepdims: bool) -> Result<Var<'_>> {
        self.apply(ArgMax { axis, keepdims }, [x.node_in(self)?])
    }

    /// Adds `sum_to(x, shape)`, the reverse of broadcasting `shape` to `x`'s shape.
    ///
    /// # Errors
    /// `shape` does not broadcast to `x`'s shape.
    pub fn sum_to(&self, x: impl IntoNode, shape: impl Into<Shape>) -> Result<Var<'_>> {
        self.apply(
            SumTo {
                shape: shape.into(),
            },
            [x.node_in(self)?],
        )
    }

    /// Adds the softmax along `axis`.
    ///
    /// # Errors
    /// The axis out of range, or a scalar operand.
    pub fn softmax(&self, x: impl IntoNode, axis: isize) -> Result<Var<'_>> {
        self.apply(Softmax { axis }, [x.node_in(self)?])
    }

    /// Adds the log-softmax along `axis`.
    ///
    /// # Errors
    /// The axis out of range, or a scalar operand.
    pub fn log_softmax(&self, x: impl IntoNode, axis: isize) -> Result<Var<'_>> {
        self.apply(LogSoftmax { axis }, [x.node_in(self)?])
    }

    /// Adds `logsumexp` along `axis`.
    ///
    /// # Errors
    /// The axis out of range, or a scalar operand.
    pub fn logsumexp(&self, x: impl IntoNode, axis: isize, keepdims: bool) -> Result<Var<'_>> {
        self.apply(LogSumExp { axis, keepdims }, [x.node_in(self)?])
    }

    /// Adds a reshape.
    ///
    /// # Errors
    /// The element counts differ.
    pub fn reshape(&self, x: impl IntoNode, shape: impl Into<Shape>) -> Result<Var<'_>> {
        self.apply(
            Reshape {
                shape: shape.into(),
            },
            [x.node_in(self)?],
        )
    }

    /// Adds an axis permutation (`y.dims[i] = x.dims[perm[i]]`).
    ///
    /// # Errors
    /// `perm` is not a permutation of the axes.
    pub fn permute(&self, x: impl IntoNode, perm: &[usize]) -> Result<Var<'_>> {
        self.apply(
            Permute {
                perm: perm.to_vec(),
            },
            [x.node_in(self)?],
        )
    }

    /// Adds `broadcast_to(x, shape)`.
    ///
    /// # Errors
    /// `x` does not broadcast to `shape`.
    pub fn broadcast_to(&self, x: impl IntoNode, shape: impl Into<Shape>) -> Result<Var<'_>> {
        self.apply(
            BroadcastTo {
                shape: shape.into(),
            },
            [x.node_in(self)?],
        )
    }

    /// Adds the concatenation of `xs` along `axis`.
    ///
    /// # Errors
    /// No operands, mismatched dtypes, or shapes that differ off `axis`.
    pub fn concat<I: IntoNode>(
        &self,
        xs: impl IntoIterator<Item = I>,
        axis: isize,
    ) -> Result<Var<'_>> {
        self.apply(Concat { axis }, xs)
    }

    /// Adds `x[.., start..end, ..]` along `axis`.
    ///
    /// # Errors
    /// The axis or range out of bounds.
    pub fn slice(
        &self,
        x: impl IntoNode,
        axis: isize,
        start: usize,
        end: usize,
    ) -> Result<Var<'_>> {
        self.apply(Slice { axis, start, end }, [x.node_in(self)?])
    }

    /// Adds zero padding along `axis`.
    ///
    /// # Errors
    /// The axis out of range.
    pub fn pad(
        &self,
        x: impl IntoNode,
        axis: isize,
        before: usize,
        after: usize,
    ) -> Result<Var<'_>> {
        self.apply(
            Pad {
                axis,
                before,
                after,
            },
            [x.node_in(self)?],
        )
    }
}
