//! Running a compiled plan: the scalar tape (scalar and expanded plans), the tensor program, and
//! anomaly detection.

use std::time::{Duration, Instant};

use adnet_tensor::kernels::scalar;
use adnet_tensor::Tensor;
use smallvec::SmallVec;

use super::{ExpandedProgram, GeneralInstr, ScalarInstr, ScalarProgram, Source, TensorProgram};
use crate::graph::{GraphData, NodeKind};
use crate::params::check_value;
use crate::{GraphError, NodeId, Op, OperandRange, Result};

/// Wraps a node's failure with its id and op.
fn kernel_error(node: NodeId, op: &dyn Op, error: GraphError) -> GraphError {
    GraphError::Kernel {
        node,
        op: op.name().to_string(),
        source: Box::new(error),
    }
}

impl ScalarInstr {
    /// Runs the instruction on `slots`. Operands are read before the result is written, so an
    /// instruction may accumulate into one of its operands.
    #[inline(always)]
    fn exec(&self, slots: &mut [f64]) -> Result<()> {
        match self {
            ScalarInstr::Add { a, b, out } => {
                slots[*out as usize] = scalar::add(slots[*a as usize], slots[*b as usize]);
            }
            ScalarInstr::Sub { a, b, out } => {
                slots[*out as usize] = scalar::sub(slots[*a as usize], slots[*b as usize]);
            }
            ScalarInstr::Mul { a, b, out } => {
                slots[*out as usize] = scalar::mul(slots[*a as usize], slots[*b as usize]);
            }
            ScalarInstr::Div { a, b, out } => {
                slots[*out as usize] = scalar::div(slots[*a as usize], slots[*b as usize]);
            }
            ScalarInstr::Unary { f, x, out } => slots[*out as usize] = f(slots[*x as usize]),
            ScalarInstr::Binary { f, a, b, out } => {
                slots[*out as usize] = f(slots[*a as usize], slots[*b as usize]);
            }
            ScalarInstr::MulAdd { a, b, c, out } => {
                slots[*out as usize] = slots[*a as usize] * slots[*b as usize] + slots[*c as usize];
            }
            ScalarInstr::Select { mask, a, b, out } => {
                slots[*out as usize] = scalar::select(
                    slots[*mask as usize],
                    slots[*a as usize],
                    slots[*b as usize],
                );
            }
            ScalarInstr::General(general) => {
                let GeneralInstr {
                    op,
                    args,
                    out,
                    node,
                } = general.as_ref();
                let values: SmallVec<[f64; 4]> = args.iter().map(|&a| slots[a as usize]).collect();
                slots[*out as usize] = op
                    .eval_scalar(&values)
                    .map_err(|e| kernel_error(*node, op.as_ref(), e))?;
            }
        }
        Ok(())
    }

    /// The slots the instruction reads, in operand order.
    fn operands(&self) -> SmallVec<[u32; 3]> {
        match self {
            ScalarInstr::Unary { x, .. } => smallvec::smallvec![*x],
            ScalarInstr::Add { a, b, .. }
            | ScalarInstr::Sub { a, b, .. }
            | ScalarInstr::Mul { a, b, .. }
            | ScalarInstr::Div { a, b, .. }
            | ScalarInstr::Binary { a, b, .. } => smallvec::smallvec![*a, *b],
            ScalarInstr::MulAdd { a, b, c, .. } => smallvec::smallvec![*a, *b, *c],
            ScalarInstr::Select { mask, a, b, .. } => smallvec::smallvec![*mask, *a, *b],
            ScalarInstr::General(general) => general.args.iter().copied().collect(),
        }
    }

    /// The slot the instruction writes.
    fn out(&self) -> u32 {
        match self {
            ScalarInstr::Unary { out, .. }
            | ScalarInstr::Add { out, .. }
            | ScalarInstr::Sub { out, .. }
            | ScalarInstr::Mul { out, .. }
            | ScalarInstr::Div { out, .. }
            | ScalarInstr::Binary { out, .. }
            | ScalarInstr::MulAdd { out, .. }
            | ScalarInstr::Select { out, .. } => *out,
            ScalarInstr::General(general) => general.out,
        }
    }
}

impl ScalarProgram {
    pub(super) fn run(&mut self, data: &GraphData) -> Result<()> {
        self.load_params(data);
        let slots = &mut self.slots;
        for instr in &self.instrs {
            instr.exec(slots)?;
        }
        self.write_results();
        Ok(())
    }

