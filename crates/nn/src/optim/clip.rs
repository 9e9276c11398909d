//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.

use adnet_tensor::{dispatch, Element, Tensor};

use super::non_negative;
use crate::{NnError, Result};

/// Rescales the gradients in place so that their joint norm is at most `max_norm`, and returns
/// the norm they had before.
///
/// As `torch.nn.utils.clip_grad_norm_`: the total norm is the `norm_type`-norm of all elements
/// of all gradients taken together (`norm_type = f64::INFINITY` gives the largest magnitude),
/// and every gradient is multiplied by
///
/// ```text
/// clip_coef = max_norm / (total_norm + 1e-6)
/// ```
///
/// only when `clip_coef < 1` (PyTorch multiplies by `min(clip_coef, 1)`, which is the same).
/// The norm is accumulated in `f64` whatever the gradients' dtype. An empty list has norm 0.
///
/// # Errors
/// [`NnError::InvalidSetting`] when `max_norm` is negative or NaN, or `norm_type` is not a
/// positive number (or infinity).
///
/// # Examples
/// ```
/// use adnet_nn::optim::clip_grad_norm;
/// use adnet_tensor::Tensor;
/// let mut g = Tensor::from_vec(vec![3.0f64, 4.0], [2])?;
/// let before = clip_grad_norm(&mut [&mut g], 1.0, 2.0)?;
/// assert_eq!(before, 5.0);
/// assert!((g.to_f64_vec()[0] - 3.0 / (5.0 + 1e-6)).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clip_grad_norm(grads: &mut [&mut Tensor], max_norm: f64, norm_type: f64) -> Result<f64> {
    non_negative("max_norm", max_norm)?;
    if norm_type.is_nan() || norm_type <= 0.0 {
        return Err(NnError::InvalidSetting {
            what: "norm_type",
            reason: format!("must be a positive number or infinity, got {norm_type}"),
        });
    }
    let total_norm = if norm_type == f64::INFINITY {
        grads
            .iter()
            .map(|g| dispatch!(g.dtype(), T => max_abs::<T>(g)))
            .fold(0.0, f64::max)
    } else {
        let sum: f64 = grads
            .iter()
            .map(|g| dispatch!(g.dtype(), T => sum_pow::<T>(g, norm_type)))
            .sum();
        sum.powf(1.0 / norm_type)
    };
    let clip_coef = max_norm / (total_norm + 1e-6);
    if clip_coef < 1.0 {
        for g in grads.iter_mut() {
            dispatch!(g.dtype(), T => scale::<T>(g, clip_coef));
        }
    }
    Ok(total_norm)
}

/// Clamps every gradient element in place to `[-clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_`.
///
/// # Errors
/// [`NnError::InvalidSetting`] when `clip_value` is negative or NaN.
///
/// # Examples
/// ```
/// use adnet_nn::optim::clip_grad_value;
/// use adnet_tensor::Tensor;
/// let mut g = Tensor::from_vec(vec![-3.0f64, 0.5, 4.0], [3])?;
/// clip_grad_value(&mut [&mut g], 1.0)?;
/// assert_eq!(g.to_f64_vec(), vec![-1.0, 0.5, 1.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clip_grad_value(grads: &mut [&mut Tensor], clip_value: f64) -> Result<()> {
    non_negative("clip_value", clip_value)?;
    for g in grads.iter_mut() {
        dispatch!(g.dtype(), T => clamp::<T>(g, clip_value));
    }
    Ok(())
}

fn values<T: Element>(tensor: &Tensor) -> &[T] {
    T::slice(tensor).expect("dispatched on the tensor's own dtype")
}

fn values_mut<T: Element>(tensor: &mut Tensor) -> &mut [T] {
    T::slice_mut(tensor).expect("dispatched on the tensor's own dtype")
}

fn max_abs<T: Element>(g: &Tensor) -> f64 {
    values::<T>(g)
        .iter()
        .fold(0.0, |m: f64, x| m.max(Element::to_f64(*x).abs()))
}

fn sum_pow<T: Element>(g: &Tensor, p: f64) -> f64 {
    let data = values::<T>(g).iter().map(|&x| Element::to_f64(x).abs());
    if p == 2.0 {
        data.map(|x| x * x).sum()
    } else {
        data.map(|x| x.powf(p)).sum()
    }
}

fn scale<T: Element>(g: &mut Tensor, factor: f64) {
    let factor = T::from_f64(factor);
    for x in values_mut::<T>(g) {
        *x = *x * factor;
    }
}

fn clamp<T: Element>(g: &mut Tensor, limit: f64) {
    let (low, high) = (T::from_f64(-limit), T::from_f64(limit));
    for x in values_mut::<T>(g) {
        *x = x.max(low).min(high);
    }
}
