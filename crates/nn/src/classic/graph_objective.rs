//! [`GraphObjective`]: any graph's loss, or sum of squared residuals, as an [`Objective`] of its
//! parameters.

use adnet_graph::{Graph, GraphError, IntoNode, NodeId, NodeKind, Plan};
use adnet_tensor::{Storage, Tensor};

use super::{half_squared_norm, Objective};
use crate::{NnError, Result};

/// What the objective minimises.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A one-element loss node.
    Scalar { loss: NodeId },
    /// `½‖r‖²` of a residual node with `count` elements; `half` is the node `½ Σ r²` whose
    /// gradient the gradient plan computes.
    LeastSquares {
        residuals: NodeId,
        half: NodeId,
        count: usize,
    },
}

/// A graph's one-element loss, or the sum of squares `½‖r(θ)‖²` of a residual node, as a
/// function of a flat vector `θ` of its parameters: what the classic methods minimise.
///
/// `θ` lists every element of every parameter in the order given (each row-major), in `f64`;
/// evaluating at a `θ` writes it into the graph's parameters (rounded to their dtype) and runs
/// a plan. Three plans are compiled, each the first time it is needed and then reused: the value
/// (the loss, or the residuals), the value with the gradient, and (least squares only) the
/// residuals with their Jacobian `∂r/∂θ`, `m × n`, built by
/// [`jacobian_flat`](adnet_autodiff::jacobian_flat) in whichever mode takes fewer passes.
///
/// Inputs the graph declares are set once with [`GraphObjective::set_input`] and stay set.
/// After a method has run, the graph's parameters hold the last point *evaluated*, which need
/// not be the method's final `θ` (a rejected trial step, say): call
/// [`GraphObjective::write_params`] with the final `θ`.
///
/// # Examples
/// Fitting `y = a·exp(b·x)` by Levenberg-Marquardt, the residuals a graph:
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::classic::{minimize, GraphObjective, LevenbergMarquardt, Stopping};
/// use adnet_tensor::{DType, Tensor};
/// let g = Graph::new();
/// let x = g.input("x", [5], DType::F64)?;
/// let y = g.input("y", [5], DType::F64)?;
/// let a = g.param("a", Tensor::scalar(1.0))?;
/// let b = g.param("b", Tensor::scalar(0.0))?;
/// let r = a * (b * x).exp() - y;
/// let mut fit = GraphObjective::least_squares(&g, r, &[a.id(), b.id()])?;
/// let xs = [0.0, 0.5, 1.0, 1.5, 2.0];
/// let ys: Vec<f64> = xs.iter().map(|x: &f64| 2.0 * (-0.7 * x).exp()).collect();
/// fit.set_input(x, &Tensor::from_vec(xs.to_vec(), [5])?)?;
/// fit.set_input(y, &Tensor::from_vec(ys, [5])?)?;
/// let mut theta = fit.params();
/// minimize(&mut LevenbergMarquardt::default(), &mut fit, &mut theta, &Stopping::default())?;
/// fit.write_params(&theta)?;
/// assert!((g.value(a)?.to_scalar()? - 2.0).abs() < 1e-8);
/// assert!((g.value(b)?.to_scalar()? + 0.7).abs() < 1e-8);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
pub struct GraphObjective<'g> {
    graph: &'g Graph,
    params: Vec<NodeId>,
    sizes: Vec<usize>,
    dim: usize,
    target: Target,
    inputs: Vec<(NodeId, Tensor)>,
    /// Loss, or residuals.
    value_plan: Option<Plan>,
    /// Loss (or `½‖r‖²`), then one gradient per parameter.
    grad_plan: Option<Plan>,
    /// Residuals, then the `m × n` Jacobian.
    jacobian_plan: Option<Plan>,
    detect_anomalies: bool,
}

