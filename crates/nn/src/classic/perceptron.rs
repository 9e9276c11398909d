//! The two rules the field started from: Rosenblatt's perceptron and Widrow and Hoff's ADALINE,
//! single linear units that separate two classes with a line (a hyperplane past two features).
//!
//! Both compute the net input `net = w·x + b` of `d` features `x` and classify by its sign,
//! `y = sgn(net)` in `{−1, +1}`, with **`sgn(0) = +1`**. Both learn *online*, one sample at a
//! time, each epoch visiting every sample once in a fixed or a seeded shuffled order
//! ([`SampleOrder`]). They differ in what they correct:
//!
//! - [`Perceptron`] (Rosenblatt 1958, *The perceptron: a probabilistic model for information
//!   storage and organization in the brain*) corrects mistakes only, using the thresholded output:
//!   `w ← w + η (t − y) x / 2`, `b ← b + η (t − y) / 2`, which is `w ← w + η t x`, `b ← b + η t`
//!   on a mistake (`t · net ≤ 0`: a sample on the line counts as a mistake for either class) and
//!   nothing otherwise. It stops after the first epoch without a mistake, which comes after at
//!   most `(R/γ)²` mistakes from zero weights when a line separates the classes with margin `γ`
//!   (Novikoff 1962, `R` the largest `‖(x, 1)‖`), and never when none does (XOR): training then
//!   ends after [`PerceptronOptions::max_epochs`] with `converged == false`. `sgn` has no useful
//!   derivative, so this is its own rule, not gradient descent through autodiff.
//! - [`Adaline`] (Widrow and Hoff 1960, *Adaptive switching circuits*) corrects the linear output
//!   towards the target on every sample, the least-mean-squares (LMS, Widrow-Hoff, delta) rule
//!   `w ← w + η (t − net) x`, `b ← b + η (t − net)`: stochastic gradient descent on the mean
//!   squared error `E = (1/n) Σ (t − net)²`. It settles near the least-squares solution, which
//!   [`Adaline::least_squares`] computes directly: within a distance proportional to `η` (the
//!   last samples' corrections pull it off), or exactly when a linear function fits the
//!   targets exactly.
//!
//! These are the lecture's single-layer perceptron: two features (hair length and voice
//! frequency), targets `+1` and `−1`, and the line `w₁x₁ + w₂x₂ + b = 0` between the classes
//! ([`DecisionLine`]).
//!
//! Targets may be given as `±1` or as `0/1` (`0` becomes `−1`); features must be finite. Training
//! continues from the current weights (zeros from [`Perceptron::new`], seeded random ones from
//! [`Init::Uniform`]).
//!
//! # Examples
//! ```
//! use adnet_nn::classic::perceptron::{Adaline, AdalineOptions, Perceptron, PerceptronOptions};
//! // logical AND on ±1 inputs: only (1, 1) is in class +1
//! let x = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]];
//! let t = [-1.0, -1.0, -1.0, 1.0];
//! let mut perceptron = Perceptron::new(2);
//! let report = perceptron.fit(x.as_flattened(), &t, &PerceptronOptions::default())?;
//! assert!(report.converged);
//! assert_eq!(report.mistakes.last(), Some(&0));
//! assert_eq!(perceptron.predict(&[1.0, 1.0])?, 1.0);
//! assert_eq!(perceptron.predict(&[1.0, -1.0])?, -1.0);
//!
//! // ADALINE's LMS rule ends near the least-squares weights (here w = (½, ½), b = −½)
//! let mut adaline = Adaline::new(2);
//! let options = AdalineOptions { lr: 0.001, max_epochs: 5000, ..AdalineOptions::default() };
//! assert!(adaline.fit(x.as_flattened(), &t, &options)?.converged);
//! let exact = Adaline::least_squares(2, x.as_flattened(), &t)?;
//! assert!((exact.bias() + 0.5).abs() < 1e-12);
//! assert!((adaline.bias() - exact.bias()).abs() < 1e-3);
//! assert!((adaline.weights()[1] - exact.weights()[1]).abs() < 1e-3);
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::data::{DataSet, Standardization};
use crate::{NnError, Result};

/// How the online rules visit the samples in each epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleOrder {
    /// In the order given, every epoch (the default).
    #[default]
    Fixed,
    /// In a new random permutation every epoch, drawn from `StdRng::seed_from_u64(seed)`
    /// created when `fit` starts, so a run repeats exactly.
    Shuffled {
        /// The seed of the permutations.
        seed: u64,
    },
}

/// The weights and bias a unit starts from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Init {
    /// All zero (the default). From zero weights the perceptron's learning rate only scales
    /// `w` and `b`, so it changes neither its mistakes nor its line.
    #[default]
    Zeros,
    /// Each weight, then the bias, drawn uniformly from `[−limit, limit]` by
    /// `StdRng::seed_from_u64(seed)`.
    Uniform {
        /// The largest magnitude, finite and non-negative.
        limit: f64,
        /// The seed.
        seed: u64,
    },
}

/// Settings of [`Perceptron::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerceptronOptions {
    /// The learning rate `η`, finite and positive (default 1).
    pub lr: f64,
    /// The most epochs, at least 1 (default 1000).
    pub max_epochs: usize,
    /// The order of the samples in each epoch (default [`SampleOrder::Fixed`]).
    pub order: SampleOrder,
}

