//! [`Perceptron`]: Rosenblatt's mistake-driven rule.

use super::unit::{check_lr_and_epochs, check_samples, invalid, linear_unit_methods, Unit};
use super::SampleOrder;
use crate::Result;

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

/// Rosenblatt's perceptron: a linear unit with a hard-limiting output `y = sgn(w·x + b)`,
/// trained by the perceptron rule (see the [module docs](super)).
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

linear_unit_methods!(
    Perceptron,
    "A perceptron",
    "perceptron",
    PerceptronOptions,
    PerceptronReport
);

impl Perceptron {
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
    ///
    /// [`NnError::InvalidSetting`]: crate::NnError::InvalidSetting
    pub fn fit(
        &mut self,
        features: &[f64],
        targets: &[f64],
        options: &PerceptronOptions,
    ) -> Result<PerceptronReport> {
        check_lr_and_epochs(options.lr, options.max_epochs)?;
        let targets = check_samples(features, self.num_features(), targets)?;
        let mut report = PerceptronReport {
            converged: false,
            epochs: 0,
            mistakes: Vec::new(),
        };
        self.unit.train(
            targets.len(),
            options.max_epochs,
            options.order,
            |unit, order| {
                let mut mistakes = 0;
                for &i in order {
                    let (x, t) = (unit.sample(features, i), targets[i]);
                    if t * unit.net(x) <= 0.0 {
                        unit.step(options.lr * t, x);
                        mistakes += 1;
                    }
                }
                report.epochs += 1;
                report.mistakes.push(mistakes);
                if !unit.is_finite() {
                    return Err(invalid(
                        "features",
                        format!(
                            "the weights overflowed in epoch {}: the features are too large, \
                             standardize them",
                            report.epochs
                        ),
                    ));
                }
                report.converged = mistakes == 0;
                Ok(report.converged)
            },
        )?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::perceptron::unit::tests::reason;

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
}
