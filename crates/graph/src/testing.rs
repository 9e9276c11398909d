//! Shared test support: a naive node-by-node evaluator to check plans against, proptest
//! strategies for random DAGs, and [`check_vjp`], which checks an op's derivative rule against
//! central finite differences.
//!
//! Enabled by the `testing` feature so that the other crates' tests use the same pieces.
#![allow(clippy::unwrap_used, clippy::panic)] // test support: a failed check must panic

use std::collections::HashMap;
use std::sync::Arc;

use adnet_tensor::{DType, Shape, Tensor};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::finite_diff;
use crate::random::{random_dag, RandomDag, RandomDagConfig};
use crate::{Graph, NodeId, NodeKind, Op, Result};

/// The central-difference step [`check_vjp`] takes along its random direction
/// (`torch.autograd.gradcheck`'s default).
pub const VJP_STEP: f64 = finite_diff::DEFAULT_STEP;

/// How far apart [`check_vjp`] lets `⟨u, J·v⟩` (finite differences) and `⟨vjp(u), v⟩` be,
/// relative to the larger of 1 and the sums of the magnitudes of their terms. Central
/// differences with `h = 1e-6` in f64 are good to about `1e-8` relative on smooth functions;
/// a wrong rule is off by `O(1)`.
pub const VJP_TOLERANCE: f64 = 1e-6;

/// Rounding allowance of the finite difference, in units of `ε/h · Σ|uᵢ·yᵢ|`: each output is
/// computed with relative error about `ε`, which the division by `2h` magnifies.
pub const VJP_ROUNDING: f64 = 16.0;

/// How far apart [`check_vjp`] lets `vjp(2u)` and `2·vjp(u)` be (relative, per element): a
/// rule linear in its cotangent gives them equal up to rounding.
pub const LINEARITY_TOLERANCE: f64 = 1e-12;

/// The seed [`check_vjp`] draws the cotangent `u` and the direction `v` from.
pub const VJP_SEED: u64 = 0x00AD_0E7A;

/// A value [`check_vjp`] accepts as an op's operand: an `f64` (a scalar) or a tensor (used
/// as `f64`).
pub trait VjpOperand {
    /// The operand as an `f64` tensor.
    fn to_operand(&self) -> Tensor;
}

impl VjpOperand for f64 {
    fn to_operand(&self) -> Tensor {
        Tensor::scalar(*self)
    }
}

impl VjpOperand for Tensor {
    fn to_operand(&self) -> Tensor {
        self.to_dtype(DType::F64)
    }
}

impl<T: VjpOperand + ?Sized> VjpOperand for &T {
    fn to_operand(&self) -> Tensor {
        (**self).to_operand()
    }
}

/// Options of [`check_vjp_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct VjpCheck {
    /// The seed of the cotangent `u` and the direction `v` (both uniform in `[-1, 1]`).
    pub seed: u64,
    /// Operands held fixed: built as constants, not perturbed, their cotangents not checked
    /// (a `where` mask, which a perturbation would flip).
    pub constants: Vec<usize>,
    /// The tolerance of the inner-product comparison (see [`VJP_TOLERANCE`]).
    pub tolerance: f64,
}

impl Default for VjpCheck {
    fn default() -> Self {
        VjpCheck {
            seed: VJP_SEED,
            constants: Vec::new(),
            tolerance: VJP_TOLERANCE,
        }
    }
}

impl VjpCheck {
    /// The default check with another seed.
    pub fn seeded(seed: u64) -> Self {
        VjpCheck {
            seed,
            ..VjpCheck::default()
        }
    }

    /// This check with the given operands held fixed.
    pub fn with_constants(mut self, constants: &[usize]) -> Self {
        self.constants = constants.to_vec();
        self
    }
}

/// Checks `op`'s derivative rule at `inputs` against central finite differences, in f64.
///
/// Builds a graph with the inputs as parameters, `y = op(inputs)`, a random cotangent `u` (a
/// constant of `y`'s shape) and the rule's nodes `vjp(u)`, and checks along a random direction
/// `v` that `⟨u, J·v⟩`, with `J·v` from [`finite_diff::directional`] on the forward output,
/// equals `⟨vjp(u), v⟩` evaluated through a compiled plan (see [`VJP_TOLERANCE`]). It also
/// checks that each cotangent has its operand's shape and dtype, and that the rule is linear
/// in the cotangent: `vjp(2u) = 2·vjp(u)`, which forward mode relies on. Works for one-element
/// scalar inputs: `check_vjp(&Tanh, &[0.5])`.
///
/// # Errors
/// A graph error from building or running the nodes (an operand the op rejects, a rule that
/// fails to build).
///
/// # Panics
/// When a check fails, with a message naming the op and both values.
pub fn check_vjp<O: Op + Clone>(op: &O, inputs: &[impl VjpOperand]) -> Result<()> {
    check_vjp_with(op, inputs, &VjpCheck::default())
}

