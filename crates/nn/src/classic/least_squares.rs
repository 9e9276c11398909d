//! Gauss-Newton and Levenberg-Marquardt: the least-squares methods, which model `r(θ + δ)` by
//! `r + Jδ` and so use `JᵀJ` as the Hessian of `E = ½‖r‖²`.

use std::fmt;

use super::linalg::{cholesky, cholesky_solve, gemv_transposed, gram};
use super::{
    check_dim, half_squared_norm, norm, not_least_squares, FullBatchMethod, Iteration, Objective,
    StopReason,
};
use crate::{NnError, Result};

/// The smallest damping Levenberg-Marquardt decreases to, as in MATLAB's `trainlm`.
const MU_FLOOR: f64 = 1e-20;

/// Levenberg-Marquardt, as MATLAB's `trainlm` (Hagan & Menhaj 1994), for a least-squares
/// objective `E(θ) = ½‖r(θ)‖²`.
///
/// Settings and defaults (MATLAB's `trainParam` names and values): `mu = 1e-3` (the initial
/// damping, [`new`](Self::new)), `mu_dec = 0.1`, `mu_inc = 10`, `mu_max = 1e10`,
/// `scaled_damping = false`. One iteration (an epoch) evaluates `r` and `J = ∂r/∂θ` once, then
/// tries damped Gauss-Newton steps until one lowers the error:
///
/// ```text
/// g = Jᵀr,  H = JᵀJ                                  at θ
/// while mu ≤ mu_max:
///     solve (H + mu·D) δ = −g  by Cholesky          D = I, or diag(H) if scaled_damping
///     if the solve succeeded and E(θ + δ) < E(θ):
///         θ ← θ + δ,  mu ← max(mu · mu_dec, 1e-20),  end of the iteration
///     mu ← mu · mu_inc
/// stop with MaxDamping, θ unchanged
/// ```
///
/// This is `trainlm`'s loop, `dX = −(jj + I·mu) \ je` with the step accepted only when the
/// performance strictly decreases and `dX` is finite, `mu` floored at 1e-20 after a success.
/// Where MATLAB catches a singular-matrix warning, here `H + mu·D` failing the Cholesky test
/// ([`linalg::cholesky`](super::linalg::cholesky): not numerically positive definite), or a
/// non-finite `δ`, counts as a failed trial: `mu` grows without evaluating the objective. A
/// small `mu` gives nearly a Gauss-Newton step, a large one a short gradient-descent step
/// `δ ≈ −g / mu`. The damping carries over from one iteration to the next ([`mu`](Self::mu)
/// reads it), and [`reset`](FullBatchMethod::reset) restores the initial value; once it
/// exceeds `mu_max`, every further iteration evaluates the Jacobian and stops with
/// [`StopReason::MaxDamping`] without a trial.
///
/// With `D = I` (Levenberg 1944; `trainlm`) the damping is the same in every direction.
/// Marquardt (1963) damped each parameter by its own curvature, `D = diag(JᵀJ)`, which makes
/// the step invariant to rescaling the parameters
/// ([`scaled_damping`](Self::scaled_damping)); a zero diagonal entry (a parameter the
/// residuals do not depend on) is damped by 1 instead, which leaves it unchanged.
///
/// An iteration costs one Jacobian evaluation and one residual evaluation per trial, which
/// [`Iteration::evaluations`] counts; [`Iteration::grad_norm`] is `‖Jᵀr‖` at the old `θ`.
/// Besides `J` (`m × n`), it keeps two `n × n` matrices and a few vectors, allocated on the
/// first iteration; later iterations allocate nothing.
///
/// Sources: K. Levenberg, "A method for the solution of certain non-linear problems in least
/// squares", Quarterly of Applied Mathematics 2(2), 1944; D. W. Marquardt, "An algorithm for
/// least-squares estimation of nonlinear parameters", SIAM J. Appl. Math. 11(2), 1963;
/// M. T. Hagan and M. B. Menhaj, "Training feedforward networks with the Marquardt
/// algorithm", IEEE Trans. Neural Networks 5(6), 1994; MATLAB's `trainlm` documentation,
/// <https://www.mathworks.com/help/deeplearning/ref/trainlm.html>.
///
/// # Examples
/// ```
/// use adnet_nn::classic::{minimize, FnResiduals, LevenbergMarquardt, Stopping};
/// // fit y = a·exp(b·x) to exact data from a = 2, b = -1
/// let xs = [0.0, 0.5, 1.0, 1.5, 2.0];
/// let residuals = |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
///     for (i, x) in xs.iter().enumerate() {
///         r[i] = t[0] * (t[1] * x).exp() - 2.0 * (-x).exp();
///     }
///     if let Some(jac) = jac {
///         for (i, x) in xs.iter().enumerate() {
///             jac[2 * i] = (t[1] * x).exp();
///             jac[2 * i + 1] = t[0] * x * (t[1] * x).exp();
///         }
///     }
/// };
/// let mut fit = FnResiduals::new(2, xs.len(), residuals);
/// let mut lm = LevenbergMarquardt::default();
/// let mut theta = vec![1.0, 0.0];
/// minimize(&mut lm, &mut fit, &mut theta, &Stopping::default())?;
/// assert!((theta[0] - 2.0).abs() < 1e-6 && (theta[1] + 1.0).abs() < 1e-6);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LevenbergMarquardt {
    initial_mu: f64,
    mu: f64,
    mu_dec: f64,
    mu_inc: f64,
    mu_max: f64,
    scaled_damping: bool,
    work: Workspace,
}

