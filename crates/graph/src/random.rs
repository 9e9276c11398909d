//! Seeded random DAGs, for property tests and benchmarks (the W2 workload).

use adnet_tensor::{DType, Shape, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Graph, GraphError, NodeId, NodeKind, Result};

/// A random graph built by [`random_dag`].
#[derive(Debug, Clone)]
pub struct RandomDag {
    /// The leaf inputs, named `x0`, `x1`, ...
    pub leaves: Vec<NodeId>,
    /// A value for each leaf, drawn uniformly from `[-1, 1]`.
    pub leaf_values: Vec<Tensor>,
    /// Every op node, in creation order.
    pub nodes: Vec<NodeId>,
    /// The op nodes the output sums (the last `outputs_summed` of `nodes`).
    pub summed: Vec<NodeId>,
    /// The sum of the last `outputs_summed` op nodes (summed to a scalar).
    pub output: NodeId,
}

/// How [`random_dag`] draws a graph.
#[derive(Debug, Clone)]
pub struct RandomDagConfig {
    /// Op nodes to create after the leaves.
    pub nodes: usize,
    /// Leaf inputs.
    pub leaves: usize,
    /// Operands are drawn uniformly among this many previous nodes.
    pub window: usize,
    /// How many of the last op nodes the output sums.
    pub outputs_summed: usize,
    /// Shapes the leaves take, drawn uniformly (they must broadcast together); `[[]]` gives a
    /// scalar graph.
    pub leaf_shapes: Vec<Shape>,
    /// The dtype of every value.
    pub dtype: DType,
    /// The seed.
    pub seed: u64,
}

impl RandomDagConfig {
    /// The W2 workload: `nodes` scalar `f64` nodes after 16 leaves, operands among the
    /// previous 64 nodes, ops drawn from add, sub, mul, tanh, sin and sigmoid; the output is
    /// the sum of the last 16 nodes.
    pub fn w2(nodes: usize, seed: u64) -> Self {
        RandomDagConfig {
            nodes,
            leaves: 16,
            window: 64,
            outputs_summed: 16,
            leaf_shapes: vec![Shape::scalar()],
            dtype: DType::F64,
            seed,
        }
    }
}

/// Builds a random DAG in `graph`: the leaves, then each op node picks an op uniformly from
/// {add, sub, mul, tanh, sin, sigmoid} and its one or two operands uniformly among the
/// previous `window` nodes; finally the output sums the last `outputs_summed` op nodes.
///
/// # Errors
/// A name `x0`, `x1`, ... already used in `graph`.
///
/// # Examples
/// ```
/// use adnet_graph::{random::{random_dag, RandomDagConfig}, Graph};
/// let g = Graph::new();
/// let dag = random_dag(&g, &RandomDagConfig::w2(1000, 7))?;
/// assert_eq!(dag.nodes.len(), 1000);
/// assert_eq!(g.len(), 16 + 1000 + 15);
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
pub fn random_dag(graph: &Graph, config: &RandomDagConfig) -> Result<RandomDag> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut leaves = Vec::with_capacity(config.leaves);
    let mut leaf_values = Vec::with_capacity(config.leaves);
    let mut pool: Vec<NodeId> = Vec::with_capacity(config.leaves + config.nodes);
    for k in 0..config.leaves {
        let shape = config.leaf_shapes[rng.random_range(0..config.leaf_shapes.len())].clone();
        let leaf = graph.input(&format!("x{k}"), shape.clone(), config.dtype)?;
        leaf_values.push(Tensor::uniform(shape, -1.0, 1.0, config.dtype, &mut rng)?);
        leaves.push(leaf.id());
        pool.push(leaf.id());
    }
    let mut nodes = Vec::with_capacity(config.nodes);
    for _ in 0..config.nodes {
        let lo = pool.len().saturating_sub(config.window);
        let pick = |rng: &mut StdRng| pool[rng.random_range(lo..pool.len())];
        let a = pick(&mut rng);
        let node = match rng.random_range(0..6) {
            0 => graph.add(a, pick(&mut rng))?,
            1 => graph.sub(a, pick(&mut rng))?,
            2 => graph.mul(a, pick(&mut rng))?,
            3 => graph.tanh(a)?,
            4 => graph.sin(a)?,
            _ => graph.sigmoid(a)?,
        };
        nodes.push(node.id());
        pool.push(node.id());
    }
    let summed = &nodes[nodes.len().saturating_sub(config.outputs_summed)..];
    let mut output = match summed.first() {
        Some(&first) => graph.var(first)?,
        None => graph.var(leaves[0])?,
    };
    for &node in summed.iter().skip(1) {
        output = graph.add(output, node)?;
    }
    if !output.shape().is_scalar() {
        output = output.sum_all();
    }
    Ok(RandomDag {
        leaves,
        leaf_values,
        summed: summed.to_vec(),
        nodes,
        output: output.id(),
    })
}

/// A scalar [`random_dag`] as a hand-written flat tape (struct of arrays: op codes, operand
/// indices, values, adjoints), run in one forward and one reverse pass: the limit reference the
/// W2 benchmarks measure plans against. It evaluates every node, needed or not.
#[derive(Debug, Clone)]
pub struct FlatTape {
    codes: Vec<u8>,
    lhs: Vec<u32>,
    rhs: Vec<u32>,
    values: Vec<f64>,
    adjoints: Vec<f64>,
    leaves: usize,
    summed: Vec<u32>,
}

