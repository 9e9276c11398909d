//! [`Trainer`]: compiles a model's loss and gradients once per batch size and runs them every
//! step.

use rand::rngs::StdRng;
use rand::SeedableRng;
use smallvec::SmallVec;
use std::time::Instant;

use adnet_graph::{Graph, NodeId, Plan};
use adnet_tensor::Tensor;

use super::callbacks::{
    BatchRecord, Callback, EarlyStopping, EarlyStoppingCallback, TrainerControl,
};
use super::metrics::{classes, count_correct, resolve_task, ConfusionMatrix, Metrics, Task};
use super::progress::Progress;
use super::{EpochRecord, History};
use crate::classic::{FullBatchMethod, GraphObjective, Iteration, Objective};
use crate::data::{BatchOptions, Batches, DataSet};
use crate::layers::Dropout;
use crate::optim::schedule::{LrSchedule, ReduceLrOnPlateau};
use crate::optim::{clip_grad_norm, clip_grad_value, Optimizer};
use crate::{NnError, Result};

/// The nodes a [`Trainer`]'s builder adds for one batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The input node receiving a batch of features (`[batch, d]`).
    pub input: NodeId,
    /// The input node receiving the batch's targets.
    pub target: NodeId,
    /// The loss, one element.
    pub loss: NodeId,
    /// The model's predictions, for metrics and [`Trainer::predict`].
    pub output: NodeId,
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
    Norm {
        /// The largest joint norm allowed.
        max_norm: f64,
        /// The norm's order.
        norm_type: f64,
    },
    /// [`clip_grad_value`] with this limit.
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

/// The plans of one batch size, each compiled when first needed.
#[derive(Debug)]
struct Compiled<'g> {
    batch: usize,
    step: Step,
    /// Outputs: loss, output, then one gradient per parameter.
    train: Option<Plan>,
    /// Outputs: loss, output.
    eval: Option<Plan>,
    /// Output: output.
    predict: Option<Plan>,
    /// The objective a full-batch method minimises at this batch size.
    objective: Option<GraphObjective<'g>>,
}

/// What updates the parameters: a first-order optimizer, or a full-batch method.
enum Updater<'g> {
    Optimizer(Box<dyn Optimizer + 'g>),
    Method {
        method: Box<dyn FullBatchMethod + 'g>,
        /// The parameters, flat, as the method sees them.
        theta: Vec<f64>,
        /// The last iteration's outcome.
        last: Option<Iteration>,
        /// The batch of the last iteration: a method keeps values and gradients from one
        /// iteration to the next, which another batch makes stale.
        batch: Option<(Tensor, Tensor)>,
    },
}

type Builder<'g> = Box<dyn Fn(&Graph, usize) -> Result<Step> + 'g>;