impl Default for LevenbergMarquardt {
    /// `trainlm`'s defaults: `mu = 1e-3`, `mu_dec = 0.1`, `mu_inc = 10`, `mu_max = 1e10`.
    fn default() -> Self {
        LevenbergMarquardt {
            initial_mu: 1e-3,
            mu: 1e-3,
            mu_dec: 0.1,
            mu_inc: 10.0,
            mu_max: 1e10,
            scaled_damping: false,
            work: Workspace::default(),
        }
    }
}

impl LevenbergMarquardt {
    /// Levenberg-Marquardt with initial damping `mu` (MATLAB's default is 1e-3) and the other
    /// defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: (`mu`) unless `mu` is positive and finite, (`mu_max`)
    /// unless `mu` is below `mu_max` (1e10 until [`mu_max`](Self::mu_max) changes it).
    pub fn new(mu: f64) -> Result<Self> {
        Self {
            initial_mu: mu,
            ..Self::default()
        }
        .validated()
    }

    /// Sets the factor that shrinks `mu` after an accepted step (default 0.1).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`mu_dec`) unless `0 < mu_dec < 1`.
    pub fn mu_dec(self, mu_dec: f64) -> Result<Self> {
        Self { mu_dec, ..self }.validated()
    }

    /// Sets the factor that grows `mu` after a rejected step (default 10).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`mu_inc`) unless `mu_inc > 1` and finite.
    pub fn mu_inc(self, mu_inc: f64) -> Result<Self> {
        Self { mu_inc, ..self }.validated()
    }

    /// Sets the damping above which the method gives up (default 1e10).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`mu_max`) unless `mu_max` is finite and above the initial
    /// `mu`.
    pub fn mu_max(self, mu_max: f64) -> Result<Self> {
        Self { mu_max, ..self }.validated()
    }

    /// Damps by `mu·diag(JᵀJ)` (Marquardt's scaling) instead of `mu·I` (Levenberg's, and
    /// MATLAB's; the default).
    pub fn scaled_damping(self, scaled_damping: bool) -> Self {
        Self {
            scaled_damping,
            ..self
        }
    }

    /// The current damping `mu`: the initial value before the first iteration, then whatever
    /// the last iteration left (above `mu_max` after [`StopReason::MaxDamping`]).
    pub fn mu(&self) -> f64 {
        self.mu
    }

