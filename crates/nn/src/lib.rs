//! Layers, losses and optimizers for adnet (being built).
//!
//! - [`loss`]: the regression and classification losses, as graph nodes, with PyTorch's names,
//!   reductions and defaults;
//! - [`optim`]: first-order optimizers (SGD with momentum and Nesterov, Adagrad, RMSprop,
//!   Adadelta, Adam/AMSGrad, AdamW, Adamax, Nadam), gradient clipping and learning-rate
//!   schedules, matching PyTorch's update formulas;
//! - [`layers`]: initializers, activations, `Linear`, `Sequential` and the `Mlp` builder;
//! - [`checkpoint`]: parameters and optimizer state saved to and loaded from safetensors files;
//! - [`plot`]: SVG line plots, decision boundaries and contour plots (no system fonts needed).
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::panic))]

pub mod checkpoint;
pub mod classic;
pub mod data;
mod error;
pub mod layers;
pub mod loss;
pub mod optim;
pub mod plot;
pub mod train;

pub use error::{NnError, Result};
