//! The point a gradient-based method stands at, held from one iteration to the next, and what
//! a descent method keeps with it.

use super::line_search::{strong_wolfe, LineSearchResult, WolfeOptions};
use super::{check_dim, dot, norm, Iteration, Objective, StopReason};
use crate::Result;

/// `θ` with `f(θ)` and `∇f(θ)`, as the last iteration left them, so that the next one need not
/// evaluate them again. Rprop keeps one, and the descent methods one in their [`Descent`].
#[derive(Debug, Clone, Default)]
pub(super) struct Current {
    /// Whether `value` and `grad` are those of `theta`.
    ready: bool,
    pub(super) theta: Vec<f64>,
    pub(super) value: f64,
    pub(super) grad: Vec<f64>,
}

/// What conjugate gradient, scaled conjugate gradient and L-BFGS keep from one iteration to the
/// next: the [`Current`] point, the direction `d` they step along, and a trial point with its
/// gradient. The vectors are sized when `θ` is new (and so allocated on the first iteration
/// only).
#[derive(Debug, Clone, Default)]
pub(super) struct Descent {
    pub(super) current: Current,
    pub(super) direction: Vec<f64>,
    pub(super) point: Vec<f64>,
    pub(super) point_grad: Vec<f64>,
}

/// How an iteration starts, from [`Current::start`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Start {
    /// Whether `θ` was not the point held (or none was): the value and gradient were evaluated
    /// afresh, and what the method kept about the old point (directions, histories) no longer
    /// applies.
    pub(super) fresh: bool,
    /// `‖∇f(θ)‖`.
    pub(super) grad_norm: f64,
    value: f64,
}

impl Current {
    /// Starts an iteration at `theta`: checks its length and, unless it is the point held,
    /// evaluates the value and gradient there (sizing `theta` and `grad` to it first).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) (`theta`) when `theta`'s
    /// length is not the objective's dimension; the objective's errors.
    pub(super) fn start(&mut self, objective: &mut dyn Objective, theta: &[f64]) -> Result<Start> {
        check_dim(objective, theta)?;
        let fresh = !self.ready || self.theta != theta;
        if fresh {
            self.evaluate(objective, theta)?;
        }
        Ok(Start {
            fresh,
            grad_norm: norm(&self.grad),
            value: self.value,
        })
    }

    /// Evaluates the value and gradient at `theta` and holds that point.
    ///
    /// # Errors
    /// The objective's errors; no point is held then, so the next [`start`](Self::start)
    /// evaluates afresh.
    pub(super) fn evaluate(&mut self, objective: &mut dyn Objective, theta: &[f64]) -> Result<()> {
        self.ready = false;
        self.theta.resize(theta.len(), 0.0);
        self.grad.resize(theta.len(), 0.0);
        self.theta.copy_from_slice(theta);
        self.value = objective.value_grad(theta, &mut self.grad)?;
        self.ready = true;
        Ok(())
    }

    /// Forgets the point held: the next [`start`](Self::start) evaluates afresh.
    pub(super) fn forget(&mut self) {
        self.ready = false;
    }
}

impl Descent {
    /// [`Current::start`], sizing the direction and the trial point when `θ` is new.
    ///
    /// # Errors
    /// As [`Current::start`].
    pub(super) fn start(&mut self, objective: &mut dyn Objective, theta: &[f64]) -> Result<Start> {
        let start = self.current.start(objective, theta)?;
        if start.fresh {
            for v in [&mut self.direction, &mut self.point, &mut self.point_grad] {
                v.resize(theta.len(), 0.0);
            }
        }
        Ok(start)
    }

    /// `∇f(θ)ᵀd`, negative when `d` is a descent direction.
    pub(super) fn slope(&self) -> f64 {
        dot(&self.current.grad, &self.direction)
    }

    /// Points the direction straight down: `d = −∇f(θ)`.
    pub(super) fn steepest(&mut self) {
        for (d, g) in self.direction.iter_mut().zip(&self.current.grad) {
            *d = -g;
        }
    }

    /// Mixes the previous direction into the new one: `d = −∇f(θ) + β·d`.
    pub(super) fn conjugate(&mut self, beta: f64) {
        for (d, g) in self.direction.iter_mut().zip(&self.current.grad) {
            *d = -g + beta * *d;
        }
    }

    /// Evaluates the trial point `θ + step·d`, its value returned and its gradient left in
    /// `point_grad`.
    ///
    /// # Errors
    /// The objective's errors.
    pub(super) fn try_step(&mut self, objective: &mut dyn Objective, step: f64) -> Result<f64> {
        let trial = self.point.iter_mut().zip(&self.current.theta);
        for ((x, t), d) in trial.zip(&self.direction) {
            *x = t + step * d;
        }
        objective.value_grad(&self.point, &mut self.point_grad)
    }

    /// [`strong_wolfe`] from `θ` along `d`, starting at `initial_step`: the point found and its
    /// gradient are left in `point` and `point_grad`.
    ///
    /// # Errors
    /// As [`strong_wolfe`].
    pub(super) fn line_search(
        &mut self,
        objective: &mut dyn Objective,
        initial_step: f64,
        options: &WolfeOptions,
    ) -> Result<LineSearchResult> {
        strong_wolfe(
            objective,
            &self.current.theta,
            self.current.value,
            &self.current.grad,
            &self.direction,
            initial_step,
            options,
            &mut self.point,
            &mut self.point_grad,
        )
    }

