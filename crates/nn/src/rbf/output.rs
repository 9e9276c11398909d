//! [`Rbf::fit_output`]: the output layer by linear least squares, the second stage of classic
//! RBF training.

use adnet_graph::Graph;
use adnet_tensor::Tensor;

use super::kmeans::{squared_distance, Rows};
use super::Rbf;
use crate::classic::linalg::{cholesky, cholesky_solve, gemv_transposed, gram};
use crate::layers::named_node;
use crate::{NnError, Result};

/// How well [`Rbf::fit_output`]'s output layer fits its training data, in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputFit {
    /// The residual sum of squares, `Σ_i Σ_o (y_io − t_io)²`.
    pub sse: f64,
    /// The root mean square residual, `√(sse / (n·out))`.
    pub rmse: f64,
}

impl Rbf {
    /// The hidden activations of `features` (`[n, d]`), `Φ_ij = φ_j(x_i)`, as an `[n, k]` `f64`
    /// tensor, computed directly from the current centres and widths in `g` (in `f64`, with
    /// the distances as plain sums of squared differences: no graph is built).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`features`) for a tensor that is not `[n, d]` with the
    /// network's `d`, or holds a NaN or infinity; `g` not the graph the network was built in.
    pub fn design_matrix(&self, g: &Graph, features: &Tensor) -> Result<Tensor> {
        let rows = self.rows(features)?;
        let phi = self.phi(g, &rows)?;
        Ok(Tensor::from_vec(phi, [rows.n, self.units])?)
    }

    /// Sets the output layer by linear least squares, keeping the centres and widths: the
    /// second stage of classic RBF training, after the k-means placement of [`Rbf::new`].
    ///
    /// With `Φ̃ = [Φ | 1]` (`[n, k+1]`: the hidden activations and a column of ones for the
    /// bias) and the targets `T` (`[n, out]`), it minimises
    ///
    /// ```text
    /// (1/n) ‖Φ̃ W̃ − T‖² + ridge · ‖W‖²,    W̃ = [W; bᵀ]
    /// ```
    ///
    /// (the bias is not penalised) through the normal equations
    /// `(Φ̃ᵀΦ̃ + n·ridge·D) W̃ = Φ̃ᵀT`, `D = diag(1, …, 1, 0)`, by one Cholesky factorisation
    /// and a solve per output. The ridge keeps the system well conditioned when units overlap
    /// (two wide neighbouring Gaussians have nearly collinear activations): `1e-8` to `1e-6`
    /// barely changes a well-posed fit; 0 gives the plain least-squares solution.
    ///
    /// Targets are `[n, out]`, or `[n]`: values when `out = 1`, and class indices
    /// `0..out` when `out >= 2`, fitted as one-hot rows (predict the largest output).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: (`ridge`) for a negative or non-finite ridge, or normal
    /// equations that are not positive definite (collinear activations, ridge 0);
    /// (`features`) as [`Rbf::design_matrix`]; (`targets`) for targets of another shape, with a
    /// NaN or infinity, or a class index that is not an integer in `0..out`; `g` not the
    /// network's graph. On error the parameters are unchanged.
    ///
    /// # Cost
    /// `O(n·k·d)` for `Φ`, `O(n·k²)` for `Φ̃ᵀΦ̃`, `O(k³)` for the factorisation, all in `f64`,
    /// on one thread.
    pub fn fit_output(
        &self,
        g: &Graph,
        features: &Tensor,
        targets: &Tensor,
        ridge: f64,
    ) -> Result<OutputFit> {
        if !(ridge.is_finite() && ridge >= 0.0) {
            return Err(NnError::InvalidSetting {
                what: "ridge",
                reason: format!("must be finite and at least 0, got {ridge}"),
            });
        }
        let rows = self.rows(features)?;
        let (n, k, out) = (rows.n, self.units, self.out_features());
        let targets = target_matrix(targets, n, out)?;
        let weight = self.out.weight();
        let bias = self
            .out
            .bias()
            .expect("the output layer is created with a bias");
        let weight = named_node(g, &format!("{}.weight", self.out.name()), weight)?;
        let bias = named_node(g, &format!("{}.bias", self.out.name()), bias)?;
        let phi = self.phi(g, &rows)?;

        let m = k + 1;
        let mut design = vec![1.0; n * m];
        for (row, activations) in design.chunks_exact_mut(m).zip(phi.chunks_exact(k)) {
            row[..k].copy_from_slice(activations);
        }
        let mut normal = vec![0.0; m * m];
        gram(&design, n, m, &mut normal);
        for j in 0..k {
            normal[j * m + j] += n as f64 * ridge;
        }
        cholesky(&mut normal, m).map_err(|singular| NnError::InvalidSetting {
            what: "ridge",
            reason: format!(
                "the normal equations are not positive definite at pivot {} with ridge \
                 {ridge}: units with (nearly) collinear activations; use a positive ridge, \
                 fewer units or narrower widths",
                singular.pivot
            ),
        })?;
        let mut solution = vec![0.0; m * out];
        let mut column = vec![0.0; n];
        let mut rhs = vec![0.0; m];
        for o in 0..out {
            for (c, t) in column.iter_mut().zip(targets.iter().skip(o).step_by(out)) {
                *c = *t;
            }
            gemv_transposed(&design, n, m, &column, &mut rhs);
            cholesky_solve(&normal, m, &mut rhs);
            for (j, value) in rhs.iter().enumerate() {
                solution[j * out + o] = *value;
            }
        }
        let mut sse = 0.0;
        for (row, target) in design.chunks_exact(m).zip(targets.chunks_exact(out)) {
            for (o, t) in target.iter().enumerate() {
                let y: f64 = row
                    .iter()
                    .enumerate()
                    .map(|(j, a)| a * solution[j * out + o])
                    .sum();
                sse += (y - t) * (y - t);
            }
        }
        let dtype = weight.dtype();
        let weight_value = Tensor::from_f64s(&solution[..k * out], [k, out], dtype)?;
        let bias_value = Tensor::from_f64s(&solution[k * out..], [out], dtype)?;
        g.set_param(weight, &weight_value)?;
        g.set_param(bias, &bias_value)?;
        Ok(OutputFit {
            sse,
            rmse: (sse / (n * out) as f64).sqrt(),
        })
    }

