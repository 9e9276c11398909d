//! Compiling outputs into a [`Plan`] and running it.
//!
//! `compile` keeps only the nodes the outputs need, orders them topologically (see
//! [`Graph::topological_order`]; no recursion, so a chain a million deep is fine), and gives every
//! computed value a buffer, handing a buffer to a later value of the same dtype and size as
//! soon as the value in it is dead (its last reader has run and it is not an output). A value
//! never shares a buffer with an operand of the node that computes it.
//!
//! A plan runs in one of three ways, chosen when it is compiled:
//!
//! - Plans whose values are all `f64` scalars (the lecture's networks) run on a *scalar tape*:
//!   a flat array of `f64` slots and, per node, a direct call of the op's plain function
//!   ([`Op::scalar_fn`]) or else [`Op::eval_scalar`].
//! - Plans of small `f64` tensors (every value at most 64 elements; `expand.rs` states the
//!   full rule) whose every op can be expanded run on the same tape after
//!   *expansion*: each tensor op becomes scalar instructions over one slot per element, with all
//!   index arithmetic (broadcasting, transposes, reductions, the inner products of matrix
//!   products) done once, when compiling. A training step of a tiny network (W5) is then a few
//!   hundred instructions of a few nanoseconds each instead of tens of kernel calls.
//! - Every other plan runs the ops' tensor kernels into buffers the plan owns.
//!
//! Either way, a run after the first allocates nothing.

use std::sync::Arc;

use adnet_tensor::kernels::scalar;
use adnet_tensor::{DType, Shape, Tensor};
use smallvec::SmallVec;

use crate::graph::NodeKind;
use crate::{ops, Graph, GraphError, IntoNode, NodeId, Op, Result, TensorSpec};

mod compile;
mod expand;
mod profile;
mod run;
#[cfg(test)]
mod tests;

pub(crate) use compile::schedule;
use compile::{compile_scalar, compile_tensor};
use expand::compile_expanded;
pub use profile::{Profile, ProfileEntry};

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
    /// Whether a kernel runs on all cores: the whole program then runs on rayon's pool, so the
    /// calling thread sleeps instead of competing with the pool's threads between kernels.
    parallel: bool,
}

/// One step of the scalar tape: inline arithmetic for `+ − × ÷`, a plain function when the op
/// has one, else the op itself. The fused forms (`MulAdd`, `Select`) come from expanded tensor
/// plans.
#[derive(Debug)]
enum ScalarInstr {
    Add {
        a: u32,
        b: u32,
        out: u32,
    },
    Sub {
        a: u32,
        b: u32,
        out: u32,
    },
    Mul {
        a: u32,
        b: u32,
        out: u32,
    },
    Div {
        a: u32,
        b: u32,
        out: u32,
    },
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
    /// `out = a·b + c`, rounded twice (as the matrix-product kernels compute it, and unlike
    /// `f64::mul_add`, which is a slow library call on CPUs without FMA).
    MulAdd {
        a: u32,
        b: u32,
        c: u32,
        out: u32,
    },
    /// `out = a` where `mask` is non-zero, else `b` (`where`).
    Select {
        mask: u32,
        a: u32,
        b: u32,
        out: u32,
    },
    /// Boxed so the common variants stay 24 bytes: a million-node tape is mostly these.
    General(Box<GeneralInstr>),
}

// The tape's memory (and W2's 2.5x budget against a flat tape) assumes 24-byte instructions.
const _: () = assert!(std::mem::size_of::<ScalarInstr>() == 24);

/// A two-operand step: the four arithmetic ops run inline (a call through a function pointer
/// costs more than the operation), every other op through its scalar function.
#[derive(Debug, Clone, Copy)]
enum BinaryFn {
    Add,
    Sub,
    Mul,
    Div,
    Call(fn(f64, f64) -> f64),
}

impl BinaryFn {
    /// The step for `op`, whose scalar function is `f`.
    fn of(op: &dyn Op, f: fn(f64, f64) -> f64) -> BinaryFn {
        let any = op.as_any();
        if any.is::<ops::Add>() {
            BinaryFn::Add
        } else if any.is::<ops::Sub>() {
            BinaryFn::Sub
        } else if any.is::<ops::Mul>() {
            BinaryFn::Mul
        } else if any.is::<ops::Div>() {
            BinaryFn::Div
        } else {
            BinaryFn::Call(f)
        }
    }

