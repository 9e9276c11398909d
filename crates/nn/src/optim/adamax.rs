//! Adamax: Adam with the infinity norm in place of the second moment.

use adnet_tensor::{Element, Tensor};

use super::{
    non_negative, parse_state, prepare, set_if, state_entries, unit_interval, update_all,
    Optimizer, ParamRule,
};
use crate::Result;

/// Adamax, as `torch.optim.Adamax`.
///
/// Settings and defaults (PyTorch's): `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0` (L2), `maximize = false`. With `m` and `u` starting at zero and `t` the
/// step (from 1):
///
/// ```text
/// g ← −g                                  if maximize
/// g ← g + weight_decay · θ                if weight_decay ≠ 0
/// m ← β₁ · m + (1 − β₁) · g
/// u ← max(β₂ · u, |g| + eps)
/// θ ← θ − lr / (1 − β₁ᵗ) · m / u
/// ```
///
/// # Keras
/// Keras 3's `Adamax` adds epsilon after the maximum, `u ← max(β₂ · u, |g|)` and
/// `θ ← θ − lr / (1 − β₁ᵗ) · m / (u + eps)`, with `lr = 1e-3`, `eps = 1e-7`.
/// `Adamax::new(1e-3)?.eps(1e-7)?.eps_outside_max(true)` reproduces it (checked against
/// Keras 3.15 in the tests).
#[derive(Debug, Clone)]
pub struct Adamax {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    maximize: bool,
    eps_outside_max: bool,
    step: u64,
    state: Vec<[Tensor; 2]>,
}

impl Adamax {
    /// Adamax with learning rate `lr` (PyTorch's default is 2e-3) and the other defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        Self {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
            eps_outside_max: false,
            step: 0,
            state: Vec::new(),
        }
        .validated()
    }

    /// Sets the decay rates of the moment and of the infinity norm (default `(0.9, 0.999)`).
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

    /// Sets the L2 penalty added to the gradient (default 0).
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

    /// Maximises the objective instead of minimising it (default off).
    pub fn maximize(self, maximize: bool) -> Self {
        Self { maximize, ..self }
    }

    /// Adds epsilon to `u` after the maximum (Keras) instead of to `|g|` inside it (PyTorch, the
    /// default).
    pub fn eps_outside_max(self, eps_outside_max: bool) -> Self {
        Self {
            eps_outside_max,
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

impl ParamRule<2> for Adamax {
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; 2]) {
        let (beta1, beta2) = self.betas;
        let clr = T::from_f64(self.lr / (1.0 - beta1.powf(self.step as f64)));
        let (b1, one_minus_b1) = (T::from_f64(beta1), T::from_f64(1.0 - beta1));
        let b2 = T::from_f64(beta2);
        let eps = T::from_f64(self.eps);
        let weight_decay = T::from_f64(self.weight_decay);
        let [exp_avg, exp_inf] = state;
        for (((p, &g), m), u) in param.iter_mut().zip(grad).zip(exp_avg).zip(exp_inf) {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g = g + weight_decay * *p;
            }
            *m = b1 * *m + one_minus_b1 * g;
            if self.eps_outside_max {
                *u = (b2 * *u).max(g.abs());
                *p = *p - clr * (*m / (*u + eps));
            } else {
                *u = (b2 * *u).max(g.abs() + eps);
                *p = *p - clr * (*m / *u);
            }
        }
    }
}

impl Optimizer for Adamax {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        prepare("adamax", params, grads, &mut self.state, [Some(0.0); 2])?;
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

    /// `step` and, per parameter `i`, `{i}.exp_avg` and `{i}.exp_inf`, as PyTorch names them.
    fn state(&self) -> Vec<(String, Tensor)> {
        state_entries(self.step, &self.state, ADAMAX_STATE, [true; 2])
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let (step, buffers) = parse_state(state, ADAMAX_STATE, [true; 2])?;
        self.step = step;
        self.state = buffers;
        Ok(())
    }
}

/// Adamax's per-parameter buffers, as PyTorch names them.
const ADAMAX_STATE: [&str; 2] = ["exp_avg", "exp_inf"];
