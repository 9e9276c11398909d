//! The `adnet` command: values, gradients, Hessians, gradient checks and Graphviz pictures of
//! `.adn` formula files.
//!
//! ```text
//! adnet grad    FILE --at x=1,y=0.5 [--set alpha=0.3] [--json]
//! adnet hessian FILE --at ... [--json]
//! adnet check   FILE --at ... [--json]      # gradient check, first and second order
//! adnet dot     FILE                         # Graphviz of the network, squares for adaptive nodes
//! ```
//!
//! `--at` gives every input and only inputs; `--set` overrides parameters and only those.
//! Derivatives are taken with respect to the inputs, then the parameters, in declaration
//! order. Exit status: 0 on success, 1 when `check` fails, 2 on any bad input, including a
//! value or derivative that comes out NaN or infinite (the message names the node).
//!
//! The binary is a thin wrapper around [`run`], which tests call in-process too;
//! [`run_network`] runs a command on a network built in code.
//!
//! # Examples
//! ```
//! let mut out = Vec::new();
//! let mut err = Vec::new();
//! let status = adnet_cli::run(["adnet", "grad", "missing.adn", "--at", "x=1"], &mut out, &mut err);
//! assert_eq!(status, adnet_cli::EXIT_BAD_INPUT);
//! assert!(String::from_utf8_lossy(&err).starts_with("error: cannot read missing.adn"));
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::panic))]

pub mod check;
mod dot;
mod error;
pub mod eval;
mod grad;
mod hessian;
pub mod output;
mod run;
pub mod values;

pub use error::{CliError, Result};
pub use run::{
    load, run, run_network, Command, Outcome, Request, EXIT_BAD_INPUT, EXIT_CHECK_FAILED,
    EXIT_SUCCESS,
};
