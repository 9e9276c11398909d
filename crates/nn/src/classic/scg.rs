//! Møller's scaled conjugate gradient, as MATLAB's `trainscg`.

use super::current::Descent;
use super::{dot, FullBatchMethod, Iteration, Objective, StopReason};
use crate::{NnError, Result};

/// Scaled conjugate gradient (M. F. Møller, "A scaled conjugate gradient algorithm for fast
/// supervised learning", *Neural Networks* 6, 1993), step for step as MATLAB's `trainscg`.
///
/// Conjugate directions without a line search: the curvature along the direction comes from a
/// finite difference of gradients, and a Levenberg-Marquardt-like scale `λ` keeps it positive
/// and the step trusted. With `g = ∇f(θ)`, direction `p` (first `p = −g`), `λ̄ = 0` and
/// `success` true at the start, one iteration is
///
/// ```text
/// if success:  σₖ = σ / ‖p‖,   δ = pᵀ(∇f(θ + σₖ·p) − g) / σₖ         (≈ pᵀ∇²f·p)
/// δ = δ + (λ − λ̄)·‖p‖²
/// if δ ≤ 0:    λ̄ = 2·(λ − δ/‖p‖²),  δ = −δ + λ·‖p‖²,  λ = λ̄          (make it positive)
/// μ = −pᵀg,  α = μ / δ
/// Δ = 2·δ·(f(θ) − f(θ + α·p)) / μ²                                   (actual vs. predicted)
/// if Δ ≥ 0:    θ₊ = θ + α·p,  g₊ = ∇f(θ₊),  λ̄ = 0,  success = true
///              p₊ = −g₊                                  every n-th iteration (restart)
///              p₊ = −g₊ + β·p,  β = (‖g₊‖² − g₊ᵀg) / μ    otherwise
///              if Δ ≥ 0.75:  λ = λ / 4
/// else:        λ̄ = λ,  success = false                   (θ unchanged)
/// if Δ < 0.25: λ = λ + δ·(1 − Δ) / ‖p‖²                   (‖p‖ of the new direction)
/// ```
///
/// Defaults (MATLAB's): `σ = 5e-5` ([`sigma`](Self::sigma)), `λ = 5e-7` ([`lambda`](Self::lambda)).
/// One [`iterate`](FullBatchMethod::iterate) is one of Møller's iterations, a MATLAB epoch: a
/// rejected step (`Δ < 0`) counts as an iteration and leaves `θ` unchanged. The restart counter
/// counts iterations from 0, rejected ones included, as MATLAB's `rem(epoch, n) == 0` does, so
/// the second direction is `−g` too. A trial point whose value is not finite counts as a
/// rejected step with `Δ = 0` (λ grows, the next step is shorter).
///
/// An iteration evaluates the value and gradient at `θ + σₖ·p` (after a successful step only)
/// and at `θ + α·p` (MATLAB evaluates the value there and the gradient again once accepted;
/// here one evaluation gives both). The value and gradient at `θ` are kept for the next
/// iteration, which checks that `θ` is still the point it left and starts afresh otherwise;
/// call [`reset`](FullBatchMethod::reset) when the objective changes. The state vectors are
/// allocated on the first iteration; later iterations allocate nothing. The iteration stops with
/// [`StopReason::NoProgress`] when the curvature estimate or `λ` is not finite.
#[derive(Debug, Clone)]
pub struct ScaledConjugateGradient {
    sigma: f64,
    lambda: f64,
    state: State,
}

/// What one iteration hands the next.
#[derive(Debug, Clone, Default)]
struct State {
    /// `θ`, `f(θ)`, `∇f(θ)`, the direction `p` and the trial point.
    descent: Descent,
    /// `‖p‖²`.
    direction_norm_squared: f64,
    /// Whether the last step was accepted (then `δ` must be estimated afresh).
    success: bool,
    /// `δ`, kept after a rejected step.
    delta: f64,
    /// `λ` and `λ̄`.
    lambda: f64,
    lambda_bar: f64,
    /// Iterations since the start (MATLAB's `epoch`), for the restart rule.
    epoch: usize,
}

impl Default for ScaledConjugateGradient {
    fn default() -> Self {
        ScaledConjugateGradient {
            sigma: 5e-5,
            lambda: 5e-7,
            state: State::default(),
        }
    }
}

impl ScaledConjugateGradient {
    /// Scaled conjugate gradient with MATLAB's defaults, `σ = 5e-5`, `λ = 5e-7`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `σ` (MATLAB's `sigma`, default 5e-5), the length of the finite-difference step
    /// `σ/‖p‖·p` that estimates the curvature along `p`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`sigma`) unless positive and finite.
    pub fn sigma(mut self, sigma: f64) -> Result<Self> {
        positive("sigma", sigma)?;
        self.sigma = sigma;
        self.reset();
        Ok(self)
    }

    /// Sets the initial scale `λ` (MATLAB's `lambda`, default 5e-7), which regularises the
    /// curvature estimate: `δ + λ‖p‖²`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`lambda`) unless positive and finite.
    pub fn lambda(mut self, lambda: f64) -> Result<Self> {
        positive("lambda", lambda)?;
        self.lambda = lambda;
        self.reset();
        Ok(self)
    }
}

fn positive(what: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(NnError::InvalidSetting {
            what,
            reason: format!("must be positive and finite, got {value}"),
        })
    }
}

