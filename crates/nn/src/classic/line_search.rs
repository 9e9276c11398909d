//! The strong-Wolfe line search that nonlinear conjugate gradient and L-BFGS step with.

use super::{check_dim, dot, Objective};
use crate::{NnError, Result};

/// Settings of [`strong_wolfe`].
///
/// The defaults are the usual quasi-Newton ones (Nocedal & Wright, *Numerical Optimization*,
/// 2nd ed., §3.1): `c1 = 1e-4`, `c2 = 0.9`. Nonlinear conjugate gradient wants a more exact
/// search, `c2 = 0.1` (N&W §5.2), which [`ConjugateGradient`](super::ConjugateGradient) uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WolfeOptions {
    /// The sufficient-decrease (Armijo) constant, `0 < c1 < c2` (default 1e-4).
    pub c1: f64,
    /// The curvature constant, `c1 < c2 < 1` (default 0.9).
    pub c2: f64,
    /// The most objective evaluations one search may make (default 25). When the search ends
    /// unsatisfied at a point other than the last one it tried, one more evaluation restores
    /// that point's gradient, so a search makes at most `max_evaluations + 1`.
    pub max_evaluations: usize,
    /// The largest step `α` tried (default 1e10). It only stops a search along a direction in
    /// which the objective decreases without bound from running `θ` to infinity; it is not a
    /// scale, since the methods choose their initial steps from the gradient.
    pub max_step: f64,
}

impl Default for WolfeOptions {
    fn default() -> Self {
        WolfeOptions {
            c1: 1e-4,
            c2: 0.9,
            max_evaluations: 25,
            max_step: 1e10,
        }
    }
}

impl WolfeOptions {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`c1`, `c2`, `max_evaluations` or `max_step`) unless
    /// `0 < c1 < c2 < 1`, `max_evaluations ≥ 1` and `max_step > 0`.
    pub fn validate(&self) -> Result<()> {
        if !(self.c1 > 0.0 && self.c1 < 1.0) {
            return Err(invalid(
                "c1",
                format!("must lie in (0, 1), got {}", self.c1),
            ));
        }
        if !(self.c2 > self.c1 && self.c2 < 1.0) {
            return Err(invalid(
                "c2",
                format!("must lie in (c1, 1) = ({}, 1), got {}", self.c1, self.c2),
            ));
        }
        if self.max_evaluations == 0 {
            return Err(invalid("max_evaluations", "must be at least 1".to_string()));
        }
        if self.max_step.is_nan() || self.max_step <= 0.0 {
            return Err(invalid(
                "max_step",
                format!("must be positive, got {}", self.max_step),
            ));
        }
        Ok(())
    }
}

fn invalid(what: &'static str, reason: String) -> NnError {
    NnError::InvalidSetting { what, reason }
}

/// What [`strong_wolfe`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineSearchResult {
    /// The step `α` (0 when no evaluated point was below the starting value).
    pub step: f64,
    /// `f(θ + α·d)`.
    pub value: f64,
    /// Objective evaluations made (each one a value and a gradient).
    pub evaluations: usize,
    /// Whether `α` satisfies both strong Wolfe conditions.
    pub satisfied: bool,
}

/// One evaluated trial step: `α`, `φ(α) = f(θ + α·d)` and `φ'(α) = ∇f(θ + α·d)ᵀd`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Trial {
    alpha: f64,
    value: f64,
    slope: f64,
}

