//! Expanded plans against the tensor program of the same graph.

use adnet_tensor::testing::close;
use adnet_tensor::{DType, Shape, Tensor};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{MAX_NODE_ELEMENTS, MAX_PRODUCT};
use crate::ops::{Axes, ScalarFunction};
use crate::{Graph, GraphError, NodeId, Plan, Result};

/// A random graph of small `f64` tensors, built by [`SmallGraph::build`].
struct SmallGraph {
    /// Every op node kept (at most [`MAX_NODE_ELEMENTS`] elements), in creation order.
    ops: Vec<NodeId>,
    inputs: Vec<NodeId>,
    params: Vec<NodeId>,
    rng: StdRng,
    /// Integer leaves and only ops that stay exact on integers (no transcendental functions,
    /// no division, no mean), with values clamped to ±1e6: every sum is then exact, whatever
    /// its order, and the two lowerings must agree bit for bit.
    exact: bool,
}

impl SmallGraph {
    /// Builds `nodes` random ops over three inputs, two parameters and a constant of random
    /// shapes (rank 0 to 3, dimensions 1 to 4): every op the expansion takes, with NumPy
    /// broadcasting, reductions over random axes, products with random transpose flags and
    /// broadcast batches, and every shape op.
    fn build(g: &Graph, seed: u64, nodes: usize, exact: bool) -> Result<SmallGraph> {
        let mut s = SmallGraph {
            ops: Vec::new(),
            inputs: Vec::new(),
            params: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            exact,
        };
        let mut pool = Vec::new();
        for k in 0..3 {
            let shape = s.shape();
            let x = g.input(&format!("x{k}"), shape, DType::F64)?.id();
            s.inputs.push(x);
            pool.push(x);
        }
        for k in 0..2 {
            let shape = s.shape();
            let value = s.value(&shape);
            let w = g.param(&format!("w{k}"), value)?.id();
            s.params.push(w);
            pool.push(w);
        }
        let shape = s.shape();
        let value = s.value(&shape);
        pool.push(g.constant(value).id());
        for _ in 0..nodes {
            let Some(node) = s.op(g, &pool)? else {
                continue;
            };
            if g.spec(node)?.shape.numel() > MAX_NODE_ELEMENTS {
                continue; // left in the graph, but nothing reads it
            }
            s.ops.push(node);
            pool.push(node);
            if !exact && s.rng.random_bool(0.3) {
                // keep values bounded, so rounding differences stay rounding differences
                let squashed = g.tanh(node)?.id();
                s.ops.push(squashed);
                pool.push(squashed);
            }
        }
        Ok(s)
    }

    fn shape(&mut self) -> Shape {
        let rank = self.rng.random_range(0..=3);
        let dims: Vec<usize> = (0..rank).map(|_| self.rng.random_range(1..=4)).collect();
        Shape::new(&dims)
    }

    fn value(&mut self, shape: &Shape) -> Tensor {
        let values: Vec<f64> = (0..shape.numel())
            .map(|_| {
                if self.exact {
                    f64::from(self.rng.random_range(-4i32..=4))
                } else {
                    self.rng.random_range(-1.5..1.5)
                }
            })
            .collect();
        Tensor::from_f64s(&values, shape.clone(), DType::F64).expect("length matches")
    }