impl std::fmt::Debug for GraphObjective<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphObjective")
            .field("params", &self.params)
            .field("dim", &self.dim)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl<'g> GraphObjective<'g> {
    /// The one-element `loss` as a function of `params`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`loss`) when `loss` has more than one element;
    /// [`NnError::Graph`] when a node is not in `graph` or a listed node is not a parameter
    /// (or is listed twice).
    pub fn scalar(graph: &'g Graph, loss: impl IntoNode, params: &[NodeId]) -> Result<Self> {
        let loss = loss.node_in(graph)?;
        let spec = graph.spec(loss)?;
        if spec.shape.numel() != 1 {
            return Err(NnError::InvalidSetting {
                what: "loss",
                reason: format!(
                    "{loss} has shape {}, a scalar objective needs one element \
                     (use GraphObjective::least_squares for a residual vector)",
                    spec.shape
                ),
            });
        }
        Self::new(graph, params, Target::Scalar { loss })
    }

    /// The sum of squares `½‖r‖²` of the node `residuals` (any shape, flattened row-major into
    /// `m` residuals) as a function of `params`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`residuals`) for a node with no element; as
    /// [`GraphObjective::scalar`].
    pub fn least_squares(
        graph: &'g Graph,
        residuals: impl IntoNode,
        params: &[NodeId],
    ) -> Result<Self> {
        let r = graph.var(residuals)?;
        let count = r.shape().numel();
        if count == 0 {
            return Err(NnError::InvalidSetting {
                what: "residuals",
                reason: format!("{} has shape {}: no residual", r.id(), r.shape()),
            });
        }
        let half = (r
            .try_mul(r)?
            .sum_all()
            .try_mul(graph.scalar_of(0.5, r.dtype()))?)
        .id();
        Self::new(
            graph,
            params,
            Target::LeastSquares {
                residuals: r.id(),
                half,
                count,
            },
        )
    }

    fn new(graph: &'g Graph, params: &[NodeId], target: Target) -> Result<Self> {
        graph.with_params_mut(params, |_| ())?;
        let sizes = params
            .iter()
            .map(|&p| Ok(graph.spec(p)?.shape.numel()))
            .collect::<Result<Vec<usize>>>()?;
        Ok(GraphObjective {
            graph,
            params: params.to_vec(),
            dim: sizes.iter().sum(),
            sizes,
            target,
            inputs: Vec::new(),
            value_plan: None,
            grad_plan: None,
            jacobian_plan: None,
            detect_anomalies: false,
        })
    }

    /// The parameters, in `θ`'s order.
    pub fn param_ids(&self) -> &[NodeId] {
        &self.params
    }

    /// Sets an input of the graph for every later evaluation.
    ///
    /// # Errors
    /// [`NnError::Graph`] when `node` is not an input of the graph
    /// ([`GraphError::WrongKind`]) or `value`'s shape or dtype is not the input's.
    pub fn set_input(&mut self, node: impl IntoNode, value: &Tensor) -> Result<()> {
        let node = node.node_in(self.graph)?;
        let kind = self.graph.kind(node)?;
        if !matches!(kind, NodeKind::Input) {
            return Err(GraphError::WrongKind {
                node,
                expected: "an input",
                actual: kind.describe(),
            }
            .into());
        }
        let spec = self.graph.spec(node)?;
        if value.shape() != &spec.shape || value.dtype() != spec.dtype {
            return Err(GraphError::ValueMismatch {
                node,
                name: self.graph.name_of(node).unwrap_or_else(|| node.to_string()),
                expected: spec.shape,
                expected_dtype: spec.dtype,
                actual: value.shape().clone(),
                actual_dtype: value.dtype(),
            }
            .into());
        }
        for plan in self.plans() {
            plan.set_input(node, value)?;
        }
        match self.inputs.iter_mut().find(|(n, _)| *n == node) {
            Some((_, held)) => held.assign(value),
            None => self.inputs.push((node, value.clone())),
        }
        Ok(())
    }

    /// Makes every plan fail with [`GraphError::NonFinite`] naming the first node that produces
    /// a NaN or infinity ([`Plan::detect_anomalies`]).
    pub fn detect_anomalies(&mut self, on: bool) {
        self.detect_anomalies = on;
        for plan in self.plans() {
            plan.detect_anomalies(on);
        }
    }

    /// The plans compiled so far.
    fn plans(&mut self) -> impl Iterator<Item = &mut Plan> {
        [
            &mut self.value_plan,
            &mut self.grad_plan,
            &mut self.jacobian_plan,
        ]
        .into_iter()
        .flatten()
    }

    /// The parameters' current values as `θ`.
    ///
    /// # Panics
    /// Never: the parameters were checked when the objective was made, and a graph never loses
    /// a node.
    pub fn params(&self) -> Vec<f64> {
        let mut theta = vec![0.0; self.dim];
        self.read_params(&mut theta)
            .expect("parameters checked when the objective was made");
        theta
    }

    /// Writes the parameters' current values into `theta`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`theta`) when `theta`'s length is not [`Objective::dim`].
    pub fn read_params(&self, theta: &mut [f64]) -> Result<()> {
        self.check_len(theta)?;
        // read in place (no copy of the parameter tensors): this runs every epoch of a trainer
        let sizes = &self.sizes;
        self.graph.with_params_mut(&self.params, |values| {
            let mut offset = 0;
            for (value, &n) in values.iter().zip(sizes) {
                copy_f64(value, &mut theta[offset..offset + n]);
                offset += n;
            }
        })?;
        Ok(())
    }

    /// Writes `theta` into the graph's parameters (rounded to their dtype). Every evaluation does
    /// this first (it costs one pass over `θ`, little beside running a plan), so parameters
    /// changed outside the objective between evaluations are never stale.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`theta`) when `theta`'s length is not [`Objective::dim`].
    pub fn write_params(&mut self, theta: &[f64]) -> Result<()> {
        self.check_len(theta)?;
        let sizes = &self.sizes;
        self.graph.with_params_mut(&self.params, |values| {
            let mut offset = 0;
            for (value, &n) in values.iter_mut().zip(sizes) {
                let chunk = &theta[offset..offset + n];
                match value.storage_mut() {
                    Storage::F32(v) => {
                        for (x, &t) in v.iter_mut().zip(chunk) {
                            *x = t as f32;
                        }
                    }
                    Storage::F64(v) => v.copy_from_slice(chunk),
                }
                offset += n;
            }
        })?;
        Ok(())
    }

    fn check_len(&self, theta: &[f64]) -> Result<()> {
        if theta.len() != self.dim {
            return Err(NnError::InvalidSetting {
                what: "theta",
                reason: format!(
                    "the objective has {} parameters, theta has {} values",
                    self.dim,
                    theta.len()
                ),
            });
        }
        Ok(())
    }

    /// Compiles a plan of `outputs` with the inputs set so far.
    fn compile(&self, outputs: Vec<NodeId>) -> Result<Plan> {
        let mut plan = self.graph.compile(outputs)?;
        plan.detect_anomalies(self.detect_anomalies);
        for (node, value) in &self.inputs {
            plan.set_input(*node, value)?;
        }
        Ok(plan)
    }

    /// Writes `theta` and runs the value plan (compiling it the first time).
    fn run_value(&mut self, theta: &[f64]) -> Result<&Plan> {
        self.write_params(theta)?;
        if self.value_plan.is_none() {
            let output = match self.target {
                Target::Scalar { loss } => loss,
                Target::LeastSquares { residuals, .. } => residuals,
            };
            self.value_plan = Some(self.compile(vec![output])?);
        }
        let plan = self.value_plan.as_mut().expect("compiled above");
        plan.run(self.graph)?;
        Ok(plan)
    }

    /// The residual count, or an error for a scalar objective.
    fn least_squares_count(&self) -> Result<usize> {
        match self.target {
            Target::LeastSquares { count, .. } => Ok(count),
            Target::Scalar { .. } => Err(NnError::InvalidSetting {
                what: "method",
                reason: "this method needs residuals and their Jacobian; the objective is a \
                         scalar loss (make it with GraphObjective::least_squares)"
                    .to_string(),
            }),
        }
    }

    fn check_residual_len(count: usize, r: &[f64]) -> Result<()> {
        if r.len() != count {
            return Err(NnError::InvalidSetting {
                what: "residuals",
                reason: format!(
                    "the objective has {count} residuals, the buffer {}",
                    r.len()
                ),
            });
        }
        Ok(())
    }
}

