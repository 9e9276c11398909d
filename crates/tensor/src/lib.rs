//! Dense row-major n-d arrays of `f32` and `f64`, and every numeric kernel adnet runs.
//!
//! Rank 0 is a scalar. Binary kernels broadcast as NumPy does; matrix products go through the
//! `gemm` crate; softmax, log-softmax and logsumexp are computed stably. Kernels write into an
//! output tensor they are given (see [`kernels`]), so repeated computations allocate nothing.
//!
//! # Examples
//! ```
//! use adnet_tensor::{kernels, DType, Tensor};
//! let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3])?;
//! let b = Tensor::from_vec(vec![10.0f64, 20.0, 30.0], [3])?;
//! let mut sum = Tensor::default();
//! kernels::add(&a, &b, &mut sum)?; // b is broadcast over the rows of a
//! assert_eq!(sum.to_f64_vec(), vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
//! # Ok::<(), adnet_tensor::TensorError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::panic))]

mod dtype;
mod error;
pub mod kernels;
mod shape;
mod tensor;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use dtype::{DType, Element};
pub use error::{Result, TensorError};
pub use shape::Shape;
pub use tensor::{Storage, Tensor};

/// The random number crate the constructors take generators from, re-exported so callers use
/// the same version (`adnet_tensor::rand::rngs::StdRng`).
pub use rand;