    /// Moves to the trial point, whose value is `value`: `theta` and the point held become
    /// `point`, and its gradient the current one (the buffers are swapped, not copied).
    pub(super) fn accept(&mut self, theta: &mut [f64], value: f64) {
        theta.copy_from_slice(&self.point);
        self.current.theta.copy_from_slice(&self.point);
        std::mem::swap(&mut self.current.grad, &mut self.point_grad);
        self.current.value = value;
    }
}

impl Start {
    /// The outcome of an iteration that ends with the objective at `value` after `evaluations`
    /// evaluations: that value, the norm of the gradient at the start and no stop.
    pub(super) fn iteration(&self, value: f64, evaluations: usize) -> Iteration {
        Iteration {
            value,
            grad_norm: self.grad_norm,
            evaluations,
            stop: None,
        }
    }

    /// The outcome of an iteration that leaves `θ` where it is, after `evaluations`
    /// evaluations.
    pub(super) fn unchanged(&self, evaluations: usize) -> Iteration {
        self.iteration(self.value, evaluations)
    }

    /// The evaluations [`Current::start`] made: 1 when fresh, else 0.
    pub(super) fn evaluations(&self) -> usize {
        usize::from(self.fresh)
    }

    /// `Some` when a descent method has no step to take from `θ`: at a stationary point
    /// (`∇f(θ) = 0`, no descent direction) the unchanged iteration, and when the gradient is
    /// not finite the unchanged iteration stopped with [`StopReason::NoProgress`].
    pub(super) fn no_step(&self) -> Option<Iteration> {
        let unchanged = self.unchanged(self.evaluations());
        if self.grad_norm == 0.0 {
            Some(unchanged)
        } else if !self.grad_norm.is_finite() {
            Some(Iteration {
                stop: Some(StopReason::NoProgress),
                ..unchanged
            })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::FnObjective;

    /// `f(x) = Σ xᵢ²`, counting its evaluations in `calls`.
    fn counted(
        calls: &std::cell::Cell<usize>,
    ) -> FnObjective<impl FnMut(&[f64], Option<&mut [f64]>) -> f64 + '_> {
        FnObjective::new(2, move |x: &[f64], g: Option<&mut [f64]>| {
            calls.set(calls.get() + 1);
            if let Some(g) = g {
                for (g, x) in g.iter_mut().zip(x) {
                    *g = 2.0 * x;
                }
            }
            x.iter().map(|x| x * x).sum()
        })
    }

    #[test]
    fn evaluates_only_away_from_the_point_held() -> Result<()> {
        let calls = std::cell::Cell::new(0);
        let mut f = counted(&calls);
        let mut current = Current::default();
        let start = current.start(&mut f, &[3.0, 4.0])?;
        assert!(start.fresh);
        assert_eq!((start.evaluations(), calls.get()), (1, 1));
        assert_eq!((current.value, start.grad_norm), (25.0, 10.0));
        let again = current.start(&mut f, &[3.0, 4.0])?;
        assert!(!again.fresh);
        assert_eq!((again.evaluations(), calls.get()), (0, 1));
        let moved = current.start(&mut f, &[0.0, 1.0])?;
        assert!(moved.fresh);
        assert_eq!(
            (current.theta.as_slice(), calls.get()),
            (&[0.0, 1.0][..], 2)
        );
        current.forget();
        assert!(current.start(&mut f, &[0.0, 1.0])?.fresh);
        assert!(current.start(&mut f, &[0.0]).is_err());
        Ok(())
    }

    #[test]
    fn descent_steps_to_a_trial_point_and_accepts_it() -> Result<()> {
        let calls = std::cell::Cell::new(0);
        let mut f = counted(&calls);
        let mut descent = Descent::default();
        let mut theta = [1.0, 1.0];
        let start = descent.start(&mut f, &theta)?;
        assert_eq!(descent.direction.len(), 2);
        assert!(start.fresh && start.no_step().is_none());
        descent.steepest();
        assert_eq!(descent.direction, [-2.0, -2.0]);
        assert_eq!(descent.slope(), -8.0);
        descent.conjugate(0.5);
        assert_eq!(descent.direction, [-3.0, -3.0]);
        descent.steepest();
        // θ + step·d = (0, 0): the minimum
        assert_eq!(descent.try_step(&mut f, 0.5)?, 0.0);
        assert_eq!(
            (descent.point.as_slice(), calls.get()),
            (&[0.0, 0.0][..], 2)
        );
        descent.accept(&mut theta, 0.0);
        assert_eq!(theta, [0.0, 0.0]);
        let current = &descent.current;
        assert_eq!(
            (current.value, current.grad.as_slice()),
            (0.0, &[0.0, 0.0][..])
        );
        assert_eq!(descent.point_grad, [2.0, 2.0]); // the old gradient's buffer
        assert!(!descent.start(&mut f, &theta)?.fresh);
        Ok(())
    }

    #[test]
    fn no_step_at_a_stationary_point_or_a_non_finite_gradient() {
        let start = |grad_norm: f64| Start {
            fresh: true,
            grad_norm,
            value: 2.0,
        };
        let stationary = start(0.0).no_step().expect("a stationary point");
        assert_eq!((stationary.stop, stationary.evaluations), (None, 1));
        let nan = start(f64::NAN).no_step().expect("a NaN gradient");
        assert_eq!(nan.stop, Some(StopReason::NoProgress));
        assert_eq!(start(1.0).no_step(), None);
    }
}
