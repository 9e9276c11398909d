//! Adam (with AMSGrad) and AdamW.

use adnet_tensor::{Element, Tensor};

use super::{
    non_negative, parse_state, prepare, set_if, state_entries, unit_interval, update_all,
    Optimizer, ParamRule,
};
use crate::Result;

/// Adam, as `torch.optim.Adam` (AMSGrad as an option).
///
/// Settings and defaults (PyTorch's): `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0` (L2, added to the gradient), `amsgrad = false`, `maximize = false`,
/// `decoupled_weight_decay = false` (on, it is [`AdamW`]). With `m`, `v` and `v̂` starting at
/// zero and `t` the step (from 1):
///
/// ```text
/// g ← −g                                  if maximize
/// θ ← θ · (1 − lr · weight_decay)         if decoupled_weight_decay
/// g ← g + weight_decay · θ                otherwise, if weight_decay ≠ 0
/// m ← β₁ · m + (1 − β₁) · g
/// v ← β₂ · v + (1 − β₂) · g²
/// v̂ ← max(v̂, v)                          if amsgrad (then v̂ replaces v below)
/// θ ← θ − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
///
/// # Keras
/// Keras 3's `Adam` (like tf.keras 2's) adds epsilon before the bias correction ("epsilon hat"
/// in the Adam paper), `θ ← θ − lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m / (√v + eps)`, which is
/// PyTorch's update with `eps / √(1 − β₂ᵗ)` in place of `eps`, and defaults to `eps = 1e-7`.
/// `Adam::new(1e-3)?.eps(1e-7)?.eps_before_bias_correction(true)` reproduces it, with or
/// without AMSGrad (checked against Keras 3.15 in the tests).
#[derive(Debug, Clone)]
pub struct Adam {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
    eps_before_bias_correction: bool,
    step: u64,
    state: Vec<[Tensor; 3]>,
}

impl Adam {
    /// Adam with learning rate `lr` (PyTorch's default is 1e-3) and the other defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        Self {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
            eps_before_bias_correction: false,
            step: 0,
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

    /// Sets the weight decay (default 0): an L2 penalty added to the gradient, or decoupled
    /// with [`decoupled_weight_decay`](Self::decoupled_weight_decay).
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

    /// Uses the maximum of all second-moment estimates so far (AMSGrad; default off).
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.reset();
        Self { amsgrad, ..self }
    }

    /// Maximises the objective instead of minimising it (default off).
    pub fn maximize(self, maximize: bool) -> Self {
        Self { maximize, ..self }
    }

    /// Shrinks the parameters by `lr · weight_decay` before the step (AdamW) instead of adding
    /// the L2 term to the gradient (default off).
    pub fn decoupled_weight_decay(self, decoupled_weight_decay: bool) -> Self {
        Self {
            decoupled_weight_decay,
            ..self
        }
    }

    /// Adds epsilon to `√v` before the bias correction (Keras) instead of after it (PyTorch, the
    /// default).
    pub fn eps_before_bias_correction(self, eps_before_bias_correction: bool) -> Self {
        Self {
            eps_before_bias_correction,
            ..self
        }
    }

    /// Checks every setting; a reconfigured optimizer starts afresh.
    fn validated(mut self) -> Result<Self> {
        self.reset();
        non_negative("lr", self.lr)?;
        unit_interval("betas", self.betas.0)?;
        unit_interval("betas", self.betas.1)?;
        non_negative("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        Ok(self)
    }
}

