//! The [`Graph`]: a DAG of leaves (inputs, parameters, constants) and op nodes.

use std::cell::{Ref, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use adnet_tensor::{DType, Shape, Tensor};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use smallvec::SmallVec;

use crate::{GraphError, Op, Result, TensorSpec, Var};

/// Identifies a node of a [`Graph`]; displays as `%12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in the graph (nodes are numbered from 0 in creation order).
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id of the node at position `index` (creation order). Whether such a node exists is
    /// checked wherever the id is used.
    pub fn from_index(index: usize) -> NodeId {
        NodeId(u32::try_from(index).expect("graphs hold fewer than 2^32 nodes"))
    }

    pub(crate) fn petgraph(self) -> NodeIndex<u32> {
        NodeIndex::new(self.index())
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// What a node is: a leaf (input, parameter, constant) or an op applied to other nodes.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A value given at each run.
    Input,
    /// A trainable value stored in the graph; `slot` indexes the graph's leaf values.
    Param {
        /// Index into the graph's leaf values.
        slot: usize,
    },
    /// A fixed value stored in the graph; `slot` indexes the graph's leaf values.
    Const {
        /// Index into the graph's leaf values.
        slot: usize,
    },
    /// `op(inputs...)`.
    Op {
        /// The function computed.
        op: Arc<dyn Op>,
        /// The operands, in order.
        inputs: SmallVec<[NodeId; 2]>,
    },
}

impl NodeKind {
    /// `an input`, `a parameter`, `a constant` or `an op`, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            NodeKind::Input => "an input",
            NodeKind::Param { .. } => "a parameter",
            NodeKind::Const { .. } => "a constant",
            NodeKind::Op { .. } => "an op",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) spec: TensorSpec,
}

/// The graph's storage, behind the [`Graph`]'s `RefCell`.
#[derive(Debug, Default, Clone)]
pub(crate) struct GraphData {
    /// Edges run from operand to user; the weight is the operand's position.
    pub(crate) dag: DiGraph<Node, u32, u32>,
    /// Values of parameters and constants, indexed by their `slot`.
    pub(crate) leaf_values: Vec<Tensor>,
    pub(crate) by_name: HashMap<String, NodeId>,
    pub(crate) names: HashMap<NodeId, String>,
    pub(crate) inputs: Vec<NodeId>,
    pub(crate) params: Vec<NodeId>,
    /// Whether some edge runs from a newer node to an older one (only `replace_operand` can
    /// make one); while none does, a new operand older than its user cannot close a cycle.
    pub(crate) backward_edges: bool,
    /// Scalar constants by (value bits, dtype), shared by [`Graph::scalar_of`].
    pub(crate) scalar_constants: HashMap<(u64, DType), NodeId>,
}

impl GraphData {
    pub(crate) fn node(&self, id: NodeId) -> Result<&Node> {
        self.dag
            .node_weight(id.petgraph())
            .ok_or(GraphError::UnknownNode(id))
    }

    /// The name of a node, or its id when it has none.
    pub(crate) fn display_name(&self, id: NodeId) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub(crate) fn leaf_value(&self, id: NodeId) -> Option<&Tensor> {
        match self.node(id).ok()?.kind {
            NodeKind::Param { slot } | NodeKind::Const { slot } => self.leaf_values.get(slot),
            _ => None,
        }
    }

    fn check_name(&self, name: &str) -> Result<()> {
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        if !valid {
            return Err(GraphError::InvalidName(name.to_string()));
        }
        match self.by_name.get(name) {
            Some(&existing) => Err(GraphError::DuplicateName {
                name: name.to_string(),
                existing,
            }),
            None => Ok(()),
        }
    }

    fn push(&mut self, kind: NodeKind, spec: TensorSpec, name: Option<&str>) -> NodeId {
        let inputs = match &kind {
            NodeKind::Op { inputs, .. } => inputs.clone(),
            _ => SmallVec::new(),
        };
        let id = NodeId::from_index(self.dag.add_node(Node { kind, spec }).index());
        for (position, input) in inputs.iter().enumerate() {
            self.dag
                .add_edge(input.petgraph(), id.petgraph(), position as u32);
        }
        if let Some(name) = name {
            self.by_name.insert(name.to_string(), id);
            self.names.insert(id, name.to_string());
        }
        id
    }
}

static NEXT_GRAPH_ID: AtomicU64 = AtomicU64::new(1);

