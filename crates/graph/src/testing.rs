//! Shared test support: a naive node-by-node evaluator to check plans against, and proptest
//! strategies for random DAGs.
//!
//! Enabled by the `testing` feature so that the other crates' tests use the same pieces.
#![allow(clippy::unwrap_used, clippy::panic)] // test support: a failed check must panic

use std::collections::HashMap;

use adnet_tensor::{DType, Shape, Tensor};
use proptest::prelude::*;

use crate::random::{random_dag, RandomDag, RandomDagConfig};
use crate::{Graph, NodeId, NodeKind, Result};

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
