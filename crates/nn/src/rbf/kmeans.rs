//! [`kmeans`]: k-means clustering, seeded with k-means++ and refined by Lloyd's iterations,
//! which places an RBF network's centres.

use adnet_tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{NnError, Result};

/// What [`kmeans`] found: `k` centres, each sample's cluster, and how well they fit.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    /// The centres `c_j`, `[k, d]`, `f64`. After a converged run each is the mean of its
    /// cluster's samples, `c_j = (1/|C_j|) Σ_{i ∈ C_j} x_i`.
    pub centres: Tensor,
    /// The cluster of each sample, `a_i = argmin_j ‖x_i − c_j‖²` (the lowest `j` at a tie).
    pub assignments: Vec<usize>,
    /// The within-cluster sum of squares, `Σ_i ‖x_i − c_{a_i}‖²`.
    pub inertia: f64,
    /// The Lloyd iterations run (each moves the centres to their clusters' means, then
    /// reassigns the samples).
    pub iterations: usize,
    /// Whether the last iteration changed no assignment (a fixed point of Lloyd's algorithm);
    /// `false` when `max_iter` stopped the run first.
    pub converged: bool,
}

/// Clusters the rows of `features` (`[n, d]`, either dtype) into `k` clusters, minimising the
/// within-cluster sum of squares `Σ_i ‖x_i − c_{a_i}‖²`.
///
/// Seeding is k-means++ (D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
/// seeding", SODA 2007): the first centre is a sample drawn uniformly, and each further centre
/// a sample drawn with probability `D(x)² / Σ D²`, `D(x)` its distance to the nearest centre
/// chosen so far (uniformly again if every sample already sits on a centre). Then Lloyd's
/// iterations: move every centre to the mean of its cluster, reassign every sample to its
/// nearest centre, and stop when no assignment changes or after `max_iter` iterations
/// (`max_iter = 0` returns the seeding, with its assignments). A cluster left empty takes, in
/// index order, the sample farthest from its own centre (not taken by an earlier empty
/// cluster), as scikit-learn does; it keeps its centre when every sample sits on its centre.
///
/// The same `features`, `k`, `seed` and `max_iter` give the same result: every draw comes
/// from a [`StdRng`] seeded with `seed`, and all arithmetic is in `f64`, in a fixed order.
///
/// # Errors
/// [`NnError::InvalidSetting`]: (`features`) for a tensor that is not `[n, d]` with `n, d ≥ 1`
/// or holds a NaN or infinity (naming the first, by row and column); (`k`) for `k = 0` or
/// `k > n`.
///
/// # Cost
/// `O(n·k·d)` per iteration, and the same for the seeding; `O(n·d + k·d)` memory.
///
/// # Examples
/// ```
/// use adnet_nn::rbf::kmeans;
/// use adnet_tensor::Tensor;
/// // two tight groups, around (0, 0) and (10, 10)
/// let x = Tensor::from_vec(vec![0.0, 0.0, 0.2, 0.0, 10.0, 10.0, 10.0, 10.2], [4, 2])?;
/// let clusters = kmeans(&x, 2, 7, 100)?;
/// assert!(clusters.converged);
/// assert_eq!(clusters.assignments[0], clusters.assignments[1]);
/// assert_ne!(clusters.assignments[1], clusters.assignments[2]);
/// assert!((clusters.inertia - 4.0 * 0.01).abs() < 1e-12);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
pub fn kmeans(features: &Tensor, k: usize, seed: u64, max_iter: usize) -> Result<KMeans> {
    let rows = Rows::of(features)?;
    if k == 0 || k > rows.n {
        return Err(NnError::InvalidSetting {
            what: "k",
            reason: format!(
                "need between 1 and {} clusters (at most one per sample), got {k}",
                rows.n
            ),
        });
    }
    Ok(rows.kmeans(k, seed, max_iter))
}

/// A validated `[n, d]` matrix of finite samples, in `f64`, row-major.
#[derive(Debug, Clone)]
pub(crate) struct Rows {
    pub(crate) values: Vec<f64>,
    pub(crate) n: usize,
    pub(crate) d: usize,
}

