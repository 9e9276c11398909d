//! Metrics: what a task counts as correct, [`Metrics`] and the [`ConfusionMatrix`].

use std::fmt;

use adnet_tensor::Tensor;

/// What the model's output means, which decides how accuracy is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Task {
    /// Decide from the data (default): class-index targets `[n]` are multi-class when the
    /// output has two or more columns and binary otherwise; `[n, 1]` targets that are all 0 or
    /// 1 are binary; `[n, k]` one-hot targets are multi-class; anything else is regression.
    #[default]
    Auto,
    /// No accuracy, only the loss.
    Regression,
    /// One output per sample (a probability): predicted class 1 when it is at least 0.5.
    Binary,
    /// One score per class: the predicted class is the arg-max (first on ties).
    MultiClass,
}

/// Loss and accuracy over a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// The mean loss per sample (batch losses weighted by batch size, exact for losses with
    /// [`Reduction::Mean`](crate::loss::Reduction::Mean)).
    pub loss: f64,
    /// The fraction of samples classified correctly (`None` for regression).
    pub accuracy: Option<f64>,
    /// The number of samples.
    pub samples: usize,
}

/// The predicted class of every sample, and its true class, for a classification task
/// (`task` resolved, not [`Task::Auto`]; `None` for regression).
pub(crate) fn classes<'a>(
    task: Task,
    output: &'a Tensor,
    target: &'a Tensor,
) -> Option<impl Iterator<Item = (usize, usize)> + 'a> {
    let n = output.dims().first().copied().unwrap_or(1);
    let out_width = output.numel() / n.max(1);
    let target_width = target.numel() / n.max(1);
    let argmax = |t: &Tensor, row: usize, width: usize| {
        let mut best = (0, f64::NEG_INFINITY);
        for c in 0..width {
            let v = t.flat(row * width + c).unwrap_or(f64::NAN);
            if v > best.1 {
                best = (c, v);
            }
        }
        best.0
    };
    let label = move |row: usize| {
        if target_width == 1 {
            let v = target.flat(row).unwrap_or(-1.0);
            if task == Task::Binary {
                usize::from(v >= 0.5)
            } else {
                v.round().max(0.0) as usize
            }
        } else {
            argmax(target, row, target_width)
        }
    };
    if matches!(task, Task::Regression | Task::Auto) {
        return None;
    }
    Some((0..n).map(move |row| {
        let predicted = if task == Task::Binary {
            usize::from(output.flat(row).unwrap_or(f64::NAN) >= 0.5)
        } else {
            argmax(output, row, out_width)
        };
        (predicted, label(row))
    }))
}

/// The number of correctly classified samples, `None` for regression.
pub(crate) fn count_correct(task: Task, output: &Tensor, target: &Tensor) -> Option<usize> {
    classes(task, output, target).map(|pairs| pairs.filter(|(p, t)| p == t).count())
}

/// Decides [`Task::Auto`] from a batch of targets and the output's shape.
pub(crate) fn resolve_task(task: Task, output_dims: &[usize], targets: &Tensor) -> Task {
    if task != Task::Auto {
        return task;
    }
    let out_width: usize = output_dims.iter().skip(1).product();
    let values = targets.to_f64_vec();
    match targets.rank() {
        1 if out_width >= 2 => Task::MultiClass,
        1 => Task::Binary,
        2 if targets.dims()[1] == 1 => {
            if values.iter().all(|&v| v == 0.0 || v == 1.0) {
                Task::Binary
            } else {
                Task::Regression
            }
        }
        2 => {
            let one_hot = values.chunks(targets.dims()[1]).all(|row| {
                row.iter().all(|&v| v == 0.0 || v == 1.0) && row.iter().sum::<f64>() == 1.0
            });
            if one_hot {
                Task::MultiClass
            } else {
                Task::Regression
            }
        }
        _ => Task::Regression,
    }
}

/// Counts of (true class, predicted class) pairs: row = true class, column = predicted, as
/// scikit-learn's `confusion_matrix`.
///
/// Its [`Display`](fmt::Display) is an aligned table:
/// ```
/// use adnet_nn::train::ConfusionMatrix;
/// let mut m = ConfusionMatrix::new(2);
/// m.add(0, 0);
/// m.add(1, 0);
/// m.add(1, 1);
/// assert_eq!(m.to_string(), "true\\pred  0  1\n        0  1  0\n        1  1  1\n");
/// assert_eq!(m.accuracy(), 2.0 / 3.0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    counts: Vec<usize>,
    labels: Option<Vec<String>>,
}

