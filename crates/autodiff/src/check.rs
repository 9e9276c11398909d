//! Gradient checking: [`check_grad`] compares the derivatives `grad` builds with central finite
//! differences, as `torch.autograd.gradcheck` (and, with [`CheckOptions::second_order`],
//! `gradgradcheck`) do.
//!
//! An entry passes when `|analytic − numeric| <= atol + rtol·|numeric|`, PyTorch's test, with
//! its defaults (`eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`) and in `f64` whatever the graph's
//! dtype. The finite differences are those of [`adnet_graph::finite_diff`], the one
//! implementation the op tests use too.

use adnet_graph::finite_diff::{self, Step};
use adnet_graph::{Graph, GraphError, IntoNode, NodeId, NodeKind, Plan};
use adnet_tensor::{DType, Shape, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{grad, hessian, hvp, AutodiffError, Result};

mod report;

use report::Label;
pub use report::{CheckEntry, GradCheck};

/// How [`check_grad`] differentiates numerically and what it accepts.
///
/// The defaults are `torch.autograd.gradcheck`'s: a fixed step `eps = 1e-6`, `atol = 1e-5`,
/// `rtol = 1e-3`, the whole Jacobian (no fast mode), first order only.
///
/// # Examples
/// ```
/// use adnet_autodiff::CheckOptions;
/// use adnet_graph::finite_diff::Step;
/// let options = CheckOptions::default().with_atol(1e-7).with_fast_mode(true).scaled();
/// assert_eq!(options.rtol, 1e-3);
/// assert_eq!(options.step, Step::Scaled { epsilon: f64::EPSILON });
/// assert_eq!(CheckOptions::default().with_eps(1e-4).step, Step::Fixed(1e-4));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    /// The finite-difference step: [`Step::Fixed`] (gradcheck's `eps`, default `1e-6`) or
    /// [`Step::Scaled`] (`h = ∛ε·max(1, |xᵢ|)` per element, see [`CheckOptions::scaled`]).
    pub step: Step,
    /// Absolute tolerance (gradcheck's `atol`, default `1e-5`).
    pub atol: f64,
    /// Relative tolerance, relative to the numeric value (gradcheck's `rtol`, default `1e-3`).
    pub rtol: f64,
    /// Compare one random directional derivative `⟨∇y, u⟩` instead of every element
    /// (gradcheck's `fast_mode`): two evaluations of `y` whatever the number of elements.
    /// With `second_order`, compares `H·u` instead of the whole Hessian.
    pub fast_mode: bool,
    /// Also check second derivatives: the Hessian (or `H·u` in fast mode) against central
    /// differences of the analytic gradient, as gradgradcheck does.
    pub second_order: bool,
    /// Seed of the random directions of fast mode.
    pub seed: u64,
    /// How many entries the report keeps (the worst ones).
    pub worst: usize,
}

impl CheckOptions {
    /// gradcheck's default `atol`.
    pub const DEFAULT_ATOL: f64 = 1e-5;
    /// gradcheck's default `rtol`.
    pub const DEFAULT_RTOL: f64 = 1e-3;
    /// How many entries a report keeps by default.
    pub const DEFAULT_WORST: usize = 5;

    /// A fixed step `h` for every element (gradcheck's `eps`).
    pub fn with_eps(mut self, h: f64) -> Self {
        self.step = Step::Fixed(h);
        self
    }

    /// A step chosen per element (see [`Step`]).
    pub fn with_step(mut self, step: Step) -> Self {
        self.step = step;
        self
    }

    /// A step scaled to each element, `h = ∛ε·max(1, |xᵢ|)` with `ε` the `f64` epsilon
    /// (the check always runs in `f64`): about `6e-6` near zero, balancing truncation and
    /// rounding error, and growing with large elements where a fixed `1e-6` would drown in
    /// rounding.
    pub fn scaled(mut self) -> Self {
        self.step = Step::Scaled {
            epsilon: f64::EPSILON,
        };
        self
    }

    /// The absolute tolerance.
    pub fn with_atol(mut self, atol: f64) -> Self {
        self.atol = atol;
        self
    }

    /// The relative tolerance.
    pub fn with_rtol(mut self, rtol: f64) -> Self {
        self.rtol = rtol;
        self
    }

    /// Whether to compare one random directional derivative instead of every element.
    pub fn with_fast_mode(mut self, fast_mode: bool) -> Self {
        self.fast_mode = fast_mode;
        self
    }

    /// Whether to check second derivatives too.
    pub fn with_second_order(mut self, second_order: bool) -> Self {
        self.second_order = second_order;
        self
    }

