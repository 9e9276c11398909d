//! Compiling outputs into a [`Plan`] and running it.
//!
//! `compile` keeps only the nodes the outputs need, orders them topologically (an iterative
//! depth-first search: no recursion, so a chain a million deep is fine), and gives every
//! computed value a buffer, reusing a buffer as soon as the value in it is dead (its last
//! reader has run and it is not an output). A value never shares a buffer with an operand of
//! the node that computes it.
//!
//! Plans whose values are all `f64` scalars (the lecture's networks) run on a scalar tape: a
//! flat array of `f64` slots and one [`Op::eval_scalar`] call per node. Every other plan runs
//! the ops' tensor kernels into buffers the plan owns. Either way, a run after the first
//! allocates nothing.

use std::sync::Arc;

use adnet_tensor::{DType, Shape, Tensor};
use smallvec::SmallVec;

use crate::graph::{GraphData, NodeKind};
use crate::{Graph, GraphError, IntoNode, NodeId, Op, OperandRange, Result, ScalarFn, TensorSpec};

/// Where an operand of a tensor instruction lives.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A buffer of the plan.
    Buffer(u32),
    /// One of the plan's input values.
    Input(u32),
    /// A parameter or constant value in the graph (read in place, never copied).
    Leaf(u32),
}

#[derive(Debug)]
struct TensorInstr {
    node: NodeId,
    op: Arc<dyn Op>,
    args: SmallVec<[Source; 2]>,
    out: u32,
    spec: TensorSpec,
}

#[derive(Debug)]
struct TensorProgram {
    buffers: Vec<Tensor>,
    inputs: Vec<Tensor>,
    instrs: Vec<TensorInstr>,
    /// Outputs that are leaves, copied into their own buffer at the end of a run.
    leaf_outputs: Vec<(Source, u32)>,
    /// The buffer holding each output.
    output_buffers: Vec<u32>,
}

/// One step of the scalar tape: a plain function when the op has one, else the op itself.
#[derive(Debug)]
enum ScalarInstr {
    Unary {
        f: fn(f64) -> f64,
        x: u32,
        out: u32,
    },
    Binary {
        f: fn(f64, f64) -> f64,
        a: u32,
        b: u32,
        out: u32,
    },
    /// Boxed so the common variants stay 24 bytes: a million-node tape is mostly these.
    General(Box<GeneralInstr>),
}

/// A scalar-tape step that calls [`Op::eval_scalar`].
#[derive(Debug)]
struct GeneralInstr {
    op: Arc<dyn Op>,
    args: SmallVec<[u32; 2]>,
    out: u32,
    node: NodeId,
}

#[derive(Debug)]
struct ScalarProgram {
    slots: Vec<f64>,
    /// The node each instruction computes (for anomaly reports).
    nodes: Vec<NodeId>,
    /// Parameters loaded from the graph at the start of each run: (leaf value index, slot).
    params: Vec<(u32, u32)>,
    input_slots: Vec<u32>,
    instrs: Vec<ScalarInstr>,
    output_slots: Vec<u32>,
    results: Vec<Tensor>,
}

#[derive(Debug)]
enum Program {
    Scalar(ScalarProgram),
    Tensor(TensorProgram),
}

#[derive(Debug, Clone)]
struct PlanInput {
    node: NodeId,
    name: String,
    spec: TensorSpec,
    set: bool,
    /// Whether the outputs depend on it; inputs they do not need are accepted and ignored.
    read: bool,
}

/// Sizes of a compiled plan, for tests and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanStats {
    /// Op nodes executed per run.
    pub instructions: usize,
    /// Distinct value buffers (or scalar slots) holding computed values.
    pub buffers: usize,
    /// Bytes reserved for computed values.
    pub buffer_bytes: usize,
    /// Whether the plan runs on the scalar tape.
    pub scalar: bool,
}

/// A compiled set of outputs: define once, run many times.
///
/// Made by [`Graph::compile`]. Give inputs with [`Plan::set_input`] (they stay set across
/// runs), call [`Plan::run`] with the graph (parameters are read from it at each run, so they
/// can change between runs without recompiling), and read the results with [`Plan::output`].
///
/// # Cost
/// Compiling is linear in the number of nodes needed. A run calls each needed op once and,
/// after the first run, allocates nothing.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// let g = Graph::new();
/// let x = g.scalar_input("x")?;
/// let w = g.scalar_param("w", 2.0)?;
/// let y = (w * x).tanh();
/// let mut plan = g.compile([y])?;
/// for step in 0..3 {
///     plan.set_scalar(x, step as f64)?;
///     plan.run(&g)?;
///     assert_eq!(plan.scalar(y)?, (2.0 * step as f64).tanh());
/// }
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
#[derive(Debug)]
pub struct Plan {
    graph: u64,
    detect_anomalies: bool,
    outputs: Vec<NodeId>,
    inputs: Vec<PlanInput>,
    program: Program,
    stats: PlanStats,
}

/// Buffers handed out by liveness: a freed buffer is reused by a later value of the same
/// dtype, preferring the smallest one big enough.
#[derive(Default)]
struct BufferPool {
    dtypes: Vec<DType>,
    capacity: Vec<usize>,
    free: Vec<u32>,
}

