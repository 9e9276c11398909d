//! [`Adaline`]: Widrow and Hoff's least-mean-squares rule, and the exact least-squares weights.

use super::unit::{
    check_lr_and_epochs, check_samples, dataset_values, invalid, linear_unit_methods, Unit,
};
use super::SampleOrder;
use crate::classic::linalg::{solve_least_squares, RankDeficient};
use crate::data::DataSet;
use crate::Result;

/// Settings of [`Adaline::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdalineOptions {
    /// The learning rate `η`, finite and positive (default 0.01). LMS diverges when `η` is
    /// too large for the features' scale (above about `2 / λ_max` of their second-moment
    /// matrix); standardize the features first.
    pub lr: f64,
    /// The most epochs, at least 1 (default 1000).
    pub max_epochs: usize,
    /// Training stops once the mean squared error changes by less than this in an epoch
    /// (finite, non-negative; default 1e-9; 0 runs all `max_epochs`). With a shuffled order the
    /// error jitters from epoch to epoch by an amount that grows with `η`: use a larger `tol`.
    pub tol: f64,
    /// The order of the samples in each epoch (default [`SampleOrder::Fixed`]).
    pub order: SampleOrder,
}

impl Default for AdalineOptions {
    fn default() -> Self {
        AdalineOptions {
            lr: 0.01,
            max_epochs: 1000,
            tol: 1e-9,
            order: SampleOrder::Fixed,
        }
    }
}

/// What [`Adaline::fit`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AdalineReport {
    /// Whether the mean squared error changed by less than [`AdalineOptions::tol`] in the last
    /// epoch.
    pub converged: bool,
    /// Epochs run.
    pub epochs: usize,
    /// The mean squared error `(1/n) Σ (t − net)²` over the training set with the weights at
    /// the end of each epoch, `epochs` of them.
    pub mse: Vec<f64>,
    /// Training samples on the wrong side of the final line (`sgn(net) ≠ t`).
    pub misclassified: usize,
}

/// Widrow and Hoff's ADALINE: a linear unit trained on its linear output `net = w·x + b` by the
/// least-mean-squares rule, classifying by `sgn(net)` (see the [module docs](super)).
///
/// On each sample, in the order of [`AdalineOptions::order`]:
///
/// ```text
/// e = t − (w·x + b);   w ← w + η e x;   b ← b + η e
/// ```
///
/// a step of stochastic gradient descent on `½ (t − net)²`. Epochs go on until the mean squared
/// error over the training set changes by less than [`AdalineOptions::tol`].
#[derive(Debug, Clone, PartialEq)]
pub struct Adaline {
    unit: Unit,
}

linear_unit_methods!(
    Adaline,
    "An ADALINE",
    "ADALINE",
    AdalineOptions,
    AdalineReport
);

impl Adaline {
    /// The ADALINE whose weights minimise the mean squared error `(1/n) Σ (t − w·x − b)²`
    /// exactly: the linear least-squares solution that LMS approaches for a small `η`, found by
    /// a Householder QR factorisation of the `n × (d + 1)` matrix `[X 1]`. Features and targets
    /// are as in [`Adaline::fit`] (`0/1` targets become `−1/+1` first).
    ///
    /// # Errors
    /// As [`Adaline::fit`] for the data, and [`NnError::InvalidSetting`] (`features`) when the
    /// solution is not unique: fewer than `d + 1` samples, or a feature that is constant or a
    /// linear combination of the others.
    ///
    /// [`NnError::InvalidSetting`]: crate::NnError::InvalidSetting
    pub fn least_squares(
        num_features: usize,
        features: &[f64],
        targets: &[f64],
    ) -> Result<Adaline> {
        let targets = check_samples(features, num_features, targets)?;
        let (n, p) = (targets.len(), num_features + 1);
        let mut a = Vec::with_capacity(n * p);
        for i in 0..n {
            a.extend_from_slice(&features[i * num_features..(i + 1) * num_features]);
            a.push(1.0);
        }
        let solution = solve_least_squares(&a, n, p, &targets);
        let mut solution = solution.map_err(|RankDeficient { column }| {
            let name = if column < num_features {
                format!("feature {column}")
            } else {
                "the bias's column of ones".to_string()
            };
            invalid(
                "features",
                format!(
                    "the least-squares solution is not unique: in the {n} × {p} matrix of the \
                     features and a column of ones, {name} is a linear combination of the \
                     columns before it (a constant or collinear feature, or fewer than {p} \
                     samples)"
                ),
            )
        })?;
        let bias = solution.pop().unwrap_or(0.0);
        Adaline::from_weights(solution, bias)
    }

    /// [`Adaline::least_squares`] on a [`DataSet`] shaped as for [`Adaline::fit_dataset`].
    ///
    /// # Errors
    /// As [`Adaline::least_squares`] and [`Adaline::fit_dataset`].
    pub fn least_squares_dataset(data: &DataSet) -> Result<Adaline> {
        let d = data.num_features();
        let (features, targets) = dataset_values(data, d)?;
        Adaline::least_squares(d, &features, &targets)
    }

    /// The mean squared error `(1/n) Σ (t − net)²` on these samples (`0/1` targets become
    /// `−1/+1`).
    ///
    /// # Errors
    /// As [`Adaline::fit`] for the data.
    pub fn mse(&self, features: &[f64], targets: &[f64]) -> Result<f64> {
        let targets = check_samples(features, self.num_features(), targets)?;
        Ok(self.unit.mse(features, &targets))
    }