    /// Checks every setting; a reconfigured method starts from its initial damping.
    fn validated(mut self) -> Result<Self> {
        let invalid = |what, reason: String| Err(NnError::InvalidSetting { what, reason });
        let mu = self.initial_mu;
        if !(mu > 0.0 && mu.is_finite()) {
            return invalid("mu", format!("must be a positive number, got {mu}"));
        }
        if !(self.mu_dec > 0.0 && self.mu_dec < 1.0) {
            return invalid("mu_dec", format!("must be in (0, 1), got {}", self.mu_dec));
        }
        if !(self.mu_inc > 1.0 && self.mu_inc.is_finite()) {
            let reason = format!("must be a number above 1, got {}", self.mu_inc);
            return invalid("mu_inc", reason);
        }
        if !(self.mu_max > mu && self.mu_max.is_finite()) {
            let reason = format!(
                "must be a finite number above the initial mu ({mu}), got {}",
                self.mu_max
            );
            return invalid("mu_max", reason);
        }
        self.mu = mu;
        Ok(self)
    }

    /// The trials of one iteration, from the linearisation at `theta` (value `value`).
    fn trials(
        &mut self,
        objective: &mut dyn Objective,
        theta: &mut [f64],
        value: f64,
        iteration: &mut Iteration,
    ) -> Result<()> {
        while self.mu <= self.mu_max {
            if self.work.solve_damped(self.mu, self.scaled_damping) {
                let trial = self.work.trial_value(objective, theta, 1.0)?;
                iteration.evaluations += 1;
                if trial < value {
                    theta.copy_from_slice(&self.work.trial);
                    iteration.value = trial;
                    self.mu = (self.mu * self.mu_dec).max(MU_FLOOR);
                    return Ok(());
                }
            }
            self.mu *= self.mu_inc;
        }
        iteration.stop = Some(StopReason::MaxDamping);
        Ok(())
    }
}

impl FullBatchMethod for LevenbergMarquardt {
    fn name(&self) -> &'static str {
        "Levenberg-Marquardt"
    }

    fn needs_residuals(&self) -> bool {
        true
    }

    /// One epoch: see [`LevenbergMarquardt`]. On an error from the objective, `theta` and
    /// `mu` are left as they were.
    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration> {
        let (value, mut iteration) = self.work.start(objective, theta, None)?;
        let mu = self.mu;
        if let Err(error) = self.trials(objective, theta, value, &mut iteration) {
            self.mu = mu;
            return Err(error);
        }
        Ok(iteration)
    }

    fn reset(&mut self) {
        self.mu = self.initial_mu;
    }
}

/// Gauss-Newton with step halving (Hartley's modified Gauss-Newton), for a least-squares
/// objective `E(θ) = ½‖r(θ)‖²`.
///
/// Setting and default: `max_halvings = 30`. One iteration evaluates `r` and `J = ∂r/∂θ`
/// once, solves the normal equations for the Gauss-Newton step and shortens it until the
/// error decreases:
///
/// ```text
/// solve (JᵀJ) δ = −Jᵀr  by Cholesky
/// for k = 0, 1, …, max_halvings:
///     if E(θ + δ/2ᵏ) < E(θ):  θ ← θ + δ/2ᵏ,  end of the iteration
/// stop with NoProgress, θ unchanged
/// ```
///
/// so it never increases the error. When `JᵀJ` is singular to working precision (`J` does
/// not have full column rank, or is badly conditioned), the Cholesky factorisation fails and
/// the step is taken from `(JᵀJ + λI) δ = −Jᵀr` instead, with the smallest ridge
/// `λ = 10ᵏ · 1e-12 · trace(JᵀJ)/n` (`k = 0, 1, …, 12`) that factorises: a vanishing Levenberg
/// term, whose step tends to the minimum-norm Gauss-Newton step as `λ → 0`. When none does
/// (`J = 0`, or non-finite entries), or the step is not finite, the iteration stops with
/// [`StopReason::NoProgress`] without trying it.
///
/// On a linear least-squares problem the first step lands on the solution. Far from a
/// solution with large residuals, or where `J` is nearly rank-deficient, the step can be poor
/// and the halving slow: [`LevenbergMarquardt`] is the robust variant.
///
/// An iteration costs one Jacobian evaluation and one residual evaluation per trial, which
/// [`Iteration::evaluations`] counts; [`Iteration::grad_norm`] is `‖Jᵀr‖` at the old `θ`.
/// Buffers are allocated on the first iteration; later iterations allocate nothing.
///
/// Sources: H. O. Hartley, "The modified Gauss-Newton method for the fitting of non-linear
/// regression functions by least squares", Technometrics 3(2), 1961; J. Nocedal and
/// S. J. Wright, *Numerical Optimization*, 2nd ed., section 10.3.
#[derive(Debug, Clone)]
pub struct GaussNewton {
    max_halvings: usize,
    work: Workspace,
}

