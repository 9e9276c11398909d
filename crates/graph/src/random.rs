//! Seeded random DAGs, for property tests and benchmarks (the W2 workload).

use adnet_tensor::{DType, Shape, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Graph, NodeId, Result};

/// A random graph built by [`random_dag`].
#[derive(Debug, Clone)]
pub struct RandomDag {
    /// The leaf inputs, named `x0`, `x1`, ...
    pub leaves: Vec<NodeId>,
    /// A value for each leaf, drawn uniformly from `[-1, 1]`.
    pub leaf_values: Vec<Tensor>,
    /// Every op node, in creation order.
    pub nodes: Vec<NodeId>,
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
        nodes,
        output: output.id(),
    })
}
