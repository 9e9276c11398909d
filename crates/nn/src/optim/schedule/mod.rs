//! Learning-rate schedules, as `torch.optim.lr_scheduler`.
//!
//! The epoch-indexed schedules implement [`LrSchedule`]: `lr(epoch, base_lr)` is the rate
//! PyTorch's scheduler gives after `epoch` calls of `scheduler.step()`, in closed form (so a
//! schedule can be queried at any epoch, in any order). Set it on an optimizer between steps
//! with [`Optimizer::set_lr`]. A schedule that also cycles the momentum ([`OneCycleLr`]) says
//! so through [`LrSchedule::momentum`]; set that with [`Optimizer::set_momentum`].
//! [`ReduceLrOnPlateau`] depends on the metrics seen so far and is stateful, as in PyTorch. The
//! tests compare 30 epochs of each with `torch.optim.lr_scheduler`.
//!
//! # Examples
//! ```
//! use adnet_nn::optim::schedule::{LrSchedule, StepLr};
//! let mut schedule = StepLr::new(2, 0.5)?;
//! let lrs: Vec<f64> = (0..5).map(|epoch| schedule.lr(epoch, 0.1)).collect();
//! assert_eq!(lrs, vec![0.1, 0.1, 0.05, 0.05, 0.025]);
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

use std::f64::consts::PI;

use super::{non_negative, Optimizer};
use crate::{NnError, Result};

mod one_cycle;

pub use one_cycle::{AnnealStrategy, OneCycleLr};

/// A learning rate (and possibly a momentum) as a function of the epoch (or step) count.
pub trait LrSchedule {
    /// The learning rate after `step_or_epoch` scheduler steps, for an optimizer whose initial
    /// rate is `base_lr`.
    fn lr(&mut self, step_or_epoch: usize, base_lr: f64) -> f64;

    /// The momentum the schedule wants after `step_or_epoch` scheduler steps, or `None` when it
    /// does not schedule momentum (the default). Set it, next to the rate, with
    /// [`Optimizer::set_momentum`], which sets SGD's and RMSprop's `momentum` or the Adam
    /// family's `betas.0`, as PyTorch's `OneCycleLR` does.
    fn momentum(&mut self, step_or_epoch: usize) -> Option<f64> {
        let _ = step_or_epoch;
        None
    }
}

fn positive_count(what: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(NnError::InvalidSetting {
            what,
            reason: "must be at least 1, got 0".to_string(),
        });
    }
    Ok(())
}

/// Multiplies the rate by `gamma` every `step_size` epochs, as `StepLR`:
/// `lr = base_lr · gamma^⌊epoch / step_size⌋`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLr {
    step_size: usize,
    gamma: f64,
}

impl StepLr {
    /// A step schedule (PyTorch's default `gamma` is 0.1).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `step_size` is 0 or `gamma` negative.
    pub fn new(step_size: usize, gamma: f64) -> Result<Self> {
        positive_count("step_size", step_size)?;
        non_negative("gamma", gamma)?;
        Ok(Self { step_size, gamma })
    }
}

impl LrSchedule for StepLr {
    fn lr(&mut self, epoch: usize, base_lr: f64) -> f64 {
        base_lr * self.gamma.powi((epoch / self.step_size) as i32)
    }
}

/// Multiplies the rate by `gamma` at each milestone, as `MultiStepLR`:
/// `lr = base_lr · gamma^(number of milestones ≤ epoch)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStepLr {
    milestones: Vec<usize>,
    gamma: f64,
}

impl MultiStepLr {
    /// A schedule dropping at the given epochs (PyTorch's default `gamma` is 0.1). Milestones
    /// may come in any order; a repeated one multiplies by `gamma` once per repetition, as in
    /// PyTorch.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `gamma` is negative.
    pub fn new(milestones: &[usize], gamma: f64) -> Result<Self> {
        non_negative("gamma", gamma)?;
        let mut milestones = milestones.to_vec();
        milestones.sort_unstable();
        Ok(Self { milestones, gamma })
    }
}

impl LrSchedule for MultiStepLr {
    fn lr(&mut self, epoch: usize, base_lr: f64) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= epoch);
        base_lr * self.gamma.powi(passed as i32)
    }
}