impl Default for PerceptronOptions {
    fn default() -> Self {
        PerceptronOptions {
            lr: 1.0,
            max_epochs: 1000,
            order: SampleOrder::Fixed,
        }
    }
}

/// What [`Perceptron::fit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerceptronReport {
    /// Whether an epoch went by without a mistake: the training set is then separated, every
    /// sample strictly on its own class's side of the line.
    pub converged: bool,
    /// Epochs run, the last one the mistake-free one when `converged`.
    pub epochs: usize,
    /// The mistakes (updates) in each epoch, `epochs` of them.
    pub mistakes: Vec<usize>,
}

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

/// The line `w₁x₁ + w₂x₂ + b = 0` of a two-feature unit, where its net input changes sign: a
/// form to print and to plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DecisionLine {
    /// `x₂ = slope · x₁ + intercept` (when `w₂ ≠ 0`).
    Sloped {
        /// `−w₁ / w₂`.
        slope: f64,
        /// `−b / w₂`.
        intercept: f64,
    },
    /// `x₁ = x1` (when `w₂ = 0`).
    Vertical {
        /// `−b / w₁`.
        x1: f64,
    },
}

impl DecisionLine {
    /// The line `w₁x₁ + w₂x₂ + b = 0`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`weights`) unless there are exactly two weights, all
    /// finite with the bias, and not both zero (then there is no line: every point is in the
    /// class of `sgn(b)`).
    pub fn from_weights(weights: &[f64], bias: f64) -> Result<DecisionLine> {
        let &[w1, w2] = weights else {
            return Err(invalid(
                "weights",
                format!(
                    "a decision line needs exactly 2 features, the unit has {}",
                    weights.len()
                ),
            ));
        };
        if !(w1.is_finite() && w2.is_finite() && bias.is_finite()) {
            return Err(invalid(
                "weights",
                format!("must be finite, got w = ({w1}, {w2}), b = {bias}"),
            ));
        }
        if w2 != 0.0 {
            Ok(DecisionLine::Sloped {
                slope: -w1 / w2,
                intercept: -bias / w2,
            })
        } else if w1 != 0.0 {
            Ok(DecisionLine::Vertical { x1: -bias / w1 })
        } else {
            Err(invalid(
                "weights",
                format!("both are zero, so there is no line: every point has net input {bias}"),
            ))
        }
    }

    /// `x₂` on the line at `x₁`; `None` for a vertical line.
    pub fn x2_at(&self, x1: f64) -> Option<f64> {
        match *self {
            DecisionLine::Sloped { slope, intercept } => Some(slope * x1 + intercept),
            DecisionLine::Vertical { .. } => None,
        }
    }

    /// The segment of the line inside the rectangle `x1_range × x2_range` (each `(low, high)`),
    /// as its two end points; `None` when the line misses the rectangle or only touches a
    /// corner, or when a range is not finite and increasing.
    pub fn clip(&self, x1_range: (f64, f64), x2_range: (f64, f64)) -> Option<[(f64, f64); 2]> {
        let ((x_lo, x_hi), (y_lo, y_hi)) = (x1_range, x2_range);
        let valid = |lo: f64, hi: f64| lo.is_finite() && hi.is_finite() && lo < hi;
        if !(valid(x_lo, x_hi) && valid(y_lo, y_hi)) {
            return None;
        }
        // a rounding tolerance, so a line through a corner is not lost on both edges
        let slack = 1e-12 * (x_hi - x_lo).max(y_hi - y_lo);
        let inside = |v: f64, lo: f64, hi: f64| v >= lo - slack && v <= hi + slack;
        let mut ends: Vec<(f64, f64)> = match *self {
            DecisionLine::Vertical { x1 } => {
                if !inside(x1, x_lo, x_hi) {
                    return None;
                }
                vec![(x1, y_lo), (x1, y_hi)]
            }
            DecisionLine::Sloped { slope, intercept } => {
                let mut ends = Vec::with_capacity(4);
                for x in [x_lo, x_hi] {
                    let y = slope * x + intercept;
                    if inside(y, y_lo, y_hi) {
                        ends.push((x, y.clamp(y_lo, y_hi)));
                    }
                }
                if slope != 0.0 {
                    for y in [y_lo, y_hi] {
                        let x = (y - intercept) / slope;
                        if inside(x, x_lo, x_hi) {
                            ends.push((x.clamp(x_lo, x_hi), y));
                        }
                    }
                }
                ends
            }
        };
        ends.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let (first, last) = (*ends.first()?, *ends.last()?);
        let apart = (last.0 - first.0).abs().max((last.1 - first.1).abs());
        (apart > slack).then_some([first, last])
    }
}

impl std::fmt::Display for DecisionLine {
    /// `x2 = 0.5 x1 + 3` or `x1 = 2`, numbers with the formatter's precision when one is given.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `+ 0.0` turns −0 into 0, which prints without a sign
        let number = |v: f64| match f.precision() {
            Some(p) => format!("{:.p$}", v + 0.0),
            None => format!("{}", v + 0.0),
        };
        match *self {
            DecisionLine::Sloped { slope, intercept } => {
                let sign = if intercept < 0.0 { '-' } else { '+' };
                write!(
                    f,
                    "x2 = {} x1 {sign} {}",
                    number(slope),
                    number(intercept.abs())
                )
            }
            DecisionLine::Vertical { x1 } => write!(f, "x1 = {}", number(x1)),
        }
    }
}