/// A line search for a step `α > 0` along the descent direction `d` from `θ` that satisfies
/// the strong Wolfe conditions
///
/// ```text
/// f(θ + α·d) ≤ f(θ) + c1·α·∇f(θ)ᵀd            (sufficient decrease)
/// |∇f(θ + α·d)ᵀd| ≤ c2·|∇f(θ)ᵀd|              (curvature)
/// ```
///
/// Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithms 3.5 (bracketing) and 3.6
/// (zoom). Bracketing starts at `initial_step` and grows the step by cubic extrapolation from
/// the last two trials, kept within `[2α, 10α]` (and at most `max_step`), until the step
/// satisfies both conditions or a bracket is found. Zoom then tries the minimiser of the cubic
/// through both ends of the bracket (values and slopes, N&W eq. 3.59); when two trials in a row
/// fall within 10% of the bracket's width from an end, the second is moved to that distance, and
/// when the cubic has no minimiser inside the bracket (or a trial value is not finite, which
/// counts as too long a step) zoom bisects. Every evaluation computes the value and the
/// gradient.
///
/// `value` and `grad` are `f(θ)` and `∇f(θ)`. On return, `point` holds `θ + α·d` and
/// `point_grad` its gradient: the point satisfying the conditions, or, when the search gives up
/// (`max_evaluations` reached, the bracket too narrow to change `θ`, `max_step` reached while
/// still descending), the lowest point it evaluated, which is below `value`; when no evaluated
/// point is below `value`, the step is 0 and `point`, `point_grad` are copies of `theta`, `grad`.
///
/// # Errors
/// [`NnError::InvalidSetting`]: `theta` when a slice's length is not the objective's
/// dimension, `direction` when `d` is not a descent direction (`∇f(θ)ᵀd ≥ 0` or not finite),
/// `initial_step` when it is not positive and finite, and the settings [`WolfeOptions::validate`]
/// rejects; the objective's errors.
///
/// # Examples
/// ```
/// use adnet_nn::classic::{strong_wolfe, FnObjective, WolfeOptions};
/// // f(x) = (x₀ − 3)² + x₁², searched from 0 along −∇f
/// let mut f = FnObjective::new(2, |x: &[f64], g: Option<&mut [f64]>| {
///     if let Some(g) = g {
///         g[0] = 2.0 * (x[0] - 3.0);
///         g[1] = 2.0 * x[1];
///     }
///     (x[0] - 3.0).powi(2) + x[1] * x[1]
/// });
/// let (theta, grad) = ([0.0, 0.0], [-6.0, 0.0]);
/// let direction = [6.0, 0.0];
/// let (mut point, mut point_grad) = ([0.0; 2], [0.0; 2]);
/// let options = WolfeOptions { c2: 0.1, ..WolfeOptions::default() };
/// let found = strong_wolfe(
///     &mut f, &theta, 9.0, &grad, &direction, 1.0, &options, &mut point, &mut point_grad,
/// )?;
/// assert!(found.satisfied && (found.step - 0.5).abs() < 0.05);
/// assert_eq!(point[0], found.step * 6.0);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
// the arguments are N&W's inputs plus the two output buffers the caller owns (so the search
// allocates nothing); a struct holding them would be a type used by this one call only
#[allow(clippy::too_many_arguments)]
pub fn strong_wolfe(
    objective: &mut dyn Objective,
    theta: &[f64],
    value: f64,
    grad: &[f64],
    direction: &[f64],
    initial_step: f64,
    options: &WolfeOptions,
    point: &mut [f64],
    point_grad: &mut [f64],
) -> Result<LineSearchResult> {
    options.validate()?;
    for slice in [theta, grad, direction, &*point, &*point_grad] {
        check_dim(objective, slice)?;
    }
    let slope = dot(grad, direction);
    if !(slope < 0.0 && slope.is_finite()) {
        return Err(invalid(
            "direction",
            format!("not a descent direction: the gradient's inner product with it is {slope}"),
        ));
    }
    if !(initial_step > 0.0 && initial_step.is_finite()) {
        return Err(invalid(
            "initial_step",
            format!("must be positive and finite, got {initial_step}"),
        ));
    }
    let mut search = Search {
        objective,
        theta,
        direction,
        point,
        point_grad,
        options,
        start: Trial {
            alpha: 0.0,
            value,
            slope,
        },
        evaluations: 0,
        best: None,
        last: None,
        theta_max: max_abs(theta),
        direction_max: max_abs(direction),
    };
    let outcome = search.run(initial_step.min(options.max_step))?;
    match outcome {
        Some(found) => Ok(LineSearchResult {
            step: found.alpha,
            value: found.value,
            evaluations: search.evaluations,
            satisfied: true,
        }),
        None => search.give_up(grad),
    }
}