/// Trains a model's parameters: full-batch or mini-batch, with an optimizer, optional gradient
/// clipping, a learning-rate schedule, `ReduceLrOnPlateau`, early stopping and callbacks.
///
/// The graph is shape-static, so the trainer asks a builder closure for the model's nodes at
/// each batch size it meets (`builder(graph, batch_size)` declares inputs of that batch size,
/// applies the model, whose parameters are shared between all calls, and returns the
/// [`Step`]). For each batch size it compiles, once, a plan of loss, output and gradients
/// (built with [`adnet_autodiff::grad`]), and runs that plan at every step: set the inputs,
/// run, and let the optimizer update the parameters in place
/// ([`Graph::with_params_mut`]) with the gradients borrowed from the plan's outputs (no copy,
/// unless clipping needs one). Evaluation and prediction use plans without gradients.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::data::DataSet;
/// use adnet_nn::layers::{Activation, Mlp, Module};
/// use adnet_nn::loss::{mse_loss, Reduction};
/// use adnet_nn::optim::Sgd;
/// use adnet_nn::train::{FitOptions, Step, Trainer};
/// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
///
/// let g = Graph::new();
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Mlp::new(&[1, 1]).dtype(DType::F64).build(&g, "lin", &mut rng)?;
/// let params = model.parameters();
/// let mut trainer = Trainer::new(&g, params, Box::new(Sgd::new(0.1)?), move |g, n| {
///     let x = g.input(&format!("x{n}"), [n, 1], DType::F64)?;
///     let t = g.input(&format!("t{n}"), [n, 1], DType::F64)?;
///     let y = model.forward(g, x)?;
///     let loss = mse_loss(y, t, Reduction::Mean)?;
///     Ok(Step { input: x.id(), target: t.id(), loss: loss.id(), output: y.id() })
/// })?;
/// // learn y = 2x + 1
/// let x: Vec<f64> = (0..8).map(|i| i as f64 / 8.0).collect();
/// let y: Vec<f64> = x.iter().map(|x| 2.0 * x + 1.0).collect();
/// let data = DataSet::from_tensors(Tensor::from_vec(x, [8, 1])?, Tensor::from_vec(y, [8, 1])?)?;
/// let options = FitOptions { epochs: 300, batch_size: 8, quiet: true, ..FitOptions::default() };
/// let history = trainer.fit(&data, None, &options)?;
/// assert!(history.last().unwrap().train_loss < 1e-3);
/// let prediction = trainer.predict(&Tensor::from_vec(vec![0.5f64], [1, 1])?)?;
/// assert!((prediction.to_scalar()? - 2.0).abs() < 0.1);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
pub struct Trainer<'g> {
    graph: &'g Graph,
    params: Vec<NodeId>,
    updater: Updater<'g>,
    builder: Builder<'g>,
    compiled: Vec<Compiled<'g>>,
    task: Task,
    resolved_task: Option<Task>,
    clip: Option<GradClip>,
    schedule: Option<(Box<dyn LrSchedule + 'g>, ScheduleInterval)>,
    plateau: Option<ReduceLrOnPlateau>,
    base_lr: f64,
    callbacks: Vec<Box<dyn Callback + 'g>>,
    grad_buffers: Vec<Tensor>,
    detect_anomalies: bool,
    steps: usize,
    dropouts: Vec<Dropout>,
    dropout_rng: StdRng,
}

