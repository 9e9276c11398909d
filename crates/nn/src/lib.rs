//! Layers, losses, optimizers, training loops and the classic training methods for adnet.
//!
//! - [`loss`]: the regression and classification losses, as graph nodes, with PyTorch's names,
//!   reductions and defaults;
//! - [`optim`]: first-order optimizers (SGD with momentum and Nesterov, Adagrad, RMSprop,
//!   Adadelta, Adam/AMSGrad, AdamW, Adamax, Nadam), gradient clipping and learning-rate
//!   schedules, matching PyTorch's update formulas;
//! - [`classic`]: the full-batch methods (Levenberg-Marquardt, Gauss-Newton, conjugate gradient,
//!   scaled conjugate gradient, L-BFGS, Rprop) on any graph's loss or residuals, and the
//!   perceptron and ADALINE;
//! - [`layers`]: initializers, activations, `Linear`, `Sequential`, dropout and the `Mlp` builder;
//! - [`data`] and [`train`]: data sets, mini-batches and the compile-once `Trainer`;
//! - [`anfis`] and [`rbf`]: adaptive networks beyond MLPs, built from the ordinary graph API:
//!   Jang's ANFIS with its hybrid learning rule, and radial basis function networks with
//!   k-means centres;
//! - [`checkpoint`]: parameters and optimizer state saved to and loaded from safetensors files;
//! - [`plot`]: SVG line plots, decision boundaries and contour plots (no system fonts needed).
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::panic))]

pub mod anfis;
pub mod checkpoint;
pub mod classic;
pub mod data;
mod error;
pub mod layers;
pub mod loss;
pub mod optim;
pub mod plot;
pub mod rbf;
pub mod train;

pub use error::{NnError, Result};