    /// [`ScalarProgram::run`], checking each result (a separate loop keeps the fast one lean).
    pub(super) fn run_checked(&mut self, data: &GraphData) -> Result<()> {
        self.load_params(data);
        for (instr, &node) in self.instrs.iter().zip(&self.nodes) {
            let values: SmallVec<[f64; 3]> = instr
                .operands()
                .iter()
                .map(|&a| self.slots[a as usize])
                .collect();
            instr.exec(&mut self.slots)?;
            let value = self.slots[instr.out() as usize];
            if !value.is_finite() {
                let operands: Vec<Vec<f64>> = values.iter().map(|&v| vec![v]).collect();
                return Err(non_finite(data, node, value, &operands));
            }
        }
        self.write_results();
        Ok(())
    }

    fn load_params(&mut self, data: &GraphData) {
        for &(leaf, slot) in &self.params {
            self.slots[slot as usize] = data.leaf_values[leaf as usize]
                .flat(0)
                .expect("a scalar parameter has one element");
        }
    }

    fn write_results(&mut self) {
        for (result, &slot) in self.results.iter_mut().zip(&self.output_slots) {
            if let adnet_tensor::Storage::F64(v) = result.storage_mut() {
                v[0] = self.slots[slot as usize];
            }
        }
    }
}

impl ExpandedProgram {
    pub(super) fn run(&mut self, data: &GraphData) -> Result<()> {
        self.load_params(data)?;
        let slots = &mut self.slots;
        for instr in &self.instrs {
            instr.exec(slots)?;
        }
        self.write_results();
        Ok(())
    }

    /// [`ExpandedProgram::run`], checking each op node's elements once its instructions have
    /// run, so the error names the first graph node (not element) that went non-finite.
    pub(super) fn run_checked(&mut self, data: &GraphData) -> Result<()> {
        self.load_params(data)?;
        let mut next = 0;
        for check in &self.checks {
            for instr in &self.instrs[next..check.end as usize] {
                instr.exec(&mut self.slots)?;
            }
            next = check.end as usize;
            let start = check.start as usize;
            let own = &self.check_slots[start..start + check.len as usize];
            let Some(value) = own
                .iter()
                .map(|&s| self.slots[s as usize])
                .find(|v| !v.is_finite())
            else {
                continue;
            };
            let mut at = start + check.len as usize;
            let operands: Vec<Vec<f64>> = check
                .operand_lens
                .iter()
                .map(|&len| {
                    let slots = &self.check_slots[at..at + len as usize];
                    at += len as usize;
                    slots.iter().map(|&s| self.slots[s as usize]).collect()
                })
                .collect();
            return Err(non_finite(data, check.node, value, &operands));
        }
        for instr in &self.instrs[next..] {
            instr.exec(&mut self.slots)?;
        }
        self.write_results();
        Ok(())
    }

    /// Copies each parameter's current value into its slots.
    ///
    /// # Errors
    /// [`GraphError::ValueMismatch`] for a parameter no longer holding its declared spec
    /// (possible only through `Graph::with_params_mut`, which reports it but keeps the value),
    /// and a length mismatch for a tensor whose storage disagrees with its shape.
    fn load_params(&mut self, data: &GraphData) -> Result<()> {
        for load in &self.params {
            let value = &data.leaf_values[load.leaf as usize];
            let (first, len) = (load.first as usize, load.len as usize);
            match value.as_slice::<f64>() {
                Ok(values) if values.len() == len => {
                    self.slots[first..first + len].copy_from_slice(values);
                }
                other => {
                    check_value(data, load.node, value)?;
                    // the spec matches, so the storage disagrees with the shape
                    return Err(match other {
                        Ok(values) => adnet_tensor::TensorError::LengthMismatch {
                            shape: value.shape().clone(),
                            expected: len,
                            actual: values.len(),
                        },
                        Err(e) => e,
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    fn write_results(&mut self) {
        let mut at = 0;
        for result in &mut self.results {
            let values = result
                .as_mut_slice::<f64>()
                .expect("expanded plans hold f64 results");
            for (value, &slot) in values.iter_mut().zip(&self.output_slots[at..]) {
                *value = self.slots[slot as usize];
            }
            at += values.len();
        }
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
    /// Runs every instruction; with `times`, pushes each one's wall time onto it.
    pub(super) fn run(
        &mut self,
        data: &GraphData,
        detect_anomalies: bool,
        mut times: Option<&mut Vec<Duration>>,
    ) -> Result<()> {
        for instr in &self.instrs {
            let start = times.as_ref().map(|_| Instant::now());
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
            if let (Some(times), Some(start)) = (times.as_deref_mut(), start) {
                times.push(start.elapsed());
            }
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