/// Rosenblatt's perceptron: a linear unit with a hard-limiting output `y = sgn(w·x + b)`,
/// trained by the perceptron rule (see the [module docs](self)).
///
/// On each sample, in the order of [`PerceptronOptions::order`]:
///
/// ```text
/// if t · (w·x + b) ≤ 0:   w ← w + η t x,   b ← b + η t
/// ```
///
/// which is `w ← w + η (t − y) x / 2` with `y = sgn(net)`, except that a sample exactly on the
/// line (`net = 0`) counts as a mistake for either class, so that a converged perceptron
/// separates its training set strictly and Novikoff's bound holds. [`Perceptron::predict`]
/// still gives `sgn(0) = +1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Perceptron {
    unit: Unit,
}

impl Perceptron {
    /// A perceptron on `num_features` features with zero weights and bias.
    pub fn new(num_features: usize) -> Perceptron {
        Perceptron {
            unit: Unit::zeros(num_features),
        }
    }

    /// A perceptron on `num_features` features starting from `init`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`limit`) for an [`Init::Uniform`] limit that is negative or
    /// not finite.
    pub fn with_init(num_features: usize, init: Init) -> Result<Perceptron> {
        Ok(Perceptron {
            unit: Unit::new(num_features, init)?,
        })
    }

    /// A perceptron with these weights and bias.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`weights`) when a weight or the bias is not finite.
    pub fn from_weights(weights: Vec<f64>, bias: f64) -> Result<Perceptron> {
        Ok(Perceptron {
            unit: Unit::from_weights(weights, bias)?,
        })
    }

    /// The number of features `d`.
    pub fn num_features(&self) -> usize {
        self.unit.weights.len()
    }

    /// The weights `w`, one per feature.
    pub fn weights(&self) -> &[f64] {
        &self.unit.weights
    }

    /// The bias `b`.
    pub fn bias(&self) -> f64 {
        self.unit.bias
    }

    /// The net input `w·x + b`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`x`) when `x` does not have `d` finite values.
    pub fn net(&self, x: &[f64]) -> Result<f64> {
        self.unit.checked_net(x)
    }

    /// The class `sgn(w·x + b)`: `+1.0` or `−1.0`, with `sgn(0) = +1`.
    ///
    /// # Errors
    /// As [`Perceptron::net`].
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        Ok(sgn(self.net(x)?))
    }

    /// The decision line `w₁x₁ + w₂x₂ + b = 0` of a two-feature perceptron.
    ///
    /// # Errors
    /// As [`DecisionLine::from_weights`]: not two features, or both weights zero.
    pub fn decision_line(&self) -> Result<DecisionLine> {
        DecisionLine::from_weights(&self.unit.weights, self.unit.bias)
    }

    /// The samples `predict` gets wrong: features row-major `n × d`, targets `±1` or `0/1`.
    ///
    /// # Errors
    /// As [`Perceptron::fit`] for the data.
    pub fn misclassified(&self, features: &[f64], targets: &[f64]) -> Result<usize> {
        let targets = check_samples(features, self.num_features(), targets)?;
        Ok(self.unit.misclassified(features, &targets))
    }

    /// The same perceptron on unstandardized features: for a perceptron trained on features
    /// standardized by `standardization` (`x' = (x − mean) / std`), the one that gives the same
    /// net input on the original `x` (`wᵢ / stdᵢ`, `b − Σ wᵢ meanᵢ / stdᵢ`), whose
    /// [`decision_line`](Perceptron::decision_line) is in the original units.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`standardization`) when its length is not `d`.
    pub fn to_original_units(&self, standardization: &Standardization) -> Result<Perceptron> {
        Ok(Perceptron {
            unit: self.unit.to_original_units(standardization)?,
        })
    }

    /// Trains on `n` samples, `features` row-major `n × d`, with `targets` `±1` or `0/1`,
    /// from the current weights, until an epoch without a mistake or
    /// [`PerceptronOptions::max_epochs`]. Data that no line separates is not an error: the
    /// report says `converged: false`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`], leaving the perceptron unchanged, for: `lr` not finite and
    /// positive or `max_epochs` zero; no samples, or `features` not `n × d` values
    /// (`features`); a feature that is not finite (`features`, naming sample and feature); a
    /// target other than `±1` and `0/1`, or `−1` and `0` both used (`targets`, naming the
    /// sample); weights that overflowed (`features`, naming the epoch).
    pub fn fit(
        &mut self,
        features: &[f64],
        targets: &[f64],
        options: &PerceptronOptions,
    ) -> Result<PerceptronReport> {
        check_lr(options.lr)?;
        check_max_epochs(options.max_epochs)?;
        let targets = check_samples(features, self.num_features(), targets)?;
        let start = self.unit.clone();
        let mut visits = Visits::new(targets.len(), options.order);
        let mut report = PerceptronReport {
            converged: false,
            epochs: 0,
            mistakes: Vec::new(),
        };
        while report.epochs < options.max_epochs {
            let mut mistakes = 0;
            for &i in visits.next_epoch() {
                let (x, t) = (self.unit.sample(features, i), targets[i]);
                if t * self.unit.net(x) <= 0.0 {
                    self.unit.step(options.lr * t, x);
                    mistakes += 1;
                }
            }
            report.epochs += 1;
            report.mistakes.push(mistakes);
            if !self.unit.is_finite() {
                self.unit = start;
                return Err(invalid(
                    "features",
                    format!(
                        "the weights overflowed in epoch {}: the features are too large, \
                         standardize them",
                        report.epochs
                    ),
                ));
            }
            if mistakes == 0 {
                report.converged = true;
                break;
            }
        }
        Ok(report)
    }

    /// Trains on a [`DataSet`] with features `[n, d]` and targets `[n]` or `[n, 1]` holding
    /// `±1` or `0/1` (class indices `0` and `1`), as [`Perceptron::fit`] does.
    ///
    /// # Errors
    /// As [`Perceptron::fit`], and [`NnError::InvalidSetting`] when the data set has another
    /// number of features (`features`) or targets of another shape (`targets`).
    pub fn fit_dataset(
        &mut self,
        data: &DataSet,
        options: &PerceptronOptions,
    ) -> Result<PerceptronReport> {
        let (features, targets) = dataset_values(data, self.num_features())?;
        self.fit(&features, &targets, options)
    }
}

