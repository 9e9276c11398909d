//! Classification losses: binary and categorical cross-entropy (on probabilities, logits and
//! log-probabilities), KL divergence and Poisson NLL (PyTorch), and Keras' hinge losses.

use std::f64::consts::PI;

use adnet_graph::ops::Axes;
use adnet_graph::{GraphError, Var};
use adnet_tensor::Tensor;

use super::{check_dtypes, check_pair, check_setting, ln_where_positive, x_ln_x, Reduction};
use crate::Result;

/// Binary cross-entropy on probabilities, as `torch.nn.functional.binary_cross_entropy`:
/// `−(t·ln p + (1 − t)·ln(1 − p))` per element, with each logarithm clamped to `>= −100` as
/// PyTorch does, so `p = 0` or `1` gives a finite loss (100 for a wrong certain prediction).
///
/// Where a logarithm is clamped its term is constant, so its gradient is 0 (PyTorch's backward
/// divides by `max(p(1 − p), 1e-12)` instead). Probabilities outside `[0, 1]` are not checked
/// (PyTorch raises at run time). Prefer [`binary_cross_entropy_with_logits`], which is stable.
/// Per-element weights are not supported: multiply the [`Reduction::None`] terms instead.
///
/// # Errors
/// [`GraphError::ShapeMismatch`] naming both shapes when they differ,
/// [`GraphError::DTypeMismatch`], or [`GraphError::UnknownNode`] for operands of two graphs.
pub fn binary_cross_entropy<'g>(
    input: Var<'g>,
    target: Var<'g>,
    reduction: Reduction,
) -> Result<Var<'g>> {
    check_pair("binary_cross_entropy", input, target)?;
    let clamped_ln = |x: Var<'g>| -> Result<Var<'g>> {
        Ok(ln_where_positive(x, -100.0)?.try_maximum(x.constant_like(-100.0))?)
    };
    let ln_p = clamped_ln(input)?;
    let ln_q = clamped_ln(1.0 - input)?;
    let terms = -(target * ln_p + (1.0 - target) * ln_q);
    Ok(reduction.reduce(terms))
}

/// Binary cross-entropy on logits, as `torch.nn.functional.binary_cross_entropy_with_logits`:
/// `(1 − t)·x + (1 + (w − 1)·t)·softplus(−x)` per element, where `w` is `pos_weight`
/// (default none, that is 1). Without `pos_weight` this is PyTorch's stable
/// `max(x, 0) − x·t + ln(1 + e^−|x|)`; through `softplus` it is also smooth at 0, so its
/// second derivative there is right. Finite for any finite logit (`x = ±1e4` included).
///
/// `pos_weight` multiplies the positive term, as PyTorch's: it broadcasts against the input
/// (a `[C]` vector weighs each of `C` classes) and receives no gradient.
///
/// # Errors
/// [`GraphError::ShapeMismatch`] when the shapes differ or `pos_weight` does not broadcast
/// to the input's shape; otherwise as [`binary_cross_entropy`].
pub fn binary_cross_entropy_with_logits<'g>(
    input: Var<'g>,
    target: Var<'g>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Var<'g>> {
    const OP: &str = "binary_cross_entropy_with_logits";
    check_pair(OP, input, target)?;
    if let Some(weight) = pos_weight {
        if !weight.shape().broadcasts_to(&input.shape()) {
            return Err(GraphError::ShapeMismatch {
                op: OP.to_string(),
                lhs: input.shape(),
                rhs: weight.shape().clone(),
            }
            .into());
        }
    }
    let softplus = (-input).softplus(); // −ln σ(x), without overflow
    let negative = (1.0 - target) * input;
    let terms = match pos_weight {
        None => negative + softplus,
        Some(weight) => {
            let weight = input.graph().constant(weight.to_dtype(input.dtype()));
            let scale = 1.0 + (weight - 1.0).try_mul(target)?;
            negative + scale * softplus
        }
    };
    Ok(reduction.reduce(terms))
}

/// [`binary_cross_entropy_with_logits`] as a value: `BceWithLogitsLoss::default()` is
/// PyTorch's `nn.BCEWithLogitsLoss()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BceWithLogitsLoss {
    /// The weight of positive examples, broadcast against the input (default none).
    pub pos_weight: Option<Tensor>,
    /// The reduction (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