impl Default for GaussNewton {
    /// At most 30 halvings.
    fn default() -> Self {
        GaussNewton {
            max_halvings: 30,
            work: Workspace::default(),
        }
    }
}

impl GaussNewton {
    /// Gauss-Newton with the default `max_halvings` (30).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how many times a step that does not lower the error is halved before the
    /// iteration gives up (default 30; 0 tries only the full step).
    pub fn max_halvings(self, max_halvings: usize) -> Self {
        Self {
            max_halvings,
            ..self
        }
    }
}

impl FullBatchMethod for GaussNewton {
    fn name(&self) -> &'static str {
        "Gauss-Newton"
    }

    fn needs_residuals(&self) -> bool {
        true
    }

    /// One iteration: see [`GaussNewton`]. On an error from the objective, `theta` is left as
    /// it was.
    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration> {
        let (value, mut iteration) =
            self.work
                .start(objective, theta, Some(StopReason::NoProgress))?;
        if !self.work.solve_ridged() {
            return Ok(iteration);
        }
        let mut scale = 1.0;
        for _ in 0..=self.max_halvings {
            let trial = self.work.trial_value(objective, theta, scale)?;
            iteration.evaluations += 1;
            if trial < value {
                theta.copy_from_slice(&self.work.trial);
                iteration.value = trial;
                iteration.stop = None;
                break;
            }
            scale *= 0.5;
        }
        Ok(iteration)
    }

    /// Nothing to forget: an iteration depends only on the current `θ`.
    fn reset(&mut self) {}
}

/// The buffers both methods work in, sized on the first iteration (and again only if the
/// objective's sizes change).
#[derive(Clone, Default)]
struct Workspace {
    /// `r(θ)`, `m` values.
    residuals: Vec<f64>,
    /// `J(θ)`, `m × n` row-major.
    jacobian: Vec<f64>,
    /// `JᵀJ`, `n × n`.
    gram: Vec<f64>,
    /// The damped matrix, then its Cholesky factor, `n × n`.
    factor: Vec<f64>,
    /// `Jᵀr`, `n` values.
    gradient: Vec<f64>,
    /// The step `δ`, `n` values.
    step: Vec<f64>,
    /// The trial point `θ + s·δ`, `n` values.
    trial: Vec<f64>,
    /// `r` at the trial point, `m` values.
    trial_residuals: Vec<f64>,
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // the sizes, not the (large) contents
        f.debug_struct("Workspace")
            .field("residuals", &self.residuals.len())
            .field("parameters", &self.gradient.len())
            .finish()
    }
}

impl Workspace {
    /// Linearises at `theta` and returns the error there with the iteration's starting
    /// outcome: that value, the gradient's norm, one evaluation and `stop` (what the iteration
    /// reports unless it finds a step).
    fn start(
        &mut self,
        objective: &mut dyn Objective,
        theta: &[f64],
        stop: Option<StopReason>,
    ) -> Result<(f64, Iteration)> {
        let value = self.linearise(objective, theta)?;
        let iteration = Iteration {
            value,
            grad_norm: norm(&self.gradient),
            evaluations: 1,
            stop,
        };
        Ok((value, iteration))
    }