/// [`check_vjp`] with options: another seed, operands held fixed.
///
/// # Errors
/// As [`check_vjp`].
///
/// # Panics
/// As [`check_vjp`].
pub fn check_vjp_with<O: Op + Clone>(
    op: &O,
    inputs: &[impl VjpOperand],
    check: &VjpCheck,
) -> Result<()> {
    let values: Vec<Tensor> = inputs.iter().map(VjpOperand::to_operand).collect();
    check_vjp_shared(Arc::new(op.clone()), &values, check)
}

/// [`check_vjp_with`] for an op that is already shared (a table of `Arc<dyn Op>`).
///
/// # Errors
/// As [`check_vjp`].
///
/// # Panics
/// As [`check_vjp`].
pub fn check_vjp_shared(op: Arc<dyn Op>, inputs: &[Tensor], check: &VjpCheck) -> Result<()> {
    let name = op.label();
    let g = Graph::new();
    let mut operands = Vec::with_capacity(inputs.len());
    for (i, value) in inputs.iter().enumerate() {
        let value = value.to_dtype(DType::F64);
        operands.push(if check.constants.contains(&i) {
            g.constant(value).id()
        } else {
            g.param(&format!("x{i}"), value)?.id()
        });
    }
    let varied: Vec<usize> = (0..inputs.len())
        .filter(|i| !check.constants.contains(i))
        .collect();
    let y = g.apply_arc(op.clone(), operands.iter().copied())?.id();
    let y_spec = g.spec(y)?;

    let mut rng = StdRng::seed_from_u64(check.seed);
    let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let u = draw(y_spec.shape.numel());
    let u_node = g.constant(Tensor::from_f64s(&u, y_spec.shape.clone(), DType::F64)?);
    let two_u: Vec<f64> = u.iter().map(|x| 2.0 * x).collect();
    let two_u_node = g.constant(Tensor::from_f64s(&two_u, y_spec.shape.clone(), DType::F64)?);

    let x_bar = op.vjp(&g, &operands, y, u_node.id())?;
    let x_bar_2u = op.vjp(&g, &operands, y, two_u_node.id())?;
    for grads in [&x_bar, &x_bar_2u] {
        assert_eq!(
            grads.0.len(),
            operands.len(),
            "{name}: the rule returned {} cotangents for {} operands",
            grads.0.len(),
            operands.len()
        );
    }
    for (i, grad) in x_bar.0.iter().enumerate() {
        if let Some(grad) = grad {
            assert_eq!(
                g.spec(*grad)?,
                g.spec(operands[i])?,
                "{name}: the cotangent of operand {i} does not match the operand's spec"
            );
        }
    }

    // ⟨vjp(u), v⟩ and linearity, through one compiled plan
    let outputs: Vec<NodeId> = std::iter::once(y)
        .chain(x_bar.0.iter().flatten().copied())
        .chain(x_bar_2u.0.iter().flatten().copied())
        .collect();
    let mut plan = g.compile(outputs)?;
    plan.run(&g)?;
    let y_values = plan.output(y)?.to_f64_vec();
    let directions: Vec<Vec<f64>> = varied.iter().map(|&i| draw(inputs[i].numel())).collect();
    let (mut vjp_dot, mut vjp_magnitude) = (0.0, 0.0);
    for (k, &i) in varied.iter().enumerate() {
        let (Some(grad), Some(grad_2u)) = (x_bar.0[i], x_bar_2u.0[i]) else {
            assert!(
                x_bar.0[i].is_none() && x_bar_2u.0[i].is_none(),
                "{name}: operand {i} gets a cotangent for u but not for 2u, or the reverse"
            );
            continue;
        };
        let grad = plan.output(grad)?.to_f64_vec();
        for (j, (a, b)) in grad
            .iter()
            .zip(plan.output(grad_2u)?.to_f64_vec())
            .enumerate()
        {
            assert!(
                adnet_tensor::testing::close(b, 2.0 * a, LINEARITY_TOLERANCE),
                "{name}: not linear in the cotangent: operand {i}[{j}]: vjp(2u) = {b:e}, 2·vjp(u) = {:e}",
                2.0 * a
            );
        }
        for (a, v) in grad.iter().zip(&directions[k]) {
            vjp_dot += a * v;
            vjp_magnitude += (a * v).abs();
        }
    }

    // ⟨u, J·v⟩ from central differences of the forward output
    let mut forward = g.compile([y])?;
    let point: Vec<f64> = varied
        .iter()
        .flat_map(|&i| inputs[i].to_f64_vec())
        .collect();
    let direction: Vec<f64> = directions.concat();
    let mut f = |flat: &[f64]| -> Result<Vec<f64>> {
        let mut offset = 0;
        for &i in &varied {
            let n = inputs[i].numel();
            let value = Tensor::from_f64s(
                &flat[offset..offset + n],
                inputs[i].shape().clone(),
                DType::F64,
            )?;
            g.set_param(operands[i], &value)?;
            offset += n;
        }
        forward.run(&g)?;
        Ok(forward.output(y)?.to_f64_vec())
    };
    let jv = finite_diff::directional(&mut f, &point, &direction, VJP_STEP)?;
    let fd_dot: f64 = u.iter().zip(&jv).map(|(a, b)| a * b).sum();
    let fd_magnitude: f64 = u.iter().zip(&jv).map(|(a, b)| (a * b).abs()).sum();
    let rounding: f64 = u
        .iter()
        .zip(&y_values)
        .map(|(a, b)| (a * b).abs())
        .sum::<f64>()
        * VJP_ROUNDING
        * f64::EPSILON
        / VJP_STEP;
    let allowed = check.tolerance * fd_magnitude.max(vjp_magnitude).max(1.0) + rounding;
    assert!(
        (fd_dot - vjp_dot).abs() <= allowed,
        "{name}: ⟨vjp(u), v⟩ = {vjp_dot:e} but finite differences give ⟨u, J·v⟩ = {fd_dot:e} \
         (difference {:e}, allowed {allowed:e}) at {inputs:?}",
        (fd_dot - vjp_dot).abs()
    );
    Ok(())
}

