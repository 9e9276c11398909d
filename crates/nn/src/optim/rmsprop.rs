//! RMSprop: steps scaled by a running average of squared gradients.

use adnet_tensor::{Element, Tensor};

use super::{
    non_negative, parse_state, prepare, set_if, state_entries, update_all, Optimizer, ParamRule,
};
use crate::Result;

/// RMSprop, as `torch.optim.RMSprop`.
///
/// Settings and defaults (PyTorch's): `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`,
/// `weight_decay = 0` (L2), `momentum = 0`, `centered = false`, `maximize = false`. With `v`
/// the average of squares, `ḡ` the average gradient and `b` the momentum buffer, all starting at
/// zero:
///
/// ```text
/// g ← −g                                  if maximize
/// g ← g + weight_decay · θ                if weight_decay ≠ 0
/// v ← alpha · v + (1 − alpha) · g²
/// if centered:
///     ḡ ← alpha · ḡ + (1 − alpha) · g
///     d ← √(v − ḡ²) + eps
/// else:
///     d ← √v + eps
/// if momentum > 0:
///     b ← momentum · b + g / d
///     θ ← θ − lr · b
/// else:
///     θ ← θ − lr · g / d
/// ```
///
/// # Keras
/// Keras 3's `RMSprop` (like tf.keras 2's, whose fused kernel `ApplyRMSProp` does the same)
/// puts epsilon inside the square root, `d ← √(v + eps)` or `√(v − ḡ² + eps)`, and defaults to
/// `lr = 1e-3`, `rho = 0.9` (our `alpha`), `eps = 1e-7`. It also keeps `lr` inside the momentum
/// buffer (`b ← momentum · b + lr · g / d`), which equals PyTorch's form while `lr` is constant.
/// `Rmsprop::new(1e-3)?.alpha(0.9)?.eps(1e-7)?.eps_inside_sqrt(true)` reproduces it (checked
/// against Keras 3.15 in the tests, with and without `centered` and `momentum`). The standalone
/// Keras of 2.3 and earlier added epsilon outside the root, as PyTorch does.
#[derive(Debug, Clone)]
pub struct Rmsprop {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    maximize: bool,
    eps_inside_sqrt: bool,
    // the update does not use it; kept for the state, as PyTorch keeps it
    step: u64,
    state: Vec<[Tensor; 3]>,
}

impl Rmsprop {
    /// RMSprop with learning rate `lr` (PyTorch's default is 1e-2) and the other defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        Self {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
            eps_inside_sqrt: false,
            step: 0,
            state: Vec::new(),
        }
        .validated()
    }

    /// Sets the smoothing constant (default 0.99; Keras calls it `rho`, default 0.9).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn alpha(self, alpha: f64) -> Result<Self> {
        Self { alpha, ..self }.validated()
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

    /// Sets the momentum factor (default 0).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn momentum(self, momentum: f64) -> Result<Self> {
        Self { momentum, ..self }.validated()
    }

    /// Normalises by the estimated variance instead of the second moment (default off).
    pub fn centered(mut self, centered: bool) -> Self {
        self.reset();
        Self { centered, ..self }
    }

    /// Maximises the objective instead of minimising it (default off).
    pub fn maximize(self, maximize: bool) -> Self {
        Self { maximize, ..self }
    }

    /// Divides by `√(v + eps)` (Keras) instead of `√v + eps` (PyTorch, the default).
    pub fn eps_inside_sqrt(self, eps_inside_sqrt: bool) -> Self {
        Self {
            eps_inside_sqrt,
            ..self
        }
    }

    /// Checks every setting; a reconfigured optimizer starts afresh.
    fn validated(mut self) -> Result<Self> {
        self.reset();
        non_negative("lr", self.lr)?;
        non_negative("alpha", self.alpha)?;
        non_negative("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("momentum", self.momentum)?;
        Ok(self)
    }

    /// Which of [`RMSPROP_STATE`] this configuration keeps.
    fn used(&self) -> [bool; 3] {
        [true, self.centered, self.momentum > 0.0]
    }
}

impl ParamRule<3> for Rmsprop {
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; 3]) {
        let lr = T::from_f64(self.lr);
        let alpha = T::from_f64(self.alpha);
        let one_minus_alpha = T::from_f64(1.0 - self.alpha);
        let eps = T::from_f64(self.eps);
        let weight_decay = T::from_f64(self.weight_decay);
        let momentum = T::from_f64(self.momentum);
        let [square_avg, grad_avg, buffer] = state;
        for i in 0..param.len() {
            let p = param[i];
            let mut g = if self.maximize { -grad[i] } else { grad[i] };
            if self.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            let v = alpha * square_avg[i] + one_minus_alpha * g * g;
            square_avg[i] = v;
            let variance = if self.centered {
                let m = grad_avg[i] + one_minus_alpha * (g - grad_avg[i]);
                grad_avg[i] = m;
                v - m * m
            } else {
                v
            };
            let denom = if self.eps_inside_sqrt {
                (variance + eps).sqrt()
            } else {
                variance.sqrt() + eps
            };
            param[i] = if self.momentum > 0.0 {
                let b = momentum * buffer[i] + g / denom;
                buffer[i] = b;
                p - lr * b
            } else {
                p - lr * (g / denom)
            };
        }
    }
}

impl Optimizer for Rmsprop {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        let init = self.used().map(|used| used.then_some(0.0));
        prepare("rmsprop", params, grads, &mut self.state, init)?;
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

    /// `momentum`, when positive (an RMSprop built without momentum keeps no buffer).
    fn momentum(&self) -> Option<f64> {
        (self.momentum > 0.0).then_some(self.momentum)
    }

    /// Sets `momentum` when the RMSprop has one and the value is finite and positive.
    fn set_momentum(&mut self, momentum: f64) -> bool {
        let accepted = self.momentum > 0.0 && momentum.is_finite() && momentum > 0.0;
        set_if(&mut self.momentum, momentum, accepted)
    }

    /// `step` and, per parameter `i`, `{i}.square_avg`, `{i}.grad_avg` (when centered) and
    /// `{i}.momentum_buffer` (when momentum > 0), as PyTorch names them.
    fn state(&self) -> Vec<(String, Tensor)> {
        state_entries(self.step, &self.state, RMSPROP_STATE, self.used())
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let (step, buffers) = parse_state(state, RMSPROP_STATE, self.used())?;
        self.step = step;
        self.state = buffers;
        Ok(())
    }
}

/// RMSprop's per-parameter buffers, as PyTorch names them, in the order of its state.
const RMSPROP_STATE: [&str; 3] = ["square_avg", "grad_avg", "momentum_buffer"];
