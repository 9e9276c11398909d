//! What the perceptron and ADALINE share: a linear unit's weights and bias and what it computes
//! from them, the online training loop, the checks of settings and data, and the methods both
//! types define alike ([`linear_unit_methods`]).

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

/// The weights and bias both units share, and what they compute from them.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Unit {
    pub(super) weights: Vec<f64>,
    pub(super) bias: f64,
}

impl Unit {
    pub(super) fn zeros(num_features: usize) -> Unit {
        Unit {
            weights: vec![0.0; num_features],
            bias: 0.0,
        }
    }

    pub(super) fn new(num_features: usize, init: Init) -> Result<Unit> {
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

    pub(super) fn from_weights(weights: Vec<f64>, bias: f64) -> Result<Unit> {
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

    pub(super) fn is_finite(&self) -> bool {
        self.bias.is_finite() && self.weights.iter().all(|w| w.is_finite())
    }

    /// Sample `i` of row-major features (checked by [`check_samples`]).
    pub(super) fn sample<'a>(&self, features: &'a [f64], i: usize) -> &'a [f64] {
        let d = self.weights.len();
        &features[i * d..(i + 1) * d]
    }

    pub(super) fn net(&self, x: &[f64]) -> f64 {
        self.weights.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.bias
    }

    pub(super) fn checked_net(&self, x: &[f64]) -> Result<f64> {
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
    pub(super) fn step(&mut self, c: f64, x: &[f64]) {
        for (w, x) in self.weights.iter_mut().zip(x) {
            *w += c * x;
        }
        self.bias += c;
    }

    pub(super) fn mse(&self, features: &[f64], targets: &[f64]) -> f64 {
        let sum: f64 = (0..targets.len())
            .map(|i| (targets[i] - self.net(self.sample(features, i))).powi(2))
            .sum();
        sum / targets.len() as f64
    }

    pub(super) fn misclassified(&self, features: &[f64], targets: &[f64]) -> usize {
        (0..targets.len())
            .filter(|&i| sgn(self.net(self.sample(features, i))) != targets[i])
            .count()
    }

    pub(super) fn to_original_units(&self, standardization: &Standardization) -> Result<Unit> {
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

    /// Trains online for at most `max_epochs` epochs over `n` samples visited in `order`: each
    /// epoch hands `epoch` the unit and the order of that epoch's visits, and training stops
    /// after `epoch` returns `Ok(true)`. When `epoch` fails, the unit gets back the weights it
    /// started with.
    pub(super) fn train(
        &mut self,
        n: usize,
        max_epochs: usize,
        order: SampleOrder,
        mut epoch: impl FnMut(&mut Unit, &[usize]) -> Result<bool>,
    ) -> Result<()> {
        let start = self.clone();
        let mut visits = Visits::new(n, order);
        for _ in 0..max_epochs {
            match epoch(self, visits.next_epoch()) {
                Ok(false) => {}
                Ok(true) => break,
                Err(error) => {
                    *self = start;
                    return Err(error);
                }
            }
        }
        Ok(())
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
pub(super) fn sgn(v: f64) -> f64 {
    if v >= 0.0 {
        1.0
    } else {
        -1.0
    }
}

pub(super) fn invalid(what: &'static str, reason: String) -> NnError {
    NnError::InvalidSetting { what, reason }
}

/// Checks the settings both rules share: the learning rate and the epoch limit.
pub(super) fn check_lr_and_epochs(lr: f64, max_epochs: usize) -> Result<()> {
    if !(lr.is_finite() && lr > 0.0) {
        return Err(invalid(
            "lr",
            format!("must be finite and positive, got {lr}"),
        ));
    }
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
pub(super) fn check_samples(features: &[f64], d: usize, targets: &[f64]) -> Result<Vec<f64>> {
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
pub(super) fn dataset_values(data: &DataSet, d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
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

/// Defines the methods that [`Perceptron`](super::Perceptron) and [`Adaline`](super::Adaline)
/// share on `$name`, a struct whose one field `unit` is a [`Unit`]: construction, the weights,
/// the net input and class, the decision line, the misclassified count, the change to original
/// units and training on a data set (through its own `fit`, which takes `$options` and returns
/// `$report`). `$a` names one in a sentence's first words (`A perceptron`), `$kind` inside one.
/// It is expanded in a child module of `perceptron`.
macro_rules! linear_unit_methods {
    ($name:ident, $a:literal, $kind:literal, $options:ty, $report:ty) => {
        impl $name {
            #[doc = concat!($a, " on `num_features` features with zero weights and bias.")]
            pub fn new(num_features: usize) -> $name {
                $name {
                    unit: super::unit::Unit::zeros(num_features),
                }
            }

            #[doc = concat!($a, " on `num_features` features starting from `init`.")]
            ///
            /// # Errors
            /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) (`limit`) for an
            /// [`Init::Uniform`](super::Init::Uniform) limit that is negative or not finite.
            pub fn with_init(num_features: usize, init: super::Init) -> crate::Result<$name> {
                Ok($name {
                    unit: super::unit::Unit::new(num_features, init)?,
                })
            }

            #[doc = concat!($a, " with these weights and bias.")]
            ///
            /// # Errors
            /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) (`weights`) when a
            /// weight or the bias is not finite.
            pub fn from_weights(weights: Vec<f64>, bias: f64) -> crate::Result<$name> {
                Ok($name {
                    unit: super::unit::Unit::from_weights(weights, bias)?,
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

            /// The net input `net = w·x + b`.
            ///
            /// # Errors
            /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) (`x`) when `x` does
            /// not have `d` finite values.
            pub fn net(&self, x: &[f64]) -> crate::Result<f64> {
                self.unit.checked_net(x)
            }

            /// The class `sgn(w·x + b)`: `+1.0` or `−1.0`, with `sgn(0) = +1`.
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($name), "::net`].")]
            pub fn predict(&self, x: &[f64]) -> crate::Result<f64> {
                Ok(super::unit::sgn(self.net(x)?))
            }

            #[doc = concat!(
                "The decision line `w₁x₁ + w₂x₂ + b = 0` of a two-feature ", $kind, "."
            )]
            ///
            /// # Errors
            /// As [`DecisionLine::from_weights`](super::DecisionLine::from_weights): not two
            /// features, or both weights zero.
            pub fn decision_line(&self) -> crate::Result<super::DecisionLine> {
                super::DecisionLine::from_weights(&self.unit.weights, self.unit.bias)
            }

            /// The samples `predict` gets wrong: features row-major `n × d`, targets `±1` or
            /// `0/1`.
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($name), "::fit`] for the data.")]
            pub fn misclassified(&self, features: &[f64], targets: &[f64]) -> crate::Result<usize> {
                let targets = super::unit::check_samples(features, self.num_features(), targets)?;
                Ok(self.unit.misclassified(features, &targets))
            }

            #[doc = concat!("The same ", $kind, " on unstandardized features: for one trained on")]
            /// features standardized by `standardization` (`x' = (x − mean) / std`), the one
            /// that gives the same net input on the original `x` (`wᵢ / stdᵢ`,
            /// `b − Σ wᵢ meanᵢ / stdᵢ`), whose [`decision_line`](Self::decision_line) is in the
            /// original units.
            ///
            /// # Errors
            /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) (`standardization`)
            /// when its length is not `d`.
            pub fn to_original_units(
                &self,
                standardization: &crate::data::Standardization,
            ) -> crate::Result<$name> {
                Ok($name {
                    unit: self.unit.to_original_units(standardization)?,
                })
            }

            /// Trains on a [`DataSet`](crate::data::DataSet) with features `[n, d]` and targets
            /// `[n]` or `[n, 1]` holding `±1` or `0/1` (class indices `0` and `1`), as
            #[doc = concat!("[`", stringify!($name), "::fit`] does.")]
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($name), "::fit`], and")]
            /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when the data set has
            /// another number of features (`features`) or targets of another shape (`targets`).
            pub fn fit_dataset(
                &mut self,
                data: &crate::data::DataSet,
                options: &$options,
            ) -> crate::Result<$report> {
                let (features, targets) = super::unit::dataset_values(data, self.num_features())?;
                self.fit(&features, &targets, options)
            }
        }
    };
}

pub(super) use linear_unit_methods;

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::classic::perceptron::{Adaline, AdalineOptions, Perceptron, PerceptronOptions};
    use adnet_tensor::assert_close;

    /// The reason of an [`NnError::InvalidSetting`] about `what`; panics on anything else.
    pub(in crate::classic::perceptron) fn reason(
        result: Result<impl std::fmt::Debug>,
        what: &str,
    ) -> String {
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
