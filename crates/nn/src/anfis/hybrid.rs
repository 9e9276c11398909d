//! The hybrid learning rule of Jang 1993: least squares for the consequent parameters in the
//! forward pass, normalised gradient descent for the premise parameters in the backward pass.

use adnet_graph::{Graph, GraphError, NodeId, Plan};
use adnet_tensor::{DType, Shape, Storage, Tensor};

use super::{Anfis, LeastSquares};
use crate::{NnError, Result};

/// The settings of [`HybridTrainer::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HybridOptions {
    /// Epochs: forward pass (least squares) then backward pass (one premise step) each
    /// (default 100; at least 1).
    pub epochs: usize,
    /// The initial step size `k₀`, the length of every premise step in parameter space
    /// (default 0.01, MATLAB `anfis`'s default; positive and finite).
    pub step_size: f64,
    /// The factor applied to `k` after four consecutive decreases of the error (default 1.1,
    /// the paper's 10 %; at least 1).
    pub step_increase: f64,
    /// The factor applied to `k` after two consecutive increase-decrease pairs (default 0.9,
    /// the paper's 10 %; in `(0, 1]`).
    pub step_decrease: f64,
    /// How the consequent parameters are solved for (default [`LeastSquares::Batch`]).
    pub least_squares: LeastSquares,
}

impl Default for HybridOptions {
    fn default() -> Self {
        HybridOptions {
            epochs: 100,
            step_size: 0.01,
            step_increase: 1.1,
            step_decrease: 0.9,
            least_squares: LeastSquares::Batch,
        }
    }
}

impl HybridOptions {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] naming the first bad field (`epochs`, `step_size`,
    /// `step_increase`, `step_decrease`, `gamma`).
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(NnError::InvalidSetting {
                what: "epochs",
                reason: "at least one epoch is needed".to_string(),
            });
        }
        StepSizeRule::new(self.step_size, self.step_increase, self.step_decrease)?;
        self.least_squares.validate()
    }
}

/// What [`HybridTrainer::fit`] measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HybridHistory {
    /// The training RMSE `√(Σ(o − t)²/N)` of every epoch, measured after its least-squares
    /// step and before its premise step (the error the step-size rule watches).
    pub rmse: Vec<f64>,
    /// The step size `k` of every epoch's premise step.
    pub step_size: Vec<f64>,
    /// The RMSE of the returned network: after the last premise step, the consequent
    /// parameters are solved for once more, so the network is the best one for its premise.
    pub final_rmse: f64,
}

/// The step-size heuristic of Jang 1993 (section V) for the premise step `Δα = −k·g/‖g‖`:
///
/// 1. after four consecutive decreases of the error, `k ← 1.1·k`;
/// 2. after two consecutive combinations of one increase and one decrease (the error went
///    up, down, up, down), `k ← 0.9·k`.
///
/// The paper does not say whether a long run of decreases raises `k` at every epoch; as
/// MATLAB's `anfis`, each rule fires at most once every four epochs (a rule checks the last
/// five errors only when four epochs have passed since it last fired), and the decrease rule
/// is checked first.
///
/// # Examples
/// ```
/// use adnet_nn::anfis::StepSizeRule;
/// let mut rule = StepSizeRule::new(0.1, 1.1, 0.9)?;
/// for error in [5.0, 4.0, 3.0, 2.0] {
///     assert_eq!(rule.update(error), 0.1);
/// }
/// assert!((rule.update(1.0) - 0.11).abs() < 1e-15); // the fourth decrease in a row
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StepSizeRule {
    step_size: f64,
    increase: f64,
    decrease: f64,
    /// Every error recorded, oldest first.
    errors: Vec<f64>,
    /// The epochs the rules last fired at (0 before they have).
    last_increase: usize,
    last_decrease: usize,
}

