//! Local simplification of the nodes a transformation just built, so compiled derivatives carry
//! no obviously dead work: `x·1`, `1·x`, `x/1`, `x+0`, `0+x` and `x−0` become `x` (when that
//! does not change the shape), and users are rewired to `x`. Nodes left unread are dropped by
//! `compile`, which schedules only what the outputs need.

use std::collections::HashMap;

use adnet_graph::ops::{Add, Div, Mul, Sub};
use adnet_graph::{Graph, NodeId, NodeKind};

use crate::Result;

pub(crate) struct Simplifier<'g> {
    graph: &'g Graph,
    replacement: HashMap<NodeId, NodeId>,
}

impl<'g> Simplifier<'g> {
    pub(crate) fn new(graph: &'g Graph) -> Self {
        Simplifier {
            graph,
            replacement: HashMap::new(),
        }
    }

    /// The node that stands for `node` after simplification.
    pub(crate) fn resolve(&self, node: NodeId) -> NodeId {
        self.replacement.get(&node).copied().unwrap_or(node)
    }

    /// Whether `node` is a constant whose every element is `value`.
    fn is_fill(&self, node: NodeId, value: f64) -> bool {
        self.graph.constant_fill(node) == Some(value)
    }

    /// Rewrites every node from index `first` on: operands are redirected to their
    /// replacements, then the node itself gets one when a rule applies.
    pub(crate) fn simplify_from(&mut self, first: usize) -> Result<()> {
        for index in first..self.graph.len() {
            let node = NodeId::from_index(index);
            let NodeKind::Op { op, inputs } = self.graph.kind(node)? else {
                continue;
            };
            for (position, &input) in inputs.iter().enumerate() {
                let target = self.resolve(input);
                if target != input {
                    // the target is older than `input`, hence than `node`: no cycle possible
                    self.graph.replace_operand(node, position, target)?;
                }
            }
            let inputs: Vec<NodeId> = inputs.iter().map(|&i| self.resolve(i)).collect();
            let spec = self.graph.spec(node)?;
            let same_spec = |n: NodeId| self.graph.spec(n).map(|s| s == spec).unwrap_or(false);
            let any = op.as_any();
            let keep = match *inputs.as_slice() {
                [a, b] if any.is::<Mul>() && self.is_fill(a, 1.0) && same_spec(b) => Some(b),
                [a, b] if any.is::<Mul>() && self.is_fill(b, 1.0) && same_spec(a) => Some(a),
                [a, b] if any.is::<Div>() && self.is_fill(b, 1.0) && same_spec(a) => Some(a),
                [a, b] if any.is::<Add>() && self.is_fill(a, 0.0) && same_spec(b) => Some(b),
                [a, b] if any.is::<Add>() && self.is_fill(b, 0.0) && same_spec(a) => Some(a),
                [a, b] if any.is::<Sub>() && self.is_fill(b, 0.0) && same_spec(a) => Some(a),
                _ => None,
            };
            if let Some(kept) = keep {
                self.replacement.insert(node, kept);
            }
        }
        Ok(())
    }
}