    /// The seed of fast mode's random directions.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many entries the report keeps.
    pub fn with_worst(mut self, worst: usize) -> Self {
        self.worst = worst;
        self
    }
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            step: Step::Fixed(finite_diff::DEFAULT_STEP),
            atol: Self::DEFAULT_ATOL,
            rtol: Self::DEFAULT_RTOL,
            fast_mode: false,
            second_order: false,
            seed: 0,
            worst: Self::DEFAULT_WORST,
        }
    }
}

/// A node [`check_grad`] differentiates against, and where its elements sit in the flat
/// vector of all of them.
struct Target {
    node: NodeId,
    name: String,
    shape: Shape,
    param: bool,
    offset: usize,
}

impl Target {
    fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.shape.numel()
    }

    /// The multi-index of the `flat`-th element (row-major).
    fn index(&self, flat: usize) -> Vec<usize> {
        unravel(flat, self.shape.dims())
    }
}

/// The row-major multi-index of flat position `flat` in an array of the given dims.
fn unravel(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for (slot, &d) in index.iter_mut().zip(dims).rev() {
        *slot = flat % d.max(1);
        flat /= d.max(1);
    }
    index
}

/// Sets all the targets' elements from a flat vector and runs plans: parameters through the
/// (copied) graph, inputs through each plan.
struct Evaluator<'a> {
    work: &'a Graph,
    targets: &'a [Target],
}

impl Evaluator<'_> {
    fn set(&self, plan: &mut Plan, point: &[f64]) -> adnet_graph::Result<()> {
        for t in self.targets {
            let value = Tensor::from_f64s(&point[t.range()], t.shape.clone(), DType::F64)?;
            if t.param {
                self.work.set_param(t.node, &value)?;
            } else {
                plan.set_input(t.node, &value)?;
            }
        }
        Ok(())
    }

    /// Runs `plan` at `point` and returns all its outputs from the `first`-th on, flattened.
    fn run(&self, plan: &mut Plan, point: &[f64], first: usize) -> adnet_graph::Result<Vec<f64>> {
        self.set(plan, point)?;
        plan.run(self.work)?;
        let mut values = Vec::new();
        for k in first..plan.outputs().len() {
            values.extend(plan.output_at(k).to_f64_vec());
        }
        Ok(values)
    }
}

/// A seeded random direction over `n` elements, uniform in the cube then scaled to length 1.
fn direction(rng: &mut StdRng, n: usize) -> Vec<f64> {
    let mut u: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        u.iter_mut().for_each(|v| *v /= norm);
    }
    u
}

