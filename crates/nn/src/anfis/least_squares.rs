//! The least-squares estimate of the consequent parameters: the forward pass of the hybrid rule.

use crate::classic::linalg::{cholesky, cholesky_solve, gemv_transposed, gram};
use crate::{NnError, Result};

/// How the hybrid rule solves for the consequent parameters, `min_θ ‖A θ − t‖²` (Jang 1993,
/// sections III and IV: the output is linear in the consequent parameters once the premise is
/// fixed).
///
/// Both forms take the design matrix `A` (`rows × cols`, row-major) and the targets `t`
/// (`rows`) in `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LeastSquares {
    /// The normal equations `AᵀA θ = Aᵀt`, solved by Cholesky factorisation
    /// ([`crate::classic::linalg`]). The default.
    ///
    /// When `AᵀA` is singular or too ill-conditioned for Cholesky (more consequent parameters
    /// than independent rows, or rules that no sample fires), a ridge `λI` is added, starting
    /// at `λ = 10⁻¹⁴·tr(AᵀA)/cols` and growing a hundredfold until the factorisation succeeds:
    /// a ridge-regularised solution, which changes the fit by a relative `O(λ)`.
    #[default]
    Batch,
    /// The sequential (recursive) formula of Jang 1993 (section III), the Kalman filter form,
    /// one row `aᵢ` (with target `tᵢ`) at a time from `θ₀ = 0` and `S₀ = γI`:
    ///
    /// `S_{i+1} = S_i − S_i a a ᵀS_i / (1 + aᵀ S_i a)`,
    /// `θ_{i+1} = θ_i + S_{i+1} a (t_i − aᵀθ_i)`,
    ///
    /// (with `S_{i+1} a = S_i a / (1 + aᵀS_i a)`, the form computed). After all rows `θ` is
    /// the solution of `(AᵀA + I/γ) θ = Aᵀt`: the batch solution up to a ridge `1/γ`, so `γ`
    /// should be large (the paper's advice; [`LeastSquares::DEFAULT_GAMMA`] is `10⁶`). On the
    /// paper's sinc example (`A` of 121 × 48) `γ = 10⁶` puts `θ` within `5·10⁻⁵` (relative)
    /// of the batch solution and `γ = 10⁸` within `5·10⁻⁷`; beyond about `10¹⁰` rounding in
    /// `S` dominates and the agreement gets worse again.
    Recursive {
        /// The initial scale `γ` of `S₀ = γI`; positive and finite.
        gamma: f64,
    },
}

impl LeastSquares {
    /// The default `γ` of [`LeastSquares::recursive`]: `10⁶`.
    pub const DEFAULT_GAMMA: f64 = 1e6;

