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

use adnet_tensor::{DType, Element, Tensor, TensorError};
use rayon::prelude::*;

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

    /// The momentum a schedule may cycle: SGD's and RMSprop's `momentum` (when the optimizer was
    /// built with a non-zero one), or `betas.0` of Adam, AdamW, Adamax and Nadam, as PyTorch's
    /// `OneCycleLR(cycle_momentum=True)` picks it. `None` for an optimizer without one (the
    /// default).
    ///
    /// [`Sgd`] and [`Rmsprop`] also have a builder named `momentum`, which method-call syntax
    /// on those types picks first: write `Optimizer::momentum(&sgd)` there (a `dyn Optimizer`
    /// or a generic `O: Optimizer` needs nothing special).
    ///
    /// # Examples
    /// ```
    /// use adnet_nn::optim::{Adagrad, Adam, Optimizer, Sgd};
    /// let mut sgd = Sgd::new(0.1)?.momentum(0.9)?;
    /// assert_eq!(Optimizer::momentum(&sgd), Some(0.9));
    /// assert!(sgd.set_momentum(0.85));
    /// assert_eq!(Optimizer::momentum(&sgd), Some(0.85));
    /// let mut adam = Adam::new(1e-3)?; // betas.0
    /// assert_eq!(adam.momentum(), Some(0.9));
    /// assert!(!adam.set_momentum(1.0)); // not a valid beta: unchanged
    /// let mut adagrad = Adagrad::new(1e-2)?;
    /// assert_eq!(adagrad.momentum(), None);
    /// assert!(!adagrad.set_momentum(0.9));
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Sets the momentum that [`Optimizer::momentum`] reports (what a schedule with momentum
    /// cycling does between steps, next to [`Optimizer::set_lr`]), keeping all state.
    ///
    /// Returns whether it was set. It is not, and nothing changes, when the optimizer has no
    /// momentum to set (the default), or when the value is one its builder rejects (NaN, a beta
    /// outside `[0, 1)`, a negative momentum) or would switch the momentum of SGD or RMSprop
    /// off (zero): whether those keep a momentum buffer is fixed when they are built.
    fn set_momentum(&mut self, momentum: f64) -> bool {
        let _ = momentum;
        false
    }

    /// The optimizer's state, for a checkpoint: `step` (a scalar `f64` tensor holding the step
    /// count) and, per parameter position `i`, its buffers under PyTorch's names
    /// (`{i}.momentum_buffer`, `{i}.exp_avg`, ...). Settings (`lr`, `betas`) are not state.
    /// The default is no state, for an optimizer that keeps none or cannot save it yet.
    fn state(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Restores state that [`Optimizer::state`] returned (from an optimizer of the same kind and
    /// configuration), checking it all before changing anything. The default accepts only an
    /// empty state.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (with `what = "state"`) for an entry this optimizer does not
    /// keep, a buffer missing, a step that is not a whole number, or buffers of one parameter
    /// that differ in shape or dtype. The optimizer is unchanged on error.
    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        match state.first() {
            None => Ok(()),
            Some((name, _)) => Err(bad_state(format!(
                "this optimizer keeps no state, got `{name}`"
            ))),
        }
    }
}

/// An [`NnError::InvalidSetting`] for a rejected state.
fn bad_state(reason: String) -> NnError {
    NnError::InvalidSetting {
        what: "state",
        reason,
    }
}

/// The entries of [`Optimizer::state`] for per-parameter buffers named `names`, of which those
/// with `used[k]` false are placeholders and not saved.
pub(crate) fn state_entries<const N: usize>(
    step: u64,
    state: &[[Tensor; N]],
    names: [&str; N],
    used: [bool; N],
) -> Vec<(String, Tensor)> {
    // counts up to 2⁵³ are exact in f64
    let mut entries = vec![("step".to_string(), Tensor::scalar(step as f64))];
    for (index, buffers) in state.iter().enumerate() {
        for ((buffer, name), used) in buffers.iter().zip(names).zip(used) {
            if used {
                entries.push((format!("{index}.{name}"), buffer.clone()));
            }
        }
    }
    entries
}

/// Parses entries written by [`state_entries`] back into a step count and per-parameter
/// buffers. Unused buffers become empty placeholders of their parameter's dtype; with no used
/// buffer at all the state is left empty, to be created at the next step.
pub(crate) fn parse_state<const N: usize>(
    entries: &[(String, Tensor)],
    names: [&str; N],
    used: [bool; N],
) -> Result<(u64, Vec<[Tensor; N]>)> {
    let mut step = None;
    let mut found: Vec<[Option<Tensor>; N]> = Vec::new();
    for (name, value) in entries {
        if name == "step" {
            let count = value
                .to_scalar()
                .ok()
                .filter(|s| s.fract() == 0.0 && *s >= 0.0 && *s < 2f64.powi(53))
                .ok_or_else(|| bad_state(format!("`step` must be a whole number, got {value}")))?;
            step = Some(count as u64);
            continue;
        }
        let parsed = name.split_once('.').and_then(|(index, buffer)| {
            let index = index.parse::<usize>().ok()?;
            let k = names
                .iter()
                .position(|n| *n == buffer)
                .filter(|&k| used[k])?;
            Some((index, k))
        });
        let Some((index, k)) = parsed else {
            return Err(bad_state(format!(
                "unknown entry `{name}` (this optimizer keeps {})",
                names
                    .iter()
                    .zip(used)
                    .filter(|(_, u)| *u)
                    .map(|(n, _)| format!("`<i>.{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if index > 1 << 24 {
            return Err(bad_state(format!(
                "parameter index {index} in `{name}` is implausible"
            )));
        }
        if found.len() <= index {
            found.resize_with(index + 1, || std::array::from_fn(|_| None));
        }
        found[index][k] = Some(value.clone());
    }
    let step = step.ok_or_else(|| bad_state("no `step` entry".to_string()))?;
    if !used.iter().any(|&u| u) {
        return Ok((step, Vec::new()));
    }
    let mut state = Vec::with_capacity(found.len());
    for (index, buffers) in found.into_iter().enumerate() {
        let mut spec = None;
        for (k, buffer) in buffers.iter().enumerate() {
            match (used[k], buffer) {
                (true, None) => {
                    return Err(bad_state(format!("missing `{index}.{}`", names[k])));
                }
                (true, Some(value)) => match &spec {
                    None => spec = Some((value.shape().clone(), value.dtype())),
                    Some((shape, dtype)) if value.shape() != shape || value.dtype() != *dtype => {
                        return Err(bad_state(format!(
                            "`{index}.{}` is {:?} {}, other buffers of parameter {index} are {dtype:?} {shape}",
                            names[k],
                            value.dtype(),
                            value.shape()
                        )));
                    }
                    Some(_) => {}
                },
                (false, _) => {}
            }
        }
        let dtype = spec.map(|(_, dtype)| dtype).expect("some buffer is used");
        let mut buffers = buffers;
        state.push(std::array::from_fn(|k| {
            buffers[k]
                .take()
                .unwrap_or_else(|| Tensor::zeros([0], dtype))
        }));
    }
    Ok((step, state))
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

/// An optimizer's update of one parameter from its gradient and its `N` state buffers, generic
/// over the element type so that [`update_all`] can dispatch on each parameter's dtype.
///
/// Every optimizer here updates each element from that element's gradient and state alone,
/// so [`update_all`] may hand a rule any contiguous run of a parameter's elements, and runs
/// the runs of a large model on all cores.
pub(crate) trait ParamRule<const N: usize>: Sync {
    /// Updates `param` in place. `grad` has its length, and so does each buffer the
    /// configuration uses; an unused buffer is empty and never read.
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; N]);
}

/// Elements per run of a parameter handed to one core: large enough that a run costs far
/// more than scheduling it (about 100 µs of Adam), small enough to balance two to eight cores.
const UPDATE_CHUNK: usize = 1 << 16;

/// Models with fewer elements than this are updated on the calling thread: below it, waking
/// the other cores costs more than it saves (W3's 100 k parameters take 90 µs on one core).
const PARALLEL_UPDATE: usize = 1 << 18;

/// One run of a parameter: its elements, their gradients and their state.
type UpdateRun<'a, T, const N: usize> = (&'a mut [T], &'a [T], [&'a mut [T]; N]);

/// Applies `rule` to every parameter with its gradient and buffers. The caller takes the state
/// out of the optimizer for the call (the rule reads the optimizer's settings while the
/// buffers change) and puts it back.
///
/// A model of at least [`PARALLEL_UPDATE`] elements is cut into runs of [`UPDATE_CHUNK`]
/// elements, updated on rayon's pool; the result is the same as on one thread, element by
/// element.
pub(crate) fn update_all<const N: usize>(
    rule: &impl ParamRule<N>,
    state: &mut [[Tensor; N]],
    params: &mut [&mut Tensor],
    grads: &[&Tensor],
) {
    let total: usize = params.iter().map(|p| p.numel()).sum();
    let parallel = total >= PARALLEL_UPDATE && rayon::current_num_threads() > 1;
    let mut runs32: Vec<UpdateRun<'_, f32, N>> = Vec::new();
    let mut runs64: Vec<UpdateRun<'_, f64, N>> = Vec::new();
    for ((param, grad), buffers) in params.iter_mut().zip(grads).zip(state) {
        match param.dtype() {
            DType::F32 => split_runs(rule, param, grad, buffers, parallel, &mut runs32),
            DType::F64 => split_runs(rule, param, grad, buffers, parallel, &mut runs64),
        }
    }
    if !parallel {
        return;
    }
    rayon::join(
        || {
            runs32
                .into_par_iter()
                .for_each(|(p, g, s)| rule.update(p, g, s))
        },
        || {
            runs64
                .into_par_iter()
                .for_each(|(p, g, s)| rule.update(p, g, s))
        },
    );
}

/// Updates one parameter now, or (when `parallel`) pushes its runs of [`UPDATE_CHUNK`]
/// elements onto `runs`.
fn split_runs<'a, T: Element, const N: usize>(
    rule: &impl ParamRule<N>,
    param: &'a mut Tensor,
    grad: &'a Tensor,
    buffers: &'a mut [Tensor; N],
    parallel: bool,
    runs: &mut Vec<UpdateRun<'a, T, N>>,
) {
    let (param, grad) = (data_mut::<T>(param), data::<T>(grad));
    let buffers = buffers.each_mut().map(|b| data_mut::<T>(b));
    if !parallel {
        rule.update(param, grad, buffers);
        return;
    }
    let mut buffers = buffers.map(|b| (!b.is_empty()).then(|| b.chunks_mut(UPDATE_CHUNK)));
    for (p, g) in param
        .chunks_mut(UPDATE_CHUNK)
        .zip(grad.chunks(UPDATE_CHUNK))
    {
        // an unused (empty) buffer gives every run an empty slice
        let s = buffers
            .each_mut()
            .map(|b| b.as_mut().and_then(Iterator::next).unwrap_or_default());
        runs.push((p, g, s));
    }
}

/// Sets `target` to `value` when `accepted`, and says whether it did: what
/// [`Optimizer::set_momentum`] does once an optimizer has decided the value is valid for it.
pub(crate) fn set_if(target: &mut f64, value: f64, accepted: bool) -> bool {
    if accepted {
        *target = value;
    }
    accepted
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