/// Evaluates every node of `graph` one by one in creation order, each into a fresh tensor
/// (no plan, no buffer reuse): the reference plans are checked against. Inputs missing from
/// `inputs` are an error.
pub fn eval_naive(graph: &Graph, inputs: &HashMap<NodeId, Tensor>) -> Result<Vec<Tensor>> {
    let mut values: Vec<Tensor> = Vec::with_capacity(graph.len());
    for index in 0..graph.len() {
        let id = NodeId::from_index(index);
        let value = match graph.kind(id)? {
            NodeKind::Input => {
                inputs
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| crate::GraphError::MissingInput {
                        node: id,
                        name: graph.name_of(id).unwrap_or_default(),
                    })?
            }
            NodeKind::Param { .. } | NodeKind::Const { .. } => graph.value(id)?,
            NodeKind::Op { op, inputs } => {
                let args: Vec<&Tensor> = inputs.iter().map(|i| &values[i.index()]).collect();
                let mut out = Tensor::default();
                op.forward(&args, &mut out)?;
                out
            }
        };
        values.push(value);
    }
    Ok(values)
}

/// Leaf shapes that broadcast together, for random tensor DAGs.
pub fn broadcast_leaf_shapes() -> Vec<Shape> {
    vec![
        Shape::scalar(),
        Shape::from([3]),
        Shape::from([2, 1]),
        Shape::from([2, 3]),
    ]
}

/// A random DAG configuration: scalar `f64` graphs (the scalar tape) or broadcasting tensor
/// graphs of either dtype (the tensor program), 1..`max_nodes` op nodes, small windows so
/// values stay live for varying spans.
pub fn dag_config(max_nodes: usize) -> impl Strategy<Value = RandomDagConfig> {
    (
        1..max_nodes,
        1usize..6,
        1usize..12,
        1usize..5,
        any::<bool>(),
        prop_oneof![Just(DType::F32), Just(DType::F64)],
        any::<u64>(),
    )
        .prop_map(
            |(nodes, leaves, window, summed, scalar, dtype, seed)| RandomDagConfig {
                nodes,
                leaves,
                window,
                outputs_summed: summed,
                leaf_shapes: if scalar {
                    vec![Shape::scalar()]
                } else {
                    broadcast_leaf_shapes()
                },
                dtype: if scalar { DType::F64 } else { dtype },
                seed,
            },
        )
}

