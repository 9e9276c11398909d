//! The full-batch path of [`Trainer`]: a [`FullBatchMethod`] in place of an optimizer, one
//! iteration per step on the whole training set.

use adnet_graph::Graph;
use adnet_tensor::Tensor;

use super::{FitOptions, ParamList, Step, StepOutcome, Trainer};
use crate::classic::{FullBatchMethod, GraphObjective, Iteration, Objective};
use crate::data::DataSet;
use crate::optim::Optimizer;
use crate::train::metrics::count_correct;
use crate::{NnError, Result};

/// What updates the parameters: a first-order optimizer, or a full-batch method.
pub(super) enum Updater<'g> {
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

impl<'g> Trainer<'g> {
    /// A trainer of `params` with a full-batch method (Levenberg-Marquardt, Gauss-Newton,
    /// conjugate gradient, L-BFGS, Rprop: see [`crate::classic`]) instead of an optimizer.
    ///
    /// Each training step is one iteration of the method on the batch it is given, which
    /// [`Trainer::fit`] requires to be the whole training set. A method that needs residuals
    /// ([`FullBatchMethod::needs_residuals`]) minimises `½‖output − target‖²` over the batch
    /// (output and target must have the same shape); any other minimises the builder's loss.
    /// The history still records the builder's loss. There is no learning rate or stochastic
    /// step: schedules, `ReduceLrOnPlateau`, gradient clipping and dropout are rejected by
    /// [`Trainer::fit`]. A method keeps its state (damping, search directions, histories)
    /// from one call of `fit` to the next, and starts afresh when the batch changes.
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
    /// use adnet_nn::train::{FitOptions, Step, Trainer};
    /// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
    ///
    /// let g = Graph::new();
    /// let mut rng = StdRng::seed_from_u64(1);
    /// let model = Mlp::new(&[1, 8, 1]).activation(Activation::Tanh).dtype(DType::F64)
    ///     .build(&g, "net", &mut rng)?;
    /// let params = model.parameters();
    /// let step = Step::mse(model, 1, 1, DType::F64);
    /// let mut trainer = Trainer::with_method(&g, params, LevenbergMarquardt::default(), step)?;
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

    /// One iteration of the full-batch method on a batch (the whole training set).
    pub(super) fn method_batch(
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

    /// Rejects what [`Trainer::fit`] cannot do with a full-batch method: mini-batches, and the
    /// settings of stochastic gradient steps (nothing with an optimizer).
    pub(super) fn check_method(&self, train: &DataSet, options: &FitOptions) -> Result<()> {
        let Updater::Method { method, .. } = &self.updater else {
            return Ok(());
        };
        let name = method.name();
        if options.batch_size < train.len() {
            return Err(NnError::InvalidSetting {
                what: "batch_size",
                reason: format!(
                    "{name} needs the full batch: batch_size is {} but the training set has {} \
                     samples",
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
                reason: format!("{name} takes no stochastic gradient step: {what} does not apply"),
            });
        }
        Ok(())
    }
}
