//! Derivatives of adaptive networks as graph transformations.
//!
//! [`grad`] and [`vjp`] (reverse mode) add the derivative's nodes to the same
//! [`Graph`](adnet_graph::Graph) and return them: they can be evaluated, compiled, exported to
//! DOT, and differentiated again, so Hessians and every higher order come from the one VJP rule
//! each op defines. [`jvp`] (forward mode) transposes that rule; [`hvp`], [`jacobian`],
//! [`hessian`] and [`value_and_grad`] build on both.
//!
//! # Examples
//! ```
//! use adnet_autodiff::{grad, hessian};
//! use adnet_graph::Graph;
//! use adnet_tensor::Tensor;
//!
//! let g = Graph::new();
//! let x = g.scalar_input("x")?;
//! let y = x.sin() * x;
//! let dy = grad(&g, y, &[x])?[0]; // sin x + x cos x
//! assert!((g.eval(dy, &[("x", 1.0)])? - (1f64.sin() + 1f64.cos())).abs() < 1e-12);
//! let h = hessian(&g, y, &[x])?; // 2 cos x − x sin x
//! let h = g.eval_tensor(h, &[("x", &Tensor::scalar(1.0))])?;
//! assert!((h.to_scalar()? - (2.0 * 1f64.cos() - 1f64.sin())).abs() < 1e-12);
//! # Ok::<(), adnet_autodiff::AutodiffError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::panic))]

mod check;
mod compiled;
mod dense;
mod error;
mod forward;
mod reverse;

pub use check::{check_grad, CheckEntry, CheckOptions, GradCheck};
pub use compiled::{value_and_grad, ValueAndGrad};
pub use dense::{hessian, jacobian, jacobian_flat};
pub use error::{AutodiffError, Result};
pub use forward::{hvp, jvp};
pub use reverse::{grad, vjp};