    /// The value, computed now (constant folding).
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryFn::Add => scalar::add(a, b),
            BinaryFn::Sub => scalar::sub(a, b),
            BinaryFn::Mul => scalar::mul(a, b),
            BinaryFn::Div => scalar::div(a, b),
            BinaryFn::Call(f) => f(a, b),
        }
    }

    fn instr(self, a: u32, b: u32, out: u32) -> ScalarInstr {
        match self {
            BinaryFn::Add => ScalarInstr::Add { a, b, out },
            BinaryFn::Sub => ScalarInstr::Sub { a, b, out },
            BinaryFn::Mul => ScalarInstr::Mul { a, b, out },
            BinaryFn::Div => ScalarInstr::Div { a, b, out },
            BinaryFn::Call(f) => ScalarInstr::Binary { f, a, b, out },
        }
    }
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

/// A parameter whose elements are copied into consecutive slots at the start of each run.
#[derive(Debug)]
struct ParamLoad {
    node: NodeId,
    /// Index into the graph's leaf values.
    leaf: u32,
    first: u32,
    len: u32,
}

/// What anomaly detection checks after one op node of an expanded plan: the node's elements
/// and, for the report, its operands' elements (slots, in `ExpandedProgram::check_slots`).
#[derive(Debug)]
struct NodeCheck {
    node: NodeId,
    /// One past the node's last instruction.
    end: u32,
    /// Where the node's element slots start in `check_slots`, followed by each operand's.
    start: u32,
    len: u32,
    operand_lens: SmallVec<[u32; 2]>,
}

/// A small-tensor `f64` plan expanded onto the scalar tape (see `expand.rs`).
#[derive(Debug)]
struct ExpandedProgram {
    /// Leaf elements first (inputs and parameters in consecutive slots, then constants, which
    /// are written once, when compiling), then computed elements, reused by liveness.
    slots: Vec<f64>,
    instrs: Vec<ScalarInstr>,
    params: Vec<ParamLoad>,
    /// The first slot of each input the plan reads (its elements are consecutive).
    input_slots: Vec<u32>,
    /// The slots of every output's elements, row-major, output after output.
    output_slots: Vec<u32>,
    results: Vec<Tensor>,
    checks: Vec<NodeCheck>,
    check_slots: Vec<u32>,
}

#[derive(Debug)]
enum Program {
    Scalar(ScalarProgram),
    Expanded(ExpandedProgram),
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
    /// Instructions executed per run: one per op node, except in an expanded plan, where
    /// they are the per-element scalar steps.
    pub instructions: usize,
    /// Distinct value buffers (or scalar slots) holding computed values.
    pub buffers: usize,
    /// Bytes reserved for computed values.
    pub buffer_bytes: usize,
    /// Whether the plan runs on the scalar tape (a scalar graph, or an expanded one).
    pub scalar: bool,
    /// Whether tensor ops were expanded into per-element scalar instructions (a plan of small
    /// `f64` tensors); `instructions` and `buffers` then count scalar instructions and slots.
    pub expanded: bool,
    /// Whether a kernel of the plan runs on all cores (a matrix product of at least
    /// [`kernels::PARALLEL_THRESHOLD`](adnet_tensor::kernels::PARALLEL_THRESHOLD)
    /// multiply-adds, or a large transpose). Such a plan runs as a whole on rayon's pool, the
    /// calling thread waiting: on a machine with as many pool threads as cores, the calling
    /// thread would otherwise compete with them for a core between kernels.
    pub parallel: bool,
}

/// A compiled set of outputs: define once, run many times.
///
/// Made by [`Graph::compile`]. Give inputs with [`Plan::set_input`] (they stay set across
/// runs), call [`Plan::run`] with the graph (parameters are read from it at each run, so they
/// can change between runs without recompiling), and read the results with [`Plan::output`].
///
/// # Cost
/// Compiling is linear in the number of nodes needed. A run calls each needed op once (an
/// expanded plan, see [`Graph::compile`], runs per-element steps instead) and, after the first
/// run, allocates nothing.
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

