//! Loss functions, as graph nodes: each call adds the loss's nodes to the graph its operands
//! belong to and returns the loss node, ready for [`grad`](adnet_autodiff::grad).
//!
//! Every loss is composed from the primitive ops (`ln`, `softplus`, `log_softmax`, `where`,
//! ...), so its derivatives of every order come from the ops' own rules: a Hessian of a loss
//! needs nothing more. Where the plain formula overflows or takes `ln 0`, the composition is the
//! stable one (`softplus` for `ln(1 + e^x)`, `log_softmax` for softmax then `ln`, a `where` that
//! keeps `ln` away from 0) and the doc comment says so.
//!
//! # How losses are called
//! - Every loss is a function named as in `torch.nn.functional` (or in Keras, for the ones
//!   PyTorch lacks: [`log_cosh_loss`], [`msle_loss`], [`mape_loss`], the hinge losses). It takes
//!   `(input, target, settings..., reduction)`: the prediction first, as PyTorch does, then the
//!   settings in PyTorch's order, then the [`Reduction`].
//! - A loss with settings besides the reduction also has a struct named after PyTorch's module
//!   ([`HuberLoss`], [`SmoothL1Loss`], [`BceWithLogitsLoss`], [`CrossEntropyLoss`],
//!   [`KlDivLoss`], [`PoissonNllLoss`]) with public fields, PyTorch's defaults in `Default`, and a
//!   `.loss(input, target)` method that calls the function.
//! - `input` and `target` must belong to the same graph and have the same dtype, and the same
//!   shape except where a loss says otherwise (integer labels are `[N]` for logits `[N, C]`).
//!   A rejected call adds no node.
//!
//! # Examples
//! ```
//! use adnet_autodiff::grad;
//! use adnet_graph::Graph;
//! use adnet_nn::loss::{mse_loss, Reduction};
//! use adnet_tensor::{DType, Tensor};
//!
//! let g = Graph::new();
//! let prediction = g.input("prediction", [3], DType::F64)?;
//! let target = g.input("target", [3], DType::F64)?;
//! let loss = mse_loss(prediction, target, Reduction::Mean)?;
//! let d_prediction = grad(&g, loss, &[prediction])?[0]; // 2 (p − t) / 3
//! let p = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3])?;
//! let t = Tensor::from_vec(vec![1.0, 0.0, 6.0], [3])?;
//! let at = [("prediction", &p), ("target", &t)];
//! assert_eq!(g.eval_tensor(loss, &at)?.to_scalar()?, 13.0 / 3.0);
//! assert_eq!(g.eval_tensor(d_prediction, &at)?.to_f64_vec(), [0.0, 4.0 / 3.0, -2.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use adnet_graph::{GraphError, Var};

use crate::{NnError, Result};

mod classification;
mod regression;

pub use classification::{
    binary_cross_entropy, binary_cross_entropy_with_logits, categorical_hinge_loss, cross_entropy,
    cross_entropy_probs, hinge_loss, kl_div_loss, nll_loss, poisson_nll_loss, squared_hinge_loss,
    BceWithLogitsLoss, CrossEntropyLoss, KlDivLoss, PoissonNllLoss,
};
pub use regression::{
    huber_loss, l1_loss, log_cosh_loss, mape_loss, mse_loss, msle_loss, smooth_l1_loss, HuberLoss,
    SmoothL1Loss, KERAS_EPSILON,
};

/// How a loss turns its per-element (or per-sample) terms into its result, as PyTorch's
/// `reduction` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reduction {
    /// The mean of the terms (PyTorch's default, `'mean'`). Losses on integer labels divide by
    /// the number of labels that name a class, as PyTorch does with `ignore_index`.
    #[default]
    Mean,
    /// The sum of the terms (`'sum'`).
    Sum,
    /// The terms themselves, unreduced (`'none'`).
    None,
    /// The sum divided by the size of the first axis (`'batchmean'`, which PyTorch accepts only
    /// for `kl_div` and recommends there, since it is the mathematical KL divergence per
    /// sample; here every loss accepts it). A scalar counts as a batch of one.
    BatchMean,
}

impl Reduction {
    /// Reduces the terms of a loss: their mean, their sum, the terms themselves, or their sum
    /// over the first axis's length.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// use adnet_nn::loss::Reduction;
    /// use adnet_tensor::Tensor;
    ///
    /// let g = Graph::new();
    /// let terms = g.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 6.0], [2, 2])?);
    /// assert_eq!(g.eval(Reduction::Mean.reduce(terms), &[])?, 3.0);
    /// assert_eq!(g.eval(Reduction::Sum.reduce(terms), &[])?, 12.0);
    /// assert_eq!(g.eval(Reduction::BatchMean.reduce(terms), &[])?, 6.0);
    /// assert_eq!(Reduction::None.reduce(terms).id(), terms.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reduce<'g>(self, terms: Var<'g>) -> Var<'g> {
        match self {
            Reduction::Mean => terms.mean_all(),
            Reduction::Sum => terms.sum_all(),
            Reduction::None => terms,
            Reduction::BatchMean => {
                let batch = terms.shape().dims().first().copied().unwrap_or(1);
                terms.sum_all() / batch as f64
            }
        }
    }
}

/// Rejects operands from two graphs, with the second operand named as unknown.
fn check_same_graph(input: Var<'_>, target: Var<'_>) -> Result<()> {
    if std::ptr::eq(input.graph(), target.graph()) {
        Ok(())
    } else {
        Err(GraphError::UnknownNode(target.id()).into())
    }
}