    /// One random op over nodes of `pool`; `None` when the drawn operands do not fit it.
    fn op(&mut self, g: &Graph, pool: &[NodeId]) -> Result<Option<NodeId>> {
        let pick = |rng: &mut StdRng| pool[rng.random_range(0..pool.len())];
        let (a, b, c) = (
            pick(&mut self.rng),
            pick(&mut self.rng),
            pick(&mut self.rng),
        );
        let shape = g.spec(a)?.shape;
        let dims = shape.dims().to_vec();
        let rank = dims.len();
        let exact = self.exact;
        let rng = &mut self.rng;
        let node = match rng.random_range(0..14) {
            0 if exact => match rng.random_range(0..4) {
                0 => g.neg(a),
                1 => g.abs(a),
                2 => g.relu(a),
                _ => g.square(a),
            },
            0 => match rng.random_range(0..8) {
                0 => g.sigmoid(a),
                1 => g.sin(a),
                2 => g.atan(a),
                3 => g.leaky_relu(a, 0.1),
                4 => g.elu(a, 0.7),
                5 => g.ln(a), // NaN for negative elements: anomaly detection has work
                6 => g.map(a, &ScalarFunction::new("cube", |x: f64| x * x * x)),
                _ => g.square(a),
            },
            1 => match rng.random_range(0..5) {
                0 => g.add(a, b),
                1 => g.sub(a, b),
                2 => g.mul(a, b),
                3 => g.maximum(a, b),
                _ => g.minimum(a, b),
            },
            2 => g.gt(a, b).and_then(|mask| g.where_(mask, b, c)),
            3 => {
                let axes = if rng.random_bool(0.3) {
                    Axes::All
                } else {
                    let mut axes = Vec::new();
                    for axis in 0..rank as isize {
                        match rng.random_range(0..3) {
                            0 => axes.push(axis),
                            1 => axes.push(axis - rank as isize), // counted from the end
                            _ => {}
                        }
                    }
                    Axes::List(axes)
                };
                let keepdims = rng.random_bool(0.5);
                match rng.random_range(0..if exact { 3 } else { 4 }) {
                    0 => g.sum(a, axes, keepdims),
                    1 => g.max(a, axes, keepdims),
                    2 => g.min(a, axes, keepdims),
                    _ => g.mean(a, axes, keepdims),
                }
            }
            4 => {
                let drop = rng.random_range(0..=rank);
                let target: Vec<usize> = dims[drop..]
                    .iter()
                    .map(|&d| if rng.random_bool(0.4) { 1 } else { d })
                    .collect();
                g.sum_to(a, target)
            }
            5 => {
                let mut target: Vec<usize> = dims
                    .iter()
                    .map(|&d| if d == 1 { rng.random_range(1..=3) } else { d })
                    .collect();
                if rng.random_bool(0.5) {
                    target.insert(0, rng.random_range(1..=3));
                }
                g.broadcast_to(a, target)
            }
            6 => {
                let mut target = dims.clone();
                target.reverse();
                match rng.random_range(0..3) {
                    0 => g.reshape(a, [shape.numel()]),
                    1 => g.reshape(a, [1, shape.numel()]),
                    _ => g.reshape(a, target),
                }
            }
            7 if rank >= 2 && rng.random_bool(0.5) => g.transpose(a),
            7 => {
                let mut perm: Vec<usize> = (0..rank).collect();
                for i in (1..rank).rev() {
                    perm.swap(i, rng.random_range(0..=i));
                }
                g.permute(a, &perm)
            }
            8 if rank > 0 => {
                let axis = rng.random_range(0..rank);
                let start = rng.random_range(0..dims[axis]);
                let end = rng.random_range(start + 1..=dims[axis]);
                g.slice(a, axis as isize - rank as isize, start, end)
            }
            9 if rank > 0 => {
                let axis = rng.random_range(0..rank) as isize;
                g.concat([a, b, a], axis)
                    .or_else(|_| g.concat([a, a], axis))
            }
            10 if rank > 0 => {
                let axis = rng.random_range(0..rank) as isize;
                g.pad(a, axis, rng.random_range(0..=2), rng.random_range(0..=2))
            }
            11 | 12 => return self.matmul(g, a, b),
            13 if exact => g.mul(a, g.scalar(3.0)),
            13 => g.square(b).and_then(|b2| g.div(a, b2 + 1.0)),
            _ => return Ok(None),
        };
        let Ok(node) = node else {
            return Ok(None); // shapes that do not broadcast: the graph is unchanged
        };
        Ok(Some(if exact && rng.random_bool(0.5) {
            // clamp so products of products stay far below 2^53
            let limit = g.scalar(1e6);
            let low = g.scalar(-1e6);
            g.maximum(g.minimum(node, limit)?, low)?.id()
        } else {
            node.id()
        }))
    }

