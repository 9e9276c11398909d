//! # adnet: automatic differentiation of adaptive networks
//!
//! An adaptive network is a DAG whose nodes are differentiable functions of their inputs and
//! of their own parameters, like `p = alpha*x + exp(y)`. adnet builds such networks from
//! ordinary Rust expressions, checks every shape when a node is built, and compiles the nodes
//! some outputs need into a [`Plan`] that runs many times without allocating: tens of
//! nanoseconds per node on scalar networks, the `gemm` crate's speed on matrix products.
//!
//! The crates, lowest first (each depends only on those before it):
//! - [`tensor`] (`adnet-tensor`): [`Tensor`], [`Shape`], [`DType`] and every numeric kernel;
//! - [`graph`] (`adnet-graph`): [`Graph`], [`Var`], the [`Op`] trait and primitive ops,
//!   DOT export, and compiled [`Plan`]s;
//! - [`autodiff`] (`adnet-autodiff`): [`grad`], [`vjp`], [`jvp`], [`hvp`], [`jacobian`],
//!   [`hessian`] and [`value_and_grad`] as graph transformations, so derivatives of any order
//!   are ordinary nodes.
//!
//! # Examples
//! The lecture's network, `o = u·ln v + v·ln u` with `u = (p + q)/γ`, `v = p·q`,
//! `p = αx + e^y`, `q = ln(βx + y)`:
//! ```
//! use adnet::prelude::*;
//!
//! let g = Graph::new();
//! let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
//! let alpha = g.scalar_param("alpha", 0.8)?;
//! let beta = g.scalar_param("beta", 1.2)?;
//! let gamma = g.scalar_param("gamma", 2.0)?;
//! let p = alpha * x + y.exp();
//! let q = (beta * x + y).ln();
//! let u = (p + q) / gamma;
//! let v = p * q;
//! let o = u * v.ln() + v * u.ln();
//!
//! let mut plan = g.compile([o])?;
//! plan.set_scalar(x, 1.0)?;
//! plan.set_scalar(y, 0.5)?;
//! plan.run(&g)?;
//! let (p, q) = (0.8 + 0.5f64.exp(), 1.7f64.ln());
//! let (u, v) = ((p + q) / 2.0, p * q);
//! assert!((plan.scalar(o)? - (u * v.ln() + v * u.ln())).abs() < 1e-12);
//! # Ok::<(), adnet::GraphError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::panic))]

pub use adnet_autodiff as autodiff;
pub use adnet_graph as graph;
pub use adnet_nn as nn;
pub use adnet_tensor as tensor;

pub use adnet_graph::{Graph, GraphError, NodeId, Op, Plan, TensorSpec, Var};
pub use adnet_tensor::{DType, Shape, Tensor, TensorError};

pub use adnet_autodiff::{grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp, AutodiffError};

/// The names most programs need: `use adnet::prelude::*;`.
pub mod prelude {
    pub use adnet_autodiff::{
        grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp, AutodiffError,
    };
    pub use adnet_graph::ops::Axes;
    pub use adnet_graph::{Graph, GraphError, NodeId, Op, Plan, TensorSpec, Var};
    pub use adnet_tensor::{DType, Shape, Tensor, TensorError};
}

/// The README's code blocks, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