/// Widrow and Hoff's ADALINE: a linear unit trained on its linear output `net = w·x + b` by the
/// least-mean-squares rule, classifying by `sgn(net)` (see the [module docs](self)).
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

impl Adaline {
    /// An ADALINE on `num_features` features with zero weights and bias.
    pub fn new(num_features: usize) -> Adaline {
        Adaline {
            unit: Unit::zeros(num_features),
        }
    }

    /// An ADALINE on `num_features` features starting from `init`.
    ///
    /// # Errors
    /// As [`Perceptron::with_init`].
    pub fn with_init(num_features: usize, init: Init) -> Result<Adaline> {
        Ok(Adaline {
            unit: Unit::new(num_features, init)?,
        })
    }

    /// An ADALINE with these weights and bias.
    ///
    /// # Errors
    /// As [`Perceptron::from_weights`].
    pub fn from_weights(weights: Vec<f64>, bias: f64) -> Result<Adaline> {
        Ok(Adaline {
            unit: Unit::from_weights(weights, bias)?,
        })
    }

    /// The ADALINE whose weights minimise the mean squared error `(1/n) Σ (t − w·x − b)²`
    /// exactly: the linear least-squares solution that LMS approaches for a small `η`, found by
    /// a Householder QR factorisation of the `n × (d + 1)` matrix `[X 1]`. Features and targets
    /// are as in [`Adaline::fit`] (`0/1` targets become `−1/+1` first).
    ///
    /// # Errors
    /// As [`Adaline::fit`] for the data, and [`NnError::InvalidSetting`] (`features`) when the
    /// solution is not unique: fewer than `d + 1` samples, or a feature that is constant or a
    /// linear combination of the others.
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
        let mut solution = solve_least_squares(&mut a, n, p, targets).map_err(|column| {
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

    /// The number of features `d`.
    pub fn num_features(&self) -> usize {
        self.unit.weights.len()
    }

    /// The weights `w`, one per feature.
    pub fn weights(&self) -> &[f64] {
        &self.unit.weights
    }

    /// The bias `b`.
    pub fn bias(&self) -> f64 {
        self.unit.bias
    }

    /// The linear output `net = w·x + b`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`x`) when `x` does not have `d` finite values.
    pub fn net(&self, x: &[f64]) -> Result<f64> {
        self.unit.checked_net(x)
    }

    /// The class `sgn(w·x + b)`: `+1.0` or `−1.0`, with `sgn(0) = +1`.
    ///
    /// # Errors
    /// As [`Adaline::net`].
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        Ok(sgn(self.net(x)?))
    }

    /// The decision line `w₁x₁ + w₂x₂ + b = 0` of a two-feature ADALINE.
    ///
    /// # Errors
    /// As [`DecisionLine::from_weights`]: not two features, or both weights zero.
    pub fn decision_line(&self) -> Result<DecisionLine> {
        DecisionLine::from_weights(&self.unit.weights, self.unit.bias)
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

    /// The samples `predict` gets wrong.
    ///
    /// # Errors
    /// As [`Adaline::fit`] for the data.
    pub fn misclassified(&self, features: &[f64], targets: &[f64]) -> Result<usize> {
        let targets = check_samples(features, self.num_features(), targets)?;
        Ok(self.unit.misclassified(features, &targets))
    }

    /// The same ADALINE on unstandardized features, as [`Perceptron::to_original_units`].
    ///
    /// # Errors
    /// As [`Perceptron::to_original_units`].
    pub fn to_original_units(&self, standardization: &Standardization) -> Result<Adaline> {
        Ok(Adaline {
            unit: self.unit.to_original_units(standardization)?,
        })
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
    pub fn fit(
        &mut self,
        features: &[f64],
        targets: &[f64],
        options: &AdalineOptions,
    ) -> Result<AdalineReport> {
        check_lr(options.lr)?;
        check_max_epochs(options.max_epochs)?;
        if !(options.tol.is_finite() && options.tol >= 0.0) {
            return Err(invalid(
                "tol",
                format!("must be finite and non-negative, got {}", options.tol),
            ));
        }
        let targets = check_samples(features, self.num_features(), targets)?;
        let start = self.unit.clone();
        let mut visits = Visits::new(targets.len(), options.order);
        let mut report = AdalineReport {
            converged: false,
            epochs: 0,
            mse: Vec::new(),
            misclassified: 0,
        };
        let mut previous = self.unit.mse(features, &targets);
        while report.epochs < options.max_epochs {
            for &i in visits.next_epoch() {
                let x = self.unit.sample(features, i);
                let error = targets[i] - self.unit.net(x);
                self.unit.step(options.lr * error, x);
            }
            let mse = self.unit.mse(features, &targets);
            report.epochs += 1;
            report.mse.push(mse);
            if !mse.is_finite() {
                self.unit = start;
                return Err(invalid(
                    "lr",
                    format!(
                        "LMS diverged (mean squared error {mse} after epoch {}): lr = {} is too \
                         large for these features; lower it or standardize the features",
                        report.epochs, options.lr
                    ),
                ));
            }
            if (previous - mse).abs() < options.tol {
                report.converged = true;
                break;
            }
            previous = mse;
        }
        report.misclassified = self.unit.misclassified(features, &targets);
        Ok(report)
    }

    /// Trains on a [`DataSet`] with features `[n, d]` and targets `[n]` or `[n, 1]` holding
    /// `±1` or `0/1`, as [`Adaline::fit`] does.
    ///
    /// # Errors
    /// As [`Adaline::fit`] and [`Perceptron::fit_dataset`].
    pub fn fit_dataset(
        &mut self,
        data: &DataSet,
        options: &AdalineOptions,
    ) -> Result<AdalineReport> {
        let (features, targets) = dataset_values(data, self.num_features())?;
        self.fit(&features, &targets, options)
    }
}

/// The weights and bias both units share, and what they compute from them.
#[derive(Debug, Clone, PartialEq)]
struct Unit {
    weights: Vec<f64>,
    bias: f64,
}

impl Unit {
    fn zeros(num_features: usize) -> Unit {
        Unit {
            weights: vec![0.0; num_features],
            bias: 0.0,
        }
    }

    fn new(num_features: usize, init: Init) -> Result<Unit> {
        match init {
            Init::Zeros => Ok(Unit::zeros(num_features)),
            Init::Uniform { limit, seed } => {
                if !(limit.is_finite() && limit >= 0.0) {
                    return Err(invalid(
                        "limit",
                        format!("must be finite and non-negative, got {limit}"),
                    ));
                }
                let mut rng = StdRng::seed_from_u64(seed);
                let mut draw = || limit * rng.random_range(-1.0..=1.0);
                let weights = (0..num_features).map(|_| draw()).collect();
                Ok(Unit {
                    weights,
                    bias: draw(),
                })
            }
        }
    }

    fn from_weights(weights: Vec<f64>, bias: f64) -> Result<Unit> {
        let unit = Unit { weights, bias };
        if !unit.is_finite() {
            return Err(invalid(
                "weights",
                format!(
                    "must be finite, got w = {:?}, b = {}",
                    unit.weights, unit.bias
                ),
            ));
        }
        Ok(unit)
    }

    fn is_finite(&self) -> bool {
        self.bias.is_finite() && self.weights.iter().all(|w| w.is_finite())
    }

    /// Sample `i` of row-major features (checked by [`check_samples`]).
    fn sample<'a>(&self, features: &'a [f64], i: usize) -> &'a [f64] {
        let d = self.weights.len();
        &features[i * d..(i + 1) * d]
    }

    fn net(&self, x: &[f64]) -> f64 {
        self.weights.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.bias
    }

    fn checked_net(&self, x: &[f64]) -> Result<f64> {
        if x.len() != self.weights.len() {
            return Err(invalid(
                "x",
                format!(
                    "has {} values, the unit has {} features",
                    x.len(),
                    self.weights.len()
                ),
            ));
        }
        if let Some(j) = x.iter().position(|v| !v.is_finite()) {
            return Err(invalid("x", format!("feature {j} is {}", x[j])));
        }
        Ok(self.net(x))
    }

    /// `w ← w + c x`, `b ← b + c`.
    fn step(&mut self, c: f64, x: &[f64]) {
        for (w, x) in self.weights.iter_mut().zip(x) {
            *w += c * x;
        }
        self.bias += c;
    }

    fn mse(&self, features: &[f64], targets: &[f64]) -> f64 {
        let sum: f64 = (0..targets.len())
            .map(|i| (targets[i] - self.net(self.sample(features, i))).powi(2))
            .sum();
        sum / targets.len() as f64
    }

    fn misclassified(&self, features: &[f64], targets: &[f64]) -> usize {
        (0..targets.len())
            .filter(|&i| sgn(self.net(self.sample(features, i))) != targets[i])
            .count()
    }

    fn to_original_units(&self, standardization: &Standardization) -> Result<Unit> {
        let Standardization { mean, std } = standardization;
        let d = self.weights.len();
        if mean.len() != d || std.len() != d {
            return Err(invalid(
                "standardization",
                format!(
                    "has {} means and {} standard deviations, the unit has {d} features",
                    mean.len(),
                    std.len()
                ),
            ));
        }
        let weights: Vec<f64> = self.weights.iter().zip(std).map(|(w, s)| w / s).collect();
        let shift: f64 = weights.iter().zip(mean).map(|(w, m)| w * m).sum();
        Unit::from_weights(weights, self.bias - shift)
    }
}

/// The order of the samples, epoch after epoch.
struct Visits {
    indices: Vec<usize>,
    rng: Option<StdRng>,
}

impl Visits {
    fn new(n: usize, order: SampleOrder) -> Visits {
        Visits {
            indices: (0..n).collect(),
            rng: match order {
                SampleOrder::Fixed => None,
                SampleOrder::Shuffled { seed } => Some(StdRng::seed_from_u64(seed)),
            },
        }
    }

