//! [`Trainer`]: compiles a model's loss and gradients once per batch size and runs them every
//! step.

use rand::rngs::StdRng;
use rand::SeedableRng;
use smallvec::SmallVec;

use adnet_graph::{Graph, NodeId, Plan};
use adnet_tensor::Tensor;

use super::callbacks::Callback;
use super::metrics::{classes, count_correct, resolve_task, ConfusionMatrix, Metrics, Task};
use crate::classic::GraphObjective;
use crate::data::{BatchOptions, Batches, DataSet};
use crate::layers::Dropout;
use crate::optim::schedule::{LrSchedule, ReduceLrOnPlateau};
use crate::optim::{clip_grad_norm, clip_grad_value, Optimizer};
use crate::{NnError, Result};

mod fit;
mod method;
mod options;

use method::Updater;
pub use options::{FitOptions, GradClip, ParamList, ScheduleInterval, Step, StepOutcome};

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
/// The example writes the builder out; [`Step::mse`] and [`Step::cross_entropy`] give the two
/// usual ones (a model, mean squared error or softmax cross-entropy on integer labels).
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
