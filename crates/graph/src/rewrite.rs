//! Graph rewrites: folding the algebraic identities that derivative construction produces.

use adnet_tensor::Storage;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::graph::{GraphData, NodeKind};
use crate::ops::{Add, Div, Mul, Sub};
use crate::{Graph, NodeId};

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