    fn next_epoch(&mut self) -> &[usize] {
        if let Some(rng) = &mut self.rng {
            self.indices.shuffle(rng);
        }
        &self.indices
    }
}

/// `sgn(v)` with `sgn(0) = +1`.
fn sgn(v: f64) -> f64 {
    if v >= 0.0 {
        1.0
    } else {
        -1.0
    }
}

fn invalid(what: &'static str, reason: String) -> NnError {
    NnError::InvalidSetting { what, reason }
}

fn check_lr(lr: f64) -> Result<()> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            "lr",
            format!("must be finite and positive, got {lr}"),
        ))
    }
}

fn check_max_epochs(max_epochs: usize) -> Result<()> {
    if max_epochs == 0 {
        return Err(invalid(
            "max_epochs",
            "must be at least 1, got 0".to_string(),
        ));
    }
    Ok(())
}

/// Checks `n` samples of `d` finite features and two-class targets; returns the targets as
/// `±1`.
fn check_samples(features: &[f64], d: usize, targets: &[f64]) -> Result<Vec<f64>> {
    let n = targets.len();
    if n == 0 {
        return Err(invalid("targets", "no samples to train on".to_string()));
    }
    if n.checked_mul(d) != Some(features.len()) {
        return Err(invalid(
            "features",
            format!(
                "{} values are not {n} samples (one per target) × {d} features, row by row",
                features.len()
            ),
        ));
    }
    if let Some(k) = features.iter().position(|v| !v.is_finite()) {
        let (i, j) = (k / d.max(1), k % d.max(1));
        return Err(invalid(
            "features",
            format!("feature {j} of sample {i} is {}", features[k]),
        ));
    }
    let (mut minus_one, mut zero) = (None, None);
    for (i, &t) in targets.iter().enumerate() {
        if t == -1.0 {
            minus_one.get_or_insert(i);
        } else if t == 0.0 {
            zero.get_or_insert(i);
        } else if t != 1.0 {
            return Err(invalid(
                "targets",
                format!("sample {i} has target {t}: targets must be ±1 or 0/1"),
            ));
        }
        if let (Some(m), Some(z)) = (minus_one, zero) {
            return Err(invalid(
                "targets",
                format!(
                    "sample {z} has target 0 and sample {m} has target −1: use ±1 or 0/1, \
                     not both"
                ),
            ));
        }
    }
    Ok(targets
        .iter()
        .map(|&t| if t == 0.0 { -1.0 } else { t })
        .collect())
}

