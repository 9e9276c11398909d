//! Regression losses: squared, absolute, Huber and smooth-L1 errors (PyTorch), and Keras'
//! log-cosh, squared logarithmic and absolute percentage errors.

use std::f64::consts::LN_2;

use adnet_graph::Var;

use super::{check_pair, check_setting, Reduction};
use crate::Result;

/// Keras' `backend.epsilon()`, the floor [`msle_loss`] and [`mape_loss`] use: `1e-7`.
pub const KERAS_EPSILON: f64 = 1e-7;

/// Mean squared error, `(input − target)²` per element, as `torch.nn.functional.mse_loss`
/// (and `nn.MSELoss`, Keras' `mean_squared_error`).
///
/// # Errors
/// [`GraphError::ShapeMismatch`](adnet_graph::GraphError::ShapeMismatch) naming both shapes
/// when they differ (PyTorch would broadcast, with a warning),
/// [`GraphError::DTypeMismatch`](adnet_graph::GraphError::DTypeMismatch), or
/// [`GraphError::UnknownNode`](adnet_graph::GraphError::UnknownNode) for operands of two graphs.
pub fn mse_loss<'g>(input: Var<'g>, target: Var<'g>, reduction: Reduction) -> Result<Var<'g>> {
    check_pair("mse_loss", input, target)?;
    Ok(reduction.reduce((input - target).square()))
}

/// Mean absolute error, `|input − target|` per element, as `torch.nn.functional.l1_loss`
/// (Keras' `mean_absolute_error`). At `input = target` the derivative is `sign(0) = 0`, as in
/// PyTorch.
///
/// # Errors
/// As [`mse_loss`].
pub fn l1_loss<'g>(input: Var<'g>, target: Var<'g>, reduction: Reduction) -> Result<Var<'g>> {
    check_pair("l1_loss", input, target)?;
    Ok(reduction.reduce((input - target).abs()))
}

/// Huber loss, as `torch.nn.functional.huber_loss` (default `delta = 1.0`): with
/// `d = input − target`, `½d²` where `|d| < delta`, else `delta·(|d| − ½delta)`.
///
/// Keras' `Huber` is the same function (its `delta` defaults to 1.0 too).
///
/// # Errors
/// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) for `delta` not in `(0, ∞)`;
/// otherwise as [`mse_loss`].
pub fn huber_loss<'g>(
    input: Var<'g>,
    target: Var<'g>,
    delta: f64,
    reduction: Reduction,
) -> Result<Var<'g>> {
    check_pair("huber_loss", input, target)?;
    check_setting(
        "delta",
        delta,
        delta > 0.0 && delta.is_finite(),
        "positive and finite",
    )?;
    let d = input - target;
    let size = d.abs();
    let inside = size.try_lt(d.constant_like(delta))?;
    let quadratic = 0.5 * d.square();
    let linear = delta * (size - 0.5 * delta);
    let terms = input.graph().where_(inside, quadratic, linear)?;
    Ok(reduction.reduce(terms))
}

/// [`huber_loss`] as a value: `HuberLoss::default()` is PyTorch's `nn.HuberLoss()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HuberLoss {
    /// Where the loss turns from quadratic to linear (default `1.0`).
    pub delta: f64,
    /// The reduction (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

