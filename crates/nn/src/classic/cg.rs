//! Nonlinear conjugate gradient: Fletcher-Reeves and Polak-Ribière (PR+).

use super::current::Descent;
use super::line_search::WolfeOptions;
use super::{dot, FullBatchMethod, Iteration, Objective, StopReason};
use crate::{NnError, Result};

/// How [`ConjugateGradient`] mixes the previous direction into the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CgFormula {
    /// Fletcher-Reeves: `β = ‖g₊‖² / ‖g‖²`.
    FletcherReeves,
    /// Polak-Ribière, clipped at zero (PR+, the default): `β = max(0, g₊ᵀ(g₊ − g) / ‖g‖²)`.
    #[default]
    PolakRibiere,
}

/// Nonlinear conjugate gradient with a strong-Wolfe line search (Nocedal & Wright,
/// *Numerical Optimization*, 2nd ed., Algorithm 5.4 and §5.2; MATLAB's `traincgf`/`traincgp`
/// are the same methods with other line searches).
///
/// From `θ` with gradient `g` and direction `d` (first `d = −g`), one iteration is
///
/// ```text
/// α  = a step along d satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.1)
/// θ₊ = θ + α·d,  g₊ = ∇f(θ₊)
/// β  = ‖g₊‖² / ‖g‖²                         (Fletcher-Reeves)
///    = max(0, g₊ᵀ(g₊ − g) / ‖g‖²)            (Polak-Ribière, PR+)
/// d₊ = −g₊ + β·d
/// ```
///
/// The method restarts (`β = 0`, so `d₊ = −g₊`) every `n` iterations (`n` = the number of
/// parameters by default, [`restart_every`](Self::restart_every) to change it), after a line
/// search that ended without satisfying its conditions, and whenever `d₊` is not a descent
/// direction (`g₊ᵀd₊ ≥ 0`, which PR+ can produce; with `c2 < ½` Fletcher-Reeves cannot, N&W
/// Lemma 5.6). Powell's restart test `|g₊ᵀg| ≥ 0.2‖g₊‖²`, which rescues Fletcher-Reeves from
/// long runs of tiny steps, is off by default ([`powell_restart`](Self::powell_restart)).
///
/// The first line search starts from `α₀ = 1/‖g‖` (a first step of unit length); later ones
/// from N&W's heuristic (eq. 3.60) `α₀ = αₖ₋₁·gₖ₋₁ᵀdₖ₋₁ / gₖᵀdₖ`, which assumes the first-order
/// change along the direction stays the same. It is not capped at 1: conjugate-gradient
/// directions, unlike quasi-Newton ones, have no natural unit step. When a line search finds no
/// lower point along a conjugate direction, the iteration retries along `−g`; when it finds none
/// along `−g` either, the iteration stops with [`StopReason::NoProgress`] and `θ` unchanged.
///
/// The value and gradient at the new `θ` are kept for the next iteration (which checks that
/// `θ` is still the point it left, and starts afresh otherwise), so an iteration costs only its
/// line search's evaluations. Call [`reset`](FullBatchMethod::reset) when the objective
/// changes. The state vectors are allocated on the first iteration; later iterations allocate
/// nothing.
#[derive(Debug, Clone)]
pub struct ConjugateGradient {
    formula: CgFormula,
    restart_every: Option<usize>,
    powell_restart: bool,
    line_search: WolfeOptions,
    state: State,
}

/// What one iteration hands the next.
#[derive(Debug, Clone, Default)]
struct State {
    descent: Descent,
    /// Whether the direction is `−grad`.
    steepest: bool,
    /// Iterations since the last restart.
    since_restart: usize,
    /// The last step and the slope `gᵀd` it started from, for the initial-step heuristic.
    previous: Option<(f64, f64)>,
}

impl Default for ConjugateGradient {
    /// Polak-Ribière (PR+).
    fn default() -> Self {
        Self::new(CgFormula::PolakRibiere)
    }
}

impl ConjugateGradient {
    /// Conjugate gradient with `formula`, restarting every `n` iterations, with the strong-Wolfe
    /// search at `c2 = 0.1`.
    pub fn new(formula: CgFormula) -> Self {
        ConjugateGradient {
            formula,
            restart_every: None,
            powell_restart: false,
            line_search: WolfeOptions {
                c2: 0.1,
                ..WolfeOptions::default()
            },
            state: State::default(),
        }
    }