    /// Trains by the LMS rule on `n` samples, `features` row-major `n × d`, with `targets` `±1`
    /// or `0/1` (`0` becomes `−1`), from the current weights, until the mean squared error
    /// changes by less than [`AdalineOptions::tol`] in an epoch (the first epoch compares with
    /// the error before training) or [`AdalineOptions::max_epochs`].
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`], leaving the ADALINE unchanged, for: `lr` not finite and
    /// positive, `max_epochs` zero or `tol` negative or not finite; the data errors of
    /// [`Perceptron::fit`]; an error that became infinite or NaN (`lr`, naming the epoch:
    /// LMS diverged because `η` is too large for the features' scale).
    ///
    /// [`NnError::InvalidSetting`]: crate::NnError::InvalidSetting
    /// [`Perceptron::fit`]: super::Perceptron::fit
    pub fn fit(
        &mut self,
        features: &[f64],
        targets: &[f64],
        options: &AdalineOptions,
    ) -> Result<AdalineReport> {
        check_lr_and_epochs(options.lr, options.max_epochs)?;
        if !(options.tol.is_finite() && options.tol >= 0.0) {
            return Err(invalid(
                "tol",
                format!("must be finite and non-negative, got {}", options.tol),
            ));
        }
        let targets = check_samples(features, self.num_features(), targets)?;
        let mut report = AdalineReport {
            converged: false,
            epochs: 0,
            mse: Vec::new(),
            misclassified: 0,
        };
        let mut previous = self.unit.mse(features, &targets);
        self.unit.train(
            targets.len(),
            options.max_epochs,
            options.order,
            |unit, order| {
                for &i in order {
                    let x = unit.sample(features, i);
                    let error = targets[i] - unit.net(x);
                    unit.step(options.lr * error, x);
                }
                let mse = unit.mse(features, &targets);
                report.epochs += 1;
                report.mse.push(mse);
                if !mse.is_finite() {
                    return Err(invalid(
                        "lr",
                        format!(
                            "LMS diverged (mean squared error {mse} after epoch {}): lr = {} is \
                             too large for these features; lower it or standardize the features",
                            report.epochs, options.lr
                        ),
                    ));
                }
                report.converged = (previous - mse).abs() < options.tol;
                previous = mse;
                Ok(report.converged)
            },
        )?;
        report.misclassified = self.unit.misclassified(features, &targets);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::perceptron::unit::tests::reason;
    use adnet_tensor::assert_close;

    #[test]
    fn lms_rule_steps_by_lr_times_error() -> Result<()> {
        let mut a = Adaline::from_weights(vec![1.0, 0.0], 0.5)?;
        let options = AdalineOptions {
            lr: 0.1,
            max_epochs: 1,
            ..AdalineOptions::default()
        };
        // net = 2 + 0.5, error = 1 − 2.5 = −1.5, step = −0.15 (x and 1)
        let report = a.fit(&[2.0, 3.0], &[1.0], &options)?;
        assert_close!(a.weights()[0], 1.0 - 0.3, 1e-15);
        assert_close!(a.weights()[1], -0.45, 1e-15);
        assert_close!(a.bias(), 0.35, 1e-15);
        assert_eq!(report.epochs, 1);
        assert!(!report.converged);
        assert_close!(report.mse[0], (1.0 - a.net(&[2.0, 3.0])?).powi(2), 1e-15);
        Ok(())
    }

    #[test]
    fn diverging_lms_is_an_error_and_keeps_the_weights() -> Result<()> {
        let mut a = Adaline::new(1);
        let options = AdalineOptions {
            lr: 10.0,
            max_epochs: 10_000,
            ..AdalineOptions::default()
        };
        let r = reason(a.fit(&[100.0, -100.0], &[1.0, -1.0], &options), "lr");
        assert!(r.contains("diverged") && r.contains("epoch"), "{r}");
        assert_eq!(a, Adaline::new(1));
        let bad = AdalineOptions {
            tol: -1.0,
            ..AdalineOptions::default()
        };
        reason(a.fit(&[1.0], &[1.0], &bad), "tol");
        Ok(())
    }

    #[test]
    fn least_squares_matches_the_normal_equations() -> Result<()> {
        // x = 0, 1, 2 with t = −1, 1, 1: slope cov/var = 2/2 = 1, b = 1/3 − 1
        let a = Adaline::least_squares(1, &[0.0, 1.0, 2.0], &[-1.0, 1.0, 1.0])?;
        assert_close!(a.weights()[0], 1.0, 1e-14);
        assert_close!(a.bias(), -2.0 / 3.0, 1e-14);
        // the same with 0/1 targets
        let b = Adaline::least_squares(1, &[0.0, 1.0, 2.0], &[0.0, 1.0, 1.0])?;
        assert_close!(b.bias(), a.bias(), 1e-14);
        Ok(())
    }

    #[test]
    fn least_squares_rejects_collinear_features_and_too_few_samples() {
        // feature 1 is twice feature 0
        let x = [1.0, 2.0, 2.0, 4.0, 3.0, 6.0, 4.0, 8.0];
        let r = reason(
            Adaline::least_squares(2, &x, &[1.0, -1.0, 1.0, 1.0]),
            "features",
        );
        assert!(r.contains("feature 1") && r.contains("not unique"), "{r}");
        // a constant feature is collinear with the bias's column
        let r = reason(
            Adaline::least_squares(1, &[5.0; 3], &[1.0, -1.0, 1.0]),
            "features",
        );
        assert!(r.contains("column of ones"), "{r}");
        let r = reason(Adaline::least_squares(2, &[1.0, 2.0], &[1.0]), "features");
        assert!(r.contains("fewer than 3 samples"), "{r}");
    }
}