impl Rows {
    /// The rows of `features`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`features`) for a shape other than `[n, d]` with
    /// `n, d ≥ 1`, or a value that is not finite.
    pub(crate) fn of(features: &Tensor) -> Result<Rows> {
        Rows::named(features, "features", "sample")
    }

    /// The rows of `matrix`, called `what` in errors, each row a `row`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`what`) for a shape other than `[n, d]` with `n, d ≥ 1`, or
    /// a value that is not finite.
    pub(crate) fn named(matrix: &Tensor, what: &'static str, row: &str) -> Result<Rows> {
        let invalid = |reason: String| NnError::InvalidSetting { what, reason };
        let &[n, d] = matrix.dims() else {
            return Err(invalid(format!(
                "expected a [{row}s, features] matrix, got shape {}",
                matrix.shape()
            )));
        };
        if n == 0 || d == 0 {
            return Err(invalid(format!(
                "need at least one {row} and one feature, got shape {}",
                matrix.shape()
            )));
        }
        let values = matrix.to_f64_vec();
        if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "{row} {} feature {} is {} (every value must be finite)",
                bad / d,
                bad % d,
                values[bad]
            )));
        }
        Ok(Rows { values, n, d })
    }

    /// Row `i`.
    pub(crate) fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.d..(i + 1) * self.d]
    }

    /// k-means on validated rows, `1 <= k <= n`.
    fn kmeans(&self, k: usize, seed: u64, max_iter: usize) -> KMeans {
        let (n, d) = (self.n, self.d);
        let mut centres = self.seed_centres(k, seed);
        let mut assignments = vec![0; n];
        let mut distances = vec![0.0; n];
        self.assign(&centres, k, &mut assignments, &mut distances);
        let mut iterations = 0;
        let mut converged = false;
        while iterations < max_iter {
            self.update(&mut centres, k, &assignments, &distances);
            iterations += 1;
            if !self.assign(&centres, k, &mut assignments, &mut distances) {
                converged = true;
                break;
            }
        }
        // `distances` are to the final centres from the final assignments in both exits
        let inertia = distances.iter().sum();
        KMeans {
            centres: Tensor::from_vec(centres, [k, d]).expect("k·d values for a [k, d] tensor"),
            assignments,
            inertia,
            iterations,
            converged,
        }
    }

    /// k-means++ seeding: `k` rows, each drawn with probability proportional to its squared
    /// distance to the nearest row drawn before.
    fn seed_centres(&self, k: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut centres = Vec::with_capacity(k * self.d);
        let first = rng.random_range(0..self.n);
        centres.extend_from_slice(self.row(first));
        let mut nearest: Vec<f64> = (0..self.n)
            .map(|i| squared_distance(self.row(i), self.row(first)))
            .collect();
        for _ in 1..k {
            let total: f64 = nearest.iter().sum();
            let chosen = if total > 0.0 {
                let target = rng.random::<f64>() * total;
                let mut cumulative = 0.0;
                // rounding can leave `target` at or past the last partial sum: fall back to
                // the last sample that can be drawn
                let mut chosen = nearest.iter().rposition(|&v| v > 0.0).unwrap_or(0);
                for (i, &v) in nearest.iter().enumerate() {
                    cumulative += v;
                    if v > 0.0 && cumulative > target {
                        chosen = i;
                        break;
                    }
                }
                chosen
            } else {
                rng.random_range(0..self.n)
            };
            let row = self.row(chosen);
            centres.extend_from_slice(row);
            for (i, best) in nearest.iter_mut().enumerate() {
                *best = best.min(squared_distance(self.row(i), row));
            }
        }
        centres
    }

    /// Assigns every row to its nearest centre (the lowest index at a tie), storing its
    /// squared distance; returns whether any assignment changed.
    fn assign(
        &self,
        centres: &[f64],
        k: usize,
        assignments: &mut [usize],
        distances: &mut [f64],
    ) -> bool {
        let mut changed = false;
        for i in 0..self.n {
            let row = self.row(i);
            let mut best = (0, f64::INFINITY);
            for j in 0..k {
                let dist = squared_distance(row, &centres[j * self.d..(j + 1) * self.d]);
                if dist < best.1 {
                    best = (j, dist);
                }
            }
            changed |= assignments[i] != best.0;
            assignments[i] = best.0;
            distances[i] = best.1;
        }
        changed
    }

    /// Moves every centre to the mean of its cluster; an empty cluster takes the row farthest
    /// from its centre (`distances`, from the assignment step) that no earlier empty cluster
    /// took, or keeps its centre when no row is away from its centre.
    fn update(&self, centres: &mut [f64], k: usize, assignments: &[usize], distances: &[f64]) {
        let d = self.d;
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        for (i, &j) in assignments.iter().enumerate() {
            counts[j] += 1;
            for (s, x) in sums[j * d..(j + 1) * d].iter_mut().zip(self.row(i)) {
                *s += x;
            }
        }
        let mut taken = vec![false; self.n];
        for j in 0..k {
            let centre = &mut centres[j * d..(j + 1) * d];
            if counts[j] > 0 {
                let count = counts[j] as f64;
                for (c, s) in centre.iter_mut().zip(&sums[j * d..(j + 1) * d]) {
                    *c = s / count;
                }
                continue;
            }
            let farthest = (0..self.n)
                .filter(|&i| !taken[i] && distances[i] > 0.0)
                .fold(None, |best: Option<usize>, i| match best {
                    Some(b) if distances[b] >= distances[i] => Some(b),
                    _ => Some(i),
                });
            if let Some(i) = farthest {
                taken[i] = true;
                centre.copy_from_slice(self.row(i));
            }
        }
    }
}