impl Default for HuberLoss {
    fn default() -> Self {
        HuberLoss {
            delta: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

impl HuberLoss {
    /// [`huber_loss`] with these settings.
    ///
    /// # Errors
    /// As [`huber_loss`].
    pub fn loss<'g>(&self, input: Var<'g>, target: Var<'g>) -> Result<Var<'g>> {
        huber_loss(input, target, self.delta, self.reduction)
    }
}

/// Smooth L1 loss, as `torch.nn.functional.smooth_l1_loss` (default `beta = 1.0`): with
/// `d = input − target`, `½d²/beta` where `|d| < beta`, else `|d| − ½beta`; `beta = 0` gives
/// [`l1_loss`], as in PyTorch. It is [`huber_loss`] divided by `beta` (with `delta = beta`).
///
/// # Errors
/// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) for a negative or non-finite
/// `beta`; otherwise as [`mse_loss`].
pub fn smooth_l1_loss<'g>(
    input: Var<'g>,
    target: Var<'g>,
    beta: f64,
    reduction: Reduction,
) -> Result<Var<'g>> {
    check_pair("smooth_l1_loss", input, target)?;
    check_setting(
        "beta",
        beta,
        beta >= 0.0 && beta.is_finite(),
        "non-negative and finite",
    )?;
    let d = input - target;
    let size = d.abs();
    if beta == 0.0 {
        return Ok(reduction.reduce(size));
    }
    let inside = size.try_lt(d.constant_like(beta))?;
    let quadratic = d.square() * (0.5 / beta);
    let linear = size - 0.5 * beta;
    let terms = input.graph().where_(inside, quadratic, linear)?;
    Ok(reduction.reduce(terms))
}

/// [`smooth_l1_loss`] as a value: `SmoothL1Loss::default()` is PyTorch's `nn.SmoothL1Loss()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothL1Loss {
    /// Where the loss turns from quadratic to linear (default `1.0`).
    pub beta: f64,
    /// The reduction (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        SmoothL1Loss {
            beta: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

impl SmoothL1Loss {
    /// [`smooth_l1_loss`] with these settings.
    ///
    /// # Errors
    /// As [`smooth_l1_loss`].
    pub fn loss<'g>(&self, input: Var<'g>, target: Var<'g>) -> Result<Var<'g>> {
        smooth_l1_loss(input, target, self.beta, self.reduction)
    }
}

/// Log-cosh loss, Keras' `log_cosh` (`logcosh`): `ln cosh(d)` with `d = input − target`,
/// computed as `d + softplus(−2d) − ln 2`, which neither overflows (`cosh(1e4)` would) nor
/// loses the small values.
///
/// Keras averages over the last axis per sample; [`Reduction::Mean`] over every element is
/// the mean of those, and [`Reduction::None`] keeps every element.
///
/// # Errors
/// As [`mse_loss`].
pub fn log_cosh_loss<'g>(input: Var<'g>, target: Var<'g>, reduction: Reduction) -> Result<Var<'g>> {
    check_pair("log_cosh_loss", input, target)?;
    let d = input - target;
    Ok(reduction.reduce(d + (-2.0 * d).softplus() - LN_2))
}

/// Mean squared logarithmic error, Keras' `mean_squared_logarithmic_error`:
/// `(ln(1 + max(input, ε)) − ln(1 + max(target, ε)))²` with `ε =` [`KERAS_EPSILON`] (Keras
/// floors both operands there, so values below it have no gradient).
///
/// Keras averages over the last axis per sample; [`Reduction::Mean`] is the mean of those.
///
/// # Errors
/// As [`mse_loss`].
pub fn msle_loss<'g>(input: Var<'g>, target: Var<'g>, reduction: Reduction) -> Result<Var<'g>> {
    check_pair("msle_loss", input, target)?;
    let log1p = |x: Var<'g>| -> Result<Var<'g>> {
        Ok((x.try_maximum(x.constant_like(KERAS_EPSILON))? + 1.0).ln())
    };
    let terms = (log1p(input)? - log1p(target)?).square();
    Ok(reduction.reduce(terms))
}

/// Mean absolute percentage error, Keras' `mean_absolute_percentage_error`:
/// `100·|target − input| / max(|target|, ε)` with `ε =` [`KERAS_EPSILON`].
///
/// Keras averages over the last axis per sample; [`Reduction::Mean`] is the mean of those.
///
/// # Errors
/// As [`mse_loss`].
pub fn mape_loss<'g>(input: Var<'g>, target: Var<'g>, reduction: Reduction) -> Result<Var<'g>> {
    check_pair("mape_loss", input, target)?;
    let scale = target
        .abs()
        .try_maximum(target.constant_like(KERAS_EPSILON))?;
    let terms = 100.0 * (target - input).abs() / scale;
    Ok(reduction.reduce(terms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_graph::Graph;
    use adnet_tensor::{DType, Tensor};

    /// Evaluates `loss(input, target)` unreduced at one-dimensional values.
    fn terms(
        loss: impl for<'g> Fn(Var<'g>, Var<'g>) -> Result<Var<'g>>,
        input: &[f64],
        target: &[f64],
    ) -> Result<Vec<f64>> {
        let g = Graph::new();
        let n = input.len();
        let x = g.input("x", [n], DType::F64)?;
        let t = g.input("t", [n], DType::F64)?;
        let y = loss(x, t)?;
        let (x, t) = (
            Tensor::from_vec(input.to_vec(), [n])?,
            Tensor::from_vec(target.to_vec(), [n])?,
        );
        Ok(g.eval_tensor(y, &[("x", &x), ("t", &t)])?.to_f64_vec())
    }

    #[test]
    fn huber_switches_to_linear_at_delta() -> Result<()> {
        // |d| = 2 is already the linear branch (PyTorch tests |d| < delta): 2·(2 − 1) = 2.
        let values = terms(
            |x, t| huber_loss(x, t, 2.0, Reduction::None),
            &[1.0, 3.0, -5.0],
            &[0.0, 1.0, 0.0],
        )?;
        assert_eq!(values, [0.5, 2.0, 8.0]);
        Ok(())
    }

    #[test]
    fn smooth_l1_with_zero_beta_is_l1() -> Result<()> {
        let values = terms(
            |x, t| smooth_l1_loss(x, t, 0.0, Reduction::None),
            &[0.25, -3.0],
            &[0.0, 0.0],
        )?;
        assert_eq!(values, [0.25, 3.0]);
        Ok(())
    }

    #[test]
    fn non_positive_delta_is_rejected() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [2], DType::F64)?;
        let error = huber_loss(x, x, 0.0, Reduction::Mean).expect_err("delta = 0");
        assert_eq!(
            error.to_string(),
            "delta: must be positive and finite, got 0"
        );
        assert!(smooth_l1_loss(x, x, -1.0, Reduction::Mean).is_err());
        Ok(())
    }

    #[test]
    fn log_cosh_is_ln_cosh_and_finite_far_out() -> Result<()> {
        let values = terms(
            |x, t| log_cosh_loss(x, t, Reduction::None),
            &[0.5, -3.0, 1e4, -1e4, 0.0],
            &[0.0; 5],
        )?;
        for (v, d) in values.iter().zip([0.5f64, -3.0]) {
            adnet_tensor::assert_close!(*v, d.cosh().ln(), 1e-14);
        }
        adnet_tensor::assert_close!(values[2], 1e4 - LN_2, 1e-14);
        adnet_tensor::assert_close!(values[3], 1e4 - LN_2, 1e-14);
        assert_eq!(values[4], 0.0);
        Ok(())
    }

    #[test]
    fn mape_floors_the_denominator_at_keras_epsilon() -> Result<()> {
        let values = terms(
            |x, t| mape_loss(x, t, Reduction::None),
            &[1.0, 3.0],
            &[0.0, 2.0],
        )?;
        adnet_tensor::assert_close!(values[0], 100.0 / KERAS_EPSILON, 1e-12);
        adnet_tensor::assert_close!(values[1], 50.0, 1e-14);
        Ok(())
    }

    #[test]
    fn settings_structs_hold_pytorch_defaults() {
        assert_eq!(HuberLoss::default().delta, 1.0);
        assert_eq!(SmoothL1Loss::default().beta, 1.0);
        assert_eq!(HuberLoss::default().reduction, Reduction::Mean);
    }
}
