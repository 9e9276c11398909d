//! Rprop: resilient backpropagation, as PyTorch's `torch.optim.Rprop`, and iRprop+.

use super::current::Current;
use super::{check_dim, FullBatchMethod, Iteration, Objective};
use crate::{NnError, Result};

/// Which Rprop [`Rprop`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RpropVariant {
    /// Rprop without weight-backtracking, exactly as `torch.optim.Rprop` (the default): after a
    /// sign change the weight stays put and its gradient counts as 0 (the variant Igel & Hüsken
    /// call iRprop−).
    #[default]
    Minus,
    /// iRprop+ (Igel & Hüsken 2000): as [`Minus`](Self::Minus), except that after a sign change
    /// the previous change of that weight is undone when the objective went up.
    PlusImproved,
}

/// Resilient backpropagation (M. Riedmiller & H. Braun, "A direct adaptive method for faster
/// backpropagation learning: the RPROP algorithm", ICNN 1993): every parameter moves by its own
/// step size `Δᵢ` against the sign of its partial derivative, and the step grows while that
/// sign stays the same and shrinks when it flips. Only the signs of the gradient are used, so
/// its scale does not matter.
///
/// With `gᵢ` the derivative at the current `θ`, `g'ᵢ` the one the previous iteration kept
/// (0 at first) and `Δᵢ = lr` at first, each iteration does, for every `i`,
///
/// ```text
/// Δᵢ = clamp(η₊·Δᵢ, Δmin, Δmax),  Δθᵢ = −sign(gᵢ)·Δᵢ,  θᵢ += Δθᵢ,  g'ᵢ = gᵢ   if g'ᵢ·gᵢ > 0
/// Δᵢ = clamp(η₋·Δᵢ, Δmin, Δmax),  g'ᵢ = 0                                    if g'ᵢ·gᵢ < 0
///      iRprop+ only:  θᵢ −= Δθᵢ (undo the previous change)  if f(θ) > f(θ_previous)
/// Δᵢ = clamp(Δᵢ, Δmin, Δmax),     Δθᵢ = −sign(gᵢ)·Δᵢ,  θᵢ += Δθᵢ,  g'ᵢ = gᵢ   if g'ᵢ·gᵢ = 0
/// ```
///
/// with `sign(0) = 0`. `RpropVariant::Minus` (the default) is PyTorch's single-tensor
/// `torch.optim.Rprop` update, step for step (checked against PyTorch 2.15 in the tests);
/// `RpropVariant::PlusImproved` is iRprop+ (C. Igel & M. Hüsken, "Improving the Rprop
/// learning algorithm", NC 2000), which also needs `f(θ)`. PyTorch's defaults and names: the
/// initial step `lr = 0.01`, `etas = (η₋, η₊) = (0.5, 1.2)`, `step_sizes = (Δmin, Δmax) =
/// (1e-6, 50)`. (MATLAB's `trainrp` starts from `delta0 = 0.07`, with the same factors,
/// `delt_inc = 1.2`, `delt_dec = 0.5`, and `deltamax = 50`; `.lr(0.07)` gives its initial step.)
///
/// Unlike the other [`FullBatchMethod`]s, Rprop does not look at the objective's values (iRprop+
/// only compares two of them): **an iteration may leave `θ` at a higher objective than it
/// started from.**
///
/// Each iteration evaluates the value and gradient once, at the new `θ`; they are kept for the
/// next iteration (which checks that `θ` is still the point it left, and evaluates afresh
/// otherwise, without undoing any change). The first iteration also evaluates at the starting
/// `θ`. The step sizes and previous gradients are kept across iterations, as PyTorch's state
/// is; call [`reset`](FullBatchMethod::reset) to start over. They are allocated on the first
/// iteration; later iterations allocate nothing.
#[derive(Debug, Clone)]
pub struct Rprop {
    variant: RpropVariant,
    lr: f64,
    etas: (f64, f64),
    step_sizes: (f64, f64),
    state: State,
}

/// What one iteration hands the next.
#[derive(Debug, Clone, Default)]
struct State {
    /// Whether `steps`, `previous_grad` and `changes` are set up.
    started: bool,
    current: Current,
    /// `f` before the last iteration's change, for iRprop+ (`None` when unknown).
    previous_value: Option<f64>,
    /// `g'ᵢ`.
    previous_grad: Vec<f64>,
    /// `Δᵢ`.
    steps: Vec<f64>,
    /// `Δθᵢ` of the last iteration.
    changes: Vec<f64>,
}

impl Default for Rprop {
    fn default() -> Self {
        Self::new(RpropVariant::Minus)
    }
}

impl Rprop {
    /// Rprop of the given variant with PyTorch's defaults: `lr = 0.01`, `etas = (0.5, 1.2)`,
    /// `step_sizes = (1e-6, 50)`.
    pub fn new(variant: RpropVariant) -> Self {
        Rprop {
            variant,
            lr: 0.01,
            etas: (0.5, 1.2),
            step_sizes: (1e-6, 50.0),
            state: State::default(),
        }
    }

    /// iRprop+ with PyTorch's defaults: `Rprop::new(RpropVariant::PlusImproved)`.
    pub fn irprop_plus() -> Self {
        Self::new(RpropVariant::PlusImproved)
    }

    /// The variant.
    pub fn variant(&self) -> RpropVariant {
        self.variant
    }

    /// Sets the initial step size of every parameter (PyTorch's `lr`, default 0.01).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`lr`) when negative or not finite.
    pub fn lr(mut self, lr: f64) -> Result<Self> {
        if !(lr >= 0.0 && lr.is_finite()) {
            return Err(invalid(
                "lr",
                format!("must be non-negative and finite, got {lr}"),
            ));
        }
        self.lr = lr;
        self.reset();
        Ok(self)
    }