impl std::fmt::Debug for Trainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("params", &self.params)
            .field("batch_sizes", &self.batch_sizes())
            .field("task", &self.task)
            .field("clip", &self.clip)
            .field("lr", &self.lr())
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl<'g> Trainer<'g> {
    /// A trainer of `params` (in `graph`) with `optimizer`, asking `builder` for the model's
    /// nodes at each batch size. Nothing is built or compiled until the first step.
    ///
    /// # Errors
    /// [`NnError::Graph`] when a listed node is not a parameter of `graph` or is listed twice.
    pub fn new(
        graph: &'g Graph,
        params: impl ParamList,
        optimizer: Box<dyn Optimizer + 'g>,
        builder: impl Fn(&Graph, usize) -> Result<Step> + 'g,
    ) -> Result<Trainer<'g>> {
        let base_lr = optimizer.lr();
        Self::with_updater(
            graph,
            params,
            Updater::Optimizer(optimizer),
            base_lr,
            builder,
        )
    }

    /// A trainer of `params` with a full-batch method (Levenberg-Marquardt, Gauss-Newton,
    /// conjugate gradient, L-BFGS, Rprop: see [`crate::classic`]) instead of an optimizer.
    ///
    /// Each training step is one iteration of the method on the batch it is given, which
    /// [`Trainer::fit`] requires to be the whole training set. A method that needs residuals
    /// ([`FullBatchMethod::needs_residuals`]) minimises `½‖output − target‖²` over the batch
    /// (output and target must have the same shape); any other minimises the builder's loss.
    /// The history still records the builder's loss. There is no learning rate: schedules,
    /// `ReduceLrOnPlateau` and gradient clipping are rejected by [`Trainer::fit`].
    ///
    /// # Errors
    /// As [`Trainer::new`].
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// use adnet_nn::classic::LevenbergMarquardt;
    /// use adnet_nn::data::DataSet;
    /// use adnet_nn::layers::{Activation, Mlp, Module};
    /// use adnet_nn::loss::{mse_loss, Reduction};
    /// use adnet_nn::train::{FitOptions, Step, Trainer};
    /// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
    ///
    /// let g = Graph::new();
    /// let mut rng = StdRng::seed_from_u64(1);
    /// let model = Mlp::new(&[1, 8, 1]).activation(Activation::Tanh).dtype(DType::F64)
    ///     .build(&g, "net", &mut rng)?;
    /// let params = model.parameters();
    /// let mut trainer = Trainer::with_method(&g, params, LevenbergMarquardt::default(), move |g, n| {
    ///     let x = g.input(&format!("x{n}"), [n, 1], DType::F64)?;
    ///     let t = g.input(&format!("t{n}"), [n, 1], DType::F64)?;
    ///     let y = model.forward(g, x)?;
    ///     let loss = mse_loss(y, t, Reduction::Mean)?;
    ///     Ok(Step { input: x.id(), target: t.id(), loss: loss.id(), output: y.id() })
    /// })?;
    /// let x: Vec<f64> = (0..40).map(|i| i as f64 / 40.0 * 6.0 - 3.0).collect();
    /// let y: Vec<f64> = x.iter().map(|x| x.sin()).collect();
    /// let data = DataSet::from_tensors(Tensor::from_vec(x, [40, 1])?, Tensor::from_vec(y, [40, 1])?)?;
    /// let options = FitOptions { epochs: 50, batch_size: 40, quiet: true, ..FitOptions::default() };
    /// trainer.fit(&data, None, &options)?;
    /// assert!(trainer.evaluate(&data, 40)?.loss < 1e-4);
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn with_method(
        graph: &'g Graph,
        params: impl ParamList,
        method: impl FullBatchMethod + 'g,
        builder: impl Fn(&Graph, usize) -> Result<Step> + 'g,
    ) -> Result<Trainer<'g>> {
        let updater = Updater::Method {
            method: Box::new(method),
            theta: Vec::new(),
            last: None,
            batch: None,
        };
        Self::with_updater(graph, params, updater, f64::NAN, builder)
    }

    fn with_updater(
        graph: &'g Graph,
        params: impl ParamList,
        updater: Updater<'g>,
        base_lr: f64,
        builder: impl Fn(&Graph, usize) -> Result<Step> + 'g,
    ) -> Result<Trainer<'g>> {
        let params = params.into_param_ids();
        graph.with_params_mut(&params, |_| ())?;
        Ok(Trainer {
            graph,
            params,
            updater,
            builder: Box::new(builder),
            compiled: Vec::new(),
            task: Task::Auto,
            resolved_task: None,
            clip: None,
            schedule: None,
            plateau: None,
            base_lr,
            callbacks: Vec::new(),
            grad_buffers: Vec::new(),
            detect_anomalies: false,
            steps: 0,
            dropouts: Vec::new(),
            dropout_rng: StdRng::seed_from_u64(0),
        })
    }

    /// Sets how accuracy is counted (default [`Task::Auto`]).
    pub fn with_task(mut self, task: Task) -> Self {
        self.task = task;
        self.resolved_task = None;
        self
    }

    /// Clips the gradients before every step.
    pub fn with_grad_clip(mut self, clip: GradClip) -> Self {
        self.clip = Some(clip);
        self
    }

    /// Sets the learning rate from `schedule` every epoch or every step, starting from the
    /// optimizer's rate when the trainer was made (or [`Trainer::set_lr`]'s).
    pub fn with_schedule(
        mut self,
        schedule: impl LrSchedule + 'g,
        interval: ScheduleInterval,
    ) -> Self {
        self.schedule = Some((Box::new(schedule), interval));
        self
    }

    /// Steps `plateau` with the validation loss (the training loss without a validation set)
    /// after every epoch. Do not combine with an epoch schedule, which would overwrite its rate.
    pub fn with_plateau(mut self, plateau: ReduceLrOnPlateau) -> Self {
        self.plateau = Some(plateau);
        self
    }

    /// Drives a [`Dropout`] layer of the model (a clone of it: clones share their masks):
    /// fresh random masks before every training step, all-ones masks before every evaluation
    /// and prediction, so the model trains with dropout and evaluates without it, as PyTorch's
    /// `model.train()` / `model.eval()` do. The masks are drawn from a generator seeded with
    /// [`FitOptions::seed`] at the start of each [`Trainer::fit`] (and with 0 before the first).
    pub fn with_dropout(mut self, dropout: &Dropout) -> Self {
        self.dropouts.push(dropout.clone());
        self
    }

    /// Adds a callback, run during every later [`Trainer::fit`].
    pub fn with_callback(mut self, callback: impl Callback + 'g) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Turns anomaly detection on in every plan ([`Plan::detect_anomalies`]): a step that
    /// produces a NaN or infinity fails naming the node.
    pub fn with_anomaly_detection(mut self, on: bool) -> Self {
        self.detect_anomalies = on;
        for c in &mut self.compiled {
            for plan in [&mut c.train, &mut c.eval, &mut c.predict]
                .into_iter()
                .flatten()
            {
                plan.detect_anomalies(on);
            }
        }
        self
    }

    /// The graph.
    pub fn graph(&self) -> &'g Graph {
        self.graph
    }

    /// The trained parameters, in order.
    pub fn params(&self) -> &[NodeId] {
        &self.params
    }

    /// The optimizer (`None` for a trainer with a full-batch method).
    pub fn optimizer(&self) -> Option<&dyn Optimizer> {
        match &self.updater {
            Updater::Optimizer(optimizer) => Some(&**optimizer),
            Updater::Method { .. } => None,
        }
    }

    /// The optimizer, mutably (`None` for a trainer with a full-batch method).
    pub fn optimizer_mut(&mut self) -> Option<&mut (dyn Optimizer + 'g)> {
        match &mut self.updater {
            Updater::Optimizer(optimizer) => Some(&mut **optimizer),
            Updater::Method { .. } => None,
        }
    }

    /// The full-batch method (`None` for a trainer with an optimizer).
    pub fn method(&self) -> Option<&dyn FullBatchMethod> {
        match &self.updater {
            Updater::Optimizer(_) => None,
            Updater::Method { method, .. } => Some(&**method),
        }
    }

    /// What the full-batch method's last iteration did (`None` before the first, or with an
    /// optimizer).
    pub fn last_iteration(&self) -> Option<Iteration> {
        match &self.updater {
            Updater::Optimizer(_) => None,
            Updater::Method { last, .. } => *last,
        }
    }

    /// The current learning rate (NaN with a full-batch method, which has none).
    pub fn lr(&self) -> f64 {
        match &self.updater {
            Updater::Optimizer(optimizer) => optimizer.lr(),
            Updater::Method { .. } => f64::NAN,
        }
    }

    /// Sets the learning rate, and the base rate schedules start from (nothing with a
    /// full-batch method).
    pub fn set_lr(&mut self, lr: f64) {
        if let Updater::Optimizer(optimizer) = &mut self.updater {
            self.base_lr = lr;
            optimizer.set_lr(lr);
        }
    }

    /// The number of optimizer steps taken.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The batch sizes built so far (the builder ran once for each).
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.compiled.iter().map(|c| c.batch).collect()
    }

    /// The [`Step`] for a batch size, calling the builder if it is new.
    ///
    /// # Errors
    /// The builder's error; [`NnError::InvalidSetting`] (`loss`) for a loss with more than one
    /// element, (`input`) for an input whose first axis is not the batch size.
    pub fn step_for(&mut self, batch: usize) -> Result<Step> {
        let index = self.entry(batch)?;
        Ok(self.compiled[index].step)
    }

    fn entry(&mut self, batch: usize) -> Result<usize> {
        if let Some(index) = self.compiled.iter().position(|c| c.batch == batch) {
            return Ok(index);
        }
        let step = (self.builder)(self.graph, batch)?;
        let loss = self.graph.spec(step.loss)?;
        if loss.shape.numel() != 1 {
            return Err(NnError::InvalidSetting {
                what: "loss",
                reason: format!(
                    "the builder's loss {} has shape {}, it must hold one element",
                    step.loss, loss.shape
                ),
            });
        }
        let input = self.graph.spec(step.input)?;
        if input.shape.dims().first() != Some(&batch) {
            return Err(NnError::InvalidSetting {
                what: "input",
                reason: format!(
                    "built for batch size {batch}, the input {} has shape {}",
                    step.input, input.shape
                ),
            });
        }
        self.compiled.push(Compiled {
            batch,
            step,
            train: None,
            eval: None,
            predict: None,
            objective: None,
        });
        Ok(self.compiled.len() - 1)
    }

    fn task_for(&mut self, index: usize, targets: &Tensor) -> Result<Task> {
        if let Some(task) = self.resolved_task {
            return Ok(task);
        }
        let output = self.graph.spec(self.compiled[index].step.output)?;
        let task = resolve_task(self.task, output.shape.dims(), targets);
        self.resolved_task = Some(task);
        Ok(task)
    }

    /// Runs one training step on a batch: loss and gradients, clipping, optimizer update.
    /// The first step at a batch size builds and compiles its plan.
    ///
    /// # Errors
    /// The builder's and compiler's errors; a batch whose shapes or dtypes do not match the
    /// inputs ([`NnError::Graph`]); the optimizer's and clipping's errors.
    pub fn train_batch(&mut self, features: &Tensor, targets: &Tensor) -> Result<StepOutcome> {
        let size = features.dims().first().copied().unwrap_or(1);
        let index = self.entry(size)?;
        if matches!(self.updater, Updater::Method { .. }) {
            return self.method_batch(index, features, targets);
        }
        let graph = self.graph;
        if self.compiled[index].train.is_none() {
            let step = self.compiled[index].step;
            let grads = adnet_autodiff::grad(graph, step.loss, &self.params)?;
            let outputs = [step.loss, step.output]
                .into_iter()
                .chain(grads.iter().map(|g| g.id()));
            let mut plan = graph.compile(outputs)?;
            plan.detect_anomalies(self.detect_anomalies);
            self.compiled[index].train = Some(plan);
        }
        let task = self.task_for(index, targets)?;
        let compiled = &mut self.compiled[index];
        let plan = compiled.train.as_mut().expect("compiled above");
        plan.set_input(compiled.step.input, features)?;
        plan.set_input(compiled.step.target, targets)?;
        for dropout in &self.dropouts {
            dropout.train_mask(plan, &mut self.dropout_rng)?;
        }
        plan.run(graph)?;
        let loss = plan.output_at(0).to_scalar()?;
        let correct = count_correct(task, plan.output_at(1), targets);
        let count = self.params.len();
        let Updater::Optimizer(optimizer) = &mut self.updater else {
            unreachable!("methods are dispatched above");
        };
        match self.clip {
            None => {
                // borrowed from the plan while the graph lends the parameters: no copy
                let grads: SmallVec<[&Tensor; 8]> =
                    (0..count).map(|k| plan.output_at(2 + k)).collect();
                graph.with_params_mut(&self.params, |p| optimizer.step(p, &grads))??;
            }
            Some(clip) => {
                self.grad_buffers.resize_with(count, Tensor::default);
                for (k, buffer) in self.grad_buffers.iter_mut().enumerate() {
                    buffer.assign(plan.output_at(2 + k));
                }
                {
                    let mut grads: SmallVec<[&mut Tensor; 8]> =
                        self.grad_buffers.iter_mut().collect();
                    match clip {
                        GradClip::Norm {
                            max_norm,
                            norm_type,
                        } => {
                            clip_grad_norm(&mut grads, max_norm, norm_type)?;
                        }
                        GradClip::Value(limit) => clip_grad_value(&mut grads, limit)?,
                    }
                }
                let grads: SmallVec<[&Tensor; 8]> = self.grad_buffers.iter().collect();
                graph.with_params_mut(&self.params, |p| optimizer.step(p, &grads))??;
            }
        }
        self.steps += 1;
        Ok(StepOutcome {
            loss,
            correct,
            size,
        })
    }

    /// One iteration of the full-batch method on a batch (the whole training set).
    fn method_batch(
        &mut self,
        index: usize,
        features: &Tensor,
        targets: &Tensor,
    ) -> Result<StepOutcome> {
        let size = features.dims().first().copied().unwrap_or(1);
        let task = self.task_for(index, targets)?;
        let (loss, output) = self.eval_batch(features, targets)?;
        let correct = count_correct(task, output, targets);
        let graph = self.graph;
        let Updater::Method {
            method,
            theta,
            last,
            batch,
        } = &mut self.updater
        else {
            unreachable!("called for methods only");
        };
        let same = batch
            .as_ref()
            .is_some_and(|(x, y)| x == features && y == targets);
        if !same {
            method.reset();
            match batch {
                Some((x, y)) if x.shape() == features.shape() && y.shape() == targets.shape() => {
                    x.assign(features);
                    y.assign(targets);
                }
                _ => *batch = Some((features.clone(), targets.clone())),
            }
        }
        let compiled = &mut self.compiled[index];
        let objective = match &mut compiled.objective {
            Some(objective) => objective,
            slot => {
                let step = compiled.step;
                let mut objective = if method.needs_residuals() {
                    let (output, target) = (graph.var(step.output)?, graph.var(step.target)?);
                    if output.shape() != target.shape() {
                        return Err(NnError::InvalidSetting {
                            what: "method",
                            reason: format!(
                                "{} minimises the squared residuals output - target, but the \
                                 output {} has shape {} and the target {} has shape {}",
                                method.name(),
                                step.output,
                                output.shape(),
                                step.target,
                                target.shape()
                            ),
                        });
                    }
                    GraphObjective::least_squares(graph, output.try_sub(target)?, &self.params)?
                } else {
                    GraphObjective::scalar(graph, step.loss, &self.params)?
                };
                objective.detect_anomalies(self.detect_anomalies);
                slot.insert(objective)
            }
        };
        objective.set_input(compiled.step.input, features)?;
        objective.set_input(compiled.step.target, targets)?;
        theta.resize(objective.dim(), 0.0);
        objective.read_params(theta)?;
        let iteration = method.iterate(objective, theta)?;
        objective.write_params(theta)?;
        *last = Some(iteration);
        self.steps += 1;
        Ok(StepOutcome {
            loss,
            correct,
            size,
        })
    }

    /// Loss and output on one batch, without gradients or updates.
    fn eval_batch(&mut self, features: &Tensor, targets: &Tensor) -> Result<(f64, &Tensor)> {
        let size = features.dims().first().copied().unwrap_or(1);
        let index = self.entry(size)?;
        let graph = self.graph;
        let compiled = &mut self.compiled[index];
        if compiled.eval.is_none() {
            let mut plan = graph.compile([compiled.step.loss, compiled.step.output])?;
            plan.detect_anomalies(self.detect_anomalies);
            compiled.eval = Some(plan);
        }
        let plan = compiled.eval.as_mut().expect("compiled above");
        plan.set_input(compiled.step.input, features)?;
        plan.set_input(compiled.step.target, targets)?;
        for dropout in &self.dropouts {
            dropout.eval_mask(plan)?;
        }
        plan.run(graph)?;
        Ok((plan.output_at(0).to_scalar()?, plan.output_at(1)))
    }

    /// Loss and accuracy over a data set, in batches of `batch_size` (in order, the last one
    /// possibly smaller; each new size is built and compiled once). An empty set gives a NaN
    /// loss.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`batch_size`) for 0; as [`Trainer::train_batch`].
    pub fn evaluate(&mut self, data: &DataSet, batch_size: usize) -> Result<Metrics> {
        let mut batches = in_order(data, batch_size)?;
        let (mut loss_sum, mut correct, mut samples) = (0.0, None::<usize>, 0);
        while let Some((x, y)) = batches.next_batch() {
            let index = self.entry(x.dims()[0])?;
            let task = self.task_for(index, y)?;
            let (loss, output) = self.eval_batch(x, y)?;
            let n = x.dims()[0];
            loss_sum += loss * n as f64;
            if let Some(c) = count_correct(task, output, y) {
                correct = Some(correct.unwrap_or(0) + c);
            }
            samples += n;
        }
        Ok(Metrics {
            loss: loss_sum / samples as f64,
            accuracy: correct.map(|c| c as f64 / samples as f64),
            samples,
        })
    }

    /// The confusion matrix over a data set, for a classification task.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`task`) for regression; as [`Trainer::evaluate`].
    pub fn confusion_matrix(
        &mut self,
        data: &DataSet,
        batch_size: usize,
    ) -> Result<ConfusionMatrix> {
        let mut batches = in_order(data, batch_size)?;
        let mut matrix = ConfusionMatrix::new(data.num_classes().unwrap_or(0));
        while let Some((x, y)) = batches.next_batch() {
            let index = self.entry(x.dims()[0])?;
            let task = self.task_for(index, y)?;
            let (_, output) = self.eval_batch(x, y)?;
            let Some(pairs) = classes(task, output, y) else {
                return Err(NnError::InvalidSetting {
                    what: "task",
                    reason: "a confusion matrix needs a classification task, not regression"
                        .to_string(),
                });
            };
            for (predicted, actual) in pairs {
                matrix.add(actual, predicted);
            }
        }
        Ok(matrix)
    }

    /// The model's output for a batch of features `[n, d]` (one batch of `n`; built and
    /// compiled once per `n`).
    ///
    /// # Errors
    /// As [`Trainer::train_batch`].
    pub fn predict(&mut self, features: &Tensor) -> Result<Tensor> {
        let size = features.dims().first().copied().unwrap_or(1);
        let index = self.entry(size)?;
        let graph = self.graph;
        let compiled = &mut self.compiled[index];
        if compiled.predict.is_none() {
            let mut plan = graph.compile([compiled.step.output])?;
            plan.detect_anomalies(self.detect_anomalies);
            compiled.predict = Some(plan);
        }
        let plan = compiled.predict.as_mut().expect("compiled above");
        plan.set_input(compiled.step.input, features)?;
        for dropout in &self.dropouts {
            dropout.eval_mask(plan)?;
        }
        plan.run(graph)?;
        Ok(plan.output_at(0).clone())
    }

    /// Trains for `options.epochs` epochs (fewer if a callback or early stopping stops it),
    /// evaluating on `validation` after each, and returns the per-epoch [`History`].
    ///
    /// Each epoch: set the scheduled rate, train on every batch (the recorded training loss
    /// and accuracy are the batch values before each update, averaged by batch size, as
    /// Keras reports them), evaluate, step `ReduceLrOnPlateau`, then run the callbacks.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`batch_size`) for 0, and any step's, evaluation's or
    /// callback's error (training stops there; the parameters keep their last update).
    pub fn fit(
        &mut self,
        train: &DataSet,
        validation: Option<&DataSet>,
        options: &FitOptions,
    ) -> Result<History> {
        let mut callbacks = std::mem::take(&mut self.callbacks);
        let mut early = options
            .early_stopping
            .clone()
            .map(EarlyStoppingCallback::new);
        let mut all: Vec<&mut dyn Callback> = callbacks
            .iter_mut()
            .map(|c| &mut **c as &mut dyn Callback)
            .collect();
        if let Some(early) = early.as_mut() {
            all.push(early);
        }
        let result = self.fit_with(train, validation, options, &mut all);
        drop(all);
        self.callbacks = callbacks;
        result
    }

    fn notify(
        &self,
        callbacks: &mut [&mut dyn Callback],
        state: &mut (bool, Option<usize>),
        mut call: impl FnMut(&mut dyn Callback, &mut TrainerControl<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut control = TrainerControl {
            graph: self.graph,
            params: &self.params,
            stop: state.0,
            restored_epoch: state.1,
        };
        for callback in callbacks.iter_mut() {
            call(&mut **callback, &mut control)?;
        }
        *state = (control.stop, control.restored_epoch);
        Ok(())
    }

    fn fit_with(
        &mut self,
        train: &DataSet,
        validation: Option<&DataSet>,
        options: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        let start = Instant::now();
        if let Updater::Method { method, .. } = &self.updater {
            let name = method.name();
            if options.batch_size < train.len() {
                return Err(NnError::InvalidSetting {
                    what: "batch_size",
                    reason: format!(
                        "{name} needs the full batch: batch_size is {} but the training set has \
                         {} samples",
                        options.batch_size,
                        train.len()
                    ),
                });
            }
            let unused = [
                (self.schedule.is_some(), "a learning-rate schedule"),
                (self.plateau.is_some(), "ReduceLrOnPlateau"),
                (self.clip.is_some(), "gradient clipping"),
                (!self.dropouts.is_empty(), "dropout"),
            ];
            if let Some((_, what)) = unused.iter().find(|(set, _)| *set) {
                return Err(NnError::InvalidSetting {
                    what: "method",
                    reason: format!(
                        "{name} takes no stochastic gradient step: {what} does not apply"
                    ),
                });
            }
        }
        self.dropout_rng = StdRng::seed_from_u64(options.seed);
        let mut batches = Batches::new(
            train,
            BatchOptions {
                batch_size: options.batch_size,
                shuffle: options.shuffle,
                seed: options.seed,
                drop_last: options.drop_last,
            },
        )?;
        let progress = Progress::new(options.epochs, options.quiet);
        let mut history = History::default();
        let mut state = (false, None);
        self.notify(callbacks, &mut state, |c, control| {
            c.on_train_begin(control)
        })?;
        for epoch in 0..options.epochs {
            if let (Some((schedule, ScheduleInterval::Epoch)), Updater::Optimizer(optimizer)) =
                (&mut self.schedule, &mut self.updater)
            {
                apply_schedule(&mut **schedule, &mut **optimizer, epoch, self.base_lr);
            }
            batches.start_epoch(epoch);
            let (mut loss_sum, mut correct, mut samples, mut batch) = (0.0, None::<usize>, 0, 0);
            while let Some((x, y)) = batches.next_batch() {
                if let (Some((schedule, ScheduleInterval::Step)), Updater::Optimizer(optimizer)) =
                    (&mut self.schedule, &mut self.updater)
                {
                    apply_schedule(&mut **schedule, &mut **optimizer, self.steps, self.base_lr);
                }
                let lr = self.lr();
                let outcome = self.train_batch(x, y)?;
                loss_sum += outcome.loss * outcome.size as f64;
                if let Some(c) = outcome.correct {
                    correct = Some(correct.unwrap_or(0) + c);
                }
                samples += outcome.size;
                if !callbacks.is_empty() {
                    let record = BatchRecord {
                        epoch,
                        batch,
                        size: outcome.size,
                        loss: outcome.loss,
                        lr,
                    };
                    self.notify(callbacks, &mut state, |c, control| {
                        c.on_batch_end(&record, control)
                    })?;
                    if state.0 {
                        break;
                    }
                }
                batch += 1;
            }
            let lr = self.lr();
            let val = match validation {
                Some(v) => Some(self.evaluate(v, options.batch_size)?),
                None => None,
            };
            let train_loss = loss_sum / samples as f64;
            if let (Some(plateau), Updater::Optimizer(optimizer)) =
                (&mut self.plateau, &mut self.updater)
            {
                plateau.step(val.map_or(train_loss, |m| m.loss), &mut **optimizer);
            }
            let record = EpochRecord {
                epoch,
                train_loss,
                train_accuracy: correct.map(|c| c as f64 / samples as f64),
                val_loss: val.map(|m| m.loss),
                val_accuracy: val.and_then(|m| m.accuracy),
                lr,
                seconds: start.elapsed().as_secs_f64(),
            };
            history.epochs.push(record);
            progress.epoch_done(&record);
            self.notify(callbacks, &mut state, |c, control| {
                c.on_epoch_end(&record, control)
            })?;
            let method_stop = self.last_iteration().and_then(|i| i.stop);
            if state.0 || method_stop.is_some() {
                history.stopped_early = epoch + 1 < options.epochs;
                history.method_stop = method_stop;
                break;
            }
        }
        self.notify(callbacks, &mut state, |c, control| c.on_train_end(control))?;
        history.restored_epoch = state.1;
        progress.finish();
        Ok(history)
    }
}

/// Sets the rate a schedule gives for step (or epoch) `k`, and its momentum when it schedules
/// one (PyTorch's `OneCycleLR` cycles the momentum, or Adam's `β₁`, against the rate). An
/// optimizer without momentum keeps none: PyTorch would refuse it, this just leaves it alone.
fn apply_schedule(
    schedule: &mut dyn LrSchedule,
    optimizer: &mut dyn Optimizer,
    k: usize,
    base: f64,
) {
    optimizer.set_lr(schedule.lr(k, base));
    if let Some(momentum) = schedule.momentum(k) {
        optimizer.set_momentum(momentum);
    }
}

fn in_order(data: &DataSet, batch_size: usize) -> Result<Batches<'_>> {
    Batches::new(
        data,
        BatchOptions {
            batch_size,
            shuffle: false,
            seed: 0,
            drop_last: false,
        },
    )
}
