//! First-order optimizers, gradient clipping and learning-rate schedules.
//!
//! Every optimizer follows PyTorch's documented algorithm (`torch.optim`, single-tensor
//! implementation), uses PyTorch's argument names and defaults, and copies the algorithm into
//! its doc comment. Where Keras computes something differently (where epsilon goes, Nadam's
//! momentum schedule, Adagrad's initial accumulator) an option reproduces Keras 3, and the
//! optimizer's doc says which. The tests compare the first ten steps of each optimizer, and of
//! each Keras option, with numbers produced by PyTorch 2.15 and Keras 3.15
//! (`tests/fixtures/make_optimizer_fixtures.py`).
//!
//! An optimizer is handed the parameter values in place ([`Graph::with_params_mut`]) and their
//! gradients, in the same order every step. Its state (moment estimates and the like) is kept per
//! parameter index and created, as zeros of the parameter's shape and dtype, on the first step;
//! after that a step allocates nothing. The arithmetic runs in the parameter's dtype, as in
//! PyTorch; scalar coefficients (bias corrections, step sizes) are computed in `f64` and rounded
//! once.
//!
//! # Examples
//! ```
//! use adnet_nn::optim::{Adam, Optimizer};
//! use adnet_tensor::Tensor;
//! let mut w = Tensor::from_vec(vec![1.0f64, -2.0], [2])?;
//! let mut adam = Adam::new(0.1)?;
//! let grad = Tensor::from_vec(vec![2.0f64, -4.0], [2])?; // of w₀² + w₁²
//! adam.step(&mut [&mut w], &[&grad])?;
//! // Adam's first step moves each weight by `lr` against its gradient's sign
//! let w = w.to_f64_vec();
//! assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] + 1.9).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Graph::with_params_mut`]: adnet_graph::Graph::with_params_mut

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
pub mod clip;
mod nadam;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use adamax::Adamax;
pub use clip::{clip_grad_norm, clip_grad_value};
pub use nadam::Nadam;
pub use rmsprop::Rmsprop;

pub use sgd::Sgd;

use adnet_tensor::{Element, Tensor, TensorError};

use crate::{NnError, Result};

/// A rule that updates parameters in place from their gradients.
pub trait Optimizer {
    /// Updates every parameter in place from its gradient (`params[i]` with `grads[i]`).
    ///
    /// Parameters must come in the same order every step: the optimizer's state is kept per
    /// position. The first step creates that state; later steps allocate nothing.
    ///
    /// # Errors
    /// [`NnError::CountMismatch`] when the lists (or the state from earlier steps) differ in
    /// length, [`NnError::ShapeMismatch`] when a gradient or state tensor does not have its
    /// parameter's shape, and [`NnError::Tensor`] with
    /// [`TensorError::DTypeMismatch`] when their dtypes differ. A rejected step changes nothing.
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()>;

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (what a schedule does between steps). It is not checked: a
    /// schedule may legitimately reach zero.
    fn set_lr(&mut self, lr: f64);

    /// Forgets all state (moments, step count), as if no step had been taken.
    fn reset(&mut self);
}

/// Checks the arguments of a step and creates the state on the first one.
///
/// `init[k]` is the starting value of buffer `k`, or `None` for a buffer the configuration does
/// not use (it is then an empty tensor of the parameter's dtype, and the update never reads it).
pub(crate) fn prepare<const N: usize>(
    what: &'static str,
    params: &[&mut Tensor],
    grads: &[&Tensor],
    state: &mut Vec<[Tensor; N]>,
    init: [Option<f64>; N],
) -> Result<()> {
    if params.len() != grads.len() {
        return Err(NnError::CountMismatch {
            what,
            expected: params.len(),
            actual: grads.len(),
            other: "gradients",
        });
    }
    for (index, (param, grad)) in params.iter().zip(grads).enumerate() {
        if grad.shape() != param.shape() {
            return Err(NnError::ShapeMismatch {
                what,
                index,
                expected: param.shape().clone(),
                other: "gradient",
                actual: grad.shape().clone(),
            });
        }
        if grad.dtype() != param.dtype() {
            return Err(TensorError::DTypeMismatch {
                op: what,
                lhs: param.dtype(),
                rhs: grad.dtype(),
            }
            .into());
        }
    }
    if state.is_empty() {
        *state = params
            .iter()
            .map(|param| {
                std::array::from_fn(|k| match init[k] {
                    Some(value) => Tensor::full(param.shape().clone(), value, param.dtype()),
                    None => Tensor::zeros([0], param.dtype()),
                })
            })
            .collect();
        return Ok(());
    }
    if state.len() != params.len() {
        return Err(NnError::CountMismatch {
            what,
            expected: params.len(),
            actual: state.len(),
            other: "state entries (the parameter list changed since the first step)",
        });
    }
    for (index, (param, buffers)) in params.iter().zip(state.iter()).enumerate() {
        for (buffer, used) in buffers.iter().zip(init) {
            if used.is_some() && buffer.shape() != param.shape() {
                return Err(NnError::ShapeMismatch {
                    what,
                    index,
                    expected: param.shape().clone(),
                    other: "state",
                    actual: buffer.shape().clone(),
                });
            }
            if buffer.dtype() != param.dtype() {
                return Err(TensorError::DTypeMismatch {
                    op: what,
                    lhs: param.dtype(),
                    rhs: buffer.dtype(),
                }
                .into());
            }
        }
    }
    Ok(())
}

/// The data of a tensor whose dtype [`prepare`] has checked.
pub(crate) fn data<T: Element>(tensor: &Tensor) -> &[T] {
    T::slice(tensor).expect("dtype checked by prepare")
}

/// The data of a tensor whose dtype [`prepare`] has checked, mutably.
pub(crate) fn data_mut<T: Element>(tensor: &mut Tensor) -> &mut [T] {
    T::slice_mut(tensor).expect("dtype checked by prepare")
}

/// Rejects a setting that is NaN or negative.
pub(crate) fn non_negative(what: &'static str, value: f64) -> Result<()> {
    if value.is_nan() || value < 0.0 {
        return Err(NnError::InvalidSetting {
            what,
            reason: format!("must be a non-negative number, got {value}"),
        });
    }
    Ok(())
}

/// Rejects a setting outside `[0, 1)` (a beta, a decay rate).
pub(crate) fn unit_interval(what: &'static str, value: f64) -> Result<()> {
    if !(0.0..1.0).contains(&value) {
        return Err(NnError::InvalidSetting {
            what,
            reason: format!("must be in [0, 1), got {value}"),
        });
    }
    Ok(())
}

/// Rejects a setting outside `[0, 1]` (RMSprop's alpha, Adadelta's rho, a dampening).
pub(crate) fn closed_unit_interval(what: &'static str, value: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&value) {
        return Err(NnError::InvalidSetting {
            what,
            reason: format!("must be in [0, 1], got {value}"),
        });
    }
    Ok(())
}