impl ParamRule<3> for Adam {
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; 3]) {
        let (beta1, beta2) = self.betas;
        let t = self.step as f64;
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2_sqrt = (1.0 - beta2.powf(t)).sqrt();
        // Keras scales the step and leaves √v uncorrected; PyTorch corrects √v
        let (step_size, sqrt_scale) = if self.eps_before_bias_correction {
            (self.lr * bias_correction2_sqrt / bias_correction1, 1.0)
        } else {
            (self.lr / bias_correction1, bias_correction2_sqrt)
        };
        let step_size = T::from_f64(step_size);
        let sqrt_scale = T::from_f64(sqrt_scale);
        let (b1, one_minus_b1) = (T::from_f64(beta1), T::from_f64(1.0 - beta1));
        let (b2, one_minus_b2) = (T::from_f64(beta2), T::from_f64(1.0 - beta2));
        let eps = T::from_f64(self.eps);
        let weight_decay = T::from_f64(self.weight_decay);
        let shrink = T::from_f64(1.0 - self.lr * self.weight_decay);
        let decay = self.weight_decay != 0.0;
        let [exp_avg, exp_avg_sq, max_exp_avg_sq] = state;
        if !self.maximize && !decay && !self.amsgrad {
            // the default configuration, branch-free and without bounds checks so the loop
            // vectorises; the same operations in the same order as the general loop below
            let moments = exp_avg.iter_mut().zip(exp_avg_sq.iter_mut());
            for ((p, &g), (m, v)) in param.iter_mut().zip(grad).zip(moments) {
                *m = b1 * *m + one_minus_b1 * g;
                *v = b2 * *v + one_minus_b2 * g * g;
                *p = *p - step_size * (*m / (v.sqrt() / sqrt_scale + eps));
            }
            return;
        }
        for i in 0..param.len() {
            let mut p = param[i];
            let mut g = if self.maximize { -grad[i] } else { grad[i] };
            if decay && self.decoupled_weight_decay {
                p = p * shrink;
            } else if decay {
                g = g + weight_decay * p;
            }
            let m = b1 * exp_avg[i] + one_minus_b1 * g;
            exp_avg[i] = m;
            let mut v = b2 * exp_avg_sq[i] + one_minus_b2 * g * g;
            exp_avg_sq[i] = v;
            if self.amsgrad {
                v = max_exp_avg_sq[i].max(v);
                max_exp_avg_sq[i] = v;
            }
            param[i] = p - step_size * (m / (v.sqrt() / sqrt_scale + eps));
        }
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        let init = [Some(0.0), Some(0.0), self.amsgrad.then_some(0.0)];
        prepare("adam", params, grads, &mut self.state, init)?;
        self.step += 1;
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
        self.state.clear();
    }

    /// `betas.0`, which PyTorch's `OneCycleLR` cycles.
    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }

    /// Sets `betas.0` when the value is in `[0, 1)`.
    fn set_momentum(&mut self, momentum: f64) -> bool {
        set_if(&mut self.betas.0, momentum, (0.0..1.0).contains(&momentum))
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        state_entries(
            self.step,
            &self.state,
            ADAM_STATE,
            [true, true, self.amsgrad],
        )
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let (step, buffers) = parse_state(state, ADAM_STATE, [true, true, self.amsgrad])?;
        self.step = step;
        self.state = buffers;
        Ok(())
    }
}

/// Adam's per-parameter buffers, as PyTorch names them.
const ADAM_STATE: [&str; 3] = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

/// AdamW, as `torch.optim.AdamW`: Adam with decoupled weight decay.
///
/// Settings and defaults (PyTorch's): `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 1e-2`, `amsgrad = false`, `maximize = false`. The update is [`Adam`]'s with
/// the decay applied to the parameters instead of the gradient:
///
/// ```text
/// θ ← θ · (1 − lr · weight_decay)
/// m ← β₁ · m + (1 − β₁) · g,   v ← β₂ · v + (1 − β₂) · g²   (v̂ ← max(v̂, v) if amsgrad)
/// θ ← θ − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
///
/// Keras 3's `AdamW` decays the same way (`θ ← θ − θ · weight_decay · lr`, default
/// `weight_decay = 4e-3`) with Keras's epsilon placement: see [`Adam`].
#[derive(Debug, Clone)]
pub struct AdamW(Adam);

impl AdamW {
    /// AdamW with learning rate `lr` (PyTorch's default is 1e-3) and the other defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        let adam = Adam::new(lr)?
            .weight_decay(1e-2)?
            .decoupled_weight_decay(true);
        Ok(Self(adam))
    }

    /// Sets the decay rates of the two moment estimates (default `(0.9, 0.999)`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when either is outside
    /// `[0, 1)`.
    pub fn betas(self, betas: (f64, f64)) -> Result<Self> {
        Ok(Self(self.0.betas(betas)?))
    }

    /// Sets epsilon (default 1e-8).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn eps(self, eps: f64) -> Result<Self> {
        Ok(Self(self.0.eps(eps)?))
    }

    /// Sets the decoupled weight decay (default 1e-2).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn weight_decay(self, weight_decay: f64) -> Result<Self> {
        Ok(Self(self.0.weight_decay(weight_decay)?))
    }

    /// Uses the maximum of all second-moment estimates so far (AMSGrad; default off).
    pub fn amsgrad(self, amsgrad: bool) -> Self {
        Self(self.0.amsgrad(amsgrad))
    }

    /// Maximises the objective instead of minimising it (default off).
    pub fn maximize(self, maximize: bool) -> Self {
        Self(self.0.maximize(maximize))
    }

    /// Adds epsilon before the bias correction, as Keras does (see [`Adam`]).
    pub fn eps_before_bias_correction(self, eps_before_bias_correction: bool) -> Self {
        Self(
            self.0
                .eps_before_bias_correction(eps_before_bias_correction),
        )
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        self.0.step(params, grads)
    }

    fn lr(&self) -> f64 {
        self.0.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.0.lr = lr;
    }

    fn reset(&mut self) {
        self.0.reset();
    }

    /// `betas.0`, which PyTorch's `OneCycleLR` cycles.
    fn momentum(&self) -> Option<f64> {
        self.0.momentum()
    }

    /// Sets `betas.0` when the value is in `[0, 1)`.
    fn set_momentum(&mut self, momentum: f64) -> bool {
        self.0.set_momentum(momentum)
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        self.0.state()
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        self.0.load_state(state)
    }
}
