//! Nadam: Adam with Nesterov momentum and a warming-up momentum schedule.

use adnet_tensor::{Element, Tensor};

use super::{
    bad_state, non_negative, parse_state, prepare, set_if, state_entries, unit_interval,
    update_all, Optimizer, ParamRule,
};
use crate::Result;

/// Nadam, as `torch.optim.NAdam`.
///
/// Settings and defaults (PyTorch's): `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0`, `momentum_decay = 4e-3` (ψ), `decoupled_weight_decay = false`,
/// `maximize = false`. With `m`, `v` starting at zero, `Π` (the product of the μ's) at one and
/// `t` the step (from 1):
///
/// ```text
/// g ← −g                                  if maximize
/// θ ← θ · (1 − lr · weight_decay)         if decoupled_weight_decay
/// g ← g + weight_decay · θ                otherwise, if weight_decay ≠ 0
/// μₜ ← β₁ · (1 − ½ · 0.96^(t·ψ)),   μₜ₊₁ ← β₁ · (1 − ½ · 0.96^((t+1)·ψ))
/// Π ← Π · μₜ
/// m ← β₁ · m + (1 − β₁) · g
/// v ← β₂ · v + (1 − β₂) · g²
/// d ← √(v / (1 − β₂ᵗ)) + eps
/// θ ← θ − lr · (1 − μₜ) / (1 − Π) · g / d − lr · μₜ₊₁ / (1 − Π · μₜ₊₁) · m / d
/// ```
///
/// # Keras
/// Keras 3's `Nadam` computes the same update but with the schedule `μₜ = β₁ · (1 − ½ · 0.96ᵗ)`,
/// that is ψ = 1 (a much faster warm-up), and defaults to `lr = 1e-3`, `eps = 1e-7`.
/// `Nadam::new(1e-3)?.eps(1e-7)?.keras_schedule()` reproduces it (checked against Keras 3.15
/// in the tests). Keras's `weight_decay` is decoupled: add `.decoupled_weight_decay(true)`.
#[derive(Debug, Clone)]
pub struct Nadam {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    momentum_decay: f64,
    decoupled_weight_decay: bool,
    maximize: bool,
    step: u64,
    mu_product: f64,
    state: Vec<[Tensor; 2]>,
}

impl Nadam {
    /// Nadam with learning rate `lr` (PyTorch's default is 2e-3) and the other defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        Self {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
            step: 0,
            mu_product: 1.0,
            state: Vec::new(),
        }
        .validated()
    }

    /// Sets the decay rates of the two moment estimates (default `(0.9, 0.999)`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when either is outside
    /// `[0, 1)`.
    pub fn betas(self, betas: (f64, f64)) -> Result<Self> {
        Self { betas, ..self }.validated()
    }

    /// Sets epsilon (default 1e-8).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn eps(self, eps: f64) -> Result<Self> {
        Self { eps, ..self }.validated()
    }

    /// Sets the weight decay (default 0): L2 on the gradient, or decoupled with
    /// [`decoupled_weight_decay`](Self::decoupled_weight_decay).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn weight_decay(self, weight_decay: f64) -> Result<Self> {
        Self {
            weight_decay,
            ..self
        }
        .validated()
    }

    /// Sets ψ, the momentum schedule's decay (default 4e-3).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn momentum_decay(self, momentum_decay: f64) -> Result<Self> {
        Self {
            momentum_decay,
            ..self
        }
        .validated()
    }

    /// Uses Keras's momentum schedule `μₜ = β₁ · (1 − ½ · 0.96ᵗ)` (ψ = 1).
    pub fn keras_schedule(mut self) -> Self {
        self.reset();
        Self {
            momentum_decay: 1.0,
            ..self
        }
    }

    /// Shrinks the parameters by `lr · weight_decay` before the step instead of adding the L2
    /// term to the gradient (default off).
    pub fn decoupled_weight_decay(self, decoupled_weight_decay: bool) -> Self {
        Self {
            decoupled_weight_decay,
            ..self
        }
    }

    /// Maximises the objective instead of minimising it (default off).
    pub fn maximize(self, maximize: bool) -> Self {
        Self { maximize, ..self }
    }

    /// Checks every setting; a reconfigured optimizer starts afresh.
    fn validated(mut self) -> Result<Self> {
        self.reset();
        non_negative("lr", self.lr)?;
        unit_interval("betas", self.betas.0)?;
        unit_interval("betas", self.betas.1)?;
        non_negative("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("momentum_decay", self.momentum_decay)?;
        Ok(self)
    }

    /// `μ` at step `t` of the schedule.
    fn mu(&self, t: f64) -> f64 {
        self.betas.0 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay))
    }
}

