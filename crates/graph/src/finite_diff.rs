//! Central finite differences: the one numerical-derivative implementation adnet has. The ops'
//! tests (`testing::check_vjp`) and the public gradient check (`adnet_autodiff::check_grad`)
//! both build on it.
//!
//! The estimate of `∂f/∂xᵢ` is `(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h`, whose error is `O(h²)`
//! truncation plus `O(ε·|f|/h)` rounding.

use crate::Result;

/// `torch.autograd.gradcheck`'s default step.
pub const DEFAULT_STEP: f64 = 1e-6;

/// How the step `h` is chosen for each coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// The same `h` for every coordinate (gradcheck's behaviour, default 1e-6).
    Fixed(f64),
    /// `h = ∛ε · max(1, |xᵢ|)` for the given machine epsilon: balances truncation and rounding
    /// error for central differences, and scales with the coordinate.
    Scaled {
        /// The epsilon of the arithmetic `f` is computed in.
        epsilon: f64,
    },
}

impl Default for Step {
    fn default() -> Self {
        Step::Fixed(DEFAULT_STEP)
    }
}

impl Step {
    /// The step for a coordinate whose value is `x`.
    pub fn at(self, x: f64) -> f64 {
        match self {
            Step::Fixed(h) => h,
            Step::Scaled { epsilon } => epsilon.cbrt() * x.abs().max(1.0),
        }
    }
}

/// The central-difference Jacobian of `f` at `x`: `jacobian[i][j] ≈ ∂fᵢ/∂xⱼ` (outputs by
/// rows). `f` is called `2·x.len()` times.
///
/// # Errors
/// Whatever `f` returns.
///
/// # Examples
/// ```
/// use adnet_graph::finite_diff::{jacobian, Step};
/// let mut f = |x: &[f64]| Ok(vec![x[0] * x[1], x[0].sin()]);
/// let j = jacobian(&mut f, &[2.0, 3.0], Step::default())?;
/// assert!((j[0][0] - 3.0).abs() < 1e-8 && (j[0][1] - 2.0).abs() < 1e-8);
/// assert!((j[1][0] - 2f64.cos()).abs() < 1e-8 && j[1][1].abs() < 1e-8);
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
pub fn jacobian(
    f: &mut dyn FnMut(&[f64]) -> Result<Vec<f64>>,
    x: &[f64],
    step: Step,
) -> Result<Vec<Vec<f64>>> {
    let mut point = x.to_vec();
    let mut columns = Vec::with_capacity(x.len());
    for j in 0..x.len() {
        let h = step.at(x[j]);
        point[j] = x[j] + h;
        let plus = f(&point)?;
        point[j] = x[j] - h;
        let minus = f(&point)?;
        point[j] = x[j];
        // divide by the step actually taken, which rounding may have changed
        let taken = (x[j] + h) - (x[j] - h);
        columns.push(
            plus.iter()
                .zip(&minus)
                .map(|(p, m)| (p - m) / taken)
                .collect::<Vec<f64>>(),
        );
    }
    let outputs = columns.first().map_or(0, Vec::len);
    Ok((0..outputs)
        .map(|i| columns.iter().map(|column| column[i]).collect())
        .collect())
}

/// The central-difference gradient of a scalar `f` at `x`. `f` is called `2·x.len()` times.
///
/// # Errors
/// Whatever `f` returns.
pub fn gradient(
    f: &mut dyn FnMut(&[f64]) -> Result<f64>,
    x: &[f64],
    step: Step,
) -> Result<Vec<f64>> {
    let mut wrapped = |p: &[f64]| f(p).map(|v| vec![v]);
    Ok(jacobian(&mut wrapped, x, step)?
        .pop()
        .unwrap_or_else(|| vec![0.0; x.len()]))
}

/// The central-difference directional derivative of `f` at `x` along `v`:
/// `(f(x + h·v) − f(x − h·v)) / 2h ≈ J·v`, from two calls whatever the dimension.
///
/// # Errors
/// Whatever `f` returns.
pub fn directional(
    f: &mut dyn FnMut(&[f64]) -> Result<Vec<f64>>,
    x: &[f64],
    v: &[f64],
    h: f64,
) -> Result<Vec<f64>> {
    let plus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let minus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let (fp, fm) = (f(&plus)?, f(&minus)?);
    Ok(fp
        .iter()
        .zip(&fm)
        .map(|(p, m)| (p - m) / (2.0 * h))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_differences_are_second_order_accurate() -> Result<()> {
        let mut f = |x: &[f64]| Ok(x[0].exp() * x[1].sin());
        let (x, y) = (0.7f64, 1.3f64);
        let g = gradient(&mut f, &[x, y], Step::Fixed(1e-5))?;
        assert!((g[0] - x.exp() * y.sin()).abs() < 1e-9);
        assert!((g[1] - x.exp() * y.cos()).abs() < 1e-9);
        let scaled = gradient(
            &mut f,
            &[x, y],
            Step::Scaled {
                epsilon: f64::EPSILON,
            },
        )?;
        assert!((scaled[0] - x.exp() * y.sin()).abs() < 1e-9);
        Ok(())
    }

    #[test]
    fn scaled_step_grows_with_the_coordinate() {
        let step = Step::Scaled {
            epsilon: f64::EPSILON,
        };
        assert_eq!(step.at(0.5), f64::EPSILON.cbrt());
        assert_eq!(step.at(-100.0), 100.0 * f64::EPSILON.cbrt());
        assert_eq!(Step::default().at(1e9), DEFAULT_STEP);
    }

    #[test]
    fn directional_derivative_matches_jacobian_times_vector() -> Result<()> {
        let mut f = |x: &[f64]| Ok(vec![x[0] * x[1], x[1] * x[1]]);
        let d = directional(&mut f, &[2.0, 3.0], &[1.0, -1.0], 1e-6)?;
        assert!((d[0] - (3.0 - 2.0)).abs() < 1e-8);
        assert!((d[1] - (-6.0)).abs() < 1e-8);
        Ok(())
    }
}
