//! [`Dropout`]: inverted dropout through a mask input.

use std::cell::RefCell;

use adnet_graph::{Graph, GraphError, NodeId, Plan, Var};
use adnet_tensor::{DType, Shape, Storage, Tensor};
use rand::Rng;

use super::{ensure_free, named_node, Module};
use crate::{NnError, Result};

/// Inverted dropout (PyTorch's `nn.Dropout`): in training each element is zeroed with
/// probability `p` and the survivors are scaled by `1/(1 − p)`, so the expected value is
/// unchanged; in evaluation it is the identity.
///
/// A graph is shape-static and has no random ops, so the random mask is an input node,
/// `{name}.mask`, of the activation's shape and dtype, and `forward` multiplies it in:
/// `y = x ⊙ mask`. The mask holds `0` or `1/(1 − p)` (the scale is folded in, one multiply);
/// all ones in evaluation. Every `forward` of the same `Dropout` uses the same mask.
///
/// A trainer fills the mask before every run of its plan: [`Dropout::train_mask`] draws a fresh
/// one for a training step, [`Dropout::eval_mask`] sets ones for evaluation. Since a
/// [`Sequential`](super::Sequential) holds its modules boxed, keep a clone of the `Dropout`
/// (clones share the mask node) to do so:
///
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::layers::{Dropout, Linear, LinearOptions, Module, Sequential};
/// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
/// let g = Graph::new();
/// let mut rng = StdRng::seed_from_u64(0);
/// let dropout = Dropout::new(&g, "drop", 0.5, [4, 3], DType::F32)?;
/// let mut net = Sequential::new();
/// net.push(dropout.clone())
///     .push(Linear::new(&g, "fc", 3, 1, LinearOptions::default(), &mut rng)?);
/// let x = g.input("x", [4, 3], DType::F32)?;
/// let y = net.forward(&g, x)?;
/// let mut plan = g.compile([y])?;
/// plan.set_input(x, &Tensor::ones([4, 3], DType::F32))?;
/// dropout.train_mask(&mut plan, &mut rng)?; // before each training step
/// plan.run(&g)?;
/// dropout.eval_mask(&mut plan)?; // before evaluating
/// plan.run(&g)?;
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    name: String,
    p: f64,
    mask: (String, NodeId),
    /// Reused for every mask drawn, so that a training step allocates nothing.
    scratch: RefCell<Tensor>,
}

impl Dropout {
    /// Declares the mask input `{name}.mask` with the given shape and dtype (those of the
    /// activation the dropout will be applied to).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`p`) unless `0 <= p <= 1` (`p = 1` zeroes everything, as
    /// in PyTorch); [`GraphError::InvalidName`] or [`GraphError::DuplicateName`].
    pub fn new(
        g: &Graph,
        name: &str,
        p: f64,
        shape: impl Into<Shape>,
        dtype: DType,
    ) -> Result<Dropout> {
        if !(0.0..=1.0).contains(&p) {
            return Err(NnError::InvalidSetting {
                what: "p",
                reason: format!("dropout probability has to be between 0 and 1, got {p}"),
            });
        }
        let mask_name = format!("{name}.mask");
        ensure_free(g, &mask_name)?;
        let shape = shape.into();
        let mask = g.input(&mask_name, shape.clone(), dtype)?.id();
        Ok(Dropout {
            name: name.to_string(),
            p,
            mask: (mask_name, mask),
            scratch: RefCell::new(Tensor::zeros(shape, dtype)),
        })
    }

    /// The layer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The probability of zeroing an element.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The mask input node.
    pub fn mask(&self) -> NodeId {
        self.mask.1
    }

    /// The value of a kept element, `1/(1 − p)` (0 when `p = 1`).
    fn keep_value(&self) -> f64 {
        if self.p < 1.0 {
            1.0 / (1.0 - self.p)
        } else {
            0.0
        }
    }

    /// Draws a training mask into `mask`: each element `0` with probability `p`, else
    /// `1/(1 − p)`.
    fn fill_train(&self, mask: &mut Tensor, rng: &mut impl Rng) {
        let keep = self.keep_value();
        let mut draw = || {
            if rng.random::<f64>() < self.p {
                0.0
            } else {
                keep
            }
        };
        match mask.storage_mut() {
            Storage::F32(values) => {
                for v in values {
                    *v = draw() as f32;
                }
            }
            Storage::F64(values) => {
                for v in values {
                    *v = draw();
                }
            }
        }
    }