impl ParamRule<2> for Nadam {
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; 2]) {
        let (beta1, beta2) = self.betas;
        let t = self.step as f64;
        let (mu, mu_next) = (self.mu(t), self.mu(t + 1.0));
        let grad_coef = T::from_f64(self.lr * (1.0 - mu) / (1.0 - self.mu_product));
        let avg_coef = T::from_f64(self.lr * mu_next / (1.0 - self.mu_product * mu_next));
        let bias_correction2 = T::from_f64(1.0 - beta2.powf(t));
        let (b1, one_minus_b1) = (T::from_f64(beta1), T::from_f64(1.0 - beta1));
        let (b2, one_minus_b2) = (T::from_f64(beta2), T::from_f64(1.0 - beta2));
        let eps = T::from_f64(self.eps);
        let weight_decay = T::from_f64(self.weight_decay);
        let shrink = T::from_f64(1.0 - self.lr * self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let [exp_avg, exp_avg_sq] = state;
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(exp_avg).zip(exp_avg_sq) {
            let mut g = if self.maximize { -g } else { g };
            if decay && self.decoupled_weight_decay {
                *p = *p * shrink;
            } else if decay {
                g = g + weight_decay * *p;
            }
            *m = b1 * *m + one_minus_b1 * g;
            *v = b2 * *v + one_minus_b2 * g * g;
            let denom = (*v / bias_correction2).sqrt() + eps;
            *p = *p - grad_coef * (g / denom) - avg_coef * (*m / denom);
        }
    }
}

impl Optimizer for Nadam {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        prepare("nadam", params, grads, &mut self.state, [Some(0.0); 2])?;
        self.step += 1;
        self.mu_product *= self.mu(self.step as f64);
        let mut state = std::mem::take(&mut self.state);
        update_all(&*self, &mut state, params, grads);
        self.state = state;
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.step = 0;
        self.mu_product = 1.0;
        self.state.clear();
    }

    /// `betas.0`, which PyTorch's `OneCycleLR` cycles (the μ schedule is built on it).
    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }

    /// Sets `betas.0` when the value is in `[0, 1)`. The product `Π` of the μ's so far is kept,
    /// as in PyTorch.
    fn set_momentum(&mut self, momentum: f64) -> bool {
        set_if(&mut self.betas.0, momentum, (0.0..1.0).contains(&momentum))
    }

    /// `step`, `mu_product` (the product `Π` of the μ's so far, a scalar `f64` tensor) and, per
    /// parameter `i`, `{i}.exp_avg` and `{i}.exp_avg_sq`, as PyTorch names them.
    ///
    /// PyTorch keeps `mu_product`, like `step`, per parameter as a scalar tensor; here both are
    /// shared by all parameters (every parameter takes every step), so both are saved once,
    /// unprefixed. An optimizer that has stepped with no parameters thus keeps its `Π` too.
    fn state(&self) -> Vec<(String, Tensor)> {
        let mut entries = state_entries(self.step, &self.state, NADAM_STATE, [true; 2]);
        entries.push(("mu_product".to_string(), Tensor::scalar(self.mu_product)));
        entries
    }

    /// Restores what [`Nadam::state`](Optimizer::state) saved.
    ///
    /// # Errors
    /// As [`Optimizer::load_state`], and [`NnError::InvalidSetting`](crate::NnError::InvalidSetting)
    /// (with `what = "state"`) when `mu_product` is missing or not a number in `[0, 1]`. The
    /// optimizer is unchanged on error.
    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let mut mu_product = None;
        let mut buffers = Vec::with_capacity(state.len());
        for (name, value) in state {
            if name != "mu_product" {
                buffers.push((name.clone(), value.clone()));
                continue;
            }
            // each μ is in [0, β₁) ⊂ [0, 1), so their product is in [0, 1]
            let product = value
                .to_scalar()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| {
                    bad_state(format!(
                        "`mu_product` must be a number in [0, 1], got {value}"
                    ))
                })?;
            mu_product = Some(product);
        }
        let (step, buffers) = parse_state(&buffers, NADAM_STATE, [true; 2])?;
        let mu_product =
            mu_product.ok_or_else(|| bad_state("no `mu_product` entry".to_string()))?;
        self.step = step;
        self.mu_product = mu_product;
        self.state = buffers;
        Ok(())
    }
}

/// Nadam's per-parameter buffers, as PyTorch names them.
const NADAM_STATE: [&str; 2] = ["exp_avg", "exp_avg_sq"];