/// An adaptive network: a DAG whose nodes are inputs, parameters, constants, and ops applied to
/// other nodes.
///
/// Building is cheap and happens once; [`Graph::compile`] turns the nodes some outputs need into
/// a [`Plan`](crate::Plan) that runs many times. Nodes are added through `&self` (the storage
/// sits in a `RefCell`), so the [`Var`] handles the builder returns are `Copy` and combine with
/// ordinary operators. Every node has a static [`TensorSpec`] checked when it is built; a
/// rejected node leaves the graph unchanged.
///
/// # Examples
/// The lecture's adaptive network:
/// ```
/// use adnet_graph::Graph;
/// let g = Graph::new();
/// let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
/// let alpha = g.scalar_param("alpha", 0.8)?;
/// let beta = g.scalar_param("beta", 1.2)?;
/// let gamma = g.scalar_param("gamma", 2.0)?;
/// let p = alpha * x + y.exp();
/// let q = (beta * x + y).ln();
/// let u = (p + q) / gamma;
/// let v = p * q;
/// let o = u * v.ln() + v * u.ln();
/// let value = g.eval(o, &[("x", 1.0), ("y", 0.5)])?;
/// assert!((value - 0.907_975_005).abs() < 1e-9);
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
pub struct Graph {
    id: u64,
    data: RefCell<GraphData>,
}

impl Default for Graph {
    fn default() -> Self {
        Graph::new()
    }
}

impl Clone for Graph {
    /// A deep copy with a new identity: plans compiled from the original do not run on it.
    fn clone(&self) -> Self {
        Graph {
            id: NEXT_GRAPH_ID.fetch_add(1, Ordering::Relaxed),
            data: RefCell::new(self.data.borrow().clone()),
        }
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.data.borrow();
        f.debug_struct("Graph")
            .field("nodes", &data.dag.node_count())
            .field("inputs", &data.inputs.len())
            .field("params", &data.params.len())
            .finish()
    }
}

/// Something that names a node of a graph: a [`NodeId`] or a [`Var`] (which is checked to
/// belong to the same graph).
pub trait IntoNode {
    /// The node id, checked to exist in `graph`.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`] when the node is not in `graph`.
    fn node_in(self, graph: &Graph) -> Result<NodeId>;
}

impl IntoNode for NodeId {
    fn node_in(self, graph: &Graph) -> Result<NodeId> {
        if self.index() < graph.len() {
            Ok(self)
        } else {
            Err(GraphError::UnknownNode(self))
        }
    }
}

impl IntoNode for &NodeId {
    fn node_in(self, graph: &Graph) -> Result<NodeId> {
        (*self).node_in(graph)
    }
}

impl IntoNode for Var<'_> {
    fn node_in(self, graph: &Graph) -> Result<NodeId> {
        if std::ptr::eq(self.graph(), graph) {
            Ok(self.id())
        } else {
            Err(GraphError::UnknownNode(self.id()))
        }
    }
}