    /// `op(a) @ op(b)` with random transpose flags, `b` a fresh parameter (sometimes batched)
    /// unless the drawn `b` already fits; `a` is made a matrix first when it is not one.
    /// `None` for a product past the expansion's limits.
    fn matmul(&mut self, g: &Graph, a: NodeId, b: NodeId) -> Result<Option<NodeId>> {
        let (ta, tb) = (self.rng.random_bool(0.5), self.rng.random_bool(0.5));
        let mut a = a;
        let mut dims = g.spec(a)?.shape.dims().to_vec();
        if dims.len() < 2 {
            let n = dims.iter().product::<usize>();
            dims = if self.rng.random_bool(0.5) {
                vec![1, n]
            } else {
                vec![n, 1]
            };
            a = g.reshape(a, dims.clone())?.id();
        }
        let k = if ta {
            dims[dims.len() - 2]
        } else {
            dims[dims.len() - 1]
        };
        let fits = |product: NodeId| -> Result<bool> {
            let numel = g.spec(product)?.shape.numel();
            Ok(numel <= MAX_NODE_ELEMENTS && numel * k <= MAX_PRODUCT)
        };
        if let Ok(product) = g.matmul_t(a, b, ta, tb) {
            if fits(product.id())? {
                return Ok(Some(product.id()));
            }
        }
        let n = self.rng.random_range(1..=3);
        let mut b_dims = if tb { vec![n, k] } else { vec![k, n] };
        if dims.len() > 2 && self.rng.random_bool(0.5) {
            // a batch that broadcasts against a's
            let batch = dims[dims.len() - 3];
            b_dims.insert(0, if self.rng.random_bool(0.5) { 1 } else { batch });
        }
        let b_shape = Shape::new(&b_dims);
        if b_shape.numel() > MAX_NODE_ELEMENTS {
            return Ok(None);
        }
        let value = self.value(&b_shape);
        let name = format!("w{}", self.params.len());
        let b = g.param(&name, value)?.id();
        self.params.push(b);
        let product = g.matmul_t(a, b, ta, tb)?.id();
        Ok(fits(product)?.then_some(product))
    }

    /// New values for every input.
    fn set_inputs(&mut self, g: &Graph, plans: &mut [&mut Plan]) -> Result<()> {
        for &x in &self.inputs.clone() {
            let value = self.value(&g.spec(x)?.shape);
            for plan in plans.iter_mut() {
                plan.set_input(x, &value)?;
            }
        }
        Ok(())
    }

    /// New values for every parameter, in the graph.
    fn set_params(&mut self, g: &Graph) -> Result<()> {
        for &w in &self.params.clone() {
            let value = self.value(&g.spec(w)?.shape);
            g.set_param(w, &value)?;
        }
        Ok(())
    }
}

