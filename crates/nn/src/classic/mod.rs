//! The classic full-batch training methods: Levenberg-Marquardt, Gauss-Newton, nonlinear
//! conjugate gradient (Fletcher-Reeves, Polak-Ribière, Møller's scaled conjugate gradient),
//! L-BFGS and Rprop; and the rules the field started from, the perceptron and ADALINE.
//!
//! These methods see a model as a function of one flat vector `θ` of all its parameters, in
//! `f64` whatever the graph's dtype: an [`Objective`]. Each iteration (an *epoch*, in MATLAB's
//! sense) may evaluate the objective several times (a line search, a rejected
//! Levenberg-Marquardt step), always on the full data set. Any graph gives an objective:
//! [`GraphObjective::scalar`] for a one-element loss and [`GraphObjective::least_squares`] for a
//! residual vector `r(θ)` (a batch of `y_i - f(x_i, θ)`), whose Jacobian is built by autodiff and
//! compiled once. Plain closures give one too ([`FnObjective`], [`FnResiduals`]), which is how
//! the tests run the Rosenbrock function.
//!
//! Every method implements [`FullBatchMethod`]. Run one with [`minimize`], which applies the
//! [`Stopping`] rules, or hand it to [`Trainer::with_method`](crate::train::Trainer::with_method)
//! to train a model like the first-order optimizers do (on the full batch only).
//!
//! # Examples
//! ```
//! use adnet_nn::classic::{minimize, FnObjective, Lbfgs, Stopping};
//! // the Rosenbrock function from the standard start
//! let mut rosenbrock = FnObjective::new(2, |t: &[f64], grad: Option<&mut [f64]>| {
//!     let (x, y) = (t[0], t[1]);
//!     if let Some(g) = grad {
//!         g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
//!         g[1] = 200.0 * (y - x * x);
//!     }
//!     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
//! });
//! let mut theta = vec![-1.2, 1.0];
//! let report = minimize(&mut Lbfgs::default(), &mut rosenbrock, &mut theta, &Stopping::default())?;
//! assert!(report.value < 1e-8 && report.epochs < 100);
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

mod cg;
mod current;
mod graph_objective;
mod lbfgs;
mod least_squares;
pub mod linalg;
mod line_search;
pub mod perceptron;
mod rprop;
mod scg;

pub use cg::{CgFormula, ConjugateGradient};
pub use graph_objective::GraphObjective;
pub use lbfgs::Lbfgs;
pub use least_squares::{GaussNewton, LevenbergMarquardt};
pub use line_search::{strong_wolfe, LineSearchResult, WolfeOptions};
pub use rprop::{Rprop, RpropVariant};
pub use scg::ScaledConjugateGradient;

use crate::{NnError, Result};

/// A scalar function `f(θ)` of a flat parameter vector, with its gradient: what the full-batch
/// methods minimise.
///
/// A least-squares objective also implements the residual methods, and then its value must be
/// `½‖r(θ)‖²` and its gradient `J(θ)ᵀ r(θ)`.
pub trait Objective {
    /// The number of parameters `n` (the length of `θ`).
    fn dim(&self) -> usize;

    /// `f(θ)`.
    ///
    /// # Errors
    /// Whatever evaluating the model can fail with.
    fn value(&mut self, theta: &[f64]) -> Result<f64>;

    /// `f(θ)`, writing `∇f(θ)` into `grad` (length [`Objective::dim`]).
    ///
    /// # Errors
    /// As [`Objective::value`].
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64>;

    /// The number of residuals `m` when the objective is a sum of squares `½‖r(θ)‖²`, `None`
    /// (the default) otherwise.
    fn residual_count(&self) -> Option<usize> {
        None
    }

    /// Writes `r(θ)` (length `m`) into `r`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`method`) by default: the objective is not a sum of squares.
    fn residuals(&mut self, theta: &[f64], r: &mut [f64]) -> Result<()> {
        let _ = (theta, r);
        Err(not_least_squares())
    }

    /// Writes `r(θ)` into `r` and the Jacobian `J(θ) = ∂r/∂θ` into `jac` (`m × n`, row-major).
    ///
    /// # Errors
    /// As [`Objective::residuals`].
    fn residuals_jacobian(&mut self, theta: &[f64], r: &mut [f64], jac: &mut [f64]) -> Result<()> {
        let _ = (theta, r, jac);
        Err(not_least_squares())
    }
}