impl IntoNode for &Var<'_> {
    fn node_in(self, graph: &Graph) -> Result<NodeId> {
        (*self).node_in(graph)
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph {
            id: NEXT_GRAPH_ID.fetch_add(1, Ordering::Relaxed),
            data: RefCell::new(GraphData::default()),
        }
    }

    /// A process-unique identity, so that a plan can tell the graph it was compiled from.
    pub(crate) fn identity(&self) -> u64 {
        self.id
    }

    pub(crate) fn data(&self) -> Ref<'_, GraphData> {
        self.data.borrow()
    }

    pub(crate) fn data_mut(&self) -> std::cell::RefMut<'_, GraphData> {
        self.data.borrow_mut()
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.data.borrow().dag.node_count()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A handle to an existing node, for building on it.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`] when the id is not in this graph.
    pub fn var(&self, node: impl IntoNode) -> Result<Var<'_>> {
        Ok(Var::new(self, node.node_in(self)?))
    }

    /// Declares an input: a value of the given shape and dtype supplied at each run.
    ///
    /// # Errors
    /// [`GraphError::InvalidName`] or [`GraphError::DuplicateName`].
    pub fn input(&self, name: &str, shape: impl Into<Shape>, dtype: DType) -> Result<Var<'_>> {
        let mut data = self.data.borrow_mut();
        data.check_name(name)?;
        let id = data.push(NodeKind::Input, TensorSpec::new(shape, dtype), Some(name));
        data.inputs.push(id);
        Ok(Var::new(self, id))
    }

    /// Declares an `f64` scalar input.
    ///
    /// # Errors
    /// [`GraphError::InvalidName`] or [`GraphError::DuplicateName`].
    pub fn scalar_input(&self, name: &str) -> Result<Var<'_>> {
        self.input(name, Shape::scalar(), DType::F64)
    }

    /// Declares a trainable parameter with its initial value (its shape and dtype are fixed
    /// from then on).
    ///
    /// # Errors
    /// [`GraphError::InvalidName`] or [`GraphError::DuplicateName`].
    pub fn param(&self, name: &str, value: Tensor) -> Result<Var<'_>> {
        let mut data = self.data.borrow_mut();
        data.check_name(name)?;
        let slot = data.leaf_values.len();
        let spec = TensorSpec::of(&value);
        data.leaf_values.push(value);
        let id = data.push(NodeKind::Param { slot }, spec, Some(name));
        data.params.push(id);
        Ok(Var::new(self, id))
    }

    /// Declares an `f64` scalar parameter.
    ///
    /// # Errors
    /// [`GraphError::InvalidName`] or [`GraphError::DuplicateName`].
    pub fn scalar_param(&self, name: &str, value: f64) -> Result<Var<'_>> {
        self.param(name, Tensor::scalar(value))
    }

    /// A constant node (not differentiated, not trained).
    pub fn constant(&self, value: Tensor) -> Var<'_> {
        let mut data = self.data.borrow_mut();
        let slot = data.leaf_values.len();
        let spec = TensorSpec::of(&value);
        data.leaf_values.push(value);
        let id = data.push(NodeKind::Const { slot }, spec, None);
        Var::new(self, id)
    }

    /// An `f64` scalar constant.
    pub fn scalar(&self, value: f64) -> Var<'_> {
        self.scalar_of(value, DType::F64)
    }

    /// A scalar constant of the given dtype (it broadcasts against any shape of that dtype).
    ///
    /// Scalar constants are shared: asking twice for the same value and dtype returns the same
    /// node (constants never change, and derivative rules ask for `1` and `2` constantly).
    pub fn scalar_of(&self, value: f64, dtype: DType) -> Var<'_> {
        let key = (value.to_bits(), dtype);
        if let Some(&id) = self.data.borrow().scalar_constants.get(&key) {
            return Var::new(self, id);
        }
        let var = self.constant(Tensor::scalar_of(value, dtype));
        self.data
            .borrow_mut()
            .scalar_constants
            .insert(key, var.id());
        var
    }

    /// The value every element of a constant node holds, when they all hold the same one
    /// (`None` for other nodes and for constants with differing elements). Lets rewrites
    /// recognise `x·1` or `x+0` without copying the constant.
    pub fn constant_fill(&self, node: impl IntoNode) -> Option<f64> {
        let id = node.node_in(self).ok()?;
        let data = self.data.borrow();
        let NodeKind::Const { slot } = data.node(id).ok()?.kind else {
            return None;
        };
        let value = &data.leaf_values[slot];
        let first = value.flat(0)?;
        let uniform = match value.storage() {
            adnet_tensor::Storage::F32(v) => v.iter().all(|&e| e as f64 == first),
            adnet_tensor::Storage::F64(v) => v.iter().all(|&e| e == first),
        };
        uniform.then_some(first)
    }

    /// Adds the node `op(inputs...)` after checking the operands with [`Op::infer`].
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`] for an operand not in this graph, or whatever `infer`
    /// rejects (shape, dtype, arity); the graph is unchanged.
    pub fn apply<I: IntoNode>(
        &self,
        op: impl Op,
        inputs: impl IntoIterator<Item = I>,
    ) -> Result<Var<'_>> {
        self.apply_arc(Arc::new(op), inputs)
    }

    /// [`Graph::apply`] for an op that is already shared.
    ///
    /// # Errors
    /// As [`Graph::apply`].
    pub fn apply_arc<I: IntoNode>(
        &self,
        op: Arc<dyn Op>,
        inputs: impl IntoIterator<Item = I>,
    ) -> Result<Var<'_>> {
        let ids = inputs
            .into_iter()
            .map(|i| i.node_in(self))
            .collect::<Result<SmallVec<[NodeId; 2]>>>()?;
        let mut data = self.data.borrow_mut();
        let spec = {
            let specs = ids
                .iter()
                .map(|&i| data.node(i).map(|n| &n.spec))
                .collect::<Result<SmallVec<[&TensorSpec; 4]>>>()?;
            op.infer(&specs)?
        };
        let id = data.push(NodeKind::Op { op, inputs: ids }, spec, None);
        Ok(Var::new(self, id))
    }

    /// Gives a node a name (unique in the graph).
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`], [`GraphError::InvalidName`] or
    /// [`GraphError::DuplicateName`]; renaming a node that already has this name is a no-op.
    pub fn set_name(&self, node: impl IntoNode, name: &str) -> Result<()> {
        let id = node.node_in(self)?;
        let mut data = self.data.borrow_mut();
        if data.by_name.get(name) == Some(&id) {
            return Ok(());
        }
        data.check_name(name)?;
        if let Some(old) = data.names.insert(id, name.to_string()) {
            data.by_name.remove(&old);
        }
        data.by_name.insert(name.to_string(), id);
        Ok(())
    }

    /// The node with this name.
    ///
    /// # Errors
    /// [`GraphError::UnknownName`].
    pub fn node(&self, name: &str) -> Result<Var<'_>> {
        let id = self
            .data
            .borrow()
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| GraphError::UnknownName(name.to_string()))?;
        Ok(Var::new(self, id))
    }

    /// The node's name, if it has one.
    pub fn name_of(&self, node: impl IntoNode) -> Option<String> {
        let id = node.node_in(self).ok()?;
        self.data.borrow().names.get(&id).cloned()
    }

    /// The node's shape and dtype.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`].
    pub fn spec(&self, node: impl IntoNode) -> Result<TensorSpec> {
        let id = node.node_in(self)?;
        Ok(self.data.borrow().node(id)?.spec.clone())
    }

    /// What the node is, with its op and operands.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`].
    pub fn kind(&self, node: impl IntoNode) -> Result<NodeKind> {
        let id = node.node_in(self)?;
        Ok(self.data.borrow().node(id)?.kind.clone())
    }

    /// The operands of an op node (empty for a leaf).
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`].
    pub fn operands(&self, node: impl IntoNode) -> Result<SmallVec<[NodeId; 2]>> {
        Ok(match self.kind(node)? {
            NodeKind::Op { inputs, .. } => inputs,
            _ => SmallVec::new(),
        })
    }

    /// The nodes that use this node as an operand, in creation order (a node using it twice
    /// appears once).
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`].
    pub fn users(&self, node: impl IntoNode) -> Result<Vec<NodeId>> {
        let id = node.node_in(self)?;
        let data = self.data.borrow();
        let mut users: Vec<NodeId> = data
            .dag
            .edges_directed(id.petgraph(), Direction::Outgoing)
            .map(|e| NodeId::from_index(e.target().index()))
            .collect();
        users.sort_unstable();
        users.dedup();
        Ok(users)
    }

    /// The nodes `outputs` depend on (themselves included), each after all of its operands:
    /// the order a plan runs them in. Iterative, so any depth is fine.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`] for an output not in this graph.
    pub fn topological_order<I: IntoNode>(
        &self,
        outputs: impl IntoIterator<Item = I>,
    ) -> Result<Vec<NodeId>> {
        let outputs = outputs
            .into_iter()
            .map(|o| o.node_in(self))
            .collect::<Result<Vec<NodeId>>>()?;
        Ok(crate::plan::schedule(&self.data(), &outputs))
    }

    /// The declared inputs, in declaration order.
    pub fn inputs(&self) -> Vec<NodeId> {
        self.data.borrow().inputs.clone()
    }

    /// The declared parameters, in declaration order.
    pub fn params(&self) -> Vec<NodeId> {
        self.data.borrow().params.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Add, Exp};

    /// What a rejected call must leave alone.
    fn snapshot(g: &Graph) -> (usize, usize, Vec<NodeId>, Vec<NodeId>, usize) {
        let data = g.data();
        (
            data.dag.node_count(),
            data.dag.edge_count(),
            data.inputs.clone(),
            data.params.clone(),
            data.by_name.len(),
        )
    }

    #[test]
    fn shape_mismatch_names_op_and_shapes_and_keeps_graph() -> Result<()> {
        let g = Graph::new();
        let a = g.input("a", [2, 3], DType::F32)?;
        let b = g.input("b", [3, 2], DType::F32)?;
        let before = snapshot(&g);
        let err = a.try_add(b).unwrap_err();
        assert_eq!(
            err,
            GraphError::ShapeMismatch {
                op: "add".into(),
                lhs: Shape::from([2, 3]),
                rhs: Shape::from([3, 2])
            }
        );
        assert_eq!(
            err.to_string(),
            "add: incompatible shapes [2, 3] and [3, 2]"
        );
        assert_eq!(snapshot(&g), before);
        Ok(())
    }

    #[test]
    fn dtype_mismatch_is_rejected_and_keeps_graph() -> Result<()> {
        let g = Graph::new();
        let a = g.input("a", [2], DType::F32)?;
        let b = g.input("b", [2], DType::F64)?;
        let before = snapshot(&g);
        let err = g.mul(a, b).unwrap_err();
        assert_eq!(err.to_string(), "mul: dtype mismatch, f32 and f64");
        assert_eq!(snapshot(&g), before);
        Ok(())
    }

    #[test]
    fn matmul_shape_error_names_both_shapes() -> Result<()> {
        let g = Graph::new();
        let a = g.input("a", [2, 3], DType::F64)?;
        let b = g.input("b", [4, 5], DType::F64)?;
        let before = snapshot(&g);
        let err = a.try_matmul(b).unwrap_err();
        assert!(
            err.to_string().contains("[2, 3]") && err.to_string().contains("[4, 5]"),
            "{err}"
        );
        assert!(err.to_string().starts_with("matmul"), "{err}");
        assert_eq!(snapshot(&g), before);
        Ok(())
    }

    #[test]
    fn wrong_arity_is_rejected() -> Result<()> {
        let g = Graph::new();
        let a = g.scalar_input("a")?;
        let err = g.apply(Add, [a]).unwrap_err();
        assert_eq!(
            err,
            GraphError::Arity {
                op: "add".into(),
                expected: 2,
                actual: 1
            }
        );
        let err = g.apply(Exp, [a, a]).unwrap_err();
        assert_eq!(err.to_string(), "exp: expected 1 operand(s), got 2");
        Ok(())
    }

    #[test]
    fn bad_axes_are_rejected() -> Result<()> {
        let g = Graph::new();
        let a = g.input("a", [2, 3], DType::F64)?;
        let before = snapshot(&g);
        assert!(matches!(
            a.try_sum(&[2]),
            Err(GraphError::Tensor(
                adnet_tensor::TensorError::AxisOutOfRange {
                    axis: 2,
                    rank: 2,
                    ..
                }
            ))
        ));
        assert!(matches!(
            a.try_sum(&[1, -1]),
            Err(GraphError::Tensor(
                adnet_tensor::TensorError::DuplicateAxis { axis: 1, .. }
            ))
        ));
        assert!(g.softmax(g.scalar(1.0), 0).is_err());
        assert_eq!(snapshot(&g).0, before.0 + 1); // only the constant was added
        Ok(())
    }

    #[test]
    fn names_are_unique_and_looked_up() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let before = snapshot(&g);
        assert_eq!(
            g.scalar_param("x", 1.0).unwrap_err(),
            GraphError::DuplicateName {
                name: "x".into(),
                existing: x.id()
            }
        );
        assert_eq!(
            g.scalar_input("2x").unwrap_err(),
            GraphError::InvalidName("2x".into())
        );
        assert_eq!(
            g.scalar_input("").unwrap_err(),
            GraphError::InvalidName(String::new())
        );
        assert_eq!(snapshot(&g), before);
        let y = x.exp().named("y")?;
        assert_eq!(g.node("y")?.id(), y.id());
        assert_eq!(g.name_of(y), Some("y".to_string()));
        y.named("y2")?;
        assert!(g.node("y").is_err());
        assert_eq!(
            g.node("nope").unwrap_err().to_string(),
            "no node is named `nope`"
        );
        Ok(())
    }

    #[test]
    fn vars_of_another_graph_are_rejected() -> Result<()> {
        let g = Graph::new();
        let h = Graph::new();
        let a = g.scalar_input("a")?;
        let b = h.scalar_input("b")?;
        assert!(matches!(a.try_add(b), Err(GraphError::UnknownNode(_))));
        assert!(matches!(
            g.exp(NodeId::from_index(99)),
            Err(GraphError::UnknownNode(_))
        ));
        Ok(())
    }

    #[test]
    #[should_panic(expected = "add: incompatible shapes [2] and [3]")]
    fn operator_panics_with_the_fallible_message() {
        let g = Graph::new();
        let a = g.input("a", [2], DType::F64).expect("fresh name");
        let b = g.input("b", [3], DType::F64).expect("fresh name");
        let _ = a + b;
    }

    #[test]
    fn set_param_checks_kind_shape_and_dtype() -> Result<()> {
        let g = Graph::new();
        let w = g.param("w", Tensor::zeros([2], DType::F32))?;
        let x = g.input("x", [2], DType::F32)?;
        g.set_param(w, &Tensor::ones([2], DType::F32))?;
        assert_eq!(g.value(w)?.to_f64_vec(), vec![1.0, 1.0]);
        assert!(matches!(
            g.set_param(w, &Tensor::ones([3], DType::F32)),
            Err(GraphError::ValueMismatch { .. })
        ));
        assert!(matches!(
            g.set_param(w, &Tensor::ones([2], DType::F64)),
            Err(GraphError::ValueMismatch { .. })
        ));
        assert_eq!(
            g.set_param(x, &Tensor::ones([2], DType::F32)).unwrap_err(),
            GraphError::WrongKind {
                node: x.id(),
                expected: "a parameter",
                actual: "an input"
            }
        );
        assert_eq!(g.value(w)?.to_f64_vec(), vec![1.0, 1.0]);
        Ok(())
    }

    #[test]
    fn params_are_updated_in_place_in_the_order_given() -> Result<()> {
        let g = Graph::new();
        let a = g.param("a", Tensor::ones([2], DType::F64))?;
        let b = g.param("b", Tensor::zeros([3], DType::F64))?;
        let x = g.scalar_input("x")?;
        g.with_params_mut(&[b.id(), a.id()], |values| {
            assert_eq!(values[0].dims(), &[3]);
            values[0].as_mut_slice::<f64>().expect("f64")[0] = 5.0;
            values[1].as_mut_slice::<f64>().expect("f64")[1] = 7.0;
        })?;
        assert_eq!(g.value(a)?.to_f64_vec(), vec![1.0, 7.0]);
        assert_eq!(g.value(b)?.to_f64_vec(), vec![5.0, 0.0, 0.0]);
        assert!(matches!(
            g.with_params_mut(&[x.id()], |_| ()),
            Err(GraphError::WrongKind { .. })
        ));
        assert!(matches!(
            g.with_params_mut(&[a.id(), a.id()], |_| ()),
            Err(GraphError::InvalidArgument { .. })
        ));
        let err = g.with_params_mut(&[a.id()], |values| {
            *values[0] = Tensor::zeros([5], DType::F64)
        });
        assert!(matches!(err, Err(GraphError::ValueMismatch { .. })));
        Ok(())
    }

    #[test]
    fn rejects_cycle_and_keeps_graph() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let a = x.exp();
        let b = a.sin();
        let c = b + x;
        let before = snapshot(&g);
        // making `a` read `c` would close the loop a -> b -> c -> a
        assert_eq!(
            g.replace_operand(a, 0, c),
            Err(GraphError::Cycle {
                from: c.id(),
                to: a.id()
            })
        );
        assert_eq!(
            g.replace_operand(a, 0, a),
            Err(GraphError::Cycle {
                from: a.id(),
                to: a.id()
            })
        );
        assert_eq!(snapshot(&g), before);
        assert_eq!(g.operands(a)?.as_slice(), &[x.id()]);
        // a legal rewrite: c = b + b
        g.replace_operand(c, 1, b)?;
        assert_eq!(g.operands(c)?.as_slice(), &[b.id(), b.id()]);
        assert_eq!(g.users(x)?, vec![a.id()]);
        assert_eq!(g.users(b)?, vec![c.id()]);
        Ok(())
    }

    #[test]
    fn replace_operand_rejects_a_different_shape() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [2], DType::F64)?;
        let s = g.input("s", [3], DType::F64)?;
        let y = x.exp();
        let before = snapshot(&g);
        assert!(g.replace_operand(y, 0, s).is_err());
        assert!(matches!(
            g.replace_operand(y, 1, x),
            Err(GraphError::Arity { .. })
        ));
        assert!(matches!(
            g.replace_operand(x, 0, s),
            Err(GraphError::WrongKind { .. })
        ));
        assert_eq!(snapshot(&g), before);
        Ok(())
    }

    #[test]
    fn node_ids_display_with_a_percent() {
        assert_eq!(NodeId::from_index(12).to_string(), "%12");
    }
}
