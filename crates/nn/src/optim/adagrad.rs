//! Adagrad: per-coordinate steps scaled by the accumulated squared gradients.

use adnet_tensor::{Element, Tensor};

use super::{non_negative, parse_state, prepare, state_entries, update_all, Optimizer, ParamRule};
use crate::Result;

/// Adagrad, as `torch.optim.Adagrad`.
///
/// Settings and defaults (PyTorch's): `lr = 1e-2`, `lr_decay = 0`, `weight_decay = 0` (L2),
/// `initial_accumulator_value = 0`, `eps = 1e-10`, `maximize = false`. With `s` the sum of
/// squares and `t` the step (from 1):
///
/// ```text
/// g ← −g                                  if maximize
/// g ← g + weight_decay · θ                if weight_decay ≠ 0
/// lr_t ← lr / (1 + (t − 1) · lr_decay)
/// s ← s + g²                              (s starts at initial_accumulator_value)
/// θ ← θ − lr_t · g / (√s + eps)
/// ```
///
/// # Keras
/// Keras 3's `Adagrad` (and tf.keras 2's) puts epsilon inside the square root,
/// `θ ← θ − lr · g / √(s + eps)`, starts the accumulator at 0.1 and defaults to `lr = 1e-3`,
/// `eps = 1e-7`. `Adagrad::new(1e-3)?.initial_accumulator_value(0.1)?.eps(1e-7)?
/// .eps_inside_sqrt(true)` reproduces it (checked against Keras 3.15 in the tests).
#[derive(Debug, Clone)]
pub struct Adagrad {
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
    maximize: bool,
    eps_inside_sqrt: bool,
    step: u64,
    state: Vec<[Tensor; 1]>,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` (PyTorch's default is 1e-2) and the other defaults.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when `lr` is negative or NaN.
    pub fn new(lr: f64) -> Result<Self> {
        Self {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
            eps_inside_sqrt: false,
            step: 0,
            state: Vec::new(),
        }
        .validated()
    }

    /// Sets the learning-rate decay (default 0).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn lr_decay(self, lr_decay: f64) -> Result<Self> {
        Self { lr_decay, ..self }.validated()
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

    /// Sets the starting value of the sum of squares (default 0; Keras uses 0.1).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn initial_accumulator_value(self, initial_accumulator_value: f64) -> Result<Self> {
        Self {
            initial_accumulator_value,
            ..self
        }
        .validated()
    }

    /// Sets epsilon (default 1e-10).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`](crate::NnError::InvalidSetting) when negative.
    pub fn eps(self, eps: f64) -> Result<Self> {
        Self { eps, ..self }.validated()
    }

    /// Maximises the objective instead of minimising it (default off).
    pub fn maximize(self, maximize: bool) -> Self {
        Self { maximize, ..self }
    }

    /// Divides by `√(s + eps)` (Keras) instead of `√s + eps` (PyTorch, the default).
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
        non_negative("lr_decay", self.lr_decay)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        non_negative("eps", self.eps)?;
        Ok(self)
    }
}

impl ParamRule<1> for Adagrad {
    fn update<T: Element>(&self, param: &mut [T], grad: &[T], state: [&mut [T]; 1]) {
        let [sum] = state;
        let clr = T::from_f64(self.lr / (1.0 + (self.step - 1) as f64 * self.lr_decay));
        let eps = T::from_f64(self.eps);
        let weight_decay = T::from_f64(self.weight_decay);
        for ((p, &g), s) in param.iter_mut().zip(grad).zip(sum) {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g = g + weight_decay * *p;
            }
            *s = *s + g * g;
            let std = if self.eps_inside_sqrt {
                (*s + eps).sqrt()
            } else {
                s.sqrt() + eps
            };
            *p = *p - clr * (g / std);
        }
    }
}

impl Optimizer for Adagrad {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) -> Result<()> {
        let init = [Some(self.initial_accumulator_value)];
        prepare("adagrad", params, grads, &mut self.state, init)?;
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

    /// `step` and, per parameter `i`, `{i}.sum` (the sum of squares), as PyTorch names them.
    fn state(&self) -> Vec<(String, Tensor)> {
        state_entries(self.step, &self.state, ["sum"], [true])
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let (step, buffers) = parse_state(state, ["sum"], [true])?;
        self.step = step;
        self.state = buffers;
        Ok(())
    }
}
