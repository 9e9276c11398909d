//! [`OneCycleLr`]: the one-cycle policy, which moves the rate up and down once and the momentum
//! against it.

use std::f64::consts::PI;

use super::{positive_count, LrSchedule};
use crate::optim::non_negative;
use crate::{NnError, Result};

/// How [`OneCycleLr`] moves between its rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnealStrategy {
    /// `end + (start − end) · (1 + cos(π · pct)) / 2` (PyTorch's default).
    Cos,
    /// `start + (end − start) · pct`.
    Linear,
}

/// The one-cycle policy, as `OneCycleLR`: the rate rises from `max_lr / div_factor` to `max_lr`
/// and falls to `max_lr / (div_factor · final_div_factor)` at step `total_steps − 1`, while the
/// momentum (with `cycle_momentum`, the default) moves the other way, from `max_momentum` down to
/// `base_momentum` and back.
///
/// The cycle is made of phases, as PyTorch's `_schedule_phases`; with `p = pct_start` and
/// `T = total_steps`, `initial = max_lr / div_factor` and `min = initial / final_div_factor`:
///
/// ```text
/// two phases (default)   ends at step     lr                 momentum
///   1                    p·T − 1          initial → max_lr   max_momentum → base_momentum
///   2                    T − 1            max_lr → min       base_momentum → max_momentum
/// three_phase
///   1                    p·T − 1          initial → max_lr   max_momentum → base_momentum
///   2                    2·p·T − 2        max_lr → initial   base_momentum → max_momentum
///   3                    T − 1            initial → min      max_momentum → max_momentum
/// ```
///
/// Step `s` falls in the first phase whose end is at least `s` (or the last), and a phase
/// `[a, b]` gives `anneal(from, to, (s − a) / (b − a))`, `a` being the end of the previous
/// phase (0 for the first). `base_lr` is ignored, as PyTorch ignores the optimizer's rate; steps
/// past `total_steps − 1` continue the last phase (where PyTorch raises from `total_steps + 1`
/// on), and a phase of length zero gives its end values (where PyTorch divides by zero).
///
/// With `cycle_momentum` (PyTorch's default, with `base_momentum = 0.85` and
/// `max_momentum = 0.95`), [`LrSchedule::momentum`] returns the momentum to set with
/// [`Optimizer::set_momentum`] before each step: SGD's or RMSprop's `momentum`, or `betas.0` of
/// Adam, AdamW, Adamax and Nadam. PyTorch refuses to build the scheduler for an optimizer
/// without either; here `set_momentum` then returns `false` and the schedule only sets the rate.
///
/// # Examples
/// ```
/// use adnet_nn::optim::schedule::{LrSchedule, OneCycleLr};
/// use adnet_nn::optim::{Optimizer, Sgd};
/// use adnet_tensor::Tensor;
/// let mut schedule = OneCycleLr::new(0.1, 100)?;
/// let mut sgd = Sgd::new(0.1)?.momentum(0.9)?;
/// let mut w = Tensor::from_vec(vec![1.0f64], [1])?;
/// for step in 0..3 {
///     sgd.set_lr(schedule.lr(step, 0.1));
///     if let Some(momentum) = schedule.momentum(step) {
///         assert!(sgd.set_momentum(momentum));
///     }
///     let grad = Tensor::from_vec(vec![2.0 * w.to_f64_vec()[0]], [1])?;
///     sgd.step(&mut [&mut w], &[&grad])?;
/// }
/// // the cycle starts at max_lr / 25 and the highest momentum, which falls as the rate rises
/// assert!((schedule.lr(0, 0.1) - 0.1 / 25.0).abs() < 1e-15);
/// assert_eq!(schedule.momentum(0), Some(0.95));
/// // `Optimizer::momentum`, not the builder `Sgd::momentum` of the same name
/// assert!(Optimizer::momentum(&sgd) < Some(0.95));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Optimizer::set_momentum`]: crate::optim::Optimizer::set_momentum
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleLr {
    max_lr: f64,
    total_steps: usize,
    pct_start: f64,
    div_factor: f64,
    final_div_factor: f64,
    anneal_strategy: AnnealStrategy,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
    three_phase: bool,
}

/// One phase of [`OneCycleLr`]: the step it ends at and its start and end values.
#[derive(Debug, Clone, Copy)]
struct Phase {
    end: f64,
    lr: [f64; 2],
    momentum: [f64; 2],
}

impl OneCycleLr {
    /// A one-cycle schedule with PyTorch's defaults: `pct_start = 0.3`, `div_factor = 25`,
    /// `final_div_factor = 1e4`, cosine annealing, two phases, and momentum cycled between
    /// `base_momentum = 0.85` and `max_momentum = 0.95`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `max_lr` is negative or `total_steps` is 0.
    pub fn new(max_lr: f64, total_steps: usize) -> Result<Self> {
        non_negative("max_lr", max_lr)?;
        positive_count("total_steps", total_steps)?;
        Ok(Self {
            max_lr,
            total_steps,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            three_phase: false,
        })
    }