/// Asserts the two plans' outputs agree: bit for bit when `tolerance` is 0 (then −0 and +0
/// count as equal, as do any two NaNs).
fn assert_outputs_agree(expanded: &Plan, tensor: &Plan, tolerance: f64) {
    for k in 0..expanded.outputs().len() {
        let (e, t) = (expanded.output_at(k), tensor.output_at(k));
        assert_eq!(e.shape(), t.shape(), "output {k}");
        assert_eq!(e.dtype(), t.dtype(), "output {k}");
        for (i, (a, b)) in e.to_f64_vec().into_iter().zip(t.to_f64_vec()).enumerate() {
            assert!(
                close(a, b, tolerance),
                "output {k} ({}) element {i}: expanded {a:e}, tensor program {b:e}",
                expanded.outputs()[k]
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random small-tensor graphs give the same outputs expanded as on the tensor program, for
    /// three runs with new inputs and then new parameters, with every op node an output and
    /// with a subset (different liveness, so different slot reuse). Integer graphs agree bit
    /// for bit; others to 1e-12, since sums of 8 or more contiguous elements are added in
    /// another order by the kernels. Anomaly detection stops at the same node.
    #[test]
    fn expanded_plan_matches_tensor_program(
        seed in any::<u64>(),
        nodes in 1usize..40,
        exact in any::<bool>(),
        subset_seed in any::<u64>(),
    ) {
        let g = Graph::new();
        let mut small = SmallGraph::build(&g, seed, nodes, exact).unwrap();
        let subset: Vec<NodeId> = small.ops.iter().copied()
            .filter(|n| (n.index() as u64).wrapping_mul(subset_seed | 1) % 3 == 0)
            .collect();
        let tolerance = if exact { 0.0 } else { 1e-12 };
        for outputs in [small.ops.clone(), subset] {
            prop_assume!(!outputs.is_empty());
            let mut expanded = g.compile_with(outputs.iter().copied(), true).unwrap();
            let mut tensor = g.compile_with(outputs.iter().copied(), false).unwrap();
            let all_scalar = g.topological_order(outputs.iter().copied()).unwrap()
                .iter()
                .all(|&n| g.spec(n).unwrap().shape.is_scalar());
            prop_assert!(expanded.stats().expanded || all_scalar, "{:?}", expanded.stats());
            prop_assert!(!tensor.stats().scalar || all_scalar);
            for run in 0..3 {
                small.set_inputs(&g, &mut [&mut expanded, &mut tensor]).unwrap();
                if run == 2 {
                    small.set_params(&g).unwrap();
                }
                expanded.run(&g).unwrap();
                tensor.run(&g).unwrap();
                assert_outputs_agree(&expanded, &tensor, tolerance);
            }
            expanded.detect_anomalies(true);
            tensor.detect_anomalies(true);
            match (expanded.run(&g), tensor.run(&g)) {
                (Ok(()), Ok(())) => assert_outputs_agree(&expanded, &tensor, tolerance),
                (Err(e), Err(t)) if exact => prop_assert_eq!(e, t),
                (
                    Err(GraphError::NonFinite { node: e, .. }),
                    Err(GraphError::NonFinite { node: t, .. }),
                ) => prop_assert_eq!(e, t),
                (e, t) => prop_assert!(false, "expanded {e:?}, tensor program {t:?}"),
            }
        }
    }
}

/// The W5 network (2-2-1, sigmoid, MSE over a batch of 4) with its gradient written out by
/// hand as graph nodes, the way `value_and_grad` builds it (`adnet-autodiff` cannot be used
/// here), compiled with the loss and every gradient as outputs.
fn xor_step(g: &Graph) -> Result<Vec<NodeId>> {
    let x = g.constant(Tensor::from_vec(
        vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
        [4, 2],
    )?);
    let t = g.constant(Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], [4, 1])?);
    let w1 = g.param("w1", Tensor::from_vec(vec![0.5, -0.3, 0.4, 0.6], [2, 2])?)?;
    let b1 = g.param("b1", Tensor::from_vec(vec![0.1, -0.2], [2])?)?;
    let w2 = g.param("w2", Tensor::from_vec(vec![0.7, -0.5], [2, 1])?)?;
    let b2 = g.param("b2", Tensor::from_vec(vec![0.05], [1])?)?;
    let h = (x.matmul(w1) + b1).sigmoid();
    let o = (h.matmul(w2) + b2).sigmoid();
    let e = o - t;
    let loss = e.square().mean_all();
    // backward
    let o_bar = e * 0.5; // d mean(e²) / de = 2e / 4
    let z2_bar = o_bar * o * (1.0 - o);
    let w2_bar = g.matmul_t(h, z2_bar, true, false)?;
    let b2_bar = g.sum_to(z2_bar, [1])?;
    let h_bar = g.matmul_t(z2_bar, w2, false, true)?;
    let z1_bar = h_bar * h * (1.0 - h);
    let w1_bar = g.matmul_t(x, z1_bar, true, false)?;
    let b1_bar = g.sum_to(z1_bar, [2])?;
    Ok([loss, w1_bar, b1_bar, w2_bar, b2_bar]
        .iter()
        .map(|v| v.id())
        .collect())
}

#[test]
fn xor_training_step_expands_and_matches_the_tensor_program() -> Result<()> {
    let g = Graph::new();
    let outputs = xor_step(&g)?;
    let mut expanded = g.compile(outputs.iter().copied())?;
    let mut tensor = g.compile_with(outputs.iter().copied(), false)?;
    let stats = expanded.stats();
    assert!(stats.expanded && stats.scalar, "{stats:?}");
    // the products' terms with the constant inputs are still computed (0·w is not folded:
    // it is NaN for an infinite w), but no instruction touches the constant `1 − ·` parts
    assert!(stats.instructions < 160, "{stats:?}");
    for _ in 0..3 {
        expanded.run(&g)?;
        tensor.run(&g)?;
        assert_outputs_agree(&expanded, &tensor, 0.0);
        // a plain SGD step, so the next run sees new parameters
        for (k, name) in ["w1", "b1", "w2", "b2"].iter().enumerate() {
            let node = g.node(name)?;
            let mut value = g.value(node)?;
            let grad = expanded.output_at(k + 1).to_f64_vec();
            let updated: Vec<f64> = value
                .to_f64_vec()
                .iter()
                .zip(&grad)
                .map(|(v, d)| v - 0.5 * d)
                .collect();
            value = Tensor::from_f64s(&updated, value.shape().clone(), DType::F64)?;
            g.set_param(node, &value)?;
        }
    }
    Ok(())
}

#[test]
fn ops_it_cannot_expand_keep_the_tensor_program() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [2, 3], DType::F64)?;
    let cases = [
        x.softmax(-1),                            // no expansion rule
        g.input("y", [2, 3], DType::F32)?.tanh(), // f32
        g.broadcast_to(x, [11, 2, 3])?,           // 66 elements
        g.argmax(x, -1, false)?,                  // no expansion rule
    ];
    for y in cases {
        let stats = g.compile([y])?.stats();
        assert!(!stats.expanded && !stats.scalar, "{y:?}: {stats:?}");
    }
    // a product of more than MAX_PRODUCT multiply-adds
    let a = g.input("a", [8, 8], DType::F64)?;
    let big = a.matmul(a);
    const { assert!(8 * 8 * 8 > MAX_PRODUCT) };
    assert!(!g.compile([big])?.stats().expanded);
    assert!(g.compile([x.tanh().sum_all()])?.stats().expanded);
    Ok(())
}

