//! [`Dropout`]: inverted dropout through a mask input.

use std::cell::RefCell;
use std::rc::Rc;

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
/// all ones in evaluation. A `forward` on an activation with another batch size (first axis)
/// declares one more mask input, `{name}.mask.b{batch}`, so a model built for several batch
/// sizes (as [`Trainer`](crate::train::Trainer) does) has one mask per size.
///
/// Whoever runs the plan fills the masks before every run: [`Dropout::train_mask`] draws fresh
/// ones for a training step, [`Dropout::eval_mask`] sets ones for evaluation;
/// [`Trainer::with_dropout`](crate::train::Trainer::with_dropout) does both at the right
/// times. Since a [`Sequential`](super::Sequential) holds its modules boxed, keep a clone of
/// the `Dropout` (clones share their masks) to do so:
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
    /// One mask per activation shape, the constructor's first; shared by clones.
    masks: Rc<RefCell<Vec<Mask>>>,
}

/// A mask input and the buffer its values are drawn into (reused, so that a training step
/// allocates nothing).
#[derive(Debug)]
struct Mask {
    name: String,
    node: NodeId,
    scratch: Tensor,
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
        let node = g.input(&mask_name, shape.clone(), dtype)?.id();
        Ok(Dropout {
            name: name.to_string(),
            p,
            masks: Rc::new(RefCell::new(vec![Mask {
                name: mask_name,
                node,
                scratch: Tensor::zeros(shape, dtype),
            }])),
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

    /// The first mask input node (of the shape given to [`Dropout::new`]).
    pub fn mask(&self) -> NodeId {
        self.masks.borrow()[0].node
    }

    /// Every mask input node, the first one first.
    pub fn masks(&self) -> Vec<NodeId> {
        self.masks.borrow().iter().map(|m| m.node).collect()
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

    /// A fresh training mask of the first mask's shape (for [`Graph::eval_tensor`] or
    /// [`check_grad`](adnet_autodiff::check_grad), which take inputs by name).
    pub fn sample_mask(&self, rng: &mut impl Rng) -> Tensor {
        let mut mask = self.masks.borrow()[0].scratch.clone();
        self.fill_train(&mut mask, rng);
        mask
    }

    /// The evaluation mask of the first mask's shape: all ones.
    pub fn ones_mask(&self) -> Tensor {
        let masks = self.masks.borrow();
        Tensor::ones(masks[0].scratch.shape().clone(), masks[0].scratch.dtype())
    }

    /// Sets freshly drawn training masks in `plan` (call before each training run): every mask
    /// of this dropout that the plan reads (none, for a plan that does not pass through it).
    ///
    /// # Errors
    /// None in practice: every mask set is one the plan reads.
    ///
    /// # Cost
    /// One random draw per element; no allocation.
    pub fn train_mask(&self, plan: &mut Plan, rng: &mut impl Rng) -> Result<()> {
        self.set_masks(plan, |mask| self.fill_train(mask, rng))
    }

    /// Sets all-ones masks in `plan`, making the dropout the identity (call before
    /// evaluating).
    ///
    /// # Errors
    /// As [`Dropout::train_mask`].
    pub fn eval_mask(&self, plan: &mut Plan) -> Result<()> {
        self.set_masks(plan, |mask| match mask.storage_mut() {
            Storage::F32(values) => values.fill(1.0),
            Storage::F64(values) => values.fill(1.0),
        })
    }

    /// Fills and sets every mask the plan reads.
    fn set_masks(&self, plan: &mut Plan, mut fill: impl FnMut(&mut Tensor)) -> Result<()> {
        for mask in self.masks.borrow_mut().iter_mut() {
            // a mask declared after the plan was compiled is not among its inputs at all
            if plan.inputs().any(|input| input == mask.node) {
                fill(&mut mask.scratch);
                plan.set_input(mask.node, &mask.scratch)?;
            }
        }
        Ok(())
    }

    /// The mask input for activations of `shape`, declared the first time a batch size is
    /// seen.
    fn mask_for<'g>(&self, g: &'g Graph, shape: &Shape) -> Result<Var<'g>> {
        let mut masks = self.masks.borrow_mut();
        if let Some(mask) = masks.iter().find(|m| m.scratch.shape() == shape) {
            return named_node(g, &mask.name, mask.node);
        }
        let first = masks[0].scratch.shape().clone();
        let same_features = shape.rank() == first.rank()
            && shape.rank() > 0
            && shape.dims()[1..] == first.dims()[1..];
        if !same_features {
            return Err(GraphError::ShapeMismatch {
                op: format!("dropout `{}`", self.name),
                lhs: shape.clone(),
                rhs: first,
            }
            .into());
        }
        let name = format!("{}.b{}", masks[0].name, shape.dims()[0]);
        ensure_free(g, &name)?;
        let dtype = masks[0].scratch.dtype();
        let node = g.input(&name, shape.clone(), dtype)?;
        masks.push(Mask {
            name,
            node: node.id(),
            scratch: Tensor::zeros(shape.clone(), dtype),
        });
        Ok(node)
    }
}

impl Module for Dropout {
    /// Adds `x ⊙ mask`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming the layer and both shapes when `x`'s shape differs
    /// from the first mask's other than in its first (batch) axis;
    /// [`GraphError::DTypeMismatch`] for another dtype.
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        let x = g.var(x)?;
        let mask = self.mask_for(g, &x.shape())?;
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
    fn forward_rejects_another_feature_shape_and_adds_a_mask_per_batch_size() -> Result<()> {
        let g = Graph::new();
        let d = Dropout::new(&g, "d", 0.5, [2, 3], DType::F32)?;
        let x = g.input("x", [2, 4], DType::F32)?;
        assert_eq!(
            d.forward(&g, x).unwrap_err().to_string(),
            "dropout `d`: incompatible shapes [2, 4] and [2, 3]"
        );
        let clone = d.clone();
        let x5 = g.input("x5", [5, 3], DType::F32)?;
        let y5 = d.forward(&g, x5)?;
        assert_eq!(y5.shape(), Shape::from([5, 3]));
        // the clone shares the new mask, and a second forward reuses it
        assert_eq!(clone.masks().len(), 2);
        assert_eq!(g.name_of(clone.masks()[1]).as_deref(), Some("d.mask.b5"));
        d.forward(&g, g.input("again", [5, 3], DType::F32)?)?;
        assert_eq!(d.masks().len(), 2);
        // a plan through the batch-5 path gets its mask filled
        let mut plan = g.compile([y5])?;
        plan.set_input(x5, &Tensor::ones([5, 3], DType::F32))?;
        let mut rng = StdRng::seed_from_u64(3);
        d.train_mask(&mut plan, &mut rng)?;
        plan.run(&g)?;
        let kept = plan.output_at(0).to_f64_vec();
        assert!(kept.iter().all(|&v| v == 0.0 || v == 2.0));
        assert!(kept.contains(&0.0) && kept.contains(&2.0));
        d.eval_mask(&mut plan)?;
        plan.run(&g)?;
        assert!(plan.output_at(0).to_f64_vec().iter().all(|&v| v == 1.0));
        Ok(())
    }
}
