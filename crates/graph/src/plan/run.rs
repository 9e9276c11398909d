//! Running a compiled plan: the scalar tape, the tensor program, and anomaly detection.

use adnet_tensor::Tensor;
use smallvec::SmallVec;

use super::{GeneralInstr, ScalarInstr, ScalarProgram, Source, TensorProgram};
use crate::graph::{GraphData, NodeKind};
use crate::{GraphError, NodeId, Op, OperandRange, Result};

/// Wraps a node's failure with its id and op.
fn kernel_error(node: NodeId, op: &dyn Op, error: GraphError) -> GraphError {
    GraphError::Kernel {
        node,
        op: op.name().to_string(),
        source: Box::new(error),
    }
}

impl ScalarProgram {
    pub(super) fn run(&mut self, data: &GraphData) -> Result<()> {
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
    pub(super) fn run_checked(&mut self, data: &GraphData) -> Result<()> {
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
    pub(super) fn run(&mut self, data: &GraphData, detect_anomalies: bool) -> Result<()> {
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
