//! Compiling: scheduling the needed nodes, liveness, and buffer (or slot) assignment.

use adnet_tensor::{kernels, DType, Tensor};
use smallvec::SmallVec;

use super::{
    BinaryFn, GeneralInstr, PlanInput, ScalarInstr, ScalarProgram, Source, TensorInstr,
    TensorProgram,
};
use crate::graph::{GraphData, NodeKind};
use crate::{ops, NodeId, Op, ScalarFn, TensorSpec};

/// Buffers handed out by liveness: a freed buffer is reused by a later value of the same dtype
/// and the same number of elements, never by one of another size.
///
/// A buffer that held a small value and then a large one would be shrunk and re-grown, and so
/// zero-filled, on every run: W4's step zero-filled 9 MB per run that way, with its weight
/// gradients sharing buffers with smaller activations. A plan therefore holds, per dtype and
/// size, as many buffers as values of that kind are alive at once.
#[derive(Default)]
struct BufferPool {
    kinds: Vec<(DType, usize)>,
    free: Vec<u32>,
}

impl BufferPool {
    fn alloc(&mut self, dtype: DType, size: usize) -> u32 {
        let fits = self
            .free
            .iter()
            .position(|&b| self.kinds[b as usize] == (dtype, size));
        match fits {
            Some(k) => self.free.swap_remove(k),
            None => {
                self.kinds.push((dtype, size));
                (self.kinds.len() - 1) as u32
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

pub(super) fn compile_scalar(
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
            (Some(ScalarFn::Binary(f)), &[a, b]) => BinaryFn::of(op.as_ref(), f).instr(a, b, out),
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

pub(super) fn compile_tensor(
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
    let mut parallel = false;
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
                parallel |= uses_all_cores(data, op.as_ref(), operands, &node.spec);
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
        .kinds
        .iter()
        .map(|&(dtype, size)| Tensor::zeros([size], dtype))
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
        parallel,
    }
}

/// Whether the kernel of `op` on these operands runs on all cores (rayon's pool): a matrix
/// product of at least [`kernels::PARALLEL_THRESHOLD`] multiply-adds, or a transpose of at
/// least [`kernels::PARALLEL_TRANSPOSE`] elements. A plan with such a kernel runs on the pool
/// as a whole ([`TensorProgram::parallel`]).
fn uses_all_cores(data: &GraphData, op: &dyn Op, operands: &[NodeId], out: &TensorSpec) -> bool {
    let spec = |k: usize| &data.dag[petgraph::graph::NodeIndex::new(operands[k].index())].spec;
    let any = op.as_any();
    if let Some(product) = any.downcast_ref::<ops::MatMul>() {
        let dims = spec(0).shape.dims();
        let inner = match (dims.len(), product.transpose_a) {
            (0, _) => 1,
            (1, _) | (_, false) => dims[dims.len() - 1],
            (_, true) => dims[dims.len() - 2],
        };
        return out.shape.numel().saturating_mul(inner) >= kernels::PARALLEL_THRESHOLD;
    }
    any.is::<ops::Transpose>() && out.shape.numel() >= kernels::PARALLEL_TRANSPOSE
}