/// The op names a [`FlatTape`] knows, in code order.
const TAPE_OPS: [&str; 6] = ["add", "sub", "mul", "tanh", "sin", "sigmoid"];

impl FlatTape {
    /// The tape of a scalar DAG built by [`random_dag`] in `g` (leaves first, then op nodes in
    /// creation order, as `random_dag` numbers them).
    ///
    /// # Errors
    /// [`GraphError::InvalidArgument`] for a node that is not one of the six W2 ops or a leaf
    /// value that is not a scalar.
    pub fn from_dag(g: &Graph, dag: &RandomDag) -> Result<FlatTape> {
        let invalid = |reason: String| GraphError::InvalidArgument {
            op: "FlatTape".to_string(),
            reason,
        };
        let mut tape = FlatTape {
            codes: Vec::with_capacity(dag.nodes.len()),
            lhs: Vec::with_capacity(dag.nodes.len()),
            rhs: Vec::with_capacity(dag.nodes.len()),
            values: Vec::with_capacity(dag.leaves.len() + dag.nodes.len()),
            adjoints: Vec::new(),
            leaves: dag.leaves.len(),
            summed: dag.summed.iter().map(|n| n.index() as u32).collect(),
        };
        for value in &dag.leaf_values {
            tape.values.push(value.to_scalar()?);
        }
        for &node in &dag.nodes {
            let NodeKind::Op { op, inputs } = g.kind(node)? else {
                return Err(invalid(format!("{node} is not an op")));
            };
            let code = TAPE_OPS
                .iter()
                .position(|&name| name == op.name())
                .ok_or_else(|| invalid(format!("{node} is `{}`, not a W2 op", op.name())))?;
            tape.codes.push(code as u8);
            tape.lhs.push(inputs[0].index() as u32);
            tape.rhs.push(inputs.get(1).map_or(0, |i| i.index() as u32));
            tape.values.push(0.0);
        }
        tape.adjoints = vec![0.0; tape.values.len()];
        Ok(tape)
    }

    /// Bytes held by the tape's arrays.
    pub fn memory_bytes(&self) -> usize {
        self.codes.len()
            + 4 * (self.lhs.len() + self.rhs.len() + self.summed.len())
            + 8 * (self.values.len() + self.adjoints.len())
    }

    /// One forward pass; returns the output (the sum of the summed nodes).
    #[inline(never)]
    pub fn forward(&mut self) -> f64 {
        let (v, n) = (&mut self.values, self.leaves);
        for k in 0..self.codes.len() {
            let (a, b) = (v[self.lhs[k] as usize], v[self.rhs[k] as usize]);
            v[n + k] = match self.codes[k] {
                0 => a + b,
                1 => a - b,
                2 => a * b,
                3 => a.tanh(),
                4 => a.sin(),
                _ => 1.0 / (1.0 + (-a).exp()),
            };
        }
        self.summed.iter().map(|&o| v[o as usize]).sum()
    }

    /// One forward and one reverse pass; returns the output, and leaves the gradient with
    /// respect to the leaves in [`FlatTape::gradient`].
    #[inline(never)]
    pub fn value_and_grad(&mut self) -> f64 {
        let value = self.forward();
        let (v, n) = (&self.values, self.leaves);
        let adj = &mut self.adjoints;
        adj.fill(0.0);
        for &o in &self.summed {
            adj[o as usize] += 1.0;
        }
        for k in (0..self.codes.len()).rev() {
            let (l, r, bar) = (self.lhs[k] as usize, self.rhs[k] as usize, adj[n + k]);
            if bar == 0.0 {
                continue;
            }
            let y = v[n + k];
            match self.codes[k] {
                0 => {
                    adj[l] += bar;
                    adj[r] += bar;
                }
                1 => {
                    adj[l] += bar;
                    adj[r] -= bar;
                }
                2 => {
                    adj[l] += bar * v[r];
                    adj[r] += bar * v[l];
                }
                3 => adj[l] += bar * (1.0 - y * y),
                4 => adj[l] += bar * v[l].cos(),
                _ => adj[l] += bar * y * (1.0 - y),
            }
        }
        value
    }

    /// The gradient of the output with respect to each leaf, after [`FlatTape::value_and_grad`].
    pub fn gradient(&self) -> &[f64] {
        &self.adjoints[..self.leaves]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_tape_agrees_with_a_compiled_plan() -> Result<()> {
        let g = Graph::new();
        let dag = random_dag(&g, &RandomDagConfig::w2(3_000, 11))?;
        let mut plan = g.compile([dag.output])?;
        for (leaf, value) in dag.leaves.iter().zip(&dag.leaf_values) {
            plan.set_input(*leaf, value)?;
        }
        plan.run(&g)?;
        let mut tape = FlatTape::from_dag(&g, &dag)?;
        let expected = plan.scalar(dag.output)?;
        // the tape's sigmoid is the textbook 1/(1+e^-x), the plan's the two-branch stable form
        assert!((tape.forward() - expected).abs() <= 1e-12 * expected.abs().max(1.0));
        assert_eq!(tape.value_and_grad(), tape.forward());
        assert_eq!(tape.gradient().len(), 16);
        assert!(tape.memory_bytes() > 3_000 * 25);
        Ok(())
    }
}