impl StepSizeRule {
    /// A rule starting at `step_size` (`k₀`), multiplying `k` by `increase` or `decrease`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: `step_size` not positive and finite, `increase` below 1
    /// or not finite, `decrease` outside `(0, 1]`.
    pub fn new(step_size: f64, increase: f64, decrease: f64) -> Result<StepSizeRule> {
        if !(step_size > 0.0 && step_size.is_finite()) {
            return Err(NnError::InvalidSetting {
                what: "step_size",
                reason: format!("must be positive and finite, got {step_size}"),
            });
        }
        if !(increase >= 1.0 && increase.is_finite()) {
            return Err(NnError::InvalidSetting {
                what: "step_increase",
                reason: format!("must be finite and at least 1, got {increase}"),
            });
        }
        if !(decrease > 0.0 && decrease <= 1.0) {
            return Err(NnError::InvalidSetting {
                what: "step_decrease",
                reason: format!("must be in (0, 1], got {decrease}"),
            });
        }
        Ok(StepSizeRule {
            step_size,
            increase,
            decrease,
            errors: Vec::new(),
            last_increase: 0,
            last_decrease: 0,
        })
    }

    /// The current step size `k`.
    pub fn step_size(&self) -> f64 {
        self.step_size
    }

    /// Records the error of the current epoch, adjusts `k` by the rules, and returns the `k`
    /// to use for this epoch's step.
    pub fn update(&mut self, error: f64) -> f64 {
        self.errors.push(error);
        let epoch = self.errors.len() - 1;
        if epoch < 4 {
            return self.step_size;
        }
        let e = &self.errors[epoch - 4..];
        // changes from oldest to newest: `true` for a decrease
        let down = [e[1] < e[0], e[2] < e[1], e[3] < e[2], e[4] < e[3]];
        let up = [e[1] > e[0], e[2] > e[1], e[3] > e[2], e[4] > e[3]];
        if epoch - self.last_decrease >= 4 && up[0] && down[1] && up[2] && down[3] {
            self.step_size *= self.decrease;
            self.last_decrease = epoch;
        } else if epoch - self.last_increase >= 4 && down.iter().all(|&d| d) {
            self.step_size *= self.increase;
            self.last_increase = epoch;
        }
        self.step_size
    }
}

/// Trains an [`Anfis`] on a fixed data set with Jang 1993's hybrid learning rule (sections III
/// and IV: the batch, off-line form). Every epoch:
///
/// 1. **forward pass**: the plan computing the normalised firing strengths `w̄` runs, the
///    design matrix `A` (one row `[w̄₁x, w̄₁, …, w̄_Rx, w̄_R]` per sample, the consequent
///    parameter's row-major order) is assembled, and the consequent parameters are set to the
///    least-squares solution of `A θ ≈ t` ([`LeastSquares`], batch or recursive);
/// 2. **backward pass**: a plan computing the error `E = Σ(o − t)²/N` (the paper's sum of
///    squares over `N`: the normalised step is the same) and its gradient `g`
///    with respect to every premise parameter (built once with [`adnet_autodiff::grad`], the
///    consequent parameters held at their new values) runs, and the premise takes the step
///    `Δα = −k·g/‖g‖` (`‖g‖` over all premise parameters together), `k` following
///    [`StepSizeRule`].
///
/// The two plans are compiled once, when the trainer is made, with the data set as their
/// inputs; parameters are read from and written to the graph, so the [`Anfis`] (and any plan
/// or [`Trainer`](crate::train::Trainer) on the same graph) sees the trained values.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::anfis::{Anfis, HybridOptions, HybridTrainer, LeastSquares};
/// use adnet_tensor::Tensor;
///
/// let g = Graph::new();
/// let anfis = Anfis::builder(&[3], &[(0.0, 3.0)]).build(&g, "anfis")?;
/// let xs: Vec<f64> = (0..31).map(|i| i as f64 / 10.0).collect();
/// let ts: Vec<f64> = xs.iter().map(|x| x.sin()).collect();
/// let mut trainer = HybridTrainer::new(&g, &anfis, &Tensor::from_vec(xs, [31, 1])?,
///     &Tensor::from_vec(ts, [31, 1])?)?;
/// let before = trainer.rmse()?;
/// let after = trainer.least_squares_step(LeastSquares::Batch)?;
/// assert!(after < before);
/// let history = trainer.fit(&HybridOptions { epochs: 20, ..HybridOptions::default() })?;
/// assert!(history.final_rmse < after);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
pub struct HybridTrainer<'g> {
    graph: &'g Graph,
    premise: Vec<NodeId>,
    consequent: NodeId,
    dtype: DType,
    rows: usize,
    inputs: usize,
    rules: usize,
    /// The features, `rows × inputs`, row-major, in `f64`.
    features: Vec<f64>,
    /// The targets, `rows`, in `f64`.
    targets: Vec<f64>,
    /// Outputs: the normalised firing strengths `[rows, rules]`, the mean squared error.
    forward: Plan,
    /// Outputs: the mean squared error, then its gradient for every premise parameter.
    backward: Plan,
    /// The design matrix, `rows × rules·(inputs + 1)`.
    design: Vec<f64>,
}