    /// Sets the factors `(η₋, η₊)` that shrink and grow a step (default `(0.5, 1.2)`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`etas`) unless `0 < η₋ < 1 < η₊` and `η₊` is finite.
    pub fn etas(mut self, etas: (f64, f64)) -> Result<Self> {
        let (minus, plus) = etas;
        if !(0.0 < minus && minus < 1.0 && 1.0 < plus && plus.is_finite()) {
            return Err(invalid(
                "etas",
                format!("need 0 < etaminus < 1 < etaplus, got ({minus}, {plus})"),
            ));
        }
        self.etas = etas;
        self.reset();
        Ok(self)
    }

    /// Sets the bounds `(Δmin, Δmax)` of the step sizes (default `(1e-6, 50)`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`step_sizes`) unless `0 ≤ Δmin ≤ Δmax < ∞`.
    pub fn step_sizes(mut self, step_sizes: (f64, f64)) -> Result<Self> {
        let (min, max) = step_sizes;
        if !(0.0 <= min && min <= max && max.is_finite()) {
            return Err(invalid(
                "step_sizes",
                format!("need 0 <= min <= max < inf, got ({min}, {max})"),
            ));
        }
        self.step_sizes = step_sizes;
        self.reset();
        Ok(self)
    }
}

fn invalid(what: &'static str, reason: String) -> NnError {
    NnError::InvalidSetting { what, reason }
}

/// `sign(x)` with `sign(0) = 0` (`f64::signum` gives ±1 at ±0).
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl FullBatchMethod for Rprop {
    fn name(&self) -> &'static str {
        match self.variant {
            RpropVariant::Minus => "Rprop",
            RpropVariant::PlusImproved => "iRprop+",
        }
    }

    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration> {
        check_dim(objective, theta)?;
        let n = theta.len();
        let s = &mut self.state;
        if !s.started || s.steps.len() != n {
            s.previous_grad.clear();
            s.previous_grad.resize(n, 0.0);
            s.steps.clear();
            s.steps.resize(n, self.lr);
            s.changes.clear();
            s.changes.resize(n, 0.0);
            s.started = true;
            s.current.forget();
        }
        let start = s.current.start(objective, theta)?;
        if start.fresh {
            // the last change was not what led here: nothing to compare or undo
            s.previous_value = None;
            s.changes.fill(0.0);
        }
        let mut evaluations = start.evaluations();
        let (eta_minus, eta_plus) = self.etas;
        let (min, max) = self.step_sizes;
        let went_up = match (self.variant, s.previous_value) {
            (RpropVariant::PlusImproved, Some(previous)) => s.current.value > previous,
            _ => false,
        };
        let mut moved = false;
        for (i, x) in theta.iter_mut().enumerate() {
            let g = s.current.grad[i];
            // PyTorch compares the sign of the product, so an underflow to 0 counts as 0
            let product = g * s.previous_grad[i];
            let change = if product < 0.0 {
                s.steps[i] = (s.steps[i] * eta_minus).clamp(min, max);
                s.previous_grad[i] = 0.0;
                if went_up {
                    -s.changes[i]
                } else {
                    0.0
                }
            } else {
                let factor = if product > 0.0 { eta_plus } else { 1.0 };
                s.steps[i] = (s.steps[i] * factor).clamp(min, max);
                s.previous_grad[i] = g;
                -sign(g) * s.steps[i]
            };
            *x += change;
            s.changes[i] = change;
            moved |= change != 0.0;
        }
        if moved {
            s.previous_value = Some(s.current.value);
            s.current.evaluate(objective, theta)?;
            evaluations += 1;
        }
        Ok(start.iteration(s.current.value, evaluations))
    }

    fn reset(&mut self) {
        self.state.started = false;
        self.state.current.forget();
        self.state.previous_value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::FnObjective;

    #[test]
    fn sign_of_zero_is_zero() {
        assert_eq!(sign(0.0), 0.0);
        assert_eq!(sign(-0.0), 0.0);
        assert_eq!(sign(-3.0), -1.0);
        assert_eq!(sign(2.0), 1.0);
    }

    #[test]
    fn steps_grow_while_the_sign_holds_and_shrink_on_a_flip() -> Result<()> {
        // f = x (gradient 1 everywhere): steps lr, 1.2 lr, 1.44 lr, ...
        let mut f = FnObjective::new(1, |x: &[f64], g: Option<&mut [f64]>| {
            if let Some(g) = g {
                g[0] = 1.0;
            }
            x[0]
        });
        let mut rprop = Rprop::default().lr(0.1)?;
        let mut theta = vec![0.0];
        let mut expected = 0.0;
        let mut step = 0.1;
        for _ in 0..5 {
            rprop.iterate(&mut f, &mut theta)?;
            expected -= step;
            assert!((theta[0] - expected).abs() < 1e-12);
            step *= 1.2;
        }
        Ok(())
    }

    #[test]
    fn rejects_invalid_settings() {
        assert!(Rprop::default().lr(-1.0).is_err());
        assert!(Rprop::default().lr(f64::NAN).is_err());
        for etas in [(0.0, 1.2), (1.0, 1.2), (0.5, 1.0), (0.5, f64::INFINITY)] {
            assert!(Rprop::default().etas(etas).is_err(), "{etas:?}");
        }
        for bounds in [
            (-1.0, 1.0),
            (2.0, 1.0),
            (0.0, f64::INFINITY),
            (f64::NAN, 1.0),
        ] {
            assert!(Rprop::default().step_sizes(bounds).is_err(), "{bounds:?}");
        }
        assert!(Rprop::default().step_sizes((0.0, 0.0)).is_ok());
    }
}