impl BufferPool {
    fn alloc(&mut self, dtype: DType, size: usize) -> u32 {
        let mut best: Option<usize> = None;
        for (k, &b) in self.free.iter().enumerate() {
            if self.dtypes[b as usize] != dtype {
                continue;
            }
            let cap = self.capacity[b as usize];
            best = match best {
                None => Some(k),
                Some(j) => {
                    let current = self.capacity[self.free[j] as usize];
                    let better = if cap >= size {
                        current < size || cap < current
                    } else {
                        current < size && cap > current
                    };
                    Some(if better { k } else { j })
                }
            };
        }
        match best {
            Some(k) => {
                let b = self.free.swap_remove(k);
                let cap = &mut self.capacity[b as usize];
                *cap = (*cap).max(size);
                b
            }
            None => {
                self.dtypes.push(dtype);
                self.capacity.push(size);
                (self.dtypes.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, buffer: u32) {
        self.free.push(buffer);
    }
}

/// The nodes `outputs` depend on, operands before users.
pub(crate) fn schedule(data: &GraphData, outputs: &[NodeId]) -> Vec<NodeId> {
    if data.backward_edges {
        schedule_depth_first(data, outputs)
    } else {
        schedule_by_index(data, outputs)
    }
}

/// While every edge runs from an older node to a newer one, creation order is a topological
/// order: one backward sweep marks what the outputs need, in sequential memory order (a
/// depth-first search over a million nodes is dominated by cache misses).
fn schedule_by_index(data: &GraphData, outputs: &[NodeId]) -> Vec<NodeId> {
    let Some(last) = outputs.iter().map(|o| o.index()).max() else {
        return Vec::new();
    };
    let mut needed = vec![false; last + 1];
    for o in outputs {
        needed[o.index()] = true;
    }
    for index in (0..=last).rev() {
        if !needed[index] {
            continue;
        }
        if let NodeKind::Op { inputs, .. } = &data.dag[petgraph::graph::NodeIndex::new(index)].kind
        {
            for input in inputs {
                needed[input.index()] = true;
            }
        }
    }
    needed
        .iter()
        .enumerate()
        .filter(|(_, &n)| n)
        .map(|(index, _)| NodeId::from_index(index))
        .collect()
}

/// Iterative post-order depth-first search: correct for any DAG, however it was rewired.
fn schedule_depth_first(data: &GraphData, outputs: &[NodeId]) -> Vec<NodeId> {
    let n = data.dag.node_count();
    let mut state = vec![0u8; n]; // 0 unseen, 1 on the stack, 2 scheduled
    let mut order = Vec::new();
    let mut stack: Vec<(NodeId, usize)> = Vec::new();
    for &root in outputs {
        if state[root.index()] != 0 {
            continue;
        }
        state[root.index()] = 1;
        stack.push((root, 0));
        while let Some((node, next)) = stack.last_mut() {
            let operands: &[NodeId] =
                match &data.dag[petgraph::graph::NodeIndex::new(node.index())].kind {
                    NodeKind::Op { inputs, .. } => inputs,
                    _ => &[],
                };
            if let Some(&operand) = operands.get(*next) {
                *next += 1;
                if state[operand.index()] == 0 {
                    state[operand.index()] = 1;
                    stack.push((operand, 0));
                }
            } else {
                let node = *node;
                state[node.index()] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}

impl Graph {
    /// Compiles the nodes `outputs` need into a [`Plan`].
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`] for an output not in this graph.
    ///
    /// # Cost
    /// Linear in the number of nodes the outputs depend on.
    pub fn compile<I: IntoNode>(&self, outputs: impl IntoIterator<Item = I>) -> Result<Plan> {
        let outputs = outputs
            .into_iter()
            .map(|o| o.node_in(self))
            .collect::<Result<Vec<NodeId>>>()?;
        let data = self.data();
        let order = schedule(&data, &outputs);
        let node = |id: NodeId| &data.dag[petgraph::graph::NodeIndex::new(id.index())];

        // Every declared input, in declaration order, marked with whether the plan reads it.
        let mut needed = vec![false; data.dag.node_count()];
        for &id in &order {
            needed[id.index()] = true;
        }
        let all_inputs: Vec<PlanInput> = data
            .inputs
            .iter()
            .map(|&id| PlanInput {
                node: id,
                name: data.display_name(id),
                spec: node(id).spec.clone(),
                set: false,
                read: needed[id.index()],
            })
            .collect();
        let inputs: Vec<PlanInput> = all_inputs.iter().filter(|i| i.read).cloned().collect();

        // Position of each op node in `order`'s op sequence, and its last reader.
        const NEVER: u32 = u32::MAX;
        let mut last_use = vec![NEVER; data.dag.node_count()];
        let mut instr_count = 0u32;
        for &id in &order {
            if let NodeKind::Op { inputs, .. } = &node(id).kind {
                for operand in inputs {
                    last_use[operand.index()] = instr_count;
                }
                instr_count += 1;
            }
        }
        for &o in &outputs {
            last_use[o.index()] = NEVER - 1; // outputs stay live to the end
        }

        let scalar = order.iter().all(|&id| node(id).spec.is_f64_scalar());
        let program = if scalar {
            Program::Scalar(compile_scalar(&data, &order, &inputs, &outputs, &last_use))
        } else {
            Program::Tensor(compile_tensor(&data, &order, &inputs, &outputs, &last_use))
        };
        let stats = match &program {
            Program::Scalar(p) => PlanStats {
                instructions: p.instrs.len(),
                buffers: p.slots.len(),
                buffer_bytes: p.slots.len() * 8,
                scalar: true,
            },
            Program::Tensor(p) => PlanStats {
                instructions: p.instrs.len(),
                buffers: p.buffers.len(),
                buffer_bytes: p.buffers.iter().map(|b| b.numel() * b.dtype().size()).sum(),
                scalar: false,
            },
        };
        Ok(Plan {
            graph: self.identity(),
            detect_anomalies: false,
            outputs,
            inputs: all_inputs,
            program,
            stats,
        })
    }

    /// Evaluates one scalar node of an `f64` scalar graph at the given input values (by name):
    /// compiles, runs once and returns the value. For repeated evaluation compile a [`Plan`].
    ///
    /// # Errors
    /// An unknown input name, a missing input, or a node that does not hold one element.
    pub fn eval(&self, node: impl IntoNode, inputs: &[(&str, f64)]) -> Result<f64> {
        let id = node.node_in(self)?;
        let mut plan = self.compile([id])?;
        for &(name, value) in inputs {
            plan.set_scalar(self.node(name)?, value)?;
        }
        plan.run(self)?;
        plan.scalar(id)
    }

    /// Evaluates one node at the given input tensors (by name): compiles, runs once and
    /// returns a copy of the value.
    ///
    /// # Errors
    /// An unknown input name, a missing input, or a value of the wrong shape or dtype.
    pub fn eval_tensor(&self, node: impl IntoNode, inputs: &[(&str, &Tensor)]) -> Result<Tensor> {
        let id = node.node_in(self)?;
        let mut plan = self.compile([id])?;
        for &(name, value) in inputs {
            plan.set_input(self.node(name)?, value)?;
        }
        plan.run(self)?;
        Ok(plan.output(id)?.clone())
    }
}

fn compile_scalar(
    data: &GraphData,
    order: &[NodeId],
    inputs: &[PlanInput],
    outputs: &[NodeId],
    last_use: &[u32],
) -> ScalarProgram {
    let mut slot_of = vec![u32::MAX; data.dag.node_count()];
    let mut slots: Vec<f64> = Vec::new();
    let mut params = Vec::new();
    let mut free: Vec<u32> = Vec::new();
    let new_slot = |slots: &mut Vec<f64>, value: f64| {
        slots.push(value);
        (slots.len() - 1) as u32
    };
    // Leaves get slots of their own for the plan's lifetime.
    for &id in order {
        let kind = &data.dag[petgraph::graph::NodeIndex::new(id.index())].kind;
        match kind {
            NodeKind::Input => slot_of[id.index()] = new_slot(&mut slots, f64::NAN),
            NodeKind::Param { slot } => {
                let s = new_slot(&mut slots, f64::NAN);
                params.push((*slot as u32, s));
                slot_of[id.index()] = s;
            }
            NodeKind::Const { slot } => {
                let value = data.leaf_values[*slot].flat(0).unwrap_or(f64::NAN);
                slot_of[id.index()] = new_slot(&mut slots, value);
            }
            NodeKind::Op { .. } => {}
        }
    }
    let leaf_slots = slots.len() as u32;
    let mut instrs = Vec::new();
    let mut nodes = Vec::new();
    for &id in order {
        let NodeKind::Op {
            op,
            inputs: operands,
        } = &data.dag[petgraph::graph::NodeIndex::new(id.index())].kind
        else {
            continue;
        };
        let position = instrs.len() as u32;
        let args: SmallVec<[u32; 2]> = operands.iter().map(|o| slot_of[o.index()]).collect();
        let out = free.pop().unwrap_or_else(|| new_slot(&mut slots, 0.0));
        slot_of[id.index()] = out;
        for (k, operand) in operands.iter().enumerate() {
            // leaves took the first slots and keep them
            let is_op = slot_of[operand.index()] >= leaf_slots;
            let first_mention = !operands[..k].contains(operand);
            if is_op && first_mention && last_use[operand.index()] == position {
                free.push(slot_of[operand.index()]);
            }
        }
        nodes.push(id);
        instrs.push(match (op.scalar_fn(), args.as_slice()) {
            (Some(ScalarFn::Unary(f)), &[x]) => ScalarInstr::Unary { f, x, out },
            (Some(ScalarFn::Binary(f)), &[a, b]) => ScalarInstr::Binary { f, a, b, out },
            _ => ScalarInstr::General(Box::new(GeneralInstr {
                op: op.clone(),
                args,
                out,
                node: id,
            })),
        });
    }
    ScalarProgram {
        input_slots: inputs.iter().map(|i| slot_of[i.node.index()]).collect(),
        output_slots: outputs.iter().map(|o| slot_of[o.index()]).collect(),
        results: outputs.iter().map(|_| Tensor::scalar(0.0)).collect(),
        slots,
        nodes,
        params,
        instrs,
    }
}

fn compile_tensor(
    data: &GraphData,
    order: &[NodeId],
    inputs: &[PlanInput],
    outputs: &[NodeId],
    last_use: &[u32],
) -> TensorProgram {
    let mut source_of: Vec<Option<Source>> = vec![None; data.dag.node_count()];
    for (k, input) in inputs.iter().enumerate() {
        source_of[input.node.index()] = Some(Source::Input(k as u32));
    }
    let mut pool = BufferPool::default();
    let mut instrs = Vec::new();
    for &id in order {
        let node = &data.dag[petgraph::graph::NodeIndex::new(id.index())];
        match &node.kind {
            NodeKind::Param { slot } | NodeKind::Const { slot } => {
                source_of[id.index()] = Some(Source::Leaf(*slot as u32));
            }
            NodeKind::Input => {}
            NodeKind::Op {
                op,
                inputs: operands,
            } => {
                let position = instrs.len() as u32;
                let args: SmallVec<[Source; 2]> = operands
                    .iter()
                    .map(|o| source_of[o.index()].expect("operands are scheduled first"))
                    .collect();
                let out = pool.alloc(node.spec.dtype, node.spec.shape.numel());
                source_of[id.index()] = Some(Source::Buffer(out));
                for (k, operand) in operands.iter().enumerate() {
                    let first_mention = !operands[..k].contains(operand);
                    if let (true, Some(Source::Buffer(b))) =
                        (first_mention, source_of[operand.index()])
                    {
                        if last_use[operand.index()] == position {
                            pool.release(b);
                        }
                    }
                }
                instrs.push(TensorInstr {
                    node: id,
                    op: op.clone(),
                    args,
                    out,
                    spec: node.spec.clone(),
                });
            }
        }
    }
    // Outputs that are leaves get a buffer of their own, filled at the end of each run.
    let mut leaf_outputs = Vec::new();
    let mut output_buffers = Vec::new();
    for &o in outputs {
        match source_of[o.index()].expect("outputs are scheduled") {
            Source::Buffer(b) => output_buffers.push(b),
            source => {
                let spec = &data.dag[petgraph::graph::NodeIndex::new(o.index())].spec;
                let b = pool.alloc(spec.dtype, spec.shape.numel());
                leaf_outputs.push((source, b));
                output_buffers.push(b);
            }
        }
    }
    let buffers = pool
        .dtypes
        .iter()
        .zip(&pool.capacity)
        .map(|(&dtype, &cap)| Tensor::zeros([cap], dtype))
        .collect();
    TensorProgram {
        buffers,
        inputs: inputs
            .iter()
            .map(|i| Tensor::zeros(i.spec.shape.clone(), i.spec.dtype))
            .collect(),
        instrs,
        leaf_outputs,
        output_buffers,
    }
}

impl Plan {
    /// The input nodes this plan reads, in declaration order.
    pub fn inputs(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.inputs.iter().filter(|i| i.read).map(|i| i.node)
    }

    /// The output nodes, in the order given to `compile`.
    pub fn outputs(&self) -> &[NodeId] {
        &self.outputs
    }

    /// Sizes of the compiled plan.
    pub fn stats(&self) -> PlanStats {
        self.stats
    }

    /// The position of an input among those the plan reads, `None` for a declared input
    /// the plan does not need.
    fn input_index(&self, node: NodeId) -> Result<Option<usize>> {
        let input = self
            .inputs
            .iter()
            .find(|i| i.node == node)
            .ok_or(GraphError::NotInPlan {
                node,
                role: "an input",
            })?;
        Ok(input
            .read
            .then(|| {
                self.inputs
                    .iter()
                    .filter(|i| i.read)
                    .position(|i| i.node == node)
            })
            .flatten())
    }

    /// Sets an input's value (copied into the plan; no allocation). It stays set for later
    /// runs. A declared input the outputs do not depend on is checked and ignored.
    ///
    /// # Errors
    /// [`GraphError::NotInPlan`] when the node is not an input of the graph, and
    /// [`GraphError::ValueMismatch`] when the shape or dtype differs from the declared one.
    pub fn set_input(&mut self, node: impl Into<NodeId>, value: &Tensor) -> Result<()> {
        let node = node.into();
        let slot = self.input_index(node)?;
        let input = self
            .inputs
            .iter_mut()
            .find(|i| i.node == node)
            .expect("input_index found it");
        if value.shape() != &input.spec.shape || value.dtype() != input.spec.dtype {
            return Err(GraphError::ValueMismatch {
                node: input.node,
                name: input.name.clone(),
                expected: input.spec.shape.clone(),
                expected_dtype: input.spec.dtype,
                actual: value.shape().clone(),
                actual_dtype: value.dtype(),
            });
        }
        input.set = true;
        let Some(k) = slot else { return Ok(()) };
        match &mut self.program {
            Program::Scalar(p) => {
                p.slots[p.input_slots[k] as usize] =
                    value.flat(0).expect("a scalar has one element");
            }
            Program::Tensor(p) => p.inputs[k].assign(value),
        }
        Ok(())
    }

    /// Sets a one-element input (of either dtype) from an `f64`.
    ///
    /// # Errors
    /// [`GraphError::NotInPlan`], or [`GraphError::ValueMismatch`] when the input holds more
    /// than one element.
    pub fn set_scalar(&mut self, node: impl Into<NodeId>, value: f64) -> Result<()> {
        let node = node.into();
        let slot = self.input_index(node)?;
        let input = self
            .inputs
            .iter_mut()
            .find(|i| i.node == node)
            .expect("input_index found it");
        if input.spec.shape.numel() != 1 {
            return Err(GraphError::ValueMismatch {
                node: input.node,
                name: input.name.clone(),
                expected: input.spec.shape.clone(),
                expected_dtype: input.spec.dtype,
                actual: Shape::scalar(),
                actual_dtype: DType::F64,
            });
        }
        input.set = true;
        let Some(k) = slot else { return Ok(()) };
        match &mut self.program {
            Program::Scalar(p) => p.slots[p.input_slots[k] as usize] = value,
            Program::Tensor(p) => match p.inputs[k].storage_mut() {
                adnet_tensor::Storage::F32(v) => v[0] = value as f32,
                adnet_tensor::Storage::F64(v) => v[0] = value,
            },
        }
        Ok(())
    }

    /// Runs the plan with the graph's current parameter values.
    ///
    /// # Errors
    /// [`GraphError::WrongGraph`] for a graph other than the one compiled from,
    /// [`GraphError::MissingInput`] for an input never set, and [`GraphError::Kernel`] naming
    /// the node whose kernel failed.
    ///
    /// # Cost
    /// One kernel call per op node; no allocation after the first run.
    pub fn run(&mut self, graph: &Graph) -> Result<()> {
        if graph.identity() != self.graph {
            return Err(GraphError::WrongGraph);
        }
        if let Some(missing) = self.inputs.iter().find(|i| i.read && !i.set) {
            return Err(GraphError::MissingInput {
                node: missing.node,
                name: missing.name.clone(),
            });
        }
        let data = graph.data();
        match &mut self.program {
            Program::Scalar(p) if self.detect_anomalies => p.run_checked(&data),
            Program::Scalar(p) => p.run(&data),
            Program::Tensor(p) => p.run(&data, self.detect_anomalies),
        }
    }

    /// Turns anomaly detection on or off: when on, every run checks each node's result as it
    /// is computed and stops at the first NaN or infinity with [`GraphError::NonFinite`],
    /// naming the node, its op and its operands' ranges (PyTorch's `detect_anomaly`, but in
    /// the forward pass, where the NaN is born). Costs one scan of each result.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::{Graph, GraphError};
    /// let g = Graph::new();
    /// let x = g.scalar_input("x")?;
    /// let q = (x * 2.0).ln().named("q")?;
    /// let y = q * 3.0;
    /// let mut plan = g.compile([y])?;
    /// plan.detect_anomalies(true);
    /// plan.set_scalar(x, -3.0)?;
    /// let err = plan.run(&g).unwrap_err();
    /// assert!(matches!(err, GraphError::NonFinite { node, .. } if node == q.id()));
    /// assert_eq!(err.to_string(), "node %3 (`q` = ln) produced NaN from `%2` = -6");
    /// # Ok::<(), GraphError>(())
    /// ```
    pub fn detect_anomalies(&mut self, on: bool) -> &mut Self {
        self.detect_anomalies = on;
        self
    }

    /// The value of an output after a run.
    ///
    /// # Errors
    /// [`GraphError::NotInPlan`] when the node is not an output.
    pub fn output(&self, node: impl Into<NodeId>) -> Result<&Tensor> {
        let node = node.into();
        let k = self
            .outputs
            .iter()
            .position(|&o| o == node)
            .ok_or(GraphError::NotInPlan {
                node,
                role: "an output",
            })?;
        Ok(self.output_at(k))
    }

    /// The value of the `k`-th output (in `compile` order) after a run.
    ///
    /// # Panics
    /// When `k` is not below the number of outputs.
    pub fn output_at(&self, k: usize) -> &Tensor {
        match &self.program {
            Program::Scalar(p) => &p.results[k],
            Program::Tensor(p) => &p.buffers[p.output_buffers[k] as usize],
        }
    }

    /// The value of a one-element output after a run, as `f64`.
    ///
    /// # Errors
    /// [`GraphError::NotInPlan`], or a shape error when the output has more than one element.
    pub fn scalar(&self, node: impl Into<NodeId>) -> Result<f64> {
        Ok(self.output(node)?.to_scalar()?)
    }
}

/// Wraps a node's failure with its id and op.
fn kernel_error(node: NodeId, op: &dyn Op, error: GraphError) -> GraphError {
    GraphError::Kernel {
        node,
        op: op.name().to_string(),
        source: Box::new(error),
    }
}

impl ScalarProgram {
    fn run(&mut self, data: &GraphData) -> Result<()> {
        for &(leaf, slot) in &self.params {
            self.slots[slot as usize] = data.leaf_values[leaf as usize]
                .flat(0)
                .expect("a scalar parameter has one element");
        }
        let slots = &mut self.slots;
        for instr in &self.instrs {
            match instr {
                ScalarInstr::Unary { f, x, out } => slots[*out as usize] = f(slots[*x as usize]),
                ScalarInstr::Binary { f, a, b, out } => {
                    slots[*out as usize] = f(slots[*a as usize], slots[*b as usize]);
                }
                ScalarInstr::General(general) => {
                    let GeneralInstr {
                        op,
                        args,
                        out,
                        node,
                    } = general.as_ref();
                    let values: SmallVec<[f64; 4]> =
                        args.iter().map(|&a| slots[a as usize]).collect();
                    slots[*out as usize] = op
                        .eval_scalar(&values)
                        .map_err(|e| kernel_error(*node, op.as_ref(), e))?;
                }
            }
        }
        for (result, &slot) in self.results.iter_mut().zip(&self.output_slots) {
            if let adnet_tensor::Storage::F64(v) = result.storage_mut() {
                v[0] = slots[slot as usize];
            }
        }
        Ok(())
    }
}

impl ScalarProgram {
    /// [`ScalarProgram::run`], checking each result (a separate loop keeps the fast one lean).
    fn run_checked(&mut self, data: &GraphData) -> Result<()> {
        for &(leaf, slot) in &self.params {
            self.slots[slot as usize] = data.leaf_values[leaf as usize]
                .flat(0)
                .expect("a scalar parameter has one element");
        }
        for (instr, &node) in self.instrs.iter().zip(&self.nodes) {
            let (args, out): (SmallVec<[u32; 2]>, u32) = match instr {
                ScalarInstr::Unary { x, out, .. } => (smallvec::smallvec![*x], *out),
                ScalarInstr::Binary { a, b, out, .. } => (smallvec::smallvec![*a, *b], *out),
                ScalarInstr::General(general) => (general.args.clone(), general.out),
            };
            let values: SmallVec<[f64; 4]> = args.iter().map(|&a| self.slots[a as usize]).collect();
            let value = match instr {
                ScalarInstr::Unary { f, .. } => f(values[0]),
                ScalarInstr::Binary { f, .. } => f(values[0], values[1]),
                ScalarInstr::General(general) => general
                    .op
                    .eval_scalar(&values)
                    .map_err(|e| kernel_error(node, general.op.as_ref(), e))?,
            };
            self.slots[out as usize] = value;
            if !value.is_finite() {
                let operands: Vec<Vec<f64>> = values.iter().map(|&v| vec![v]).collect();
                return Err(non_finite(data, node, value, &operands));
            }
        }
        for (result, &slot) in self.results.iter_mut().zip(&self.output_slots) {
            if let adnet_tensor::Storage::F64(v) = result.storage_mut() {
                v[0] = self.slots[slot as usize];
            }
        }
        Ok(())
    }
}

/// The anomaly error for `node`, whose result holds `value`, with its operands' values.
fn non_finite(data: &GraphData, node: NodeId, value: f64, operands: &[Vec<f64>]) -> GraphError {
    let (op, inputs) = match data.node(node).map(|n| &n.kind) {
        Ok(NodeKind::Op { op, inputs }) => (op.name().to_string(), inputs.to_vec()),
        _ => (String::new(), Vec::new()),
    };
    GraphError::NonFinite {
        node,
        name: data.display_name(node),
        op,
        value,
        operands: inputs
            .iter()
            .zip(operands)
            .map(|(&input, values)| OperandRange::of(input, data.display_name(input), values))
            .collect(),
    }
}

impl TensorProgram {
    fn run(&mut self, data: &GraphData, detect_anomalies: bool) -> Result<()> {
        for instr in &self.instrs {
            let mut out = std::mem::take(&mut self.buffers[instr.out as usize]);
            let result = {
                let buffers = &self.buffers;
                let inputs = &self.inputs;
                let args: SmallVec<[&Tensor; 4]> = instr
                    .args
                    .iter()
                    .map(|&source| resolve(source, buffers, inputs, data))
                    .collect();
                instr.op.forward(&args, &mut out)
            };
            let result = result.and_then(|()| {
                if out.shape() == &instr.spec.shape && out.dtype() == instr.spec.dtype {
                    Ok(())
                } else {
                    Err(GraphError::ShapeMismatch {
                        op: format!("{} (result differs from its shape rule)", instr.op.name()),
                        lhs: instr.spec.shape.clone(),
                        rhs: out.shape().clone(),
                    })
                }
            });
            let bad = detect_anomalies && result.is_ok() && !out.all_finite();
            self.buffers[instr.out as usize] = out;
            result.map_err(|e| kernel_error(instr.node, instr.op.as_ref(), e))?;
            if bad {
                let value = self.buffers[instr.out as usize]
                    .to_f64_vec()
                    .into_iter()
                    .find(|v| !v.is_finite())
                    .unwrap_or(f64::NAN);
                let operands: Vec<Vec<f64>> = instr
                    .args
                    .iter()
                    .map(|&s| resolve(s, &self.buffers, &self.inputs, data).to_f64_vec())
                    .collect();
                return Err(non_finite(data, instr.node, value, &operands));
            }
        }
        for &(source, buffer) in &self.leaf_outputs {
            let mut out = std::mem::take(&mut self.buffers[buffer as usize]);
            out.assign(resolve(source, &self.buffers, &self.inputs, data));
            self.buffers[buffer as usize] = out;
        }
        Ok(())
    }
}

fn resolve<'a>(
    source: Source,
    buffers: &'a [Tensor],
    inputs: &'a [Tensor],
    data: &'a GraphData,
) -> &'a Tensor {
    match source {
        Source::Buffer(b) => &buffers[b as usize],
        Source::Input(i) => &inputs[i as usize],
        Source::Leaf(l) => &data.leaf_values[l as usize],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::RandomDagConfig;
    use crate::testing::{build_dag, dag_config, eval_naive};
    use crate::Var;
    use adnet_tensor::testing::assert_tensors_close;
    use proptest::prelude::*;

    fn lecture(g: &Graph) -> Result<NodeId> {
        let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
        let alpha = g.scalar_param("alpha", 0.8)?;
        let beta = g.scalar_param("beta", 1.2)?;
        let gamma = g.scalar_param("gamma", 2.0)?;
        let p = alpha * x + y.exp();
        let q = (beta * x + y).ln();
        let u = (p + q) / gamma;
        let v = p * q;
        let o = u * v.ln() + v * u.ln();
        Ok(o.id())
    }

    fn lecture_closed_form(x: f64, y: f64, alpha: f64, beta: f64, gamma: f64) -> f64 {
        let p = alpha * x + y.exp();
        let q = (beta * x + y).ln();
        let u = (p + q) / gamma;
        let v = p * q;
        u * v.ln() + v * u.ln()
    }

    #[test]
    fn lecture_network_matches_closed_form_and_sees_new_params() -> Result<()> {
        let g = Graph::new();
        let o = lecture(&g)?;
        let mut plan = g.compile([o])?;
        assert!(plan.stats().scalar);
        let (x, y) = (g.node("x")?.id(), g.node("y")?.id());
        for k in 0..5 {
            let xv = 1.0 + 0.1 * k as f64;
            plan.set_scalar(x, xv)?;
            plan.set_scalar(y, 0.5)?;
            plan.run(&g)?;
            let expected = lecture_closed_form(xv, 0.5, 0.8, 1.2, 2.0);
            assert!((plan.scalar(o)? - expected).abs() < 1e-12);
        }
        g.set_param(g.node("alpha")?, &Tensor::scalar(0.3))?;
        plan.run(&g)?;
        let expected = lecture_closed_form(1.4, 0.5, 0.3, 1.2, 2.0);
        assert!((plan.scalar(o)? - expected).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn plan_keeps_only_needed_nodes() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let unused_input = g.scalar_input("z")?;
        let y = x.exp();
        let _dead = (x * unused_input).sin();
        let mut plan = g.compile([y])?;
        assert_eq!(plan.stats().instructions, 1);
        assert_eq!(plan.inputs().collect::<Vec<_>>(), vec![x.id()]);
        // a declared input the outputs do not need is accepted (and still checked)
        plan.set_scalar(unused_input, 1.0)?;
        assert!(plan
            .set_input(unused_input, &Tensor::zeros([2], DType::F64))
            .is_err());
        Ok(())
    }

    #[test]
    fn running_without_an_input_names_it() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let y = x.exp();
        let mut plan = g.compile([y])?;
        let err = plan.run(&g).unwrap_err();
        assert_eq!(
            err,
            GraphError::MissingInput {
                node: x.id(),
                name: "x".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "input %0 (`x`) was not set before running the plan"
        );
        Ok(())
    }

    #[test]
    fn plan_rejects_another_graph_and_foreign_nodes() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let mut plan = g.compile([x.exp()])?;
        plan.set_scalar(x, 1.0)?;
        let other = Graph::new();
        assert_eq!(plan.run(&other), Err(GraphError::WrongGraph));
        assert!(matches!(
            plan.output(x),
            Err(GraphError::NotInPlan {
                role: "an output",
                ..
            })
        ));
        let y = x.sin();
        assert!(matches!(
            plan.set_scalar(y, 1.0),
            Err(GraphError::NotInPlan {
                role: "an input",
                ..
            })
        ));
        Ok(())
    }

    #[test]
    fn set_input_checks_shape_and_dtype() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [2, 3], DType::F32)?;
        let mut plan = g.compile([x.sum_all()])?;
        let err = plan
            .set_input(x, &Tensor::zeros([3, 2], DType::F32))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "node %0 (`x`) holds f32 [2, 3], got f32 [3, 2]"
        );
        let err = plan
            .set_input(x, &Tensor::zeros([2, 3], DType::F64))
            .unwrap_err();
        assert!(matches!(
            err,
            GraphError::ValueMismatch {
                actual_dtype: DType::F64,
                ..
            }
        ));
        assert!(plan.set_scalar(x, 1.0).is_err());
        Ok(())
    }

    #[test]
    fn leaf_outputs_are_returned() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [2], DType::F64)?;
        let w = g.param("w", Tensor::from_vec(vec![1.0, 2.0], [2])?)?;
        let mut plan = g.compile([x, w, x * w])?;
        plan.set_input(x, &Tensor::from_vec(vec![3.0, 4.0], [2])?)?;
        plan.run(&g)?;
        assert_eq!(plan.output(x)?.to_f64_vec(), vec![3.0, 4.0]);
        assert_eq!(plan.output(w)?.to_f64_vec(), vec![1.0, 2.0]);
        assert_eq!(plan.output_at(2).to_f64_vec(), vec![3.0, 8.0]);
        Ok(())
    }

