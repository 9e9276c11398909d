//! The adaptive-network graph of adnet: nodes, ops, the [`Var`] builder, DOT export, and
//! compiled execution [`Plan`]s.
//!
//! A [`Graph`] is a DAG whose nodes are inputs, parameters, constants, and [`Op`]s applied to
//! other nodes. Every node's shape and dtype is checked when it is built. [`Graph::compile`]
//! turns the nodes some outputs need into a [`Plan`] that runs many times without allocating.
//!
//! # Examples
//! ```
//! use adnet_graph::Graph;
//! use adnet_tensor::{DType, Tensor};
//!
//! // A 2-3-1 network: y = sigmoid(tanh(x W1 + b1) W2 + b2), for a batch of 4 rows.
//! let g = Graph::new();
//! let x = g.input("x", [4, 2], DType::F64)?;
//! let w1 = g.param("w1", Tensor::full([2, 3], 0.5, DType::F64))?;
//! let b1 = g.param("b1", Tensor::zeros([3], DType::F64))?;
//! let w2 = g.param("w2", Tensor::full([3, 1], -1.0, DType::F64))?;
//! let b2 = g.param("b2", Tensor::zeros([1], DType::F64))?;
//! let y = ((x.matmul(w1) + b1).tanh().matmul(w2) + b2).sigmoid();
//!
//! let mut plan = g.compile([y])?;
//! plan.set_input(x, &Tensor::zeros([4, 2], DType::F64))?;
//! plan.run(&g)?;
//! assert_eq!(plan.output(y)?.to_f64_vec(), vec![0.5; 4]);
//! # Ok::<(), adnet_graph::GraphError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::panic))]

mod build;
mod convert;
mod dot;
mod error;
pub mod finite_diff;
mod graph;
pub mod networks;
mod op;
pub mod ops;
mod params;
pub mod parse;
mod plan;
pub mod random;
mod rewrite;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod var;

pub use error::{GraphError, OperandRange, Result};
pub use graph::{Graph, IntoNode, NodeId, NodeKind};
pub use op::{common_dtype, expect_arity, AsAny, InputGrads, Op, ScalarFn, TensorSpec};
pub use parse::{parse, Network, ParseError};
pub use plan::{Plan, PlanStats, Profile, ProfileEntry};
pub use rewrite::Folded;
pub use var::Var;