impl BceWithLogitsLoss {
    /// [`binary_cross_entropy_with_logits`] with these settings.
    ///
    /// # Errors
    /// As [`binary_cross_entropy_with_logits`].
    pub fn loss<'g>(&self, input: Var<'g>, target: Var<'g>) -> Result<Var<'g>> {
        binary_cross_entropy_with_logits(input, target, self.pos_weight.as_ref(), self.reduction)
    }
}

/// Checks logits `[N, C]` against labels `[N]` (or `[C]` against a scalar label) and returns
/// them as `[N, C]` and `[N]`, with whether they were unbatched.
fn batch_of_labels<'g>(
    op: &'static str,
    input: Var<'g>,
    target: Var<'g>,
) -> Result<(Var<'g>, Var<'g>, bool)> {
    check_dtypes(op, input, target)?;
    let (shape, labels) = (input.shape(), target.shape());
    match (shape.dims(), labels.dims()) {
        ([n, _], [m]) if n == m => Ok((input, target, false)),
        ([c], []) => Ok((input.try_reshape([1, *c])?, target.try_reshape([1])?, true)),
        _ => Err(GraphError::ShapeMismatch {
            op: op.to_string(),
            lhs: shape,
            rhs: labels,
        }
        .into()),
    }
}

/// The negative log-likelihood terms `[N]` of log-probabilities `[N, C]` at integer labels
/// `[N]`, mixed with the uniform distribution by `label_smoothing`, then reduced.
///
/// The one-hot mask compares the labels with a constant `0..C`, so no gradient reaches the
/// labels, and a label naming no class (PyTorch's `ignore_index = −100`, say) has an all-zero
/// row: its term is 0 and [`Reduction::Mean`] does not count it, as PyTorch's `ignore_index`.
fn labelled_nll<'g>(
    log_probs: Var<'g>,
    labels: Var<'g>,
    label_smoothing: f64,
    reduction: Reduction,
    unbatched: bool,
) -> Result<Var<'g>> {
    let dims = log_probs.shape();
    let (n, classes) = (dims.dims()[0], dims.dims()[1]);
    let g = log_probs.graph();
    let class_ids = g.constant(Tensor::arange(0.0, classes as f64, 1.0, log_probs.dtype())?);
    let one_hot = labels.try_reshape([n, 1])?.try_equal(class_ids)?;
    let counted = one_hot.try_sum(&[-1])?;
    let mut terms = -(one_hot * log_probs).try_sum(&[-1])?;
    if label_smoothing > 0.0 {
        let uniform = -log_probs.try_sum(&[-1])? * counted;
        terms = (1.0 - label_smoothing) * terms + (label_smoothing / classes as f64) * uniform;
    }
    Ok(match reduction {
        Reduction::Mean => terms.sum_all() / counted.sum_all(),
        Reduction::None if unbatched => terms.try_reshape([])?,
        other => other.reduce(terms),
    })
}

/// Cross-entropy of logits `[N, C]` and integer class labels `[N]` (class indices stored as
/// floats of the logits' dtype), as `torch.nn.functional.cross_entropy` with class-index
/// targets: `−ln softmax(x)[label]` per sample, computed with `log_softmax` (stable for any
/// finite logits). Unbatched `[C]` logits take a scalar label.
///
/// With `label_smoothing = ε` (default 0, PyTorch's), the target mixes the one-hot label with
/// the uniform distribution: `(1 − ε)·(−ln p[label]) + (ε/C)·Σ_c −ln p[c]`.
/// [`Reduction::Mean`] averages over the labels that name a class; a label outside `0..C`
/// (PyTorch's default `ignore_index = −100` among them) is ignored: its term is 0 and it is not
/// counted (PyTorch raises for labels other than `ignore_index`). Class weights are not
/// supported. No gradient flows into the labels.
///
/// # Errors
/// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) for `label_smoothing` outside
/// `[0, 1]`; [`GraphError::ShapeMismatch`] naming both shapes unless the logits are `[N, C]`
/// and the labels `[N]` (or `[C]` and `[]`); [`GraphError::DTypeMismatch`];
/// [`GraphError::UnknownNode`] for operands of two graphs.
pub fn cross_entropy<'g>(
    input: Var<'g>,
    target: Var<'g>,
    label_smoothing: f64,
    reduction: Reduction,
) -> Result<Var<'g>> {
    check_label_smoothing(label_smoothing)?;
    let (logits, labels, unbatched) = batch_of_labels("cross_entropy", input, target)?;
    let log_probs = logits.try_log_softmax(-1)?;
    labelled_nll(log_probs, labels, label_smoothing, reduction, unbatched)
}