    /// The rows of `features`, checked to be `[n, d]` with the network's `d`.
    fn rows(&self, features: &Tensor) -> Result<Rows> {
        let rows = Rows::of(features)?;
        if rows.d != self.in_features {
            return Err(NnError::InvalidSetting {
                what: "features",
                reason: format!(
                    "network `{}` takes {} features per sample, got shape {}",
                    self.name,
                    self.in_features,
                    features.shape()
                ),
            });
        }
        Ok(rows)
    }

    /// `Φ`, `[n, k]` row-major, from the current centres and widths.
    fn phi(&self, g: &Graph, rows: &Rows) -> Result<Vec<f64>> {
        let centres = named_node(g, &self.centres.0, self.centres.1)?;
        let centres = g.value(centres)?.to_f64_vec();
        let coefficients: Vec<f64> = self
            .widths(g)?
            .iter()
            .map(|sigma| -0.5 / (sigma * sigma))
            .collect();
        let d = self.in_features;
        let mut phi = Vec::with_capacity(rows.n * self.units);
        for i in 0..rows.n {
            let x = rows.row(i);
            for (centre, coefficient) in centres.chunks_exact(d).zip(&coefficients) {
                phi.push((coefficient * squared_distance(x, centre)).exp());
            }
        }
        Ok(phi)
    }
}

/// The targets as an `[n, out]` row-major matrix: `[n, out]` as given, `[n]` as values
/// (`out = 1`) or as class indices made one-hot (`out >= 2`).
fn target_matrix(targets: &Tensor, n: usize, out: usize) -> Result<Vec<f64>> {
    let invalid = |reason: String| NnError::InvalidSetting {
        what: "targets",
        reason,
    };
    let values = targets.to_f64_vec();
    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
        return Err(invalid(format!(
            "target {bad} is {} (every target must be finite)",
            values[bad]
        )));
    }
    match *targets.dims() {
        [rows, cols] if rows == n && cols == out => Ok(values),
        [rows] if rows == n && out == 1 => Ok(values),
        [rows] if rows == n => {
            let mut one_hot = vec![0.0; n * out];
            for (i, &label) in values.iter().enumerate() {
                if label.fract() != 0.0 || label < 0.0 || label >= out as f64 {
                    return Err(invalid(format!(
                        "sample {i} has class {label}, expected an integer in 0..{out}"
                    )));
                }
                one_hot[i * out + label as usize] = 1.0;
            }
            Ok(one_hot)
        }
        _ => Err(invalid(format!(
            "expected [{n}, {out}] or [{n}] for {n} samples and {out} outputs, got shape {}",
            targets.shape()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_labels_become_one_hot_rows() -> Result<()> {
        let labels = Tensor::from_vec(vec![2.0, 0.0], [2])?;
        assert_eq!(
            target_matrix(&labels, 2, 3)?,
            vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(target_matrix(&labels, 2, 1)?, vec![2.0, 0.0]);
        for bad in [vec![3.0, 0.0], vec![0.5, 0.0], vec![-1.0, 0.0]] {
            let labels = Tensor::from_vec(bad, [2])?;
            assert!(matches!(
                target_matrix(&labels, 2, 3),
                Err(NnError::InvalidSetting {
                    what: "targets",
                    ..
                })
            ));
        }
        let wrong = Tensor::from_vec(vec![0.0; 4], [2, 2])?;
        assert!(target_matrix(&wrong, 2, 3).is_err());
        let nan = Tensor::from_vec(vec![0.0, f64::NAN], [2, 1])?;
        assert!(target_matrix(&nan, 2, 1).is_err());
        Ok(())
    }
}