impl FullBatchMethod for ScaledConjugateGradient {
    fn name(&self) -> &'static str {
        "Scaled conjugate gradient"
    }

    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration> {
        let s = &mut self.state;
        let start = s.descent.start(objective, theta)?;
        if start.fresh {
            s.success = true;
            s.lambda = self.lambda;
            s.lambda_bar = 0.0;
            s.epoch = 0;
            steepest_descent(s);
        }
        if let Some(done) = start.no_step() {
            return Ok(done);
        }
        let mut evaluations = start.evaluations();
        let mut mu = -s.descent.slope();
        if mu == 0.0 || s.direction_norm_squared == 0.0 {
            // a direction orthogonal to the gradient gives no step (α = 0, Δ undefined)
            steepest_descent(s);
            s.success = true;
            mu = -s.descent.slope();
        }
        let p2 = s.direction_norm_squared;

        if s.success {
            let sigma = self.sigma / p2.sqrt();
            s.descent.try_step(objective, sigma)?;
            evaluations += 1;
            let d = &s.descent;
            s.delta = d
                .direction
                .iter()
                .zip(d.point_grad.iter().zip(&d.current.grad))
                .map(|(p, (g1, g0))| p * (g1 - g0))
                .sum::<f64>()
                / sigma;
        }
        let mut delta = s.delta + (s.lambda - s.lambda_bar) * p2;
        if delta <= 0.0 {
            s.lambda_bar = 2.0 * (s.lambda - delta / p2);
            delta = -delta + s.lambda * p2;
            s.lambda = s.lambda_bar;
        }
        s.delta = delta;
        if !(delta.is_finite() && s.lambda.is_finite()) {
            return Ok(Iteration {
                stop: Some(StopReason::NoProgress),
                ..start.unchanged(evaluations)
            });
        }
        let alpha = mu / delta;
        let trial = s.descent.try_step(objective, alpha)?;
        evaluations += 1;
        let comparison = if trial.is_finite() {
            2.0 * delta * (s.descent.current.value - trial) / (mu * mu)
        } else {
            0.0
        };
        let accepted = trial.is_finite() && comparison >= 0.0;
        let epoch = s.epoch;
        s.epoch += 1;
        if accepted {
            let (next, grad) = (&s.descent.point_grad, &s.descent.current.grad);
            let beta = (dot(next, next) - dot(next, grad)) / mu;
            s.descent.accept(theta, trial);
            s.lambda_bar = 0.0;
            s.success = true;
            if epoch % theta.len() == 0 || !beta.is_finite() {
                steepest_descent(s);
            } else {
                s.descent.conjugate(beta);
                s.direction_norm_squared = dot(&s.descent.direction, &s.descent.direction);
            }
            if comparison >= 0.75 {
                s.lambda *= 0.25;
            }
        } else {
            s.lambda_bar = s.lambda;
            s.success = false;
        }
        if comparison < 0.25 && s.direction_norm_squared != 0.0 {
            s.lambda += delta * (1.0 - comparison) / s.direction_norm_squared;
        }
        Ok(start.iteration(s.descent.current.value, evaluations))
    }

    fn reset(&mut self) {
        self.state.descent.current.forget();
    }
}

/// Restarts: `p = −g`.
fn steepest_descent(s: &mut State) {
    s.descent.steepest();
    s.direction_norm_squared = dot(&s.descent.direction, &s.descent.direction);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::FnObjective;

    #[test]
    fn first_step_on_a_quadratic_is_the_exact_line_minimum() -> Result<()> {
        // f = ½(x² + 9y²): the finite difference is exact, so with λ ≈ 0 the first step is the
        // exact minimiser along −g, α = gᵀg / gᵀAg
        let mut f = FnObjective::new(2, |x: &[f64], g: Option<&mut [f64]>| {
            if let Some(g) = g {
                g[0] = x[0];
                g[1] = 9.0 * x[1];
            }
            0.5 * (x[0] * x[0] + 9.0 * x[1] * x[1])
        });
        let mut scg = ScaledConjugateGradient::new().lambda(1e-300)?;
        let mut theta = vec![1.0, 1.0];
        let step = scg.iterate(&mut f, &mut theta)?;
        let alpha = (1.0 + 81.0) / (1.0 + 729.0);
        assert!((theta[0] - (1.0 - alpha)).abs() < 1e-9, "{theta:?}");
        assert!((theta[1] - (1.0 - 9.0 * alpha)).abs() < 1e-9, "{theta:?}");
        assert_eq!(step.evaluations, 3);
        Ok(())
    }

    #[test]
    fn rejected_step_leaves_theta_unchanged_and_counts_as_an_iteration() -> Result<()> {
        // f = √(1 + x²) from x = 2: the curvature there is 5^(−3/2), so the first (Newton-like)
        // step goes to x = 2 − 10 = −8, uphill, and is rejected; λ then grows until steps are
        // accepted, and the iteration converges to 0
        let mut f = FnObjective::new(1, |x: &[f64], g: Option<&mut [f64]>| {
            let r = (1.0 + x[0] * x[0]).sqrt();
            if let Some(g) = g {
                g[0] = x[0] / r;
            }
            r
        });
        let mut scg = ScaledConjugateGradient::new();
        let mut theta = vec![2.0];
        let first = scg.iterate(&mut f, &mut theta)?;
        assert_eq!(theta, [2.0]);
        assert_eq!(first.value, 5.0f64.sqrt());
        assert_eq!(first.evaluations, 3); // at θ, at θ + σₖ·p and the rejected trial
        let second = scg.iterate(&mut f, &mut theta)?;
        assert_eq!(second.evaluations, 1); // δ is reused after a rejection
        let mut value = second.value;
        for _ in 0..100 {
            let step = scg.iterate(&mut f, &mut theta)?;
            assert!(step.value <= value);
            value = step.value;
        }
        assert!(theta[0].abs() < 1e-6, "{theta:?}");
        Ok(())
    }

    #[test]
    fn rejects_invalid_settings() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(ScaledConjugateGradient::new().sigma(bad).is_err());
            assert!(ScaledConjugateGradient::new().lambda(bad).is_err());
        }
    }
}