/// `‖a − b‖²`, summed in order.
pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: &[f64], d: usize) -> Tensor {
        Tensor::from_vec(values.to_vec(), [values.len() / d, d]).expect("whole rows")
    }

    #[test]
    fn one_cluster_is_the_mean() -> Result<()> {
        let x = rows(&[0.0, 1.0, 2.0, 5.0], 1);
        let result = kmeans(&x, 1, 3, 10)?;
        assert_eq!(result.centres.to_f64_vec(), vec![2.0]);
        assert_eq!(result.assignments, vec![0; 4]);
        assert_eq!(result.inertia, 4.0 + 1.0 + 0.0 + 9.0);
        assert!(result.converged);
        assert_eq!(result.iterations, 1);
        Ok(())
    }

    #[test]
    fn k_equal_to_n_puts_a_centre_on_every_sample() -> Result<()> {
        let x = rows(&[0.0, 0.0, 1.0, 0.0, 0.0, 1.0], 2);
        let result = kmeans(&x, 3, 0, 10)?;
        assert_eq!(result.inertia, 0.0);
        let mut sorted = result.assignments.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2]);
        Ok(())
    }

    #[test]
    fn duplicate_samples_leave_duplicate_centres_and_no_nan() -> Result<()> {
        // two distinct points, three clusters: seeding must repeat a point, and the emptied
        // cluster keeps its centre, as every sample sits on a centre
        let x = rows(&[1.0, 1.0, 1.0, 4.0, 4.0], 1);
        let result = kmeans(&x, 3, 5, 20)?;
        assert_eq!(result.inertia, 0.0);
        assert!(result
            .centres
            .to_f64_vec()
            .iter()
            .all(|c| *c == 1.0 || *c == 4.0));
        Ok(())
    }

    #[test]
    fn zero_iterations_return_the_seeding() -> Result<()> {
        let x = rows(&[0.0, 1.0, 10.0, 11.0], 1);
        let result = kmeans(&x, 2, 1, 0)?;
        assert_eq!(result.iterations, 0);
        assert!(!result.converged);
        // the seeds are samples
        assert!(result
            .centres
            .to_f64_vec()
            .iter()
            .all(|c| [0.0, 1.0, 10.0, 11.0].contains(c)));
        Ok(())
    }

    #[test]
    fn an_empty_cluster_takes_the_farthest_sample() {
        let x = Rows::of(&rows(&[0.0, 1.0, 9.0], 1)).expect("valid");
        // centre 1 has no samples: it moves to 9, the farthest from its centre 0
        let mut centres = vec![0.0, 100.0];
        let assignments = [0, 0, 0];
        let distances = [0.0, 1.0, 81.0];
        x.update(&mut centres, 2, &assignments, &distances);
        assert_eq!(centres, vec![10.0 / 3.0, 9.0]);
    }
}