    /// The formula for `β`.
    pub fn formula(&self) -> CgFormula {
        self.formula
    }

    /// Restarts along `−g` every `iterations` iterations (default: the number of parameters).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`restart_every`) when `iterations` is 0.
    pub fn restart_every(mut self, iterations: usize) -> Result<Self> {
        if iterations == 0 {
            return Err(NnError::InvalidSetting {
                what: "restart_every",
                reason: "must be at least 1 iteration".to_string(),
            });
        }
        self.restart_every = Some(iterations);
        self.reset();
        Ok(self)
    }

    /// Also restarts when consecutive gradients are far from orthogonal, `|g₊ᵀg| ≥ 0.2‖g₊‖²`
    /// (Powell 1977; default off).
    pub fn powell_restart(mut self, on: bool) -> Self {
        self.powell_restart = on;
        self.reset();
        self
    }

    /// Sets the line search's settings (default `c1 = 1e-4`, `c2 = 0.1`, 25 evaluations).
    ///
    /// # Errors
    /// As [`WolfeOptions::validate`].
    pub fn line_search(mut self, options: WolfeOptions) -> Result<Self> {
        options.validate()?;
        self.line_search = options;
        self.reset();
        Ok(self)
    }

    /// `β` for the new gradient `next` after `grad`, before the restart rules.
    fn beta(&self, grad: &[f64], next: &[f64]) -> f64 {
        let old = dot(grad, grad);
        let new = dot(next, next);
        match self.formula {
            CgFormula::FletcherReeves => new / old,
            CgFormula::PolakRibiere => ((new - dot(next, grad)) / old).max(0.0),
        }
    }
}

impl FullBatchMethod for ConjugateGradient {
    fn name(&self) -> &'static str {
        match self.formula {
            CgFormula::FletcherReeves => "CG (Fletcher-Reeves)",
            CgFormula::PolakRibiere => "CG (Polak-Ribière)",
        }
    }

    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration> {
        let s = &mut self.state;
        let start = s.descent.start(objective, theta)?;
        if start.fresh {
            s.previous = None;
            steepest_descent(s);
        }
        if let Some(done) = start.no_step() {
            return Ok(done);
        }
        let grad_norm = start.grad_norm;
        let mut evaluations = start.evaluations();
        if !s.steepest && s.descent.slope() >= 0.0 {
            steepest_descent(s);
        }
        let found = loop {
            let slope = s.descent.slope();
            let initial_step = match s.previous {
                Some((step, previous_slope)) => step * previous_slope / slope,
                None => 1.0 / grad_norm,
            };
            let initial_step = if initial_step > 0.0 && initial_step.is_finite() {
                initial_step
            } else {
                1.0 / grad_norm
            };
            let found = s
                .descent
                .line_search(objective, initial_step, &self.line_search)?;
            evaluations += found.evaluations;
            if found.step > 0.0 {
                s.previous = Some((found.step, slope));
                break found;
            }
            if s.steepest {
                return Ok(Iteration {
                    stop: Some(StopReason::NoProgress),
                    ..start.unchanged(evaluations)
                });
            }
            steepest_descent(s);
        };

        // β from the old and new gradients, then the restart rules
        let (grad, next) = (
            &self.state.descent.current.grad,
            &self.state.descent.point_grad,
        );
        let mut beta = self.beta(grad, next);
        let powell = self.powell_restart && dot(next, grad).abs() >= 0.2 * dot(next, next);
        let s = &mut self.state;
        s.since_restart += 1;
        let period = self.restart_every.unwrap_or(theta.len());
        if !found.satisfied || powell || s.since_restart >= period {
            beta = 0.0;
        }
        s.descent.accept(theta, found.value);
        if beta > 0.0 && beta.is_finite() {
            s.descent.conjugate(beta);
            s.steepest = false;
            if s.descent.slope() >= 0.0 {
                steepest_descent(s);
            }
        } else {
            steepest_descent(s);
        }
        Ok(start.iteration(found.value, evaluations))
    }

    fn reset(&mut self) {
        self.state.descent.current.forget();
        self.state.previous = None;
        self.state.since_restart = 0;
    }
}

