//! Adadelta: steps whose units follow from running averages of squared gradients and updates.

use adnet_tensor::{Element, Tensor};

use super::{
    closed_unit_interval, non_negative, parse_state, prepare, state_entries, update_all, Optimizer,
    ParamRule,
};
use crate::Result;

/// Adadelta, as `torch.optim.Adadelta`.
///
/// Settings and defaults (PyTorch's): `lr = 1.0`, `rho = 0.9`, `eps = 1e-6`,
/// `weight_decay = 0` (L2), `maximize = false`. With `v` the average of squared gradients and
/// `u` the average of squared updates, both starting at zero:
///
/// ```text
/// g ← −g                                  if maximize
/// g ← g + weight_decay · θ                if weight_decay ≠ 0
/// v ← rho · v + (1 − rho) · g²
/// Δ ← √(u + eps) / √(v + eps) · g
/// u ← rho · u + (1 − rho) · Δ²
/// θ ← θ − lr · Δ
/// ```
///
/// Keras's `Adadelta` computes the same update (epsilon inside both roots) with other defaults
/// (`lr = 1e-3`, `rho = 0.95`, `eps = 1e-7`): `Adadelta::new(1e-3)?.rho(0.95)?.eps(1e-7)?`.
#[derive(Debug, Clone)]
pub struct Adadelta {
    lr: f64,
    rho: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
    // the update does not use it; kept for the state, as PyTorch keeps it
    step: u64,
    state: Vec<[Tensor; 2]>,
}

impl Adadelta {
    /// Adadelta with learning rate `lr` (PyTorch's default is 1.0) and the other defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        Self {
            lr,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false,
            step: 0,
            state: Vec::new(),
        }
        .validated()
    }

    /// Sets the decay of the running averages (default 0.9).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when outside `[0, 1]`.
    pub fn rho(self, rho: f64) -> Result<Self> {
        Self { rho, ..self }.validated()
    }

    /// Sets epsilon (default 1e-6).
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

    /// Checks every setting; a reconfigured optimizer starts afresh.
    fn validated(mut self) -> Result<Self> {
        self.reset();
        non_negative("lr", self.lr)?;
        closed_unit_interval("rho", self.rho)?;
        non_negative("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        Ok(self)
    }
}

impl ParamRule<2> for Adadelta {
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; 2]) {
        let lr = T::from_f64(self.lr);
        let rho = T::from_f64(self.rho);
        let one_minus_rho = T::from_f64(1.0 - self.rho);
        let eps = T::from_f64(self.eps);
        let weight_decay = T::from_f64(self.weight_decay);
        let [square_avg, acc_delta] = state;
        for (((p, &g), v), u) in param.iter_mut().zip(grad).zip(square_avg).zip(acc_delta) {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g = g + weight_decay * *p;
            }
            *v = rho * *v + one_minus_rho * g * g;
            let delta = (*u + eps).sqrt() / (*v + eps).sqrt() * g;
            *u = rho * *u + one_minus_rho * delta * delta;
            *p = *p - lr * delta;
        }
    }
}

impl Optimizer for Adadelta {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        prepare("adadelta", params, grads, &mut self.state, [Some(0.0); 2])?;
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

    /// `step` and, per parameter `i`, `{i}.square_avg` and `{i}.acc_delta`, as PyTorch names
    /// them.
    fn state(&self) -> Vec<(String, Tensor)> {
        state_entries(self.step, &self.state, ADADELTA_STATE, [true; 2])
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let (step, buffers) = parse_state(state, ADADELTA_STATE, [true; 2])?;
        self.step = step;
        self.state = buffers;
        Ok(())
    }
}

/// Adadelta's per-parameter buffers, as PyTorch names them.
const ADADELTA_STATE: [&str; 2] = ["square_avg", "acc_delta"];