/// Checks that `input` and `target` share graph and dtype (shapes are the caller's concern).
fn check_dtypes(op: &'static str, input: Var<'_>, target: Var<'_>) -> Result<()> {
    check_same_graph(input, target)?;
    let (lhs, rhs) = (input.dtype(), target.dtype());
    if lhs != rhs {
        return Err(GraphError::DTypeMismatch {
            op: op.to_string(),
            lhs,
            rhs,
        }
        .into());
    }
    Ok(())
}

/// Checks that `input` and `target` share graph, dtype and shape, so that the elementwise
/// arithmetic the losses build on them cannot fail.
fn check_pair(op: &'static str, input: Var<'_>, target: Var<'_>) -> Result<()> {
    check_dtypes(op, input, target)?;
    let (lhs, rhs) = (input.shape(), target.shape());
    if lhs != rhs {
        return Err(GraphError::ShapeMismatch {
            op: op.to_string(),
            lhs,
            rhs,
        }
        .into());
    }
    Ok(())
}

/// Rejects a setting for which `valid` is false, saying what it `must` be.
fn check_setting(what: &'static str, value: f64, valid: bool, must: &str) -> Result<()> {
    if valid {
        Ok(())
    } else {
        Err(NnError::InvalidSetting {
            what,
            reason: format!("must be {must}, got {value}"),
        })
    }
}

/// `ln x` where `x > 0` and `fallback` elsewhere, with no NaN in either the value or any
/// derivative: `ln` itself only ever sees positive values (1 where `x <= 0`).
fn ln_where_positive<'g>(x: Var<'g>, fallback: f64) -> Result<Var<'g>> {
    let g = x.graph();
    let positive = x.try_gt(x.constant_like(0.0))?;
    let safe = g.where_(positive, x, x.constant_like(1.0))?;
    Ok(g.where_(positive, safe.ln(), x.constant_like(fallback))?)
}

/// `x·ln x` with `0·ln 0 = 0` (`torch.xlogy(x, x)`), and 0 for `x < 0` too.
fn x_ln_x(x: Var<'_>) -> Result<Var<'_>> {
    Ok(x * ln_where_positive(x, 0.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_autodiff::grad;
    use adnet_graph::Graph;
    use adnet_tensor::{DType, Shape, Tensor};

    #[test]
    fn mean_is_the_default_reduction() {
        assert_eq!(Reduction::default(), Reduction::Mean);
    }

    #[test]
    fn batch_mean_of_a_scalar_is_the_scalar() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar(5.0);
        assert_eq!(g.eval(Reduction::BatchMean.reduce(x), &[])?, 5.0);
        Ok(())
    }

    #[test]
    fn mismatched_shapes_name_both_and_add_no_node() -> Result<()> {
        let g = Graph::new();
        let a = g.input("a", [3, 2], DType::F64)?;
        let b = g.input("b", [3], DType::F64)?;
        let before = g.len();
        let error = regression::mse_loss(a, b, Reduction::Mean).expect_err("shapes differ");
        assert_eq!(
            error,
            NnError::Graph(GraphError::ShapeMismatch {
                op: "mse_loss".to_string(),
                lhs: Shape::new(&[3, 2]),
                rhs: Shape::new(&[3]),
            })
        );
        assert_eq!(
            error.to_string(),
            "mse_loss: incompatible shapes [3, 2] and [3]"
        );
        assert_eq!(g.len(), before);
        Ok(())
    }

    #[test]
    fn mismatched_dtypes_and_graphs_are_rejected() -> Result<()> {
        let g = Graph::new();
        let a = g.input("a", [2], DType::F64)?;
        let b = g.input("b", [2], DType::F32)?;
        assert!(matches!(
            check_pair("l1_loss", a, b),
            Err(NnError::Graph(GraphError::DTypeMismatch { .. }))
        ));
        let other = Graph::new();
        let c = other.input("c", [2], DType::F64)?;
        assert!(matches!(
            check_pair("l1_loss", a, c),
            Err(NnError::Graph(GraphError::UnknownNode(_)))
        ));
        Ok(())
    }

    #[test]
    fn ln_where_positive_has_finite_derivatives_at_zero() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [3], DType::F64)?;
        let y = ln_where_positive(x, -100.0)?.sum_all();
        let dx = grad(&g, y, &[x])?[0];
        let ddx = grad(&g, dx.sum_all(), &[x])?[0];
        let at = Tensor::from_vec(vec![0.0, -1.0, 2.0], [3])?;
        let value = g.eval_tensor(y, &[("x", &at)])?.to_scalar()?;
        assert_eq!(value, -200.0 + 2f64.ln());
        let first = g.eval_tensor(dx, &[("x", &at)])?.to_f64_vec();
        assert_eq!(first, [0.0, 0.0, 0.5]);
        let second = g.eval_tensor(ddx, &[("x", &at)])?.to_f64_vec();
        assert_eq!(second, [0.0, 0.0, -0.25]);
        Ok(())
    }

    #[test]
    fn x_ln_x_is_zero_at_zero() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [2], DType::F64)?;
        let y = x_ln_x(x)?;
        let at = Tensor::from_vec(vec![0.0, 2.0], [2])?;
        let value = g.eval_tensor(y, &[("x", &at)])?.to_f64_vec();
        assert_eq!(value, [0.0, 2.0 * 2f64.ln()]);
        Ok(())
    }

    #[test]
    fn settings_outside_their_range_name_the_setting() {
        let error = check_setting("label_smoothing", 1.5, false, "in [0, 1]").expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "label_smoothing: must be in [0, 1], got 1.5"
        );
        assert!(check_setting("beta", 0.0, true, "non-negative").is_ok());
    }
}