impl ConfusionMatrix {
    /// An all-zero matrix for `classes` classes.
    pub fn new(classes: usize) -> ConfusionMatrix {
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
            labels: None,
        }
    }

    /// Names the classes in the table (in class order; missing names print as numbers).
    pub fn with_labels(mut self, labels: Vec<String>) -> ConfusionMatrix {
        self.labels = Some(labels);
        self
    }

    /// Counts one sample; a class beyond the matrix grows it.
    pub fn add(&mut self, actual: usize, predicted: usize) {
        let needed = actual.max(predicted) + 1;
        if needed > self.classes {
            let mut grown = vec![0; needed * needed];
            for a in 0..self.classes {
                for p in 0..self.classes {
                    grown[a * needed + p] = self.counts[a * self.classes + p];
                }
            }
            self.counts = grown;
            self.classes = needed;
        }
        self.counts[actual * self.classes + predicted] += 1;
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How many samples of class `actual` were predicted as `predicted` (0 outside the matrix).
    pub fn count(&self, actual: usize, predicted: usize) -> usize {
        if actual < self.classes && predicted < self.classes {
            self.counts[actual * self.classes + predicted]
        } else {
            0
        }
    }

    /// The number of samples counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The fraction on the diagonal (0 for an empty matrix).
    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..self.classes).map(|c| self.count(c, c)).sum();
        correct as f64 / self.total().max(1) as f64
    }

    fn label(&self, class: usize) -> String {
        self.labels
            .as_ref()
            .and_then(|l| l.get(class).cloned())
            .unwrap_or_else(|| class.to_string())
    }
}

impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let corner = "true\\pred";
        let labels: Vec<String> = (0..self.classes).map(|c| self.label(c)).collect();
        let first = labels
            .iter()
            .map(|l| l.chars().count())
            .chain([corner.len()])
            .max()
            .unwrap_or(0);
        let width = labels
            .iter()
            .map(|l| l.chars().count())
            .chain(self.counts.iter().map(|c| c.to_string().len()))
            .max()
            .unwrap_or(1);
        write!(f, "{corner:>first$}")?;
        for label in &labels {
            write!(f, "  {label:>width$}")?;
        }
        writeln!(f)?;
        for (actual, label) in labels.iter().enumerate() {
            write!(f, "{label:>first$}")?;
            for predicted in 0..self.classes {
                write!(f, "  {:>width$}", self.count(actual, predicted))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_uses_argmax_for_classes_and_half_for_binary() -> crate::Result<()> {
        let out = Tensor::from_vec(vec![0.1f64, 0.7, 0.2, 0.5, 0.2, 0.3], [2, 3])?;
        let labels = Tensor::from_vec(vec![1.0f64, 2.0], [2])?;
        let task = resolve_task(Task::Auto, out.dims(), &labels);
        assert_eq!(task, Task::MultiClass);
        assert_eq!(count_correct(task, &out, &labels), Some(1));
        let p = Tensor::from_vec(vec![0.5f64, 0.49, 0.9], [3, 1])?;
        let t = Tensor::from_vec(vec![1.0f64, 0.0, 0.0], [3, 1])?;
        let task = resolve_task(Task::Auto, p.dims(), &t);
        assert_eq!(task, Task::Binary);
        assert_eq!(count_correct(task, &p, &t), Some(2));
        let r = Tensor::from_vec(vec![0.3f64, 2.0, 0.0], [3, 1])?;
        assert_eq!(resolve_task(Task::Auto, p.dims(), &r), Task::Regression);
        Ok(())
    }

    #[test]
    fn confusion_matrix_aligns_labels() {
        let mut m = ConfusionMatrix::new(2).with_labels(vec!["setosa".into(), "b".into()]);
        for _ in 0..12 {
            m.add(0, 0);
        }
        m.add(1, 0);
        let text = m.to_string();
        let widths: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{text}");
        assert_eq!(m.count(0, 0), 12);
        assert_eq!(m.total(), 13);
    }
}