#[test]
fn constant_subgraphs_are_folded() -> Result<()> {
    let g = Graph::new();
    let c = g.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2])?);
    let x = g.input("x", [2, 2], DType::F64)?;
    // everything but the final multiply is known when compiling
    let k = g
        .transpose(g.sum(c.exp(), Axes::List(vec![1]), true)?)?
        .matmul(c);
    let y = x * k;
    let mut plan = g.compile([y])?;
    assert_eq!(plan.stats().instructions, 4, "{:?}", plan.stats());
    let value = Tensor::from_vec(vec![1.0, -1.0, 0.5, 2.0], [2, 2])?;
    plan.set_input(x, &value)?;
    plan.run(&g)?;
    let mut tensor = g.compile_with([y], false)?;
    tensor.set_input(x, &value)?;
    tensor.run(&g)?;
    assert_outputs_agree(&plan, &tensor, 0.0);
    Ok(())
}

#[test]
fn shape_ops_move_elements_without_instructions() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [2, 3], DType::F64)?;
    let moved = g.concat(
        [
            g.pad(g.slice(x, 1, 1, 3)?, 1, 1, 0)?,
            g.permute(g.reshape(x, [3, 2])?, &[1, 0])?,
        ],
        0,
    )?;
    let y = g.broadcast_to(g.transpose(moved)?, [2, 3, 4])?;
    let mut plan = g.compile([y])?;
    assert_eq!(plan.stats().instructions, 0);
    plan.set_input(
        x,
        &Tensor::from_vec((0..6).map(f64::from).collect(), [2, 3])?,
    )?;
    plan.run(&g)?;
    let expected = g.eval_tensor(
        y,
        &[(
            "x",
            &Tensor::from_vec((0..6).map(f64::from).collect(), [2, 3])?,
        )],
    );
    let mut tensor = g.compile_with([y], false)?;
    tensor.set_input(
        x,
        &Tensor::from_vec((0..6).map(f64::from).collect(), [2, 3])?,
    )?;
    tensor.run(&g)?;
    assert_eq!(plan.output(y)?, tensor.output(y)?);
    assert_eq!(plan.output(y)?, &expected?);
    Ok(())
}

