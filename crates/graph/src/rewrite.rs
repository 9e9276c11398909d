//! Graph rewrites: replacing an operand (with the cycle check), and folding the algebraic
//! identities that derivative construction produces.

use adnet_tensor::Storage;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::graph::{GraphData, NodeKind};
use crate::ops::{Add, Div, Mul, Sub};
use smallvec::SmallVec;

use crate::graph::Node;
use crate::{Graph, GraphError, IntoNode, NodeId, Result, TensorSpec};

/// The result of [`Graph::fold_identities`]: which node now stands for which.
#[derive(Debug, Clone)]
pub struct Folded {
    first: usize,
    /// For each node from `first` on, the node that replaces it (itself when kept).
    replacement: Vec<NodeId>,
}

impl Folded {
    /// The node that stands for `node` after folding (`node` itself when it was kept).
    pub fn resolve(&self, node: NodeId) -> NodeId {
        match node.index().checked_sub(self.first) {
            Some(k) if k < self.replacement.len() => self.replacement[k],
            _ => node,
        }
    }

    /// How many nodes were folded away.
    pub fn folded(&self) -> usize {
        self.replacement
            .iter()
            .enumerate()
            .filter(|(k, r)| r.index() != self.first + k)
            .count()
    }
}

/// The value every element of a constant holds, when they all hold the same one.
fn fill(data: &GraphData, node: NodeId) -> Option<f64> {
    let NodeKind::Const { slot } = data.dag[NodeIndex::new(node.index())].kind else {
        return None;
    };
    match data.leaf_values[slot].storage() {
        Storage::F32(v) => {
            let first = *v.first()?;
            v.iter().all(|&e| e == first).then_some(first as f64)
        }
        Storage::F64(v) => {
            let first = *v.first()?;
            v.iter().all(|&e| e == first).then_some(first)
        }
    }
}

impl Graph {
    /// Replaces operand `position` of an op node with another node, as graph rewrites do.
    ///
    /// # Errors
    /// [`GraphError::WrongKind`] when `node` is a leaf, [`GraphError::Arity`] when it has no
    /// such operand, the op's own shape error when the new operand does not fit, and
    /// [`GraphError::Cycle`] when `new_operand` depends on `node`. The graph is unchanged on
    /// error.
    pub fn replace_operand(
        &self,
        node: impl IntoNode,
        position: usize,
        new_operand: impl IntoNode,
    ) -> Result<()> {
        let id = node.node_in(self)?;
        let new = new_operand.node_in(self)?;
        let mut data = self.data_mut();
        let (op, mut inputs) = match &data.node(id)?.kind {
            NodeKind::Op { op, inputs } => (op.clone(), inputs.clone()),
            other => {
                return Err(GraphError::WrongKind {
                    node: id,
                    expected: "an op",
                    actual: other.describe(),
                })
            }
        };
        if position >= inputs.len() {
            return Err(GraphError::Arity {
                op: op.name().to_string(),
                expected: inputs.len(),
                actual: position + 1,
            });
        }
        // while every edge runs from an older node to a newer one, an older operand cannot
        // close a cycle; otherwise search for a path from the node to its new operand
        let older = new.index() < id.index();
        let may_cycle = !older || data.backward_edges;
        if new == id
            || (may_cycle
                && petgraph::algo::has_path_connecting(
                    &data.dag,
                    id.petgraph(),
                    new.petgraph(),
                    None,
                ))
        {
            return Err(GraphError::Cycle { from: new, to: id });
        }
        inputs[position] = new;
        let spec = {
            let specs = inputs
                .iter()
                .map(|&i| data.node(i).map(|n| &n.spec))
                .collect::<Result<SmallVec<[&TensorSpec; 4]>>>()?;
            op.infer(&specs)?
        };
        if spec != data.node(id)?.spec {
            return Err(GraphError::ShapeMismatch {
                op: op.name().to_string(),
                lhs: data.node(id)?.spec.shape.clone(),
                rhs: spec.shape,
            });
        }
        let old_edge = data
            .dag
            .edges_directed(id.petgraph(), Direction::Incoming)
            .find(|e| *e.weight() == position as u32)
            .map(|e| e.id())
            .expect("every operand has its edge");
        data.dag.remove_edge(old_edge);
        data.dag
            .add_edge(new.petgraph(), id.petgraph(), position as u32);
        data.backward_edges |= !older;
        if let Some(Node {
            kind: NodeKind::Op { inputs: stored, .. },
            ..
        }) = data.dag.node_weight_mut(id.petgraph())
        {
            *stored = inputs;
        }
        Ok(())
    }