impl std::fmt::Debug for HybridTrainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HybridTrainer")
            .field("rows", &self.rows)
            .field("inputs", &self.inputs)
            .field("rules", &self.rules)
            .field("premise", &self.premise)
            .field("consequent", &self.consequent)
            .finish_non_exhaustive()
    }
}

impl<'g> HybridTrainer<'g> {
    /// A trainer of `anfis` (built in `graph`) on the samples `x` (`[N, n]`, `n` the model's
    /// inputs) with targets `t` (`[N, 1]` or `[N]`), converted to the model's dtype.
    ///
    /// Adds two inputs named `{name}.hybrid{k}.x` and `{name}.hybrid{k}.t` (the first free
    /// `k`), the network applied to them, the error and its gradient to `graph`, and compiles
    /// the two plans.
    ///
    /// # Errors
    /// [`NnError::Graph`] with [`GraphError::ShapeMismatch`] for `x` or `t` of the wrong shape
    /// (nothing is added to the graph then); [`NnError::InvalidSetting`] (`x`) for no samples;
    /// [`GraphError::UnknownName`] when `graph` is not the graph `anfis` was built in.
    pub fn new(
        graph: &'g Graph,
        anfis: &Anfis,
        x: &Tensor,
        t: &Tensor,
    ) -> Result<HybridTrainer<'g>> {
        anfis.check_input_shape(x.shape())?;
        let rows = x.dims()[0];
        if rows == 0 {
            return Err(NnError::InvalidSetting {
                what: "x",
                reason: "no samples to train on".to_string(),
            });
        }
        let design_size = anfis
            .rules()
            .checked_mul(anfis.inputs() + 1)
            .and_then(|cols| cols.checked_mul(rows))
            .ok_or_else(|| NnError::InvalidSetting {
                what: "x",
                reason: format!(
                    "a design matrix of {rows} rows and {} rules does not fit in memory",
                    anfis.rules()
                ),
            })?;
        let target_ok = match t.dims() {
            [n] | [n, 1] => *n == rows,
            _ => false,
        };
        if !target_ok {
            return Err(GraphError::ShapeMismatch {
                op: format!("anfis `{}` targets", anfis.name()),
                lhs: t.shape().clone(),
                rhs: Shape::from([rows, 1]),
            }
            .into());
        }
        let premise: Vec<NodeId> = anfis
            .premise_parameters()
            .into_iter()
            .map(|(name, id)| crate::layers::named_node(graph, &name, id).map(|v| v.id()))
            .collect::<Result<_>>()?;
        let (consequent_name, consequent) = anfis.consequent_parameter();
        crate::layers::named_node(graph, &consequent_name, consequent)?;