impl Graph {
    /// Compiles the nodes `outputs` need into a [`Plan`].
    ///
    /// The plan runs on a scalar tape when every value it needs is an `f64` scalar. It is
    /// *expanded* onto that tape ([`PlanStats::expanded`]) when every value is an `f64` tensor
    /// of at most 64 elements, every matrix product takes at most 256 multiply-adds, and every
    /// op is elementwise (it has an [`Op::scalar_fn`], or is `leaky_relu`, `elu`, `where` or a
    /// [`ScalarFunction`](crate::ops::ScalarFunction)), a reduction (sum, mean, max, min,
    /// `sum_to`), a shape op or `matmul`: each op becomes scalar steps over its elements, with
    /// all index arithmetic done here, and constant parts folded. Otherwise it runs tensor
    /// kernels. Sums over 8 or more elements may then round differently from the kernels
    /// (they add in row-major order); everything else matches them exactly.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`] for an output not in this graph.
    ///
    /// # Cost
    /// Linear in the number of nodes the outputs depend on.
    pub fn compile<I: IntoNode>(&self, outputs: impl IntoIterator<Item = I>) -> Result<Plan> {
        self.compile_with(outputs, true)
    }

    /// [`Graph::compile`], choosing whether small `f64` tensor plans may be expanded onto the
    /// scalar tape (tests compare the two lowerings).
    pub(crate) fn compile_with<I: IntoNode>(
        &self,
        outputs: impl IntoIterator<Item = I>,
        allow_expansion: bool,
    ) -> Result<Plan> {
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
        let expanded = if scalar || !allow_expansion {
            None
        } else {
            compile_expanded(&data, &order, &inputs, &outputs)
        };
        let program = match expanded {
            _ if scalar => {
                Program::Scalar(compile_scalar(&data, &order, &inputs, &outputs, &last_use))
            }
            Some(p) => Program::Expanded(p),
            None => Program::Tensor(compile_tensor(&data, &order, &inputs, &outputs, &last_use)),
        };
        let stats = match &program {
            Program::Scalar(p) => PlanStats {
                instructions: p.instrs.len(),
                buffers: p.slots.len(),
                buffer_bytes: p.slots.len() * 8,
                scalar: true,
                expanded: false,
                parallel: false,
            },
            Program::Expanded(p) => PlanStats {
                instructions: p.instrs.len(),
                buffers: p.slots.len(),
                buffer_bytes: p.slots.len() * 8,
                scalar: true,
                expanded: true,
                parallel: false,
            },
            Program::Tensor(p) => PlanStats {
                instructions: p.instrs.len(),
                buffers: p.buffers.len(),
                buffer_bytes: p.buffers.iter().map(|b| b.numel() * b.dtype().size()).sum(),
                scalar: false,
                expanded: false,
                parallel: p.parallel,
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
            Program::Expanded(p) => {
                let first = p.input_slots[k] as usize;
                let values = value.as_slice::<f64>().expect("checked to be f64 above");
                for (slot, &v) in p.slots[first..].iter_mut().zip(values) {
                    *slot = v;
                }
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
            Program::Expanded(p) => p.slots[p.input_slots[k] as usize] = value,
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
        self.run_timed(graph, None)
    }

    /// [`Plan::run`], pushing each tensor kernel call's wall time onto `times` when given.
    fn run_timed(
        &mut self,
        graph: &Graph,
        times: Option<&mut Vec<std::time::Duration>>,
    ) -> Result<()> {
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
            Program::Expanded(p) if self.detect_anomalies => p.run_checked(&data),
            Program::Expanded(p) => p.run(&data),
            Program::Tensor(p) if p.parallel => {
                let (data, detect) = (&*data, self.detect_anomalies);
                rayon::scope(|_| p.run(data, detect, times))
            }
            Program::Tensor(p) => p.run(&data, self.detect_anomalies, times),
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
            Program::Expanded(p) => &p.results[k],
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