/// Copies a tensor's elements into `out` as `f64`.
fn copy_f64(tensor: &Tensor, out: &mut [f64]) {
    match tensor.storage() {
        Storage::F32(v) => {
            for (o, &x) in out.iter_mut().zip(v) {
                *o = f64::from(x);
            }
        }
        Storage::F64(v) => out.copy_from_slice(v),
    }
}

impl Objective for GraphObjective<'_> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&mut self, theta: &[f64]) -> Result<f64> {
        let target = self.target;
        let plan = self.run_value(theta)?;
        match target {
            Target::Scalar { .. } => Ok(plan.output_at(0).to_scalar()?),
            Target::LeastSquares { .. } => Ok(match plan.output_at(0).storage() {
                // every trial of a line search or of Levenberg-Marquardt lands here: no copy
                Storage::F32(r) => 0.5 * r.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>(),
                Storage::F64(r) => half_squared_norm(r),
            }),
        }
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64> {
        self.check_len(grad)?;
        self.write_params(theta)?;
        if self.grad_plan.is_none() {
            let value = match self.target {
                Target::Scalar { loss } => loss,
                Target::LeastSquares { half, .. } => half,
            };
            let grads = adnet_autodiff::grad(self.graph, value, &self.params)?;
            let outputs = std::iter::once(value)
                .chain(grads.iter().map(|g| g.id()))
                .collect();
            self.grad_plan = Some(self.compile(outputs)?);
        }
        let plan = self.grad_plan.as_mut().expect("compiled above");
        plan.run(self.graph)?;
        let mut offset = 0;
        for (k, &n) in self.sizes.iter().enumerate() {
            copy_f64(plan.output_at(1 + k), &mut grad[offset..offset + n]);
            offset += n;
        }
        Ok(plan.output_at(0).to_scalar()?)
    }

    fn residual_count(&self) -> Option<usize> {
        self.least_squares_count().ok()
    }

    fn residuals(&mut self, theta: &[f64], r: &mut [f64]) -> Result<()> {
        let count = self.least_squares_count()?;
        Self::check_residual_len(count, r)?;
        let plan = self.run_value(theta)?;
        copy_f64(plan.output_at(0), r);
        Ok(())
    }

    fn residuals_jacobian(&mut self, theta: &[f64], r: &mut [f64], jac: &mut [f64]) -> Result<()> {
        let count = self.least_squares_count()?;
        Self::check_residual_len(count, r)?;
        if jac.len() != count * self.dim {
            return Err(NnError::InvalidSetting {
                what: "jacobian",
                reason: format!(
                    "the Jacobian is {count} × {}, the buffer holds {} values",
                    self.dim,
                    jac.len()
                ),
            });
        }
        self.write_params(theta)?;
        if self.jacobian_plan.is_none() {
            let Target::LeastSquares { residuals, .. } = self.target else {
                unreachable!("least_squares_count checked the target");
            };
            let j = adnet_autodiff::jacobian_flat(self.graph, residuals, &self.params)?;
            self.jacobian_plan = Some(self.compile(vec![residuals, j.id()])?);
        }
        let plan = self.jacobian_plan.as_mut().expect("compiled above");
        plan.run(self.graph)?;
        copy_f64(plan.output_at(0), r);
        copy_f64(plan.output_at(1), jac);
        Ok(())
    }
}