fn not_least_squares() -> NnError {
    NnError::InvalidSetting {
        what: "method",
        reason: "this method needs residuals and their Jacobian (a least-squares objective), \
                 and the objective is a plain scalar"
            .to_string(),
    }
}

/// An [`Objective`] from a closure `f(θ, grad)` that returns `f(θ)` and, when `grad` is
/// `Some`, writes `∇f(θ)` into it.
pub struct FnObjective<F> {
    dim: usize,
    f: F,
}

impl<F: FnMut(&[f64], Option<&mut [f64]>) -> f64> FnObjective<F> {
    /// The objective `f` of `dim` parameters.
    pub fn new(dim: usize, f: F) -> Self {
        FnObjective { dim, f }
    }
}

impl<F> std::fmt::Debug for FnObjective<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnObjective")
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&[f64], Option<&mut [f64]>) -> f64> Objective for FnObjective<F> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&mut self, theta: &[f64]) -> Result<f64> {
        Ok((self.f)(theta, None))
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64> {
        Ok((self.f)(theta, Some(grad)))
    }
}

/// A least-squares [`Objective`] `½‖r(θ)‖²` from a closure `f(θ, r, jac)` that writes the `m`
/// residuals into `r` and, when `jac` is `Some`, the `m × n` row-major Jacobian into it.
pub struct FnResiduals<F> {
    dim: usize,
    count: usize,
    f: F,
    r: Vec<f64>,
    jac: Vec<f64>,
}

impl<F: FnMut(&[f64], &mut [f64], Option<&mut [f64]>)> FnResiduals<F> {
    /// The residuals `f` of `dim` parameters, `count` of them.
    pub fn new(dim: usize, count: usize, f: F) -> Self {
        FnResiduals {
            dim,
            count,
            f,
            r: vec![0.0; count],
            jac: vec![0.0; count * dim],
        }
    }
}

impl<F> std::fmt::Debug for FnResiduals<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnResiduals")
            .field("dim", &self.dim)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&[f64], &mut [f64], Option<&mut [f64]>)> Objective for FnResiduals<F> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&mut self, theta: &[f64]) -> Result<f64> {
        (self.f)(theta, &mut self.r, None);
        Ok(half_squared_norm(&self.r))
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64> {
        (self.f)(theta, &mut self.r, Some(&mut self.jac));
        linalg::gemv_transposed(&self.jac, self.count, self.dim, &self.r, grad);
        Ok(half_squared_norm(&self.r))
    }

    fn residual_count(&self) -> Option<usize> {
        Some(self.count)
    }

    fn residuals(&mut self, theta: &[f64], r: &mut [f64]) -> Result<()> {
        (self.f)(theta, r, None);
        Ok(())
    }

    fn residuals_jacobian(&mut self, theta: &[f64], r: &mut [f64], jac: &mut [f64]) -> Result<()> {
        (self.f)(theta, r, Some(jac));
        Ok(())
    }
}

/// `½ Σ rᵢ²`.
pub fn half_squared_norm(r: &[f64]) -> f64 {
    0.5 * r.iter().map(|x| x * x).sum::<f64>()
}

/// Why a method stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The epoch limit ([`Stopping::max_epochs`]) was reached.
    MaxEpochs,
    /// The objective reached [`Stopping::goal`].
    Goal,
    /// The gradient's Euclidean norm fell below [`Stopping::min_grad`].
    MinGradient,
    /// Levenberg-Marquardt's damping exceeded its maximum (`mu_max`) without finding a step
    /// that lowers the error.
    MaxDamping,
    /// The line search found no step satisfying its conditions, or the step became too small
    /// to change `θ`.
    NoProgress,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::MaxEpochs => "maximum epochs reached",
            StopReason::Goal => "performance goal met",
            StopReason::MinGradient => "minimum gradient reached",
            StopReason::MaxDamping => "maximum mu reached",
            StopReason::NoProgress => "no further progress possible",
        })
    }
}

/// What one iteration of a [`FullBatchMethod`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    /// The objective at the new `θ` (at the old one when the iteration could not improve).
    pub value: f64,
    /// The Euclidean norm of the gradient at the *old* `θ`, which the iteration computed.
    pub grad_norm: f64,
    /// Objective evaluations the iteration made (value or value and gradient or Jacobian).
    pub evaluations: usize,
    /// `Some` when the method cannot go on (`MaxDamping`, `NoProgress`); `θ` then holds the
    /// best point found.
    pub stop: Option<StopReason>,
}