/// Multiplies the rate by `gamma` every epoch, as `ExponentialLR`: `lr = base_lr · gamma^epoch`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialLr {
    gamma: f64,
}

impl ExponentialLr {
    /// An exponential decay.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `gamma` is negative.
    pub fn new(gamma: f64) -> Result<Self> {
        non_negative("gamma", gamma)?;
        Ok(Self { gamma })
    }
}

impl LrSchedule for ExponentialLr {
    fn lr(&mut self, epoch: usize, base_lr: f64) -> f64 {
        base_lr * self.gamma.powi(epoch as i32)
    }
}

/// Half a cosine from `base_lr` down to `eta_min` over `t_max` epochs, as `CosineAnnealingLR`:
/// `lr = eta_min + (base_lr − eta_min) · (1 + cos(π · epoch / t_max)) / 2`.
///
/// Past `t_max` the cosine goes on (back up at `2 · t_max`), which is what PyTorch's recursive
/// form computes too.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineAnnealingLr {
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Cosine annealing (PyTorch's default `eta_min` is 0).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `t_max` is 0 or `eta_min` negative.
    pub fn new(t_max: usize, eta_min: f64) -> Result<Self> {
        positive_count("t_max", t_max)?;
        non_negative("eta_min", eta_min)?;
        Ok(Self { t_max, eta_min })
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr(&mut self, epoch: usize, base_lr: f64) -> f64 {
        let phase = PI * epoch as f64 / self.t_max as f64;
        self.eta_min + (base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}

/// Cosine annealing restarted every `t_i` epochs, the period growing by `t_mult`, as
/// `CosineAnnealingWarmRestarts` (SGDR):
/// `lr = eta_min + (base_lr − eta_min) · (1 + cos(π · t_cur / t_i)) / 2`, where `t_cur` counts
/// the epochs since the last restart and `t_i = t_0 · t_multⁱ` is the current period.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineAnnealingWarmRestarts {
    t_0: usize,
    t_mult: usize,
    eta_min: f64,
}

impl CosineAnnealingWarmRestarts {
    /// Warm restarts (PyTorch's defaults: `t_mult = 1`, `eta_min = 0`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `t_0` or `t_mult` is 0, or `eta_min` negative.
    pub fn new(t_0: usize, t_mult: usize, eta_min: f64) -> Result<Self> {
        positive_count("T_0", t_0)?;
        positive_count("T_mult", t_mult)?;
        non_negative("eta_min", eta_min)?;
        Ok(Self {
            t_0,
            t_mult,
            eta_min,
        })
    }
}

impl LrSchedule for CosineAnnealingWarmRestarts {
    fn lr(&mut self, epoch: usize, base_lr: f64) -> f64 {
        // walk the periods in integers, as PyTorch's step() does, so restarts land exactly
        let (mut t_cur, mut t_i) = (epoch, self.t_0);
        if self.t_mult == 1 {
            t_cur %= t_i;
        } else {
            while t_cur >= t_i {
                t_cur -= t_i;
                t_i = t_i.saturating_mul(self.t_mult);
            }
        }
        let phase = PI * t_cur as f64 / t_i as f64;
        self.eta_min + (base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}

/// Linear warm-up (or decay) of the rate's factor, as `LinearLR`:
/// `lr = base_lr · (start_factor + (end_factor − start_factor) · min(epoch, total_iters) /
/// total_iters)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearLr {
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
}

impl LinearLr {
    /// A linear ramp of the factor (PyTorch's defaults: `start_factor = 1/3`,
    /// `end_factor = 1`, `total_iters = 5`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `start_factor` is not in `(0, 1]`, `end_factor` not in
    /// `[0, 1]` (PyTorch's checks) or `total_iters` is 0.
    pub fn new(start_factor: f64, end_factor: f64, total_iters: usize) -> Result<Self> {
        if !(start_factor > 0.0 && start_factor <= 1.0) {
            return Err(NnError::InvalidSetting {
                what: "start_factor",
                reason: format!("must be in (0, 1], got {start_factor}"),
            });
        }
        if !(0.0..=1.0).contains(&end_factor) {
            return Err(NnError::InvalidSetting {
                what: "end_factor",
                reason: format!("must be in [0, 1], got {end_factor}"),
            });
        }
        positive_count("total_iters", total_iters)?;
        Ok(Self {
            start_factor,
            end_factor,
            total_iters,
        })
    }
}

impl LrSchedule for LinearLr {
    fn lr(&mut self, epoch: usize, base_lr: f64) -> f64 {
        let progress = epoch.min(self.total_iters) as f64 / self.total_iters as f64;
        base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
    }
}

/// Whether [`ReduceLrOnPlateau`] watches a loss (`Min`) or a score (`Max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (PyTorch's default).
    Min,
    /// Higher is better.
    Max,
}

/// How [`ReduceLrOnPlateau`] compares a metric with the best so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better means beyond `best · (1 ∓ threshold)` (PyTorch's default).
    Rel,
    /// Better means beyond `best ∓ threshold`.
    Abs,
}

/// Cuts the rate when a metric stops improving, as `ReduceLROnPlateau`.
///
/// Defaults (PyTorch's): `mode = Min`, `factor = 0.1`, `patience = 10`, `threshold = 1e-4`,
/// `threshold_mode = Rel`, `cooldown = 0`, `min_lr = 0`, `eps = 1e-8`. Each [`step`](Self::step):
///
/// ```text
/// if metric is better than best (beyond the threshold): best ← metric, bad ← 0
/// else: bad ← bad + 1
/// if cooling down: cooldown_left ← cooldown_left − 1, bad ← 0
/// if bad > patience:
///     new ← max(lr · factor, min_lr); set it if lr − new > eps
///     cooldown_left ← cooldown, bad ← 0
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceLrOnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lr: f64,
    eps: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
}