/// A data set's features and targets as `f64`, checked to have `d` features and one target
/// per sample.
fn dataset_values(data: &DataSet, d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if data.num_features() != d {
        return Err(invalid(
            "features",
            format!(
                "the data set has {} features, the unit {d}",
                data.num_features()
            ),
        ));
    }
    let targets = data.targets();
    if targets.rank() == 2 && targets.dims()[1] != 1 {
        return Err(invalid(
            "targets",
            format!(
                "must be [n] or [n, 1] (one ±1 or 0/1 label a sample), got {}",
                targets.shape()
            ),
        ));
    }
    Ok((data.features().to_f64_vec(), targets.to_f64_vec()))
}

/// Solves `min ‖A x − b‖` for a row-major `n × p` matrix `a` of full column rank by Householder
/// QR (`a` and `b` are overwritten). `Err(k)` when column `k` is, to rounding, a linear
/// combination of the columns before it.
fn solve_least_squares(
    a: &mut [f64],
    n: usize,
    p: usize,
    mut b: Vec<f64>,
) -> std::result::Result<Vec<f64>, usize> {
    let column_norm = |a: &[f64], k: usize, from: usize| {
        (from..n).map(|i| a[i * p + k].powi(2)).sum::<f64>().sqrt()
    };
    let original: Vec<f64> = (0..p).map(|k| column_norm(a, k, 0)).collect();
    let mut diagonal = vec![0.0; p];
    for k in 0..p {
        let norm = column_norm(a, k, k);
        // what is left of the column after removing its part along the previous ones
        if norm <= 1e-10 * original[k] || norm.is_nan() {
            return Err(k);
        }
        // reflect the column onto −sign(a_kk) ‖·‖ e_k, avoiding cancellation in v = x − α e_k
        let alpha = if a[k * p + k] > 0.0 { -norm } else { norm };
        a[k * p + k] -= alpha;
        let v_norm2: f64 = (k..n).map(|i| a[i * p + k].powi(2)).sum();
        // apply H = I − 2 v vᵀ / (vᵀ v) to the later columns and to b
        for j in k + 1..p {
            let dot: f64 = (k..n).map(|i| a[i * p + k] * a[i * p + j]).sum();
            let scale = 2.0 * dot / v_norm2;
            for i in k..n {
                let v = a[i * p + k];
                a[i * p + j] -= scale * v;
            }
        }
        let dot: f64 = (k..n).map(|i| a[i * p + k] * b[i]).sum();
        let scale = 2.0 * dot / v_norm2;
        for i in k..n {
            b[i] -= scale * a[i * p + k];
        }
        diagonal[k] = alpha;
    }
    // back substitution in R x = (Qᵀ b)[..p]
    let mut x = vec![0.0; p];
    for k in (0..p).rev() {
        let above: f64 = (k + 1..p).map(|j| a[k * p + j] * x[j]).sum();
        x[k] = (b[k] - above) / diagonal[k];
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_tensor::assert_close;

    fn reason(result: Result<impl std::fmt::Debug>, what: &str) -> String {
        match result {
            Err(NnError::InvalidSetting { what: w, reason }) if w == what => reason,
            other => panic!("expected InvalidSetting {{ what: {what} }}, got {other:?}"),
        }
    }

    #[test]
    fn sgn_of_zero_is_plus_one() -> Result<()> {
        assert_eq!(sgn(0.0), 1.0);
        assert_eq!(sgn(-0.0), 1.0);
        assert_eq!(sgn(-1e-300), -1.0);
        assert_eq!(Perceptron::new(2).predict(&[3.0, -4.0])?, 1.0);
        assert_eq!(Adaline::new(1).predict(&[0.0])?, 1.0);
        Ok(())
    }

    #[test]
    fn perceptron_rule_steps_by_lr_times_target_on_mistakes_only() -> Result<()> {
        let mut p = Perceptron::new(2);
        let options = PerceptronOptions {
            lr: 0.5,
            ..PerceptronOptions::default()
        };
        // net = 0 on the line counts as a mistake even for a −1 target
        let report = p.fit(&[2.0, -1.0], &[-1.0], &options)?;
        assert_eq!(p.weights(), &[-1.0, 0.5]);
        assert_eq!(p.bias(), -0.5);
        assert_eq!(report.mistakes, vec![1, 0]);
        assert_eq!(report.epochs, 2);
        assert!(report.converged);
        Ok(())
    }

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
    fn zero_one_targets_train_like_plus_minus_one() -> Result<()> {
        let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let (mut a, mut b) = (Perceptron::new(2), Perceptron::new(2));
        let options = PerceptronOptions::default();
        let ra = a.fit(&x, &[0.0, 1.0, 1.0, 1.0], &options)?;
        let rb = b.fit(&x, &[-1.0, 1.0, 1.0, 1.0], &options)?;
        assert_eq!((ra, a.weights()), (rb, b.weights()));
        assert_eq!(a.misclassified(&x, &[0.0, 1.0, 1.0, 1.0])?, 0);
        Ok(())
    }

    #[test]
    fn shuffled_order_repeats_with_its_seed() -> Result<()> {
        let x = [0.0, 0.1, 0.9, 1.0, 0.2, 0.8, 0.7, 0.3, 0.4, 0.9];
        let t = [-1.0, 1.0, 1.0, -1.0, 1.0];
        let options = PerceptronOptions {
            order: SampleOrder::Shuffled { seed: 3 },
            max_epochs: 50,
            ..PerceptronOptions::default()
        };
        let (mut a, mut b) = (Perceptron::new(2), Perceptron::new(2));
        assert_eq!(a.fit(&x, &t, &options)?, b.fit(&x, &t, &options)?);
        assert_eq!(a, b);
        Ok(())
    }

    #[test]
    fn rejects_bad_data_naming_the_sample_and_keeps_the_weights() -> Result<()> {
        let mut p = Perceptron::from_weights(vec![0.5, -0.5], 0.25)?;
        let before = p.clone();
        let options = PerceptronOptions::default();
        let r = reason(p.fit(&[0.0, 1.0, 2.0], &[1.0, -1.0], &options), "features");
        assert!(r.contains("3 values") && r.contains("2 samples"), "{r}");
        let r = reason(
            p.fit(&[0.0, 1.0, 2.0, f64::NAN], &[1.0, -1.0], &options),
            "features",
        );
        assert!(r.contains("feature 1 of sample 1 is NaN"), "{r}");
        let r = reason(p.fit(&[0.0; 6], &[1.0, 0.0, -1.0], &options), "targets");
        assert!(r.contains("sample 1") && r.contains("sample 2"), "{r}");
        let r = reason(p.fit(&[0.0; 4], &[1.0, 2.0], &options), "targets");
        assert!(r.contains("sample 1 has target 2"), "{r}");
        let r = reason(p.fit(&[], &[], &options), "targets");
        assert!(r.contains("no samples"), "{r}");
        for lr in [0.0, -1.0, f64::INFINITY] {
            let bad = PerceptronOptions { lr, ..options };
            reason(p.fit(&[0.0; 2], &[1.0], &bad), "lr");
        }
        let bad = PerceptronOptions {
            max_epochs: 0,
            ..options
        };
        reason(p.fit(&[0.0; 2], &[1.0], &bad), "max_epochs");
        assert_eq!(p, before);
        let r = reason(p.predict(&[1.0]), "x");
        assert!(r.contains("1 values") && r.contains("2 features"), "{r}");
        reason(p.net(&[1.0, f64::INFINITY]), "x");
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
    fn uniform_init_is_seeded_and_bounded() -> Result<()> {
        let init = Init::Uniform {
            limit: 0.3,
            seed: 11,
        };
        let a = Perceptron::with_init(5, init)?;
        assert_eq!(a, Perceptron::with_init(5, init)?);
        assert!(a.weights().iter().all(|w| w.abs() <= 0.3) && a.bias().abs() <= 0.3);
        assert!(a.weights().iter().any(|&w| w != 0.0));
        assert_eq!(Adaline::with_init(3, Init::Zeros)?, Adaline::new(3));
        let bad = Init::Uniform {
            limit: f64::NAN,
            seed: 0,
        };
        reason(Adaline::with_init(2, bad), "limit");
        reason(Perceptron::from_weights(vec![f64::NAN], 0.0), "weights");
        Ok(())
    }

    #[test]
    fn decision_line_sloped_vertical_and_none() -> Result<()> {
        // 1 x1 + 2 x2 − 4 = 0  ⇔  x2 = −0.5 x1 + 2
        let line = Perceptron::from_weights(vec![1.0, 2.0], -4.0)?.decision_line()?;
        assert_eq!(
            line,
            DecisionLine::Sloped {
                slope: -0.5,
                intercept: 2.0
            }
        );
        assert_eq!(line.x2_at(2.0), Some(1.0));
        assert_eq!(line.to_string(), "x2 = -0.5 x1 + 2");
        assert_eq!(format!("{line:.2}"), "x2 = -0.50 x1 + 2.00");
        let vertical = Adaline::from_weights(vec![2.0, 0.0], 3.0)?.decision_line()?;
        assert_eq!(vertical, DecisionLine::Vertical { x1: -1.5 });
        assert_eq!(vertical.x2_at(0.0), None);
        assert_eq!(vertical.to_string(), "x1 = -1.5");
        let r = reason(Perceptron::new(2).decision_line(), "weights");
        assert!(r.contains("both are zero"), "{r}");
        reason(Perceptron::new(3).decision_line(), "weights");
        Ok(())
    }

    #[test]
    fn clip_gives_the_segment_inside_the_rectangle() {
        let line = DecisionLine::Sloped {
            slope: -0.5,
            intercept: 2.0,
        };
        // crosses the edge x1 = 0 at x2 = 2 and the edge x2 = 0 at x1 = 4
        assert_eq!(
            line.clip((0.0, 10.0), (0.0, 10.0)),
            Some([(0.0, 2.0), (4.0, 0.0)])
        );
        assert_eq!(line.clip((0.0, 1.0), (5.0, 6.0)), None);
        let flat = DecisionLine::Sloped {
            slope: 0.0,
            intercept: 1.0,
        };
        assert_eq!(
            flat.clip((-1.0, 1.0), (0.0, 2.0)),
            Some([(-1.0, 1.0), (1.0, 1.0)])
        );
        let vertical = DecisionLine::Vertical { x1: 0.5 };
        assert_eq!(
            vertical.clip((0.0, 1.0), (-2.0, 2.0)),
            Some([(0.5, -2.0), (0.5, 2.0)])
        );
        assert_eq!(vertical.clip((1.0, 2.0), (0.0, 1.0)), None);
        // through a corner only
        let corner = DecisionLine::Sloped {
            slope: 1.0,
            intercept: -1.0,
        };
        assert_eq!(corner.clip((0.0, 1.0), (0.0, 1.0)), None);
        assert_eq!(line.clip((1.0, 0.0), (0.0, 1.0)), None);
        assert_eq!(line.clip((0.0, f64::NAN), (0.0, 1.0)), None);
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

    #[test]
    fn original_units_give_the_same_net_input() -> Result<()> {
        let p = Perceptron::from_weights(vec![0.8, -1.5], 0.3)?;
        let s = Standardization {
            mean: vec![20.0, 150.0],
            std: vec![10.0, 40.0],
        };
        let original = p.to_original_units(&s)?;
        let x = [35.0, 110.0];
        let standardized = [(x[0] - 20.0) / 10.0, (x[1] - 150.0) / 40.0];
        assert_close!(original.net(&x)?, p.net(&standardized)?, 1e-14);
        let a = Adaline::from_weights(vec![0.8, -1.5], 0.3)?.to_original_units(&s)?;
        assert_eq!(a.weights(), original.weights());
        let short = Standardization {
            mean: vec![0.0],
            std: vec![1.0],
        };
        reason(p.to_original_units(&short), "standardization");
        Ok(())
    }

    #[test]
    fn dataset_targets_must_be_one_column() -> Result<()> {
        use adnet_tensor::Tensor;
        let features = Tensor::from_vec(vec![0.0f64, 1.0, 2.0, 3.0], [2, 2])?;
        let labels = Tensor::from_vec(vec![0.0f64, 1.0, 1.0, 0.0], [2, 2])?;
        let data = DataSet::from_tensors(features.clone(), labels)?;
        let r = reason(
            Perceptron::new(2).fit_dataset(&data, &PerceptronOptions::default()),
            "targets",
        );
        assert!(r.contains("[2, 2]"), "{r}");
        let data = DataSet::from_tensors(features, Tensor::from_vec(vec![0.0f64, 1.0], [2, 1])?)?;
        reason(
            Adaline::new(3).fit_dataset(&data, &AdalineOptions::default()),
            "features",
        );
        assert!(Adaline::new(2)
            .fit_dataset(&data, &AdalineOptions::default())
            .is_ok());
        Ok(())
    }
}