    /// Folds `x·1`, `1·x`, `x/1`, `x+0`, `0+x` and `x−0` into `x` among the nodes created
    /// from position `first` on (where the constant does not change the shape), and rewires
    /// their users, in one pass. Folded nodes stay in the graph, unread, and `compile` skips
    /// them. Derivative construction calls this on the nodes it just built.
    ///
    /// # Cost
    /// One pass over the new nodes; no allocation per node beyond the replacement table.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// let g = Graph::new();
    /// let x = g.scalar_input("x")?;
    /// let first = g.len();
    /// let y = (x * 1.0 + 0.0).sin();
    /// let folded = g.fold_identities(first);
    /// assert_eq!(g.operands(y)?[0], x.id()); // sin now reads x directly
    /// assert_eq!(folded.folded(), 2);
    /// # Ok::<(), adnet_graph::GraphError>(())
    /// ```
    pub fn fold_identities(&self, first: usize) -> Folded {
        let mut data = self.data_mut();
        let len = data.dag.node_count();
        let first = first.min(len);
        let mut replacement: Vec<NodeId> = (first..len).map(NodeId::from_index).collect();
        let resolve = |replacement: &[NodeId], n: NodeId| match n.index().checked_sub(first) {
            Some(k) => replacement[k],
            None => n,
        };
        for index in first..len {
            let NodeKind::Op { inputs, .. } = &data.dag[NodeIndex::new(index)].kind else {
                continue;
            };
            let moved: Vec<(usize, NodeId)> = inputs
                .iter()
                .enumerate()
                .filter_map(|(position, &input)| {
                    let target = resolve(&replacement, input);
                    (target != input).then_some((position, target))
                })
                .collect();
            for (position, target) in moved {
                // the target is older than the input it replaces, hence than this node: the
                // graph stays acyclic and creation order stays a topological order
                let edge = data
                    .dag
                    .edges_directed(NodeIndex::new(index), Direction::Incoming)
                    .find(|e| *e.weight() == position as u32)
                    .map(|e| e.id())
                    .expect("every operand has its edge");
                data.dag.remove_edge(edge);
                data.dag.add_edge(
                    NodeIndex::new(target.index()),
                    NodeIndex::new(index),
                    position as u32,
                );
                if let NodeKind::Op { inputs, .. } = &mut data.dag[NodeIndex::new(index)].kind {
                    inputs[position] = target;
                }
            }
            let node = &data.dag[NodeIndex::new(index)];
            let NodeKind::Op { op, inputs } = &node.kind else {
                continue;
            };
            let [a, b] = inputs.as_slice() else {
                continue;
            };
            let (a, b) = (*a, *b);
            let same = |n: NodeId| data.dag[NodeIndex::new(n.index())].spec == node.spec;
            let any = op.as_any();
            let is = |n: NodeId, v: f64| fill(&data, n) == Some(v);
            let kept = if any.is::<Mul>() && is(a, 1.0) && same(b) {
                Some(b)
            } else if (any.is::<Mul>() || any.is::<Div>()) && is(b, 1.0) && same(a) {
                Some(a)
            } else if any.is::<Add>() && is(a, 0.0) && same(b) {
                Some(b)
            } else if (any.is::<Add>() || any.is::<Sub>()) && is(b, 0.0) && same(a) {
                Some(a)
            } else {
                None
            };
            if let Some(kept) = kept {
                replacement[index - first] = kept;
            }
        }
        Folded { first, replacement }
    }
}