/// Checks the gradient of a one-element node `y` with respect to `wrt` (inputs and parameters
/// of any shape) against central finite differences, as `torch.autograd.gradcheck` does.
///
/// `inputs` gives every input `y` needs, by name (those in `wrt` too: their values are the
/// point the check is made at; parameters are checked at their current values). Each element
/// `i` gives an entry comparing the analytic `∂y/∂xᵢ`, from [`grad`] compiled with `y` into one
/// plan, with the numeric `(y(x + h·eᵢ) − y(x − h·eᵢ)) / 2h`; it passes when
/// `|analytic − numeric| <= atol + rtol·|numeric|`. With
/// [`fast_mode`](CheckOptions::fast_mode), a single entry compares `⟨∇y, u⟩` with the
/// directional difference along a seeded random unit direction `u`. With
/// [`second_order`](CheckOptions::second_order), the Hessian ([`hessian`]; `H·u` from [`hvp`]
/// in fast mode) is also compared with central differences of the analytic gradient.
///
/// The check runs on a copy of the graph, in `f64` ([`Graph::with_dtype`] when some value is
/// `f32`, so an `f32` network is checked with `f64` arithmetic and `f64` tolerances): `g`, its
/// parameter values and its nodes are left as they were. A node listed twice in `wrt` is
/// checked once. A NaN on either side fails its entry.
///
/// # Errors
/// [`AutodiffError::NotScalar`] when `y` has more than one element;
/// [`GraphError::WrongKind`] for a `wrt` node that is not an input or a parameter;
/// [`GraphError::UnknownName`] for an input name not in the graph,
/// [`GraphError::MissingInput`] for an input that is needed (or in `wrt`) but not given,
/// [`GraphError::ValueMismatch`] for one of the wrong shape; the errors of [`grad`] (an op
/// without the derivative asked for) and of running the plans (a failing kernel).
///
/// # Cost
/// Builds the gradient once on the copy; then `2n` runs of `y` for `n` elements (2 in fast
/// mode). Second order adds the Hessian's construction (`n` forward passes over the gradient)
/// and `2n` runs of the gradient (2 in fast mode).
///
/// # Examples
/// ```
/// use adnet_autodiff::{check_grad, CheckOptions};
/// use adnet_graph::Graph;
/// use adnet_tensor::{DType, Tensor};
///
/// let g = Graph::new();
/// let x = g.input("x", [3], DType::F32)?;
/// let w = g.param("w", Tensor::from_vec(vec![0.5f32, -1.0, 2.0], [3])?)?;
/// let y = (w * x).tanh().sum_all();
/// let at = Tensor::from_vec(vec![1.0f32, 0.5, -0.25], [3])?;
/// let options = CheckOptions::default().with_second_order(true);
/// let report = check_grad(&g, y, &[x, w], &[("x", &at)], &options)?;
/// assert!(report.passed, "{report}");
/// assert_eq!(report.checked, 6 + 6 * 6); // the gradient, then the Hessian
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn check_grad<I: IntoNode + Copy>(
    g: &Graph,
    y: impl IntoNode,
    wrt: &[I],
    inputs: &[(&str, &Tensor)],
    options: &CheckOptions,
) -> Result<GradCheck> {
    let y = y.node_in(g)?;
    let shape = g.spec(y)?.shape;
    if shape.numel() != 1 {
        return Err(AutodiffError::NotScalar { node: y, shape });
    }
    let mut targets: Vec<Target> = Vec::with_capacity(wrt.len());
    let mut n = 0;
    for w in wrt {
        let node = w.node_in(g)?;
        if targets.iter().any(|t| t.node == node) {
            continue;
        }
        let param = match g.kind(node)? {
            NodeKind::Input => false,
            NodeKind::Param { .. } => true,
            other => {
                return Err(GraphError::WrongKind {
                    node,
                    expected: "an input or a parameter",
                    actual: other.describe(),
                }
                .into())
            }
        };
        let shape = g.spec(node)?.shape;
        let numel = shape.numel();
        targets.push(Target {
            node,
            name: g.name_of(node).unwrap_or_else(|| node.to_string()),
            shape,
            param,
            offset: n,
        });
        n += numel;
    }

    // Work on a copy, in f64: ids and names are the same in it.
    let has_f32 = (0..g.len()).any(|i| {
        g.spec(NodeId::from_index(i))
            .is_ok_and(|s| s.dtype == DType::F32)
    });
    let work = if has_f32 {
        g.with_dtype(DType::F64)?
    } else {
        g.clone()
    };
    let given = inputs
        .iter()
        .map(|&(name, value)| Ok((work.node(name)?.id(), value.to_dtype(DType::F64))))
        .collect::<adnet_graph::Result<Vec<(NodeId, Tensor)>>>()?;
    let ids: Vec<NodeId> = targets.iter().map(|t| t.node).collect();
    let gradient: Vec<NodeId> = grad(&work, y, &ids)?.iter().map(|v| v.id()).collect();
    let mut grad_plan = work.compile(std::iter::once(y).chain(gradient.iter().copied()))?;
    let mut value_plan = work.compile([y])?;
    let set_given = |plan: &mut Plan| -> adnet_graph::Result<()> {
        for (node, value) in &given {
            plan.set_input(*node, value)?;
        }
        Ok(())
    };
    set_given(&mut grad_plan)?;
    set_given(&mut value_plan)?;

    // The point: inputs as given, parameters at their current values.
    let mut x0 = Vec::with_capacity(n);
    for t in &targets {
        let value = if t.param {
            work.value(t.node)?
        } else {
            given
                .iter()
                .find(|(node, _)| *node == t.node)
                .map(|(_, value)| value.clone())
                .ok_or_else(|| GraphError::MissingInput {
                    node: t.node,
                    name: t.name.clone(),
                })?
        };
        x0.extend(value.to_f64_vec());
    }

    let eval = Evaluator {
        work: &work,
        targets: &targets,
    };
    let (atol, rtol, step) = (options.atol, options.rtol, options.step);
    let largest = x0.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut rng = StdRng::seed_from_u64(options.seed);
    let element_label = |order: usize, flat: usize| -> Label {
        let t = targets
            .iter()
            .find(|t| t.range().contains(&flat))
            .expect("every flat position belongs to a target");
        Label {
            order,
            wrt: t.name.clone(),
            index: t.index(flat - t.offset),
            wrt2: None,
            index2: None,
        }
    };

    let analytic = eval.run(&mut grad_plan, &x0, 1)?;
    let mut entries = Vec::new();
    if options.fast_mode {
        let u = direction(&mut rng, n);
        let mut y_of = |p: &[f64]| eval.run(&mut value_plan, p, 0);
        let numeric = finite_diff::directional(&mut y_of, &x0, &u, step.at(largest))?;
        let along: f64 = analytic.iter().zip(&u).map(|(a, b)| a * b).sum();
        let label = Label {
            order: 1,
            wrt: "⟨∇y, u⟩".to_string(),
            index: Vec::new(),
            wrt2: None,
            index2: None,
        };
        entries.push(CheckEntry::compare(label, along, numeric[0], atol, rtol));
    } else {
        let mut y_of = |p: &[f64]| Ok(eval.run(&mut value_plan, p, 0)?[0]);
        let numeric = finite_diff::gradient(&mut y_of, &x0, step)?;
        for (i, (&a, &num)) in analytic.iter().zip(&numeric).enumerate() {
            entries.push(CheckEntry::compare(element_label(1, i), a, num, atol, rtol));
        }
    }

    if options.second_order && n > 0 {
        let mut gradient_of = |p: &[f64]| eval.run(&mut grad_plan, p, 1);
        if options.fast_mode {
            let u = direction(&mut rng, n);
            let tangents = targets
                .iter()
                .map(|t| {
                    let value = Tensor::from_f64s(&u[t.range()], t.shape.clone(), DType::F64)?;
                    Ok(work.constant(value).id())
                })
                .collect::<adnet_graph::Result<Vec<NodeId>>>()?;
            let hu: Vec<NodeId> = hvp(&work, y, &ids, &tangents)?
                .iter()
                .map(|v| v.id())
                .collect();
            let mut plan = work.compile(hu)?;
            set_given(&mut plan)?;
            let analytic = eval.run(&mut plan, &x0, 0)?;
            let numeric = finite_diff::directional(&mut gradient_of, &x0, &u, step.at(largest))?;
            for (i, (&a, &num)) in analytic.iter().zip(&numeric).enumerate() {
                let mut label = element_label(2, i);
                label.wrt2 = Some("u".to_string());
                label.index2 = Some(Vec::new());
                entries.push(CheckEntry::compare(label, a, num, atol, rtol));
            }
        } else {
            let h = hessian(&work, y, &ids)?.id();
            let mut plan = work.compile([h])?;
            set_given(&mut plan)?;
            let analytic = eval.run(&mut plan, &x0, 0)?;
            // numeric[i][j] ≈ ∂gᵢ/∂xⱼ, the layout of `hessian`'s rows and columns
            let numeric = finite_diff::jacobian(&mut gradient_of, &x0, step)?;
            for (i, row) in numeric.iter().enumerate() {
                for (j, &num) in row.iter().enumerate() {
                    let (first, second) = (element_label(2, i), element_label(2, j));
                    let label = Label {
                        wrt2: Some(second.wrt),
                        index2: Some(second.index),
                        ..first
                    };
                    entries.push(CheckEntry::compare(
                        label,
                        analytic[i * n + j],
                        num,
                        atol,
                        rtol,
                    ));
                }
            }
        }
    }
    Ok(GradCheck::from_entries(entries, options.worst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_gradchecks() {
        let options = CheckOptions::default();
        assert_eq!(options.step, Step::Fixed(1e-6));
        assert_eq!((options.atol, options.rtol), (1e-5, 1e-3));
        assert!(!options.fast_mode && !options.second_order);
        assert_eq!((options.seed, options.worst), (0, 5));
        let built = CheckOptions::default()
            .with_eps(1e-4)
            .with_rtol(0.0)
            .with_second_order(true)
            .with_seed(9)
            .with_worst(2);
        assert_eq!(built.step, Step::Fixed(1e-4));
        assert_eq!((built.rtol, built.seed, built.worst), (0.0, 9, 2));
        assert!(built.second_order);
        assert_eq!(
            built.clone().scaled().step,
            Step::Scaled {
                epsilon: f64::EPSILON
            }
        );
    }

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
        assert_eq!(unravel(7, &[2, 2, 2]), vec![1, 1, 1]);
    }

    #[test]
    fn directions_are_seeded_unit_vectors() {
        let u = direction(&mut StdRng::seed_from_u64(3), 10);
        let norm: f64 = u.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-12);
        assert_eq!(u, direction(&mut StdRng::seed_from_u64(3), 10));
    }
}