        let dtype = anfis.dtype();
        let inputs = anfis.inputs();
        let prefix = (0..)
            .map(|k| format!("{}.hybrid{k}", anfis.name()))
            .find(|p| {
                graph.node(&format!("{p}.x")).is_err() && graph.node(&format!("{p}.t")).is_err()
            })
            .expect("a graph has finitely many names");
        let x_node = graph.input(&format!("{prefix}.x"), [rows, inputs], dtype)?;
        let t_node = graph.input(&format!("{prefix}.t"), [rows, 1], dtype)?;
        let layers = anfis.layers(graph, x_node)?;
        let error = layers.output.try_sub(t_node)?.square().mean_all();
        let grads = adnet_autodiff::grad(graph, error, &premise)?;

        let x_value = x.to_dtype(dtype);
        let t_value = Tensor::from_f64s(&t.to_f64_vec(), [rows, 1], dtype)?;
        let mut forward = graph.compile([layers.normalized.id(), error.id()])?;
        let mut backward =
            graph.compile(std::iter::once(error.id()).chain(grads.iter().map(|g| g.id())))?;
        for plan in [&mut forward, &mut backward] {
            plan.set_input(x_node, &x_value)?;
            plan.set_input(t_node, &t_value)?;
        }
        let rules = anfis.rules();
        Ok(HybridTrainer {
            graph,
            premise,
            consequent,
            dtype,
            rows,
            inputs,
            rules,
            features: x.to_f64_vec(),
            targets: t.to_f64_vec(),
            forward,
            backward,
            design: vec![0.0; design_size],
        })
    }

    /// The number of samples.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The training RMSE of the network's current parameters, `√(Σ(o − t)²/N)`.
    ///
    /// # Errors
    /// Running the plan failed.
    pub fn rmse(&mut self) -> Result<f64> {
        self.forward.run(self.graph)?;
        Ok(self.forward.output_at(1).to_scalar()?.sqrt())
    }

    /// The forward pass of the hybrid rule: sets the consequent parameters to the
    /// least-squares solution for the current premise ([`LeastSquares`]) and returns the RMSE
    /// after it, which is never above the RMSE before it (up to rounding, and up to the ridge
    /// the solver may add).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: a bad `γ`, or normalised firing strengths that are not
    /// finite (`a`: premise parameters out of their functions' domain).
    pub fn least_squares_step(&mut self, form: LeastSquares) -> Result<f64> {
        self.solve_consequents(form)?;
        self.rmse()
    }

    /// The backward pass of the hybrid rule: computes the gradient `g` of the error with
    /// respect to the premise parameters and steps them by `Δα = −k·g/‖g‖` (no step when
    /// `g = 0`). Returns the RMSE before the step.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`step_size`) for a `k` that is not positive and finite;
    /// running the plan failed.
    pub fn premise_step(&mut self, step_size: f64) -> Result<f64> {
        if !(step_size > 0.0 && step_size.is_finite()) {
            return Err(NnError::InvalidSetting {
                what: "step_size",
                reason: format!("must be positive and finite, got {step_size}"),
            });
        }
        self.backward.run(self.graph)?;
        let rmse = self.backward.output_at(0).to_scalar()?.sqrt();
        self.apply_premise_step(step_size)?;
        Ok(rmse)
    }

    /// Steps the premise parameters by `−k·g/‖g‖` with the gradients the backward plan
    /// computed at its last run.
    fn apply_premise_step(&mut self, step_size: f64) -> Result<()> {
        let grads: Vec<&Tensor> = (0..self.premise.len())
            .map(|k| self.backward.output_at(1 + k))
            .collect();
        let norm = grads
            .iter()
            .flat_map(|g| g.to_f64_vec())
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 && norm.is_finite() {
            let scale = -step_size / norm;
            self.graph.with_params_mut(&self.premise, |values| {
                for (value, grad) in values.iter_mut().zip(&grads) {
                    add_scaled(value, grad, scale);
                }
            })?;
        }
        Ok(())
    }

    /// Trains for `options.epochs` epochs (see the [type documentation](HybridTrainer)),
    /// then solves for the consequent parameters once more.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] for bad options (see [`HybridOptions::validate`]), and
    /// (`step_size`) when the error stops being finite (the premise parameters left their
    /// functions' domain: a smaller step size helps).
    pub fn fit(&mut self, options: &HybridOptions) -> Result<HybridHistory> {
        options.validate()?;
        let mut rule = StepSizeRule::new(
            options.step_size,
            options.step_increase,
            options.step_decrease,
        )?;
        let mut history = HybridHistory::default();
        for epoch in 0..options.epochs {
            self.solve_consequents(options.least_squares)
                .map_err(|e| diverged(epoch, e))?;
            self.backward.run(self.graph)?;
            let rmse = self.backward.output_at(0).to_scalar()?.sqrt();
            if !rmse.is_finite() {
                return Err(diverged(
                    epoch,
                    NnError::InvalidSetting {
                        what: "step_size",
                        reason: format!("the training RMSE is {rmse}"),
                    },
                ));
            }
            let k = rule.update(rmse);
            history.rmse.push(rmse);
            history.step_size.push(k);
            // the backward plan has just run with these parameters: step from its outputs
            self.apply_premise_step(k)?;
        }
        self.solve_consequents(options.least_squares)
            .map_err(|e| diverged(options.epochs, e))?;
        history.final_rmse = self.rmse()?;
        Ok(history)
    }

    /// Runs the forward plan, assembles the design matrix and writes the least-squares
    /// consequent parameters.
    fn solve_consequents(&mut self, form: LeastSquares) -> Result<()> {
        self.forward.run(self.graph)?;
        let normalized = self.forward.output_at(0).to_f64_vec();
        let width = self.inputs + 1;
        let cols = self.rules * width;
        for ((row, strengths), features) in self
            .design
            .chunks_exact_mut(cols)
            .zip(normalized.chunks_exact(self.rules))
            .zip(self.features.chunks_exact(self.inputs))
        {
            for (block, &w) in row.chunks_exact_mut(width).zip(strengths) {
                for (a, &x) in block.iter_mut().zip(features) {
                    *a = w * x;
                }
                block[self.inputs] = w;
            }
        }
        let theta = form.solve(&self.design, self.rows, cols, &self.targets)?;
        let value = Tensor::from_f64s(&theta, [self.rules, width], self.dtype)?;
        self.graph.set_param(self.consequent, &value)?;
        Ok(())
    }
}