/// The state of one search.
struct Search<'a> {
    objective: &'a mut dyn Objective,
    theta: &'a [f64],
    direction: &'a [f64],
    point: &'a mut [f64],
    point_grad: &'a mut [f64],
    options: &'a WolfeOptions,
    /// `α = 0`: the starting value and slope.
    start: Trial,
    evaluations: usize,
    /// The evaluated trial with the lowest value below the start's, if any.
    best: Option<Trial>,
    /// The step whose point `point` and `point_grad` hold.
    last: Option<f64>,
    theta_max: f64,
    direction_max: f64,
}

impl Search<'_> {
    /// Algorithm 3.5: the step found, or `None` when the search gave up.
    fn run(&mut self, initial_step: f64) -> Result<Option<Trial>> {
        let mut previous = self.start;
        let mut alpha = initial_step;
        let mut first = true;
        loop {
            if self.evaluations >= self.options.max_evaluations {
                return Ok(None);
            }
            let current = self.evaluate(alpha)?;
            if !self.sufficient_decrease(&current) || (!first && current.value >= previous.value) {
                return self.zoom(previous, current);
            }
            if self.curvature(&current) {
                return Ok(Some(current));
            }
            if current.slope >= 0.0 {
                return self.zoom(current, previous);
            }
            if alpha >= self.options.max_step {
                return Ok(None);
            }
            let (low, high) = (2.0 * alpha, 10.0 * alpha);
            let next = match cubic_minimizer(&previous, &current) {
                Some(t) => t.clamp(low, high),
                None => high,
            };
            alpha = next.min(self.options.max_step);
            previous = current;
            first = false;
        }
    }

    /// Algorithm 3.6, on a bracket whose `low` end satisfies sufficient decrease, is the lowest
    /// such point so far, and slopes towards `high`.
    fn zoom(&mut self, mut low: Trial, mut high: Trial) -> Result<Option<Trial>> {
        let mut crowded = false;
        loop {
            if self.evaluations >= self.options.max_evaluations {
                return Ok(None);
            }
            let width = (high.alpha - low.alpha).abs();
            // a bracket this narrow no longer changes θ + α·d (or α itself) in floating point
            if width * self.direction_max <= f64::EPSILON * self.theta_max
                || width <= f64::EPSILON * low.alpha.max(high.alpha)
            {
                return Ok(None);
            }
            let alpha = interpolate(&low, &high, &mut crowded);
            let current = self.evaluate(alpha)?;
            if !self.sufficient_decrease(&current) || current.value >= low.value {
                high = current;
            } else {
                if self.curvature(&current) {
                    return Ok(Some(current));
                }
                if current.slope * (high.alpha - low.alpha) >= 0.0 {
                    high = low;
                }
                low = current;
            }
        }
    }

    /// `φ(α)` and `φ'(α)`, leaving the point and its gradient in the output buffers.
    fn evaluate(&mut self, alpha: f64) -> Result<Trial> {
        for ((p, t), d) in self.point.iter_mut().zip(self.theta).zip(self.direction) {
            *p = t + alpha * d;
        }
        let value = self.objective.value_grad(self.point, self.point_grad)?;
        self.evaluations += 1;
        self.last = Some(alpha);
        let trial = Trial {
            alpha,
            value,
            slope: dot(self.point_grad, self.direction),
        };
        let lowest = self.best.map_or(self.start.value, |b| b.value);
        if trial.value < lowest {
            self.best = Some(trial);
        }
        Ok(trial)
    }

    /// `φ(α) ≤ φ(0) + c1·α·φ'(0)`; false for a value that is not a number.
    fn sufficient_decrease(&self, trial: &Trial) -> bool {
        trial.value <= self.start.value + self.options.c1 * trial.alpha * self.start.slope
    }

    /// `|φ'(α)| ≤ c2·|φ'(0)|`.
    fn curvature(&self, trial: &Trial) -> bool {
        trial.slope.abs() <= -self.options.c2 * self.start.slope
    }

    /// The lowest point evaluated, restored into the buffers if another was evaluated after it.
    fn give_up(mut self, grad: &[f64]) -> Result<LineSearchResult> {
        let Some(best) = self.best else {
            self.point.copy_from_slice(self.theta);
            self.point_grad.copy_from_slice(grad);
            return Ok(LineSearchResult {
                step: 0.0,
                value: self.start.value,
                evaluations: self.evaluations,
                satisfied: false,
            });
        };
        let value = if self.last == Some(best.alpha) {
            best.value
        } else {
            self.evaluate(best.alpha)?.value
        };
        Ok(LineSearchResult {
            step: best.alpha,
            value,
            evaluations: self.evaluations,
            satisfied: false,
        })
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// The next trial inside the bracket `[a, b]` (either order): the cubic's minimiser, or the
/// midpoint when the cubic has no minimiser strictly inside the bracket. A minimiser within 10%
/// of the width from an end is kept once, but moved to 10% from that end when the previous
/// trial was that close too (`crowded` carries this between calls), so the bracket shrinks by
/// at least 10% every two trials (the safeguard of minFunc and PyTorch's L-BFGS).
fn interpolate(a: &Trial, b: &Trial, crowded: &mut bool) -> f64 {
    let (left, right) = (a.alpha.min(b.alpha), a.alpha.max(b.alpha));
    let margin = 0.1 * (right - left);
    let t = match cubic_minimizer(a, b) {
        Some(t) if t > left && t < right => t,
        _ => {
            *crowded = false;
            return 0.5 * (left + right);
        }
    };
    if (t - left).min(right - t) >= margin {
        *crowded = false;
        t
    } else if *crowded {
        *crowded = false;
        t.clamp(left + margin, right - margin)
    } else {
        *crowded = true;
        t
    }
}

/// The minimiser of the cubic that matches the values and slopes at `a` and `b` (Nocedal &
/// Wright eq. 3.59), or `None` when the cubic has no local minimiser (or the data are not
/// finite).
fn cubic_minimizer(a: &Trial, b: &Trial) -> Option<f64> {
    let d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.alpha - b.alpha);
    let discriminant = d1 * d1 - a.slope * b.slope;
    if discriminant.is_nan() || discriminant < 0.0 {
        return None;
    }
    let d2 = (b.alpha - a.alpha).signum() * discriminant.sqrt();
    let t = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
    t.is_finite().then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::FnObjective;

    fn trial(alpha: f64, value: f64, slope: f64) -> Trial {
        Trial {
            alpha,
            value,
            slope,
        }
    }

    #[test]
    fn cubic_minimizer_is_exact_for_a_cubic() {
        // φ(α) = α³ − 3α (minimum at 1): through α = 0 and α = 3, in both orders
        let phi = |a: f64| trial(a, a * a * a - 3.0 * a, 3.0 * a * a - 3.0);
        for (a, b) in [(0.0, 3.0), (3.0, 0.0), (-0.5, 2.0)] {
            let t = cubic_minimizer(&phi(a), &phi(b)).expect("a cubic with a minimum");
            assert!((t - 1.0).abs() < 1e-12, "{a}, {b}: {t}");
        }
    }

    #[test]
    fn cubic_minimizer_is_exact_for_a_quadratic() {
        // φ(α) = (α − 0.7)²
        let phi = |a: f64| trial(a, (a - 0.7) * (a - 0.7), 2.0 * (a - 0.7));
        let t = cubic_minimizer(&phi(0.0), &phi(2.0)).expect("a minimum");
        assert!((t - 0.7).abs() < 1e-12);
    }

    #[test]
    fn cubic_minimizer_none_without_a_minimum() {
        // φ(α) = α³ has a stationary point but no minimum; a NaN value gives none either
        let phi = |a: f64| trial(a, a * a * a, 3.0 * a * a);
        assert_eq!(cubic_minimizer(&phi(-1.0), &phi(1.0)), None);
        assert_eq!(
            cubic_minimizer(&trial(0.0, 1.0, -1.0), &trial(1.0, f64::NAN, 1.0)),
            None
        );
    }

    #[test]
    fn interpolation_keeps_away_from_the_ends_the_second_time_and_bisects_otherwise() {
        // the quadratic's minimiser 0.01 is within 10% of the left end: taken once, then moved
        let phi = |a: f64| trial(a, (a - 0.01) * (a - 0.01), 2.0 * (a - 0.01));
        let mut crowded = false;
        assert!((interpolate(&phi(0.0), &phi(1.0), &mut crowded) - 0.01).abs() < 1e-12);
        assert!(crowded);
        assert!((interpolate(&phi(1.0), &phi(0.0), &mut crowded) - 0.1).abs() < 1e-12);
        assert!(!crowded);
        // a minimiser well inside resets the count
        let phi = |a: f64| trial(a, (a - 0.5) * (a - 0.5), 2.0 * (a - 0.5));
        crowded = true;
        assert!((interpolate(&phi(0.0), &phi(1.0), &mut crowded) - 0.5).abs() < 1e-12);
        assert!(!crowded);
        let nan = trial(1.0, f64::INFINITY, f64::NAN);
        assert_eq!(interpolate(&phi(0.0), &nan, &mut crowded), 0.5);
    }

    fn quadratic() -> FnObjective<impl FnMut(&[f64], Option<&mut [f64]>) -> f64> {
        FnObjective::new(1, |x: &[f64], g: Option<&mut [f64]>| {
            if let Some(g) = g {
                g[0] = 2.0 * (x[0] - 1.0);
            }
            (x[0] - 1.0).powi(2)
        })
    }

    /// [`strong_wolfe`] on [`quadratic`] from `x` along `+1`, told that the value there is
    /// `value` and the gradient `grad`: what it found, the point it left and its gradient.
    fn search_quadratic(
        x: f64,
        value: f64,
        grad: f64,
        initial_step: f64,
        options: &WolfeOptions,
    ) -> Result<(LineSearchResult, [f64; 1], [f64; 1])> {
        // NaN, so that a point the search forgot to write shows
        let (mut point, mut point_grad) = ([f64::NAN], [f64::NAN]);
        let found = strong_wolfe(
            &mut quadratic(),
            &[x],
            value,
            &[grad],
            &[1.0],
            initial_step,
            options,
            &mut point,
            &mut point_grad,
        )?;
        Ok((found, point, point_grad))
    }

    #[test]
    fn finds_the_minimum_of_a_quadratic_after_too_long_a_step() -> Result<()> {
        let options = WolfeOptions {
            c2: 0.1,
            ..WolfeOptions::default()
        };
        let (found, point, _) = search_quadratic(0.0, 1.0, -2.0, 100.0, &options)?;
        assert!(found.satisfied);
        // the cubic through a quadratic is the quadratic: exact after one zoom step
        assert!((found.step - 1.0).abs() < 1e-12, "{found:?}");
        assert_eq!(found.evaluations, 2);
        assert_eq!(point, [found.step]);
        Ok(())
    }

    #[test]
    fn extrapolates_from_a_short_step() -> Result<()> {
        let (found, point, point_grad) =
            search_quadratic(0.0, 1.0, -2.0, 1e-6, &WolfeOptions::default())?;
        assert!(found.satisfied && found.step > 0.05 && found.step < 1.95);
        assert_eq!(point_grad, [2.0 * (point[0] - 1.0)]);
        Ok(())
    }

    #[test]
    fn gives_up_with_the_start_when_nothing_is_lower() -> Result<()> {
        // a gradient that lies: f increases along the "descent" direction
        let options = WolfeOptions {
            max_evaluations: 3,
            ..WolfeOptions::default()
        };
        let (found, point, point_grad) = search_quadratic(1.0, 0.0, -1.0, 1.0, &options)?;
        assert_eq!(found.step, 0.0);
        assert_eq!(found.value, 0.0);
        assert!(!found.satisfied);
        assert_eq!(found.evaluations, 3);
        assert_eq!((point, point_grad), ([1.0], [-1.0]));
        Ok(())
    }

    #[test]
    fn validates_options() {
        let bad = [
            WolfeOptions {
                c1: 0.0,
                ..WolfeOptions::default()
            },
            WolfeOptions {
                c2: 1e-5,
                ..WolfeOptions::default()
            },
            WolfeOptions {
                c2: 1.0,
                ..WolfeOptions::default()
            },
            WolfeOptions {
                max_evaluations: 0,
                ..WolfeOptions::default()
            },
            WolfeOptions {
                max_step: f64::NAN,
                ..WolfeOptions::default()
            },
        ];
        for options in bad {
            assert!(
                matches!(options.validate(), Err(NnError::InvalidSetting { .. })),
                "{options:?}"
            );
        }
        assert!(WolfeOptions::default().validate().is_ok());
    }
}