    /// [`LeastSquares::Recursive`] with `γ = 10⁶`.
    pub fn recursive() -> LeastSquares {
        LeastSquares::Recursive {
            gamma: Self::DEFAULT_GAMMA,
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`gamma`) for a `γ` that is not positive and finite.
    pub fn validate(&self) -> Result<()> {
        match *self {
            LeastSquares::Batch => Ok(()),
            LeastSquares::Recursive { gamma } if gamma > 0.0 && gamma.is_finite() => Ok(()),
            LeastSquares::Recursive { gamma } => Err(NnError::InvalidSetting {
                what: "gamma",
                reason: format!("must be positive and finite, got {gamma}"),
            }),
        }
    }

    /// The least-squares solution `θ` (`cols` values) of `A θ ≈ t`, for a row-major `A` of
    /// `rows × cols` and `t` of `rows` values.
    ///
    /// Cost: batch, `rows·cols²/2` multiply-adds for `AᵀA` and `cols³/6` for its Cholesky
    /// factor; recursive, `2·rows·cols²`. Both allocate `cols²` values.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: `a` (or `t`) whose length is not `rows·cols` (or `rows`),
    /// or that holds a NaN or infinity; a bad `γ`.
    ///
    /// # Examples
    /// ```
    /// use adnet_nn::anfis::LeastSquares;
    /// // fit t = 2 + 3s through (0, 2), (1, 5), (2, 8): rows [1, s]
    /// let a = [1.0, 0.0, 1.0, 1.0, 1.0, 2.0];
    /// let t = [2.0, 5.0, 8.0];
    /// let batch = LeastSquares::Batch.solve(&a, 3, 2, &t)?;
    /// assert!((batch[0] - 2.0).abs() < 1e-12 && (batch[1] - 3.0).abs() < 1e-12);
    /// let recursive = LeastSquares::recursive().solve(&a, 3, 2, &t)?;
    /// assert!((recursive[1] - 3.0).abs() < 1e-5);
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn solve(&self, a: &[f64], rows: usize, cols: usize, t: &[f64]) -> Result<Vec<f64>> {
        self.validate()?;
        check_data(a, rows, cols, t)?;
        match *self {
            LeastSquares::Batch => Ok(batch(a, rows, cols, t)),
            LeastSquares::Recursive { gamma } => Ok(recursive(a, rows, cols, t, gamma)),
        }
    }
}

/// Checks the lengths and finiteness of the design matrix and the targets.
fn check_data(a: &[f64], rows: usize, cols: usize, t: &[f64]) -> Result<()> {
    let size = rows.checked_mul(cols);
    if size != Some(a.len()) {
        return Err(NnError::InvalidSetting {
            what: "a",
            reason: format!(
                "a {rows} × {cols} design matrix needs {} values, got {}",
                rows.saturating_mul(cols),
                a.len()
            ),
        });
    }
    if t.len() != rows {
        return Err(NnError::InvalidSetting {
            what: "t",
            reason: format!("{rows} rows need {rows} targets, got {}", t.len()),
        });
    }
    if let Some(k) = a.iter().position(|v| !v.is_finite()) {
        return Err(NnError::InvalidSetting {
            what: "a",
            reason: format!(
                "the design matrix holds {} at row {}, column {}",
                a[k],
                k / cols.max(1),
                k % cols.max(1)
            ),
        });
    }
    if let Some(k) = t.iter().position(|v| !v.is_finite()) {
        return Err(NnError::InvalidSetting {
            what: "t",
            reason: format!("target {k} is {}", t[k]),
        });
    }
    Ok(())
}

/// How many times the ridge of [`batch`] may grow a hundredfold: from `10⁻¹⁴` to `10⁴` times
/// the mean diagonal, where Cholesky cannot fail on finite data.
const RIDGE_STEPS: i32 = 10;

/// The normal equations, with a growing ridge when Cholesky fails (see
/// [`LeastSquares::Batch`]).
fn batch(a: &[f64], rows: usize, cols: usize, t: &[f64]) -> Vec<f64> {
    let mut normal = vec![0.0; cols * cols];
    gram(a, rows, cols, &mut normal);
    let mut rhs = vec![0.0; cols];
    gemv_transposed(a, rows, cols, t, &mut rhs);
    let trace: f64 = (0..cols).map(|i| normal[i * cols + i]).sum();
    let scale = if trace > 0.0 {
        trace / cols as f64
    } else {
        1.0
    };
    let mut factor = vec![0.0; cols * cols];
    for step in 0..=RIDGE_STEPS {
        let ridge = if step == 0 {
            0.0
        } else {
            scale * 1e-14 * 100f64.powi(step - 1)
        };
        factor.copy_from_slice(&normal);
        for i in 0..cols {
            factor[i * cols + i] += ridge;
        }
        if cholesky(&mut factor, cols).is_ok() {
            let mut theta = rhs;
            cholesky_solve(&factor, cols, &mut theta);
            return theta;
        }
    }
    // unreachable on finite data: with a ridge 10⁴ times the mean diagonal every pivot is
    // at least the ridge; return the largest-ridge solution's limit, θ = 0, if it happens
    vec![0.0; cols]
}

/// The recursive form (see [`LeastSquares::Recursive`]).
fn recursive(a: &[f64], rows: usize, cols: usize, t: &[f64], gamma: f64) -> Vec<f64> {
    let mut theta = vec![0.0; cols];
    let mut s = vec![0.0; cols * cols];
    for i in 0..cols {
        s[i * cols + i] = gamma;
    }
    let mut s_a = vec![0.0; cols];
    for (row, &target) in a.chunks_exact(cols.max(1)).take(rows).zip(t) {
        // S a (S is symmetric, so this is also aᵀS)
        for (out, s_row) in s_a.iter_mut().zip(s.chunks_exact(cols)) {
            *out = dot(s_row, row);
        }
        let denominator = 1.0 + dot(row, &s_a);
        let error = target - dot(row, &theta);
        let gain = error / denominator;
        for (th, &v) in theta.iter_mut().zip(&s_a) {
            *th += v * gain;
        }
        for (s_row, &vi) in s.chunks_exact_mut(cols).zip(&s_a) {
            let scaled = vi / denominator;
            for (sij, &vj) in s_row.iter_mut().zip(&s_a) {
                *sij -= scaled * vj;
            }
        }
    }
    theta
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_adds_a_ridge_to_a_singular_system() -> Result<()> {
        // two identical columns: AᵀA is singular, the ridge picks the symmetric split
        let a = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
        let t = [2.0, 4.0, 6.0];
        let theta = LeastSquares::Batch.solve(&a, 3, 2, &t)?;
        assert!((theta[0] + theta[1] - 2.0).abs() < 1e-6, "{theta:?}");
        assert!((theta[0] - theta[1]).abs() < 1e-6, "{theta:?}");
        Ok(())
    }

    #[test]
    fn rejects_bad_lengths_values_and_gamma() {
        let a = [1.0, 2.0, 3.0];
        assert!(matches!(
            LeastSquares::Batch.solve(&a, 2, 2, &[1.0, 2.0]),
            Err(NnError::InvalidSetting { what: "a", .. })
        ));
        assert!(matches!(
            LeastSquares::Batch.solve(&a, 3, 1, &[1.0]),
            Err(NnError::InvalidSetting { what: "t", .. })
        ));
        assert!(matches!(
            LeastSquares::Batch.solve(&[1.0, f64::NAN], 2, 1, &[1.0, 2.0]),
            Err(NnError::InvalidSetting { what: "a", .. })
        ));
        assert!(matches!(
            LeastSquares::Recursive { gamma: 0.0 }.solve(&a, 3, 1, &[1.0; 3]),
            Err(NnError::InvalidSetting { what: "gamma", .. })
        ));
    }
}