    /// Evaluates `r` and `J` at `theta` and forms `g = Jᵀr` and `H = JᵀJ`; returns
    /// `E = ½‖r‖²`.
    fn linearise(&mut self, objective: &mut dyn Objective, theta: &[f64]) -> Result<f64> {
        check_dim(objective, theta)?;
        let Some(m) = objective.residual_count() else {
            // a plain objective: its own error says why, ours covers one that does not fail
            objective.residuals_jacobian(theta, &mut [], &mut [])?;
            return Err(not_least_squares());
        };
        let n = theta.len();
        self.resize(m, n);
        objective.residuals_jacobian(theta, &mut self.residuals, &mut self.jacobian)?;
        gemv_transposed(&self.jacobian, m, n, &self.residuals, &mut self.gradient);
        gram(&self.jacobian, m, n, &mut self.gram);
        Ok(half_squared_norm(&self.residuals))
    }

    /// Sizes every buffer for `m` residuals and `n` parameters (a no-op once they are).
    fn resize(&mut self, m: usize, n: usize) {
        self.residuals.resize(m, 0.0);
        self.trial_residuals.resize(m, 0.0);
        self.jacobian.resize(m * n, 0.0);
        self.gram.resize(n * n, 0.0);
        self.factor.resize(n * n, 0.0);
        self.gradient.resize(n, 0.0);
        self.step.resize(n, 0.0);
        self.trial.resize(n, 0.0);
    }

    /// Solves `(H + mu·D) δ = −g` (`D = I`, or `diag(H)` with zeros replaced by 1 when
    /// `scaled`); false when the matrix is not numerically positive definite or `δ` is not
    /// finite.
    fn solve_damped(&mut self, mu: f64, scaled: bool) -> bool {
        let n = self.gradient.len();
        self.factor.copy_from_slice(&self.gram);
        for i in 0..n {
            let diagonal = self.gram[i * n + i];
            let weight = if scaled && diagonal != 0.0 {
                diagonal
            } else {
                1.0
            };
            self.factor[i * n + i] += mu * weight;
        }
        self.factor_and_solve()
    }

    /// Solves `H δ = −g`, adding the smallest ridge `λI` from `10ᵏ · 1e-12 · trace(H)/n`
    /// (`k ≤ 12`) that makes the matrix factorise when `H` alone does not; false when none
    /// does or `δ` is not finite.
    fn solve_ridged(&mut self) -> bool {
        let n = self.gradient.len();
        self.factor.copy_from_slice(&self.gram);
        if self.factor_and_solve() {
            return true;
        }
        let trace: f64 = (0..n).map(|i| self.gram[i * n + i]).sum();
        let mut ridge = 1e-12 * trace / n as f64;
        for _ in 0..=12 {
            self.factor.copy_from_slice(&self.gram);
            for i in 0..n {
                self.factor[i * n + i] += ridge;
            }
            if self.factor_and_solve() {
                return true;
            }
            ridge *= 10.0;
        }
        false
    }

    /// Factorises `factor` in place and solves it for `δ = −factor⁻¹ g`; false when it is not
    /// numerically positive definite or `δ` is not finite.
    fn factor_and_solve(&mut self) -> bool {
        let n = self.gradient.len();
        if cholesky(&mut self.factor, n).is_err() {
            return false;
        }
        for (d, g) in self.step.iter_mut().zip(&self.gradient) {
            *d = -g;
        }
        cholesky_solve(&self.factor, n, &mut self.step);
        self.step.iter().all(|d| d.is_finite())
    }

    /// `E(θ + scale·δ)`, leaving the point in `trial`.
    fn trial_value(
        &mut self,
        objective: &mut dyn Objective,
        theta: &[f64],
        scale: f64,
    ) -> Result<f64> {
        for ((t, &x), &d) in self.trial.iter_mut().zip(theta).zip(&self.step) {
            *t = x + scale * d;
        }
        objective.residuals(&self.trial, &mut self.trial_residuals)?;
        Ok(half_squared_norm(&self.trial_residuals))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::{FnObjective, FnResiduals};

    /// `r = (t₀ − 1, 10·(t₁ − t₀²))`: Rosenbrock's function as a sum of squares.
    fn rosenbrock() -> impl Objective {
        FnResiduals::new(2, 2, |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
            r[0] = t[0] - 1.0;
            r[1] = 10.0 * (t[1] - t[0] * t[0]);
            if let Some(jac) = jac {
                jac.copy_from_slice(&[1.0, 0.0, -20.0 * t[0], 10.0]);
            }
        })
    }