/// Builds a random DAG from a configuration, with its leaf values keyed by node.
pub fn build_dag(graph: &Graph, config: &RandomDagConfig) -> (RandomDag, HashMap<NodeId, Tensor>) {
    let dag = random_dag(graph, config).unwrap();
    let inputs = dag
        .leaves
        .iter()
        .copied()
        .zip(dag.leaf_values.iter().cloned())
        .collect();
    (dag, inputs)
}

/// The cotangents `op`'s rule gives at `inputs` (as `f64` parameters) for the cotangent
/// `y_bar`, evaluated through a plan: for pinning values at kinks and ties.
///
/// # Errors
/// A graph error from building or running the nodes.
pub fn eval_vjp<O: Op + Clone>(
    op: &O,
    inputs: &[impl VjpOperand],
    y_bar: impl VjpOperand,
) -> Result<Vec<Option<Vec<f64>>>> {
    let g = Graph::new();
    let operands = inputs
        .iter()
        .enumerate()
        .map(|(i, value)| Ok(g.param(&format!("x{i}"), value.to_operand())?.id()))
        .collect::<Result<Vec<NodeId>>>()?;
    let y = g.apply(op.clone(), operands.iter().copied())?.id();
    let y_bar = g.constant(y_bar.to_operand());
    let grads = op.vjp(&g, &operands, y, y_bar.id())?;
    let mut plan = g.compile(grads.0.iter().flatten().copied())?;
    plan.run(&g)?;
    grads
        .0
        .iter()
        .map(|grad| grad.map(|id| Ok(plan.output(id)?.to_f64_vec())).transpose())
        .collect()
}

/// An `f64` tensor of `shape` with elements uniform in `low..high`.
pub fn tensor_in(shape: impl Into<Shape>, low: f64, high: f64) -> impl Strategy<Value = Tensor> {
    let shape: Shape = shape.into();
    proptest::collection::vec(low..high, shape.numel())
        .prop_map(move |values| Tensor::from_f64s(&values, shape.clone(), DType::F64).unwrap())
}

/// An `f64` tensor of one of `shapes` (drawn uniformly) with elements uniform in `low..high`.
pub fn tensor_of_shapes(shapes: Vec<Shape>, low: f64, high: f64) -> impl Strategy<Value = Tensor> {
    proptest::sample::select(shapes).prop_flat_map(move |shape| tensor_in(shape, low, high))
}

/// Pairs of operand shapes covering NumPy broadcasting: equal, a trailing vector, a column, a
/// scalar on either side, and two scalars.
pub fn broadcast_shape_pairs() -> Vec<(Shape, Shape)> {
    vec![
        (Shape::from([2, 3]), Shape::from([2, 3])),
        (Shape::from([2, 3]), Shape::from([3])),
        (Shape::from([2, 3]), Shape::from([2, 1])),
        (Shape::from([2, 1]), Shape::from([3])),
        (Shape::scalar(), Shape::from([2, 3])),
        (Shape::from([2, 3]), Shape::scalar()),
        (Shape::scalar(), Shape::scalar()),
    ]
}

/// Two `f64` operands of broadcasting shapes ([`broadcast_shape_pairs`]), elements of `a` in
/// `a_range` and of `b` in `b_range`.
pub fn broadcast_operands(
    a_range: std::ops::Range<f64>,
    b_range: std::ops::Range<f64>,
) -> impl Strategy<Value = (Tensor, Tensor)> {
    proptest::sample::select(broadcast_shape_pairs()).prop_flat_map(move |(a, b)| {
        (
            tensor_in(a, a_range.start, a_range.end),
            tensor_in(b, b_range.start, b_range.end),
        )
    })
}

/// The number of nodes of `graph` whose op is named `name`.
pub fn count_ops(graph: &Graph, name: &str) -> usize {
    (0..graph.len())
        .filter(|&i| {
            matches!(graph.kind(NodeId::from_index(i)), Ok(NodeKind::Op { op, .. }) if op.name() == name)
        })
        .count()
}