/// An iterative method that improves all parameters at once from full-batch evaluations.
pub trait FullBatchMethod {
    /// The method's name, as a table or plot shows it (`Levenberg-Marquardt`, `L-BFGS`).
    fn name(&self) -> &'static str;

    /// Whether the method needs residuals and their Jacobian ([`Objective::residuals_jacobian`]),
    /// as Gauss-Newton and Levenberg-Marquardt do, rather than only the gradient.
    fn needs_residuals(&self) -> bool {
        false
    }

    /// One iteration from `theta`, updated in place. The method never leaves `theta` at a point
    /// where the objective is higher than where it started, unless its doc says otherwise
    /// (Rprop, the plain form of which does not look at the objective).
    ///
    /// # Errors
    /// The objective's errors; [`NnError::InvalidSetting`] when `theta`'s length is not the
    /// objective's dimension, or (`method`) when the method needs residuals that the objective
    /// lacks.
    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration>;

    /// Forgets all state (search directions, histories, damping), as if no iteration had run.
    fn reset(&mut self);
}

impl<M: FullBatchMethod + ?Sized> FullBatchMethod for Box<M> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn needs_residuals(&self) -> bool {
        (**self).needs_residuals()
    }

    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration> {
        (**self).iterate(objective, theta)
    }

    fn reset(&mut self) {
        (**self).reset();
    }
}

/// When [`minimize`] stops. The defaults are MATLAB's `trainlm`/`trainscg` ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stopping {
    /// The most iterations (default 1000).
    pub max_epochs: usize,
    /// Stop once the objective is at or below this (default 0).
    pub goal: f64,
    /// Stop once the gradient's norm is below this (default 1e-7).
    pub min_grad: f64,
}

impl Default for Stopping {
    fn default() -> Self {
        Stopping {
            max_epochs: 1000,
            goal: 0.0,
            min_grad: 1e-7,
        }
    }
}

/// What [`minimize`] reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The objective at the final `θ`.
    pub value: f64,
    /// Iterations run.
    pub epochs: usize,
    /// Objective evaluations made.
    pub evaluations: usize,
    /// Why it stopped.
    pub reason: StopReason,
    /// The objective after each iteration, starting with its value at the start.
    pub values: Vec<f64>,
}

/// Runs `method` on `objective` from `theta` (updated in place) until a [`Stopping`] rule or the
/// method itself stops it.
///
/// # Errors
/// [`NnError::InvalidSetting`] (`theta`) when `theta`'s length is not the objective's
/// dimension; the method's and the objective's errors.
pub fn minimize(
    method: &mut dyn FullBatchMethod,
    objective: &mut dyn Objective,
    theta: &mut [f64],
    stopping: &Stopping,
) -> Result<Report> {
    check_dim(objective, theta)?;
    let start = objective.value(theta)?;
    let mut report = Report {
        value: start,
        epochs: 0,
        evaluations: 1,
        reason: StopReason::MaxEpochs,
        values: vec![start],
    };
    if start <= stopping.goal {
        report.reason = StopReason::Goal;
        return Ok(report);
    }
    while report.epochs < stopping.max_epochs {
        let step = method.iterate(objective, theta)?;
        report.epochs += 1;
        report.evaluations += step.evaluations;
        report.value = step.value;
        report.values.push(step.value);
        // the gradient test first: a method that stops because it can no longer make progress
        // at a point whose gradient is already below the bar has converged
        if step.grad_norm < stopping.min_grad {
            report.reason = StopReason::MinGradient;
            return Ok(report);
        }
        if let Some(reason) = step.stop {
            report.reason = reason;
            return Ok(report);
        }
        if step.value <= stopping.goal {
            report.reason = StopReason::Goal;
            return Ok(report);
        }
    }
    Ok(report)
}

/// Rejects a `theta` whose length is not the objective's dimension.
pub(crate) fn check_dim(objective: &dyn Objective, theta: &[f64]) -> Result<()> {
    if theta.len() != objective.dim() {
        return Err(NnError::InvalidSetting {
            what: "theta",
            reason: format!(
                "the objective has {} parameters, theta has {} values",
                objective.dim(),
                theta.len()
            ),
        });
    }
    Ok(())
}

/// The Euclidean norm.
pub(crate) fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The inner product.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