fn check_label_smoothing(label_smoothing: f64) -> Result<()> {
    check_setting(
        "label_smoothing",
        label_smoothing,
        (0.0..=1.0).contains(&label_smoothing),
        "in [0, 1]",
    )
}

/// Cross-entropy of logits `[N, C]` and target probabilities `[N, C]` (one-hot or soft), as
/// `torch.nn.functional.cross_entropy` with probability targets (and Keras'
/// `categorical_crossentropy(from_logits=True)`): `−Σ_c t_c·ln softmax(x)_c` per sample,
/// through `log_softmax`. Unbatched `[C]` logits take a `[C]` target.
///
/// With `label_smoothing = ε` the target becomes `(1 − ε)·t + ε/C`, as in PyTorch.
/// [`Reduction::Mean`] averages over the `N` samples. Gradients flow into both operands.
///
/// # Errors
/// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) for `label_smoothing` outside
/// `[0, 1]`; [`GraphError::ShapeMismatch`] when the shapes differ or are not `[N, C]` or
/// `[C]`; [`GraphError::DTypeMismatch`]; [`GraphError::UnknownNode`].
pub fn cross_entropy_probs<'g>(
    input: Var<'g>,
    target: Var<'g>,
    label_smoothing: f64,
    reduction: Reduction,
) -> Result<Var<'g>> {
    const OP: &str = "cross_entropy_probs";
    check_label_smoothing(label_smoothing)?;
    check_pair(OP, input, target)?;
    let shape = input.shape();
    let Some(&classes) = shape
        .dims()
        .last()
        .filter(|_| matches!(shape.rank(), 1 | 2))
    else {
        return Err(GraphError::InvalidArgument {
            op: OP.to_string(),
            reason: format!("expected logits [N, C] or [C], got {shape}"),
        }
        .into());
    };
    let mut target = target;
    if label_smoothing > 0.0 {
        target = (1.0 - label_smoothing) * target + label_smoothing / classes as f64;
    }
    let terms = -(target * input.try_log_softmax(-1)?).try_sum(&[-1])?;
    Ok(reduction.reduce(terms))
}

/// [`cross_entropy`] and [`cross_entropy_probs`] as a value: `CrossEntropyLoss::default()` is
/// PyTorch's `nn.CrossEntropyLoss()` (without class weights).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CrossEntropyLoss {
    /// How much of the target is the uniform distribution (default 0).
    pub label_smoothing: f64,
    /// The reduction (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

impl CrossEntropyLoss {
    /// [`cross_entropy`] with these settings: logits `[N, C]`, integer labels `[N]`.
    ///
    /// # Errors
    /// As [`cross_entropy`].
    pub fn loss<'g>(&self, input: Var<'g>, target: Var<'g>) -> Result<Var<'g>> {
        cross_entropy(input, target, self.label_smoothing, self.reduction)
    }

    /// [`cross_entropy_probs`] with these settings: logits and probabilities, both `[N, C]`.
    ///
    /// # Errors
    /// As [`cross_entropy_probs`].
    pub fn loss_probs<'g>(&self, input: Var<'g>, target: Var<'g>) -> Result<Var<'g>> {
        cross_entropy_probs(input, target, self.label_smoothing, self.reduction)
    }
}

/// Negative log-likelihood of log-probabilities `[N, C]` (a `log_softmax`'s output) at integer
/// labels `[N]`, as `torch.nn.functional.nll_loss`: `−input[label]` per sample.
/// [`cross_entropy`] is this after `log_softmax`. Labels are handled as there: a label outside
/// `0..C` is ignored and [`Reduction::Mean`] does not count it.
///
/// # Errors
/// As [`cross_entropy`] (without the setting).
pub fn nll_loss<'g>(input: Var<'g>, target: Var<'g>, reduction: Reduction) -> Result<Var<'g>> {
    let (log_probs, labels, unbatched) = batch_of_labels("nll_loss", input, target)?;
    labelled_nll(log_probs, labels, 0.0, reduction, unbatched)
}