    #[test]
    fn rewired_graphs_are_ordered_by_their_edges_not_creation() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let a = x.exp();
        let b = x.sin();
        let c = a + b;
        // a now reads b, which was created after it
        g.replace_operand(a, 0, b)?;
        let order = g.topological_order([c])?;
        let position = |n: Var<'_>| order.iter().position(|&o| o == n.id());
        assert!(position(b) < position(a) && position(a) < position(c));
        let value = g.eval(c, &[("x", 0.3)])?;
        assert!((value - (0.3f64.sin().exp() + 0.3f64.sin())).abs() < 1e-15);
        Ok(())
    }

    #[test]
    fn deep_chain_compiles_without_recursion() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let mut y = x;
        for _ in 0..200_000 {
            y = y + 1.0;
        }
        let mut plan = g.compile([y])?;
        plan.set_scalar(x, 0.0)?;
        plan.run(&g)?;
        assert_eq!(plan.scalar(y)?, 200_000.0);
        // one slot for the input and one per constant, then two slots ping-pong for the chain
        assert!(plan.stats().buffers <= 200_000 + 3);
        Ok(())
    }

    #[test]
    fn buffers_are_reused_along_a_chain() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [8], DType::F32)?;
        let mut y = x;
        for _ in 0..100 {
            y = y.tanh();
        }
        let plan = g.compile([y])?;
        assert_eq!(plan.stats().instructions, 100);
        assert_eq!(plan.stats().buffers, 2);
        Ok(())
    }

    #[test]
    fn w2_graph_runs_on_the_scalar_tape() -> Result<()> {
        let g = Graph::new();
        let (dag, inputs) = build_dag(&g, &RandomDagConfig::w2(5_000, 3));
        let mut plan = g.compile([dag.output])?;
        assert!(plan.stats().scalar);
        for (&leaf, value) in &inputs {
            plan.set_input(leaf, value)?;
        }
        plan.run(&g)?;
        let naive = eval_naive(&g, &inputs)?;
        assert_eq!(
            plan.scalar(dag.output)?,
            naive[dag.output.index()].to_scalar()?
        );
        assert!(plan.stats().buffers < 16 + 200, "{:?}", plan.stats());
        Ok(())
    }

    #[test]
    fn anomaly_detection_stops_at_the_first_non_finite_tensor() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [3], DType::F32)?;
        let big = (x * 100.0).exp().named("big")?; // inf for x >= 0.9 in f32
        let y = (big - big).sum_all(); // inf - inf = NaN later on
        let mut plan = g.compile([y])?;
        plan.set_input(x, &Tensor::from_vec(vec![0.1f32, 2.0, -1.0], [3])?)?;
        plan.run(&g)?; // off by default: the NaN flows to the output
        assert!(plan.scalar(y)?.is_nan());
        plan.detect_anomalies(true);
        match plan.run(&g).unwrap_err() {
            GraphError::NonFinite {
                node,
                name,
                op,
                value,
                operands,
            } => {
                assert_eq!((node, name.as_str(), op.as_str()), (big.id(), "big", "exp"));
                assert_eq!(value, f64::INFINITY);
                assert_eq!(
                    (operands[0].min, operands[0].max, operands[0].non_finite),
                    (-100.0, 200.0, 0)
                );
            }
            other => panic!("expected NonFinite, got {other:?}"),
        }
        plan.set_input(x, &Tensor::from_vec(vec![0.1f32, 0.2, -1.0], [3])?)?;
        plan.run(&g)?; // finite again: no error
        Ok(())
    }

    #[test]
    fn anomaly_detection_reports_the_first_nan_on_the_scalar_tape() -> Result<()> {
        let g = Graph::new();
        let o = lecture(&g)?;
        let mut plan = g.compile([o])?;
        plan.detect_anomalies(true);
        plan.set_scalar(g.node("x")?, -3.0)?;
        plan.set_scalar(g.node("y")?, 0.5)?;
        let err = plan.run(&g).unwrap_err();
        let GraphError::NonFinite { op, operands, .. } = &err else {
            panic!("{err:?}")
        };
        // q = ln(beta*x + y) is the first NaN: ln of 1.2*(-3) + 0.5 = -3.1
        assert_eq!(op, "ln");
        assert!((operands[0].min + 3.1).abs() < 1e-12, "{err}");
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every op node of a random DAG is an output: if buffer reuse overwrote a value still
        /// needed, some output would differ from the naive evaluation.
        #[test]
        fn plan_matches_naive_evaluation_on_random_dags(config in dag_config(60), subset_seed in any::<u64>()) {
            let g = Graph::new();
            let (dag, inputs) = build_dag(&g, &config);
            let naive = eval_naive(&g, &inputs).unwrap();
            // every node, then a random subset: different outputs give different liveness
            let subset: Vec<NodeId> = dag.nodes.iter().copied()
                .filter(|n| (n.index() as u64).wrapping_mul(subset_seed | 1) % 3 == 0)
                .chain([dag.output])
                .collect();
            for outputs in [dag.nodes.clone(), subset] {
                let mut plan = g.compile(outputs.iter().copied()).unwrap();
                if config.leaf_shapes == vec![Shape::scalar()] {
                    prop_assert!(plan.stats().scalar);
                }
                for (&leaf, value) in &inputs {
                    if plan.inputs().any(|i| i == leaf) {
                        plan.set_input(leaf, value).unwrap();
                    }
                }
                for _ in 0..2 { // a second run reuses the same buffers
                    plan.run(&g).unwrap();
                    for &node in &outputs {
                        assert_tensors_close(plan.output(node).unwrap(), &naive[node.index()], 0.0);
                    }
                }
            }
        }

        /// Buffer reuse: a plan never needs more buffers than it has op nodes, and a chain
        /// needs a constant number.
        #[test]
        fn plan_uses_no_more_buffers_than_values(config in dag_config(80)) {
            let g = Graph::new();
            let (dag, _) = build_dag(&g, &config);
            let plan = g.compile([dag.output]).unwrap();
            let stats = plan.stats();
            prop_assert!(stats.buffers <= stats.instructions + config.leaves + 64);
        }
    }
}