/// `value += scale · grad`, elementwise, in the parameter's dtype.
fn add_scaled(value: &mut Tensor, grad: &Tensor, scale: f64) {
    match (value.storage_mut(), grad.storage()) {
        (Storage::F64(v), Storage::F64(g)) => {
            for (v, g) in v.iter_mut().zip(g) {
                *v += scale * g;
            }
        }
        (Storage::F32(v), Storage::F32(g)) => {
            let scale = scale as f32;
            for (v, g) in v.iter_mut().zip(g) {
                *v += scale * g;
            }
        }
        (Storage::F64(v), Storage::F32(g)) => {
            for (v, g) in v.iter_mut().zip(g) {
                *v += scale * f64::from(*g);
            }
        }
        (Storage::F32(v), Storage::F64(g)) => {
            for (v, g) in v.iter_mut().zip(g) {
                *v += (scale * g) as f32;
            }
        }
    }
}

/// Explains a failure during training as divergence at `epoch` when it is a non-finite
/// value; passes any other error through.
fn diverged(epoch: usize, error: NnError) -> NnError {
    match error {
        NnError::InvalidSetting { reason, .. } => NnError::InvalidSetting {
            what: "step_size",
            reason: format!(
                "training diverged at epoch {epoch} ({reason}): the premise parameters left \
                 their functions' domain; try a smaller step size"
            ),
        },
        other => other,
    }
}