    /// Sets the fraction of the cycle spent increasing the rate (default 0.3).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when outside `[0, 1]`.
    pub fn pct_start(self, pct_start: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&pct_start) {
            return Err(NnError::InvalidSetting {
                what: "pct_start",
                reason: format!("must be in [0, 1], got {pct_start}"),
            });
        }
        Ok(Self { pct_start, ..self })
    }

    /// Sets `max_lr / initial_lr` (default 25).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when not positive.
    pub fn div_factor(self, div_factor: f64) -> Result<Self> {
        positive_factor("div_factor", div_factor)?;
        Ok(Self { div_factor, ..self })
    }

    /// Sets `initial_lr / min_lr` (default 1e4).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when not positive.
    pub fn final_div_factor(self, final_div_factor: f64) -> Result<Self> {
        positive_factor("final_div_factor", final_div_factor)?;
        Ok(Self {
            final_div_factor,
            ..self
        })
    }

    /// Sets the annealing curve (default [`AnnealStrategy::Cos`]).
    pub fn anneal_strategy(self, anneal_strategy: AnnealStrategy) -> Self {
        Self {
            anneal_strategy,
            ..self
        }
    }

    /// Turns momentum cycling on or off (default on, as PyTorch's `cycle_momentum=True`). Off,
    /// [`LrSchedule::momentum`] returns `None`.
    pub fn cycle_momentum(self, cycle_momentum: bool) -> Self {
        Self {
            cycle_momentum,
            ..self
        }
    }

    /// Sets the momentum range of the cycle: it moves between `base_momentum` (at the peak
    /// rate) and `max_momentum` (at the start and the end). Defaults 0.85 and 0.95.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when either is negative, NaN or infinite (`what` names it),
    /// or when `base_momentum > max_momentum` (`what = "base_momentum"`; PyTorch does not check
    /// the order, but a swapped pair cycles the momentum the wrong way).
    pub fn momentum_range(self, base_momentum: f64, max_momentum: f64) -> Result<Self> {
        for (what, value) in [
            ("base_momentum", base_momentum),
            ("max_momentum", max_momentum),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(NnError::InvalidSetting {
                    what,
                    reason: format!("must be a finite non-negative number, got {value}"),
                });
            }
        }
        if base_momentum > max_momentum {
            return Err(NnError::InvalidSetting {
                what: "base_momentum",
                reason: format!(
                    "must not exceed max_momentum, got {base_momentum} > {max_momentum}"
                ),
            });
        }
        Ok(Self {
            base_momentum,
            max_momentum,
            ..self
        })
    }

    /// Uses PyTorch's three phases (up to `max_lr`, back down to the initial rate
    /// symmetrically, then down to the minimum) instead of two (default off).
    pub fn three_phase(self, three_phase: bool) -> Self {
        Self {
            three_phase,
            ..self
        }
    }

    fn anneal(&self, start: f64, end: f64, pct: f64) -> f64 {
        match self.anneal_strategy {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }

    /// The phases of the cycle, as PyTorch's `_schedule_phases` (the last one unused with two).
    fn phases(&self) -> ([Phase; 3], usize) {
        let total = self.total_steps as f64;
        let initial_lr = self.max_lr / self.div_factor;
        let min_lr = initial_lr / self.final_div_factor;
        let (base, max) = (self.base_momentum, self.max_momentum);
        // the same expressions, in the same order, as PyTorch's end steps
        let warm_up = Phase {
            end: self.pct_start * total - 1.0,
            lr: [initial_lr, self.max_lr],
            momentum: [max, base],
        };
        let last = total - 1.0;
        if self.three_phase {
            let down = Phase {
                end: 2.0 * self.pct_start * total - 2.0,
                lr: [self.max_lr, initial_lr],
                momentum: [base, max],
            };
            let anneal = Phase {
                end: last,
                lr: [initial_lr, min_lr],
                momentum: [max, max],
            };
            ([warm_up, down, anneal], 3)
        } else {
            let anneal = Phase {
                end: last,
                lr: [self.max_lr, min_lr],
                momentum: [base, max],
            };
            ([warm_up, anneal, anneal], 2)
        }
    }

    /// The rate and momentum at `step`.
    fn at(&self, step: usize) -> (f64, f64) {
        let (phases, count) = self.phases();
        let phases = &phases[..count];
        let step = step as f64;
        let index = phases
            .iter()
            .position(|phase| step <= phase.end)
            .unwrap_or(count - 1);
        let start = match index {
            0 => 0.0,
            _ => phases[index - 1].end,
        };
        let phase = phases[index];
        let span = phase.end - start;
        // PyTorch divides by zero on an empty phase; it is over as soon as it starts
        let pct = if span == 0.0 {
            1.0
        } else {
            (step - start) / span
        };
        (
            self.anneal(phase.lr[0], phase.lr[1], pct),
            self.anneal(phase.momentum[0], phase.momentum[1], pct),
        )
    }
}

fn positive_factor(what: &'static str, value: f64) -> Result<()> {
    if value.is_nan() || value <= 0.0 {
        return Err(NnError::InvalidSetting {
            what,
            reason: format!("must be positive, got {value}"),
        });
    }
    Ok(())
}

impl LrSchedule for OneCycleLr {
    fn lr(&mut self, step: usize, _base_lr: f64) -> f64 {
        self.at(step).0
    }

    /// The cycle's momentum at `step` with `cycle_momentum` (the default), else `None`.
    fn momentum(&mut self, step: usize) -> Option<f64> {
        self.cycle_momentum.then(|| self.at(step).1)
    }
}