/// Hinge loss, Keras' `hinge`: `max(1 − t·p, 0)` per element, for targets `t` in {−1, 1}
/// (Keras also converts {0, 1} labels at run time; give ±1 here). At the kink `t·p = 1` the
/// derivative is 0 (that of `relu` at 0).
///
/// Keras averages over the last axis per sample; [`Reduction::Mean`] is the mean of those.
///
/// # Errors
/// As [`binary_cross_entropy`].
pub fn hinge_loss<'g>(input: Var<'g>, target: Var<'g>, reduction: Reduction) -> Result<Var<'g>> {
    check_pair("hinge_loss", input, target)?;
    Ok(reduction.reduce((1.0 - target * input).relu()))
}

/// Squared hinge loss, Keras' `squared_hinge`: `max(1 − t·p, 0)²` per element, `t` in {−1, 1}.
///
/// # Errors
/// As [`binary_cross_entropy`].
pub fn squared_hinge_loss<'g>(
    input: Var<'g>,
    target: Var<'g>,
    reduction: Reduction,
) -> Result<Var<'g>> {
    check_pair("squared_hinge_loss", input, target)?;
    Ok(reduction.reduce((1.0 - target * input).relu().square()))
}

/// Categorical hinge loss, Keras' `categorical_hinge`, for scores and one-hot targets `[.., C]`:
/// `max(max_c((1 − t_c)·p_c) − Σ_c t_c·p_c + 1, 0)` per sample (the terms have the shape
/// without the last axis). At ties of the inner maximum the gradient is shared, as `max`'s.
///
/// # Errors
/// [`GraphError::InvalidArgument`] for scalar operands; otherwise as [`binary_cross_entropy`].
pub fn categorical_hinge_loss<'g>(
    input: Var<'g>,
    target: Var<'g>,
    reduction: Reduction,
) -> Result<Var<'g>> {
    const OP: &str = "categorical_hinge_loss";
    check_pair(OP, input, target)?;
    if input.shape().is_scalar() {
        return Err(GraphError::InvalidArgument {
            op: OP.to_string(),
            reason: "expected scores with a class axis, got a scalar".to_string(),
        }
        .into());
    }
    let positive = (target * input).try_sum(&[-1])?;
    let negative = input
        .graph()
        .max((1.0 - target) * input, Axes::List(vec![-1]), false)?;
    Ok(reduction.reduce((negative - positive + 1.0).relu()))
}

/// Kullback-Leibler divergence, as `torch.nn.functional.kl_div` (`nn.KLDivLoss`): `input` holds
/// log-probabilities and `target` probabilities, and each element is
/// `t·(ln t − input)`, with `0·ln 0 = 0` (PyTorch's `xlogy`). With `log_target` (default
/// false) the target holds log-probabilities too and each element is `e^t·(t − input)`.
///
/// PyTorch's default reduction is [`Reduction::Mean`], over every element; the divergence per
/// sample is [`Reduction::BatchMean`], which PyTorch recommends. Keras' `kl_divergence` takes
/// probabilities for both operands: pass `input.ln()` and sum over the last axis.
///
/// # Errors
/// As [`binary_cross_entropy`].
pub fn kl_div_loss<'g>(
    input: Var<'g>,
    target: Var<'g>,
    log_target: bool,
    reduction: Reduction,
) -> Result<Var<'g>> {
    check_pair("kl_div_loss", input, target)?;
    let terms = if log_target {
        target.exp() * (target - input)
    } else {
        x_ln_x(target)? - target * input
    };
    Ok(reduction.reduce(terms))
}

/// [`kl_div_loss`] as a value: `KlDivLoss::default()` is PyTorch's `nn.KLDivLoss()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KlDivLoss {
    /// Whether the target holds log-probabilities (default false).
    pub log_target: bool,
    /// The reduction (default [`Reduction::Mean`]; [`Reduction::BatchMean`] is the true KL).
    pub reduction: Reduction,
}

impl KlDivLoss {
    /// [`kl_div_loss`] with these settings.
    ///
    /// # Errors
    /// As [`kl_div_loss`].
    pub fn loss<'g>(&self, input: Var<'g>, target: Var<'g>) -> Result<Var<'g>> {
        kl_div_loss(input, target, self.log_target, self.reduction)
    }
}