/// Restarts: `d = −g`.
fn steepest_descent(s: &mut State) {
    s.descent.steepest();
    s.steepest = true;
    s.since_restart = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::{norm, FnObjective};

    /// `½ Σ cᵢ xᵢ²` with distinct curvatures.
    fn diagonal_quadratic(
        curvatures: &[f64],
    ) -> FnObjective<impl FnMut(&[f64], Option<&mut [f64]>) -> f64 + '_> {
        FnObjective::new(curvatures.len(), move |x: &[f64], g: Option<&mut [f64]>| {
            if let Some(g) = g {
                for ((g, x), c) in g.iter_mut().zip(x).zip(curvatures) {
                    *g = c * x;
                }
            }
            0.5 * x
                .iter()
                .zip(curvatures)
                .map(|(x, c)| c * x * x)
                .sum::<f64>()
        })
    }

    #[test]
    fn both_formulas_are_linear_cg_on_a_quadratic() -> Result<()> {
        // with (nearly) exact line searches both reduce to linear CG: n steps for n distinct
        // eigenvalues
        let curvatures = [1.0, 3.0, 10.0, 30.0];
        for formula in [CgFormula::FletcherReeves, CgFormula::PolakRibiere] {
            let mut f = diagonal_quadratic(&curvatures);
            let mut cg = ConjugateGradient::new(formula).line_search(WolfeOptions {
                c1: 1e-8,
                c2: 1e-6,
                max_evaluations: 60,
                ..WolfeOptions::default()
            })?;
            let mut theta = vec![1.0, 1.0, 1.0, 1.0];
            for _ in 0..curvatures.len() {
                cg.iterate(&mut f, &mut theta)?;
            }
            assert!(norm(&theta) < 1e-5, "{formula:?}: {theta:?}");
        }
        Ok(())
    }

    #[test]
    fn beta_formulas() {
        let grad = [1.0, 0.0];
        let next = [0.5, 0.5];
        let fr = ConjugateGradient::new(CgFormula::FletcherReeves);
        assert_eq!(fr.beta(&grad, &next), 0.5);
        let pr = ConjugateGradient::new(CgFormula::PolakRibiere);
        assert_eq!(pr.beta(&grad, &next), 0.0); // 0.5 − 0.5, clipped at 0 when negative
        assert_eq!(pr.beta(&grad, &[0.1, 0.0]), 0.0);
        assert_eq!(pr.beta(&grad, &[2.0, 0.0]), 2.0);
    }

    #[test]
    fn keeps_the_gradient_between_iterations_and_starts_afresh_when_theta_moves() -> Result<()> {
        let curvatures = [1.0, 4.0];
        let mut inner = diagonal_quadratic(&curvatures);
        let calls = std::cell::Cell::new(0);
        let mut f = FnObjective::new(2, |x: &[f64], g: Option<&mut [f64]>| {
            calls.set(calls.get() + 1);
            match g {
                Some(g) => inner.value_grad(x, g).expect("closures do not fail"),
                None => inner.value(x).expect("closures do not fail"),
            }
        });
        let mut cg = ConjugateGradient::default();
        let mut theta = vec![1.0, 1.0];
        let first = cg.iterate(&mut f, &mut theta)?;
        assert_eq!(first.evaluations, calls.get());
        assert_eq!(first.grad_norm, 17.0f64.sqrt());
        // the gradient at the new θ came with the line search: only the search evaluates
        let before = calls.get();
        let expected_norm = theta[0].hypot(4.0 * theta[1]);
        let second = cg.iterate(&mut f, &mut theta)?;
        assert_eq!(second.evaluations, calls.get() - before);
        assert_eq!(second.grad_norm, expected_norm);
        // θ moved by someone else: the gradient is computed afresh there
        theta.copy_from_slice(&[5.0, 0.0]);
        let before = calls.get();
        let moved = cg.iterate(&mut f, &mut theta)?;
        assert_eq!(moved.grad_norm, 5.0);
        assert_eq!(moved.evaluations, calls.get() - before);
        Ok(())
    }
}