    #[test]
    fn defaults_are_matlab_trainlm() {
        let lm = LevenbergMarquardt::default();
        assert_eq!(
            (lm.mu, lm.mu_dec, lm.mu_inc, lm.mu_max, lm.scaled_damping),
            (1e-3, 0.1, 10.0, 1e10, false)
        );
        assert_eq!(GaussNewton::default().max_halvings, 30);
        assert_eq!(lm.name(), "Levenberg-Marquardt");
        assert_eq!(GaussNewton::new().name(), "Gauss-Newton");
        assert!(lm.needs_residuals() && GaussNewton::new().needs_residuals());
    }

    #[test]
    fn rejects_invalid_settings_naming_them() {
        let what = |result: Result<LevenbergMarquardt>| match result {
            Err(NnError::InvalidSetting { what, .. }) => what,
            other => panic!("expected InvalidSetting, got {other:?}"),
        };
        for mu in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(what(LevenbergMarquardt::new(mu)), "mu");
        }
        assert_eq!(what(LevenbergMarquardt::new(1e11)), "mu_max");
        let lm = LevenbergMarquardt::default;
        for mu_dec in [0.0, 1.0, 1.5, -0.1, f64::NAN] {
            assert_eq!(what(lm().mu_dec(mu_dec)), "mu_dec");
        }
        for mu_inc in [1.0, 0.5, f64::INFINITY, f64::NAN] {
            assert_eq!(what(lm().mu_inc(mu_inc)), "mu_inc");
        }
        for mu_max in [1e-3, 1e-4, f64::INFINITY, f64::NAN] {
            assert_eq!(what(lm().mu_max(mu_max)), "mu_max");
        }
        let message = LevenbergMarquardt::new(-1.0).unwrap_err().to_string();
        assert_eq!(message, "mu: must be a positive number, got -1");
    }

    #[test]
    fn settings_are_kept() -> Result<()> {
        let lm = LevenbergMarquardt::new(0.5)?
            .mu_dec(0.2)?
            .mu_inc(4.0)?
            .mu_max(1e6)?
            .scaled_damping(true);
        assert_eq!(
            (lm.mu(), lm.mu_dec, lm.mu_inc, lm.mu_max, lm.scaled_damping),
            (0.5, 0.2, 4.0, 1e6, true)
        );
        assert_eq!(GaussNewton::new().max_halvings(3).max_halvings, 3);
        Ok(())
    }

    #[test]
    fn reset_restores_the_initial_damping() -> Result<()> {
        let mut lm = LevenbergMarquardt::new(0.5)?;
        let mut theta = vec![-1.2, 1.0];
        lm.iterate(&mut rosenbrock(), &mut theta)?;
        assert_ne!(lm.mu(), 0.5);
        lm.reset();
        assert_eq!(lm.mu(), 0.5);
        Ok(())
    }

    #[test]
    fn buffers_are_allocated_once() -> Result<()> {
        let mut lm = LevenbergMarquardt::default();
        let mut objective = rosenbrock();
        let mut theta = vec![-1.2, 1.0];
        lm.iterate(&mut objective, &mut theta)?;
        let pointers = |w: &Workspace| {
            [
                w.residuals.as_ptr(),
                w.jacobian.as_ptr(),
                w.gram.as_ptr(),
                w.factor.as_ptr(),
                w.gradient.as_ptr(),
                w.step.as_ptr(),
                w.trial.as_ptr(),
                w.trial_residuals.as_ptr(),
            ]
        };
        let before = pointers(&lm.work);
        for _ in 0..5 {
            lm.iterate(&mut objective, &mut theta)?;
        }
        assert_eq!(pointers(&lm.work), before);
        assert_eq!(
            format!("{:?}", lm.work),
            "Workspace { residuals: 2, parameters: 2 }"
        );
        Ok(())
    }

    #[test]
    fn scaled_damping_divides_by_the_curvature() -> Result<()> {
        // r = (2·t₀, 1): H = diag(4, 0) and, at t₀ = 1, g = (4, 0); so δ₀ = −4 / (4 + 4·mu)
        // with Marquardt's scaling and −4 / (4 + mu) without, and t₁, which the residuals
        // ignore, gets δ₁ = 0 either way
        let mut objective =
            FnResiduals::new(2, 2, |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
                r[0] = 2.0 * t[0];
                r[1] = 1.0;
                if let Some(jac) = jac {
                    jac.copy_from_slice(&[2.0, 0.0, 0.0, 0.0]);
                }
            });
        for (scaled, expected) in [(true, 1.0 - 4.0 / 4.4), (false, 1.0 - 4.0 / 4.1)] {
            let mut lm = LevenbergMarquardt::new(0.1)?.scaled_damping(scaled);
            let mut theta = vec![1.0, 5.0];
            let step = lm.iterate(&mut objective, &mut theta)?;
            assert_eq!(step.stop, None);
            assert!((theta[0] - expected).abs() < 1e-14, "{theta:?}");
            assert_eq!(theta[1], 5.0);
        }
        Ok(())
    }

    #[test]
    fn gauss_newton_falls_back_to_a_ridge_on_a_rank_deficient_jacobian() -> Result<()> {
        // r = t₀ + t₁ − 2 (one residual, two parameters): JᵀJ = [[1, 1], [1, 1]] is singular;
        // the ridge step tends to the minimum-norm one, δ = (1, 1) from 0
        let mut objective =
            FnResiduals::new(2, 1, |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
                r[0] = t[0] + t[1] - 2.0;
                if let Some(jac) = jac {
                    jac.copy_from_slice(&[1.0, 1.0]);
                }
            });
        let mut theta = vec![0.0, 0.0];
        let step = GaussNewton::new().iterate(&mut objective, &mut theta)?;
        assert_eq!((step.stop, step.evaluations), (None, 2));
        assert!(step.value < 1e-18, "{step:?}");
        assert!((theta[0] - 1.0).abs() < 1e-9 && (theta[1] - 1.0).abs() < 1e-9);
        Ok(())
    }

    #[test]
    fn gauss_newton_stops_without_trials_when_the_jacobian_vanishes() -> Result<()> {
        let mut objective =
            FnResiduals::new(1, 1, |_: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
                r[0] = 1.0;
                if let Some(jac) = jac {
                    jac[0] = 0.0;
                }
            });
        let mut theta = vec![3.0];
        let step = GaussNewton::new().iterate(&mut objective, &mut theta)?;
        assert_eq!(
            step,
            Iteration {
                value: 0.5,
                grad_norm: 0.0,
                evaluations: 1,
                stop: Some(StopReason::NoProgress)
            }
        );
        assert_eq!(theta, [3.0]);
        Ok(())
    }

    #[test]
    fn plain_objectives_and_wrong_lengths_are_rejected() {
        let mut plain = FnObjective::new(1, |t: &[f64], _: Option<&mut [f64]>| t[0] * t[0]);
        let methods: [&mut dyn FullBatchMethod; 2] =
            [&mut LevenbergMarquardt::default(), &mut GaussNewton::new()];
        for method in methods {
            let mut theta = vec![1.0];
            match method.iterate(&mut plain, &mut theta) {
                Err(NnError::InvalidSetting { what, .. }) => assert_eq!(what, "method"),
                other => panic!("expected InvalidSetting(method), got {other:?}"),
            }
            let mut theta = vec![1.0, 2.0, 3.0];
            match method.iterate(&mut rosenbrock(), &mut theta) {
                Err(NnError::InvalidSetting { what, .. }) => assert_eq!(what, "theta"),
                other => panic!("expected InvalidSetting(theta), got {other:?}"),
            }
        }
    }
}