impl ReduceLrOnPlateau {
    /// A plateau detector with PyTorch's defaults.
    pub fn new() -> Self {
        Self {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
    }

    /// Sets whether lower or higher metrics are better (default [`PlateauMode::Min`]).
    pub fn mode(self, mode: PlateauMode) -> Self {
        let best = match mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        Self { mode, best, ..self }
    }

    /// Sets the factor the rate is multiplied by (default 0.1).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when not in `[0, 1)`.
    pub fn factor(self, factor: f64) -> Result<Self> {
        super::unit_interval("factor", factor)?;
        Ok(Self { factor, ..self })
    }

    /// Sets how many epochs without improvement are tolerated (default 10).
    pub fn patience(self, patience: usize) -> Self {
        Self { patience, ..self }
    }

    /// Sets the improvement threshold and how it is applied (defaults 1e-4, relative).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `threshold` is negative.
    pub fn threshold(self, threshold: f64, threshold_mode: ThresholdMode) -> Result<Self> {
        non_negative("threshold", threshold)?;
        Ok(Self {
            threshold,
            threshold_mode,
            ..self
        })
    }

    /// Sets how many epochs to wait after a cut before counting again (default 0).
    pub fn cooldown(self, cooldown: usize) -> Self {
        Self { cooldown, ..self }
    }

    /// Sets the lowest rate (default 0).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when negative.
    pub fn min_lr(self, min_lr: f64) -> Result<Self> {
        non_negative("min_lr", min_lr)?;
        Ok(Self { min_lr, ..self })
    }

    /// Sets the smallest change of rate worth making (default 1e-8).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when negative.
    pub fn eps(self, eps: f64) -> Result<Self> {
        non_negative("eps", eps)?;
        Ok(Self { eps, ..self })
    }

    fn is_better(&self, metric: f64) -> bool {
        let best = self.best;
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (1.0 + self.threshold),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + self.threshold,
        }
    }

    /// Records an epoch's metric and lowers the optimizer's rate if it has plateaued. Returns
    /// the rate now set.
    pub fn step<O: Optimizer + ?Sized>(&mut self, metric: f64, optimizer: &mut O) -> f64 {
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let old = optimizer.lr();
            let new = (old * self.factor).max(self.min_lr);
            if old - new > self.eps {
                optimizer.set_lr(new);
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        optimizer.lr()
    }
}

impl Default for ReduceLrOnPlateau {
    fn default() -> Self {
        Self::new()
    }
}