    /// A fresh training mask (for [`Graph::eval_tensor`] or
    /// [`check_grad`](adnet_autodiff::check_grad), which take inputs by name).
    pub fn sample_mask(&self, rng: &mut impl Rng) -> Tensor {
        let mut mask = self.scratch.borrow().clone();
        self.fill_train(&mut mask, rng);
        mask
    }

    /// The evaluation mask: all ones.
    pub fn ones_mask(&self) -> Tensor {
        let scratch = self.scratch.borrow();
        Tensor::ones(scratch.shape().clone(), scratch.dtype())
    }

    /// Sets a freshly drawn training mask in `plan` (call before each training run).
    ///
    /// # Errors
    /// [`GraphError::NotInPlan`] when the plan is from a graph without this mask input.
    ///
    /// # Cost
    /// One random draw per element; no allocation.
    pub fn train_mask(&self, plan: &mut Plan, rng: &mut impl Rng) -> Result<()> {
        let mut mask = self.scratch.borrow_mut();
        self.fill_train(&mut mask, rng);
        Ok(plan.set_input(self.mask.1, &mask)?)
    }

    /// Sets the all-ones mask in `plan`, making the dropout the identity (call before
    /// evaluating).
    ///
    /// # Errors
    /// As [`Dropout::train_mask`].
    pub fn eval_mask(&self, plan: &mut Plan) -> Result<()> {
        let mut mask = self.scratch.borrow_mut();
        match mask.storage_mut() {
            Storage::F32(values) => values.fill(1.0),
            Storage::F64(values) => values.fill(1.0),
        }
        Ok(plan.set_input(self.mask.1, &mask)?)
    }
}

impl Module for Dropout {
    /// Adds `x ⊙ mask`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming the layer and both shapes when `x`'s shape is not
    /// the mask's; [`GraphError::DTypeMismatch`] for another dtype.
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        let x = g.var(x)?;
        let mask = named_node(g, &self.mask.0, self.mask.1)?;
        if x.shape() != mask.shape() {
            return Err(GraphError::ShapeMismatch {
                op: format!("dropout `{}`", self.name),
                lhs: x.shape(),
                rhs: mask.shape(),
            }
            .into());
        }
        Ok(x.try_mul(mask)?)
    }

    /// None: the mask is an input, not a parameter.
    fn parameters(&self) -> Vec<(String, NodeId)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_tensor::assert_close;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn p_outside_the_unit_interval_is_rejected() -> Result<()> {
        let g = Graph::new();
        for p in [-0.1, 1.5, f64::NAN] {
            assert!(matches!(
                Dropout::new(&g, "d", p, [2], DType::F32),
                Err(NnError::InvalidSetting { what: "p", .. })
            ));
        }
        assert!(g.is_empty());
        Ok(())
    }

    #[test]
    fn p_one_zeroes_everything_and_p_zero_keeps_everything() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        let all = Dropout::new(&g, "all", 1.0, [50], DType::F64)?;
        assert!(all
            .sample_mask(&mut rng)
            .to_f64_vec()
            .iter()
            .all(|&v| v == 0.0));
        let none = Dropout::new(&g, "none", 0.0, [50], DType::F32)?;
        assert!(none
            .sample_mask(&mut rng)
            .to_f64_vec()
            .iter()
            .all(|&v| v == 1.0));
        assert_close!(
            Dropout::new(&g, "half", 0.5, [1], DType::F64)?.keep_value(),
            2.0
        );
        Ok(())
    }

    #[test]
    fn forward_rejects_another_shape() -> Result<()> {
        let g = Graph::new();
        let d = Dropout::new(&g, "d", 0.5, [2, 3], DType::F32)?;
        let x = g.input("x", [3, 3], DType::F32)?;
        assert_eq!(
            d.forward(&g, x).unwrap_err().to_string(),
            "dropout `d`: incompatible shapes [3, 3] and [2, 3]"
        );
        Ok(())
    }
}
