//! Stochastic gradient descent with momentum, dampening and Nesterov momentum.

use adnet_tensor::{Element, Tensor};

use super::{
    closed_unit_interval, non_negative, parse_state, prepare, set_if, state_entries, update_all,
    Optimizer, ParamRule,
};
use crate::{NnError, Result};

/// Stochastic gradient descent, as `torch.optim.SGD`.
///
/// Settings and defaults (PyTorch's): `lr` (given; PyTorch's default is 1e-3), `momentum = 0`,
/// `dampening = 0`, `weight_decay = 0` (L2, added to the gradient), `nesterov = false`,
/// `maximize = false`. With `b` the momentum buffer and `t` the step (from 1):
///
/// ```text
/// g ← −g                              if maximize
/// g ← g + weight_decay · θ            if weight_decay ≠ 0
/// if momentum ≠ 0:
///     b ← g                           if t = 1
///     b ← momentum · b + (1 − dampening) · g   otherwise
///     g ← g + momentum · b            if nesterov
///     g ← b                           otherwise
/// θ ← θ − lr · g
/// ```
///
/// Keras's `SGD` keeps `v ← momentum · v − lr · g` and adds `v` (Nesterov: adds
/// `momentum · v − lr · g`); with a constant `lr` that is exactly the update above with
/// `dampening = 0`, so no option is needed.
///
/// # Examples
/// ```
/// use adnet_nn::optim::{Optimizer, Sgd};
/// use adnet_tensor::Tensor;
/// let mut w = Tensor::from_vec(vec![1.0f64], [1])?;
/// let mut sgd = Sgd::new(0.1)?.momentum(0.9)?.nesterov(true)?;
/// sgd.step(&mut [&mut w], &[&Tensor::from_vec(vec![2.0f64], [1])?])?;
/// assert!((w.to_f64_vec()[0] - (1.0 - 0.1 * (2.0 + 0.9 * 2.0))).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    maximize: bool,
    step: u64,
    state: Vec<[Tensor; 1]>,
}

impl Sgd {
    /// Plain SGD with learning rate `lr` and every other setting at PyTorch's default.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        Self {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
            step: 0,
            state: Vec::new(),
        }
        .validated()
    }

    /// Sets the momentum factor (default 0).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when negative, or zero while Nesterov is on.
    pub fn momentum(self, momentum: f64) -> Result<Self> {
        Self { momentum, ..self }.validated()
    }

    /// Sets the dampening of the momentum (default 0).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when outside `[0, 1]`, or non-zero while Nesterov is on.
    pub fn dampening(self, dampening: f64) -> Result<Self> {
        Self { dampening, ..self }.validated()
    }

    /// Sets the L2 penalty added to the gradient (default 0).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when negative.
    pub fn weight_decay(self, weight_decay: f64) -> Result<Self> {
        Self {
            weight_decay,
            ..self
        }
        .validated()
    }

    /// Turns Nesterov momentum on or off (default off). Set `momentum` first.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] when turned on with zero momentum or non-zero dampening
    /// (PyTorch rejects both).
    pub fn nesterov(self, nesterov: bool) -> Result<Self> {
        Self { nesterov, ..self }.validated()
    }

    /// Maximises the objective instead of minimising it (default off).
    pub fn maximize(self, maximize: bool) -> Self {
        Self { maximize, ..self }
    }

    /// Checks every setting; a reconfigured optimizer starts afresh.
    fn validated(mut self) -> Result<Self> {
        self.reset();
        non_negative("lr", self.lr)?;
        non_negative("momentum", self.momentum)?;
        closed_unit_interval("dampening", self.dampening)?;
        non_negative("weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(NnError::InvalidSetting {
                what: "nesterov",
                reason: format!(
                    "needs momentum > 0 and dampening = 0, got momentum {} and dampening {}",
                    self.momentum, self.dampening
                ),
            });
        }
        Ok(self)
    }
}

impl ParamRule<1> for Sgd {
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; 1]) {
        let [buffer] = state;
        let lr = T::from_f64(self.lr);
        let momentum = T::from_f64(self.momentum);
        let keep = T::from_f64(1.0 - self.dampening);
        let weight_decay = T::from_f64(self.weight_decay);
        let first = self.step == 1;
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g = g + weight_decay * *p;
            }
            if self.momentum != 0.0 {
                let b = &mut buffer[i];
                *b = if first { g } else { momentum * *b + keep * g };
                g = if self.nesterov { g + momentum * *b } else { *b };
            }
            *p = *p - lr * g;
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        let buffer = (self.momentum != 0.0).then_some(0.0);
        prepare("sgd", params, grads, &mut self.state, [buffer])?;
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

    /// `momentum`, when non-zero (an SGD built without momentum keeps no buffer).
    fn momentum(&self) -> Option<f64> {
        (self.momentum != 0.0).then_some(self.momentum)
    }

    /// Sets `momentum` when the SGD has one and the value is finite and positive.
    fn set_momentum(&mut self, momentum: f64) -> bool {
        let accepted = self.momentum != 0.0 && momentum.is_finite() && momentum > 0.0;
        set_if(&mut self.momentum, momentum, accepted)
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        state_entries(
            self.step,
            &self.state,
            ["momentum_buffer"],
            [self.momentum != 0.0],
        )
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let (step, buffers) = parse_state(state, ["momentum_buffer"], [self.momentum != 0.0])?;
        self.step = step;
        self.state = buffers;
        Ok(())
    }
}