/// Poisson negative log-likelihood, as `torch.nn.functional.poisson_nll_loss` (defaults
/// `log_input = true`, `full = false`, `eps = 1e-8`): `e^x − t·x` per element when the input
/// is the log-rate `x`, `λ − t·ln(λ + eps)` when it is the rate `λ`. With `full`, Stirling's
/// approximation of `ln(t!)`, `t·ln t − t + ½ln(2πt)`, is added where `t > 1`.
///
/// # Errors
/// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) for a negative or non-finite
/// `eps`; otherwise as [`binary_cross_entropy`].
pub fn poisson_nll_loss<'g>(
    input: Var<'g>,
    target: Var<'g>,
    log_input: bool,
    full: bool,
    eps: f64,
    reduction: Reduction,
) -> Result<Var<'g>> {
    check_pair("poisson_nll_loss", input, target)?;
    check_setting(
        "eps",
        eps,
        eps >= 0.0 && eps.is_finite(),
        "non-negative and finite",
    )?;
    let mut terms = if log_input {
        input.exp() - target * input
    } else {
        input - target * (input + eps).ln()
    };
    if full {
        let g = input.graph();
        let above_one = target.try_gt(target.constant_like(1.0))?;
        let t = g.where_(above_one, target, target.constant_like(2.0))?;
        let stirling = x_ln_x(t)? - t + 0.5 * (2.0 * PI * t).ln();
        terms = terms + g.where_(above_one, stirling, target.constant_like(0.0))?;
    }
    Ok(reduction.reduce(terms))
}

/// [`poisson_nll_loss`] as a value: `PoissonNllLoss::default()` is PyTorch's
/// `nn.PoissonNLLLoss()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoissonNllLoss {
    /// Whether the input is the log of the rate (default true).
    pub log_input: bool,
    /// Whether to add Stirling's term for `ln(t!)` (default false).
    pub full: bool,
    /// Added to the rate before its logarithm when `log_input` is false (default `1e-8`).
    pub eps: f64,
    /// The reduction (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

impl Default for PoissonNllLoss {
    fn default() -> Self {
        PoissonNllLoss {
            log_input: true,
            full: false,
            eps: 1e-8,
            reduction: Reduction::Mean,
        }
    }
}

impl PoissonNllLoss {
    /// [`poisson_nll_loss`] with these settings.
    ///
    /// # Errors
    /// As [`poisson_nll_loss`].
    pub fn loss<'g>(&self, input: Var<'g>, target: Var<'g>) -> Result<Var<'g>> {
        poisson_nll_loss(
            input,
            target,
            self.log_input,
            self.full,
            self.eps,
            self.reduction,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_graph::Graph;
    use adnet_tensor::{DType, Shape};

    #[test]
    fn labels_outside_the_classes_are_not_counted_by_mean() -> Result<()> {
        let g = Graph::new();
        let log_probs = g.constant(Tensor::from_vec(vec![-1.0, -2.0, -3.0, -4.0], [2, 2])?);
        let labels = g.constant(Tensor::from_vec(vec![1.0, 7.0], [2])?);
        assert_eq!(
            g.eval(nll_loss(log_probs, labels, Reduction::Mean)?, &[])?,
            2.0
        );
        assert_eq!(
            g.eval(nll_loss(log_probs, labels, Reduction::Sum)?, &[])?,
            2.0
        );
        Ok(())
    }

    #[test]
    fn batch_of_labels_accepts_n_c_with_n_and_c_with_scalar_only() -> Result<()> {
        let g = Graph::new();
        let logits = g.input("logits", [2, 3], DType::F32)?;
        let labels = g.input("labels", [2], DType::F32)?;
        assert!(batch_of_labels("cross_entropy", logits, labels).is_ok());
        let unbatched = g.input("one", [3], DType::F32)?;
        let label = g.input("label", Shape::scalar(), DType::F32)?;
        let (x, t, flag) = batch_of_labels("cross_entropy", unbatched, label)?;
        assert_eq!(
            (x.shape(), t.shape(), flag),
            ([1, 3].into(), [1].into(), true)
        );
        let f64_labels = g.input("f64_labels", [2], DType::F64)?;
        assert!(batch_of_labels("cross_entropy", logits, f64_labels).is_err());
        Ok(())
    }

    #[test]
    fn defaults_are_pytorchs() {
        assert_eq!(BceWithLogitsLoss::default().pos_weight, None);
        assert_eq!(CrossEntropyLoss::default().label_smoothing, 0.0);
        assert!(!KlDivLoss::default().log_target);
        let poisson = PoissonNllLoss::default();
        assert!(poisson.log_input && !poisson.full);
        assert_eq!((poisson.eps, poisson.reduction), (1e-8, Reduction::Mean));
    }
}