#[test]
fn anomaly_detection_names_the_graph_node_not_an_element() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [2, 2], DType::F64)?;
    let w = g.param("w", Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2])?)?;
    let q = g.ln(x.matmul(w))?.named("q")?;
    let y = (q * 2.0).sum_all();
    let mut plan = g.compile([y])?;
    assert!(plan.stats().expanded);
    plan.detect_anomalies(true);
    plan.set_input(x, &Tensor::from_vec(vec![1.0, 1.0, -1.0, 0.5], [2, 2])?)?;
    let err = plan.run(&g).unwrap_err();
    let mut tensor = g.compile_with([y], false)?;
    tensor.detect_anomalies(true);
    tensor.set_input(x, &Tensor::from_vec(vec![1.0, 1.0, -1.0, 0.5], [2, 2])?)?;
    assert_eq!(Err(err.clone()), tensor.run(&g));
    let GraphError::NonFinite {
        node,
        value,
        operands,
        ..
    } = err
    else {
        panic!("expected NonFinite, got {err:?}")
    };
    // x·w = [[4, 6], [0.5, 0]]: ln(0) = −inf is the first non-finite element, of node q
    assert_eq!((node, value), (q.id(), f64::NEG_INFINITY));
    assert_eq!((operands[0].min, operands[0].max), (0.0, 6.0));
    // fine again with other inputs; and off, the infinity reaches the output
    plan.set_input(x, &Tensor::from_vec(vec![1.0, 1.0, 1.0, 0.5], [2, 2])?)?;
    plan.run(&g)?;
    plan.set_input(x, &Tensor::from_vec(vec![1.0, 1.0, -1.0, 0.5], [2, 2])?)?;
    plan.detect_anomalies(false);
    plan.run(&g)?;
    assert_eq!(plan.scalar(y)?, f64::NEG_INFINITY);
    Ok(())
}

#[test]
fn a_moved_non_finite_input_is_reported_at_the_first_node_holding_it() -> Result<()> {
    // the tensor program reports a reshape of a NaN input (inputs are not checked, op results
    // are), so the expanded plan must too, though the reshape runs no instruction
    let g = Graph::new();
    let x = g.input("x", [2, 2], DType::F64)?;
    let r = g.reshape(x, [4])?;
    let y = r.sum_all();
    for allow_expansion in [true, false] {
        let mut plan = g.compile_with([y], allow_expansion)?;
        assert_eq!(plan.stats().expanded, allow_expansion);
        plan.detect_anomalies(true);
        plan.set_input(x, &Tensor::from_vec(vec![1.0, f64::NAN, 0.0, 2.0], [2, 2])?)?;
        assert!(matches!(
            plan.run(&g),
            Err(GraphError::NonFinite { node, .. }) if node == r.id()
        ));
    }
    Ok(())
}

#[test]
fn leaf_and_repeated_outputs_and_unset_inputs() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [3], DType::F64)?;
    let w = g.param("w", Tensor::from_vec(vec![1.0, 2.0, 3.0], [3])?)?;
    let c = g.constant(Tensor::from_vec(vec![5.0, 6.0], [2])?);
    let y = x * w;
    let mut plan = g.compile([x, w, c, y, y])?;
    assert!(plan.stats().expanded);
    assert!(matches!(plan.run(&g), Err(GraphError::MissingInput { .. })));
    plan.set_input(x, &Tensor::from_vec(vec![3.0, 4.0, 5.0], [3])?)?;
    plan.run(&g)?;
    assert_eq!(plan.output(x)?.to_f64_vec(), vec![3.0, 4.0, 5.0]);
    assert_eq!(plan.output(w)?.to_f64_vec(), vec![1.0, 2.0, 3.0]);
    assert_eq!(plan.output(c)?.to_f64_vec(), vec![5.0, 6.0]);
    assert_eq!(plan.output_at(3).to_f64_vec(), vec![3.0, 8.0, 15.0]);
    assert_eq!(plan.output_at(4).to_f64_vec(), vec![3.0, 8.0, 15.0]);
    assert!(plan.set_input(x, &Tensor::zeros([2], DType::F64)).is_err());
    // a parameter changed in the graph is read by the next run
    g.set_param(w, &Tensor::from_vec(vec![-1.0, 0.0, 1.0], [3])?)?;
    plan.run(&g)?;
    assert_eq!(plan.output_at(3).to_f64_vec(), vec![-3.0, 0.0, 5.0]);
    Ok(())
}
