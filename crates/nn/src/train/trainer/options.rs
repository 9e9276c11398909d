//! The public types a [`Trainer`] is set up with and reports: the builder's [`Step`], the
//! [`ParamList`] it trains, [`GradClip`], [`ScheduleInterval`], [`FitOptions`] and
//! [`StepOutcome`].
//!
//! [`Trainer`]: super::Trainer

use adnet_graph::{Graph, NodeId, Var};
use adnet_tensor::DType;

use crate::layers::Module;
use crate::loss::{cross_entropy, mse_loss, Reduction};
use crate::train::EarlyStopping;
use crate::Result;

/// The nodes a [`Trainer`]'s builder adds for one batch size.
///
/// [`Trainer`]: super::Trainer
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The input node receiving a batch of features (`[batch, d]`).
    pub input: NodeId,
    /// The input node receiving the batch's targets.
    pub target: NodeId,
    /// The loss, one element.
    pub loss: NodeId,
    /// The model's predictions, for metrics and
    /// [`Trainer::predict`](super::Trainer::predict).
    pub output: NodeId,
}

impl Step {
    /// The builder of a regression step, for [`Trainer::new`](super::Trainer::new): inputs
    /// `x{n}` of shape `[n, features]` and targets `t{n}` of shape `[n, outputs]` (both
    /// `dtype`), the model's output, and the mean squared error against the targets.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// use adnet_nn::layers::{Mlp, Module};
    /// use adnet_nn::optim::Adam;
    /// use adnet_nn::train::{Step, Trainer};
    /// use adnet_tensor::rand::{rngs::StdRng, SeedableRng};
    /// use adnet_tensor::{DType, Tensor};
    /// let g = Graph::new();
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mlp = Mlp::new(&[3, 8, 2]).dtype(DType::F64).build(&g, "mlp", &mut rng)?;
    /// let params = mlp.parameters();
    /// let step = Step::mse(mlp, 3, 2, DType::F64);
    /// let mut trainer = Trainer::new(&g, params, Box::new(Adam::new(0.01)?), step)?;
    /// let (x, t) = (Tensor::zeros([5, 3], DType::F64), Tensor::ones([5, 2], DType::F64));
    /// let outcome = trainer.train_batch(&x, &t)?;
    /// assert_eq!(outcome.size, 5);
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn mse<M: Module>(
        model: M,
        features: usize,
        outputs: usize,
        dtype: DType,
    ) -> impl Fn(&Graph, usize) -> Result<Step> {
        move |g: &Graph, n: usize| {
            Step::supervised(g, &model, [n, features], &[n, outputs], dtype, |y, t| {
                mse_loss(y, t, Reduction::Mean)
            })
        }
    }

    /// The builder of a classification step, for [`Trainer::new`](super::Trainer::new):
    /// inputs `x{n}` of shape `[n, features]` and integer class labels `t{n}` of shape `[n]`
    /// (both `dtype`), the model's output as logits, and the mean softmax cross-entropy
    /// ([`cross_entropy`], no label smoothing).
    pub fn cross_entropy<M: Module>(
        model: M,
        features: usize,
        dtype: DType,
    ) -> impl Fn(&Graph, usize) -> Result<Step> {
        move |g: &Graph, n: usize| {
            Step::supervised(g, &model, [n, features], &[n], dtype, |y, t| {
                cross_entropy(y, t, 0.0, Reduction::Mean)
            })
        }
    }

    /// Declares the batch's inputs and targets, applies `model` and `loss`.
    fn supervised<'g, M: Module>(
        g: &'g Graph,
        model: &M,
        features: [usize; 2],
        targets: &[usize],
        dtype: DType,
        loss: impl Fn(Var<'g>, Var<'g>) -> Result<Var<'g>>,
    ) -> Result<Step> {
        let n = features[0];
        let x = g.input(&format!("x{n}"), features, dtype)?;
        let t = g.input(&format!("t{n}"), targets, dtype)?;
        let y = model.forward(g, x)?;
        let loss = loss(y, t)?;
        Ok(Step {
            input: x.id(),
            target: t.id(),
            loss: loss.id(),
            output: y.id(),
        })
    }
}

/// A list of parameters to train: `Vec<NodeId>`, `&[NodeId]`, or [`Module::parameters`]'s
/// `Vec<(String, NodeId)>`.
///
/// [`Module::parameters`]: crate::layers::Module::parameters
pub trait ParamList {
    /// The parameters' ids, in order.
    fn into_param_ids(self) -> Vec<NodeId>;
}

impl ParamList for Vec<NodeId> {
    fn into_param_ids(self) -> Vec<NodeId> {
        self
    }
}

impl ParamList for &[NodeId] {
    fn into_param_ids(self) -> Vec<NodeId> {
        self.to_vec()
    }
}

impl ParamList for Vec<(String, NodeId)> {
    fn into_param_ids(self) -> Vec<NodeId> {
        self.into_iter().map(|(_, id)| id).collect()
    }
}

/// Gradient clipping applied before every optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GradClip {
    /// [`clip_grad_norm`] with this `max_norm` and `norm_type` (2 for the Euclidean norm).
    ///
    /// [`clip_grad_norm`]: crate::optim::clip_grad_norm
    Norm {
        /// The largest joint norm allowed.
        max_norm: f64,
        /// The norm's order.
        norm_type: f64,
    },
    /// [`clip_grad_value`] with this limit.
    ///
    /// [`clip_grad_value`]: crate::optim::clip_grad_value
    Value(f64),
}

/// When a learning-rate schedule advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScheduleInterval {
    /// The rate is `schedule.lr(epoch, base_lr)` for the whole epoch (default).
    #[default]
    Epoch,
    /// The rate is `schedule.lr(step, base_lr)`, `step` counting the trainer's optimizer steps.
    Step,
}

/// How [`Trainer::fit`] trains.
///
/// [`Trainer::fit`]: super::Trainer::fit
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Passes over the training set (default 1).
    pub epochs: usize,
    /// Samples per step (default 32); the training set's size, or more, gives full-batch
    /// training. Validation uses the same size.
    pub batch_size: usize,
    /// Whether to reshuffle the training set every epoch (default `true`).
    pub shuffle: bool,
    /// The seed of the shuffles (default 0).
    pub seed: u64,
    /// Whether to skip a last, smaller batch (default `false`).
    pub drop_last: bool,
    /// Stop when the validation loss (or accuracy) stops improving (default `None`).
    pub early_stopping: Option<EarlyStopping>,
    /// Hide the progress bar (default `false`; it is also hidden when stdout is not a
    /// terminal).
    pub quiet: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            drop_last: false,
            early_stopping: None,
            quiet: false,
        }
    }
}

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// The batch's loss, before the update.
    pub loss: f64,
    /// How many samples of the batch were classified correctly (`None` for regression).
    pub correct: Option<usize>,
    /// The batch size.
    pub size: usize,
}
