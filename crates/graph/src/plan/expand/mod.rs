//! Expanding a plan of small `f64` tensors onto the scalar tape.
//!
//! A plan is expanded when
//!
//! - every value it needs (leaves included) is `f64` with at most [`MAX_NODE_ELEMENTS`]
//!   elements: past that, a vectorised kernel beats one instruction per element;
//! - every matrix product has at most [`MAX_PRODUCT`] multiply-adds (the kernels' own
//!   `kernels::SMALL_PRODUCT` bound, below which they run the textbook loop too);
//! - the expansion has at most [`MAX_INSTRUCTIONS`] instructions (1.5 MB of tape);
//! - and every op is one of those below. Any other op (softmax, argmax, a user op without a
//!   scalar function, ...) keeps the whole plan on the tensor program. All-scalar plans keep
//!   the plain scalar tape; `f32` plans are never expanded.
//!
//! Each op becomes instructions over one value per element, with every index (broadcasting,
//! transposes, reduced axes, the terms of each inner product) worked out here, once:
//!
//! | op | each output element |
//! | --- | --- |
//! | elementwise with [`Op::scalar_fn`], `leaky_relu`, `elu` | one step on the broadcast operand elements (`+ − × ÷` inline, others a call of the scalar function) |
//! | user [`ScalarFunction`](crate::ops::ScalarFunction) | one `General` call ([`Op::eval_scalar`]) |
//! | `where` | one `Select` |
//! | `reduce_sum`, `sum_to` | a chain of adds over its terms, in row-major order |
//! | `reduce_mean` | that chain, then one division by the count |
//! | `reduce_max`, `reduce_min` | a chain of `maximum` or `minimum` |
//! | `matmul` (transpose flags, broadcast batch axes) | `a₀·b₀`, then one `MulAdd` per further term |
//! | `reshape`, `broadcast_to`, `permute`, `transpose`, `slice`, `concat`, `pad` | nothing: the element *is* an operand element (or a zero) |
//!
//! An op is taken as elementwise when it declares a scalar function (as the scalar tape
//! already assumes) and its result has its operands' broadcast shape. Elements known when
//! compiling (constants, and any op but a user function applied to constants only) are folded
//! into constants; chains accumulate in the output element's own slot.
//!
//! Numerics: elementwise ops, `where`, max/min and products give what the tensor kernels give,
//! bit for bit (within [`MAX_PRODUCT`] the kernels run the textbook loop too), except that a
//! sum or product whose every term is −0 gives −0 where the kernels, which start from +0,
//! give +0, and that NaN payloads may differ. Sums add in row-major order, while the kernels add contiguous runs of 8 or more
//! elements in 8 interleaved lanes: those agree to rounding, not bit for bit.
//!
//! Slots: every leaf element (inputs and parameters in consecutive slots) and every constant
//! has its own slot for the plan's lifetime. Computed elements get a slot when their node runs
//! and give it back after the last node that reads them, so anomaly detection can still read a
//! node's elements and its operands' right after the node has run.

use std::collections::HashMap;
use std::sync::Arc;

use adnet_tensor::kernels::scalar;
use adnet_tensor::{DType, Shape, Tensor};
use petgraph::graph::NodeIndex;
use smallvec::SmallVec;

use super::{
    BinaryFn, ExpandedProgram, GeneralInstr, NodeCheck, ParamLoad, PlanInput, ScalarInstr,
};
use crate::graph::{GraphData, Node, NodeKind};
use crate::ops::{
    BroadcastTo, Concat, ElementwiseFn, Elu, LeakyRelu, MatMul, Max, Mean, Min, Pad, Permute,
    Reshape, Slice, Sum, SumTo, Transpose, Where,
};
use crate::{NodeId, Op, ScalarFn};

/// The most elements a value of an expanded plan may have.
pub(super) const MAX_NODE_ELEMENTS: usize = 64;
/// The most multiply-adds one matrix product of an expanded plan may take (all batches).
pub(super) const MAX_PRODUCT: usize = 256;
/// The most instructions an expanded plan may have.
pub(super) const MAX_INSTRUCTIONS: usize = 1 << 16;

/// An element while expanding: a value known now, or a register. Registers are numbered once
/// each (a computed element, a leaf element or a constant) and get slots at the end.
#[derive(Debug, Clone, Copy)]
enum Elem {
    Const(f64),
    Reg(u32),
}

/// The `def` of a register that holds a leaf element or a constant for the whole run.
const FIXED: u32 = u32::MAX;
/// The last use of a register read by an output: the end of the run.
const END: u32 = u32::MAX - 1;

struct Expander<'a> {
    data: &'a GraphData,
    /// Each expanded node's elements, row-major, as `(start, len)` in `elems`.
    ranges: Vec<(u32, u32)>,
    elems: Vec<Elem>,
    /// Per register: the position of the op node writing it, or [`FIXED`].
    def: Vec<u32>,
    /// Per register: its value before the first run (constants; NaN for the rest).
    init: Vec<f64>,
    /// Constant registers by bit pattern.
    constants: HashMap<u64, u32>,
    instrs: Vec<ScalarInstr>,
    /// The position of the op node being expanded among the plan's op nodes.
    position: u32,
    /// Each op node and one past its last instruction.
    ends: Vec<(NodeId, u32)>,
}

/// Expands the scheduled nodes `order` into an [`ExpandedProgram`], or `None` when the plan
/// breaks one of the rules in the module docs.
pub(super) fn compile_expanded(
    data: &GraphData,
    order: &[NodeId],
    inputs: &[PlanInput],
    outputs: &[NodeId],
) -> Option<ExpandedProgram> {
    let small = |id: &NodeId| {
        let spec = &node(data, *id).spec;
        spec.dtype == DType::F64 && spec.shape.numel() <= MAX_NODE_ELEMENTS
    };
    if !order.iter().all(small) {
        return None;
    }
    let mut x = Expander {
        data,
        ranges: vec![(0, 0); data.dag.node_count()],
        elems: Vec::new(),
        def: Vec::new(),
        init: Vec::new(),
        constants: HashMap::new(),
        instrs: Vec::new(),
        position: 0,
        ends: Vec::new(),
    };
    let mut params = Vec::new();
    let mut input_first = HashMap::new();
    for &id in order {
        let n = node(data, id);
        let elems: Vec<Elem> = match &n.kind {
            NodeKind::Input | NodeKind::Param { .. } => {
                let first = x.def.len() as u32;
                let len = n.spec.shape.numel();
                x.def.extend(std::iter::repeat_n(FIXED, len));
                x.init.extend(std::iter::repeat_n(f64::NAN, len));
                match n.kind {
                    NodeKind::Param { slot } => params.push(ParamLoad {
                        node: id,
                        leaf: slot as u32,
                        first,
                        len: len as u32,
                    }),
                    _ => {
                        input_first.insert(id, first);
                    }
                }
                (first..first + len as u32).map(Elem::Reg).collect()
            }
            NodeKind::Const { slot } => {
                let values = data.leaf_values[*slot].as_slice::<f64>().ok()?;
                if values.len() != n.spec.shape.numel() {
                    return None;
                }
                values.iter().map(|&v| Elem::Const(v)).collect()
            }
            NodeKind::Op { op, inputs } => {
                let elems = x.expand(id, op, inputs, &n.spec.shape)?;
                if elems.len() != n.spec.shape.numel() || x.instrs.len() > MAX_INSTRUCTIONS {
                    return None;
                }
                x.ends.push((id, x.instrs.len() as u32));
                x.position += 1;
                elems
            }
        };
        x.ranges[id.index()] = (x.elems.len() as u32, elems.len() as u32);
        x.elems.extend(elems);
    }
    Some(x.finish(inputs, outputs, params, &input_first))
}

fn node(data: &GraphData, id: NodeId) -> &Node {
    &data.dag[NodeIndex::new(id.index())]
}

impl Expander<'_> {
    fn elems_of(&self, id: NodeId) -> &[Elem] {
        let (start, len) = self.ranges[id.index()];
        &self.elems[start as usize..(start + len) as usize]
    }

    fn shape_of(&self, id: NodeId) -> &Shape {
        &node(self.data, id).spec.shape
    }

    /// Expands one op node into instructions; returns its elements, or `None` for an op (or
    /// a product size) the expansion does not take.
    fn expand(
        &mut self,
        id: NodeId,
        op: &Arc<dyn Op>,
        operands: &[NodeId],
        out: &Shape,
    ) -> Option<Vec<Elem>> {
        let args: Vec<Vec<Elem>> = operands
            .iter()
            .map(|&o| self.elems_of(o).to_vec())
            .collect();
        let shapes: Vec<Shape> = operands.iter().map(|&o| self.shape_of(o).clone()).collect();
        let dyn_op: &dyn Op = op.as_ref();
        let any = dyn_op.as_any();
        if let Some(f) = op.scalar_fn() {
            return match (f, args.as_slice()) {
                (ScalarFn::Unary(f), [x]) if &shapes[0] == out => {
                    Some(x.iter().map(|&e| self.unary(f, e)).collect())
                }
                (ScalarFn::Binary(f), [a, b]) => {
                    let f = BinaryFn::of(dyn_op, f);
                    let [ia, ib] = broadcast_operands(&shapes, out)?;
                    Some(
                        ia.iter()
                            .zip(&ib)
                            .map(|(&i, &j)| self.binary(f, a[i], b[j]))
                            .collect(),
                    )
                }
                _ => None,
            };
        }
        if let Some(leaky) = any.downcast_ref::<LeakyRelu>() {
            let f = BinaryFn::Call(scalar::leaky_relu::<f64>);
            return Some(self.with_constant(f, args.first()?, leaky.slope));
        }
        if let Some(elu) = any.downcast_ref::<Elu>() {
            let f = BinaryFn::Call(scalar::elu::<f64>);
            return Some(self.with_constant(f, args.first()?, elu.alpha));
        }
        if any.is::<ElementwiseFn>() {
            let x = args.first().filter(|_| args.len() == 1)?;
            return Some(x.iter().map(|&e| self.general(id, op, e)).collect());
        }
        if any.is::<Where>() {
            let [mask, a, b] = args.as_slice() else {
                return None;
            };
            let [im, ia, ib] = broadcast_operands(&shapes, out)?;
            return Some(
                (0..out.numel())
                    .map(|k| self.select(mask[im[k]], a[ia[k]], b[ib[k]]))
                    .collect(),
            );
        }
        if let Some(sum) = any.downcast_ref::<Sum>() {
            let kept = kept_shape(
                &shapes[0],
                &sum.axes.resolve("reduce_sum", &shapes[0]).ok()?,
            );
            let groups = reduce_groups(&args[0], &shapes[0], &kept)?;
            return Some(groups.iter().map(|terms| self.sum(terms)).collect());
        }
        if let Some(mean) = any.downcast_ref::<Mean>() {
            let axes = mean.axes.resolve("reduce_mean", &shapes[0]).ok()?;
            let count: usize = axes.iter().map(|&a| shapes[0].dims()[a]).product();
            let groups = reduce_groups(&args[0], &shapes[0], &kept_shape(&shapes[0], &axes))?;
            return Some(
                groups
                    .iter()
                    .map(|terms| {
                        let sum = self.sum(terms);
                        // x / 1 = x: the kernel's division changes nothing
                        if count == 1 {
                            sum
                        } else {
                            // an element count is exact in f64
                            self.binary(BinaryFn::Div, sum, Elem::Const(count as f64))
                        }
                    })
                    .collect(),
            );
        }
        let extremum = if let Some(max) = any.downcast_ref::<Max>() {
            Some((
                &max.axes,
                "reduce_max",
                BinaryFn::Call(scalar::maximum::<f64>),
            ))
        } else {
            any.downcast_ref::<Min>().map(|min| {
                (
                    &min.axes,
                    "reduce_min",
                    BinaryFn::Call(scalar::minimum::<f64>),
                )
            })
        };
        if let Some((axes, name, f)) = extremum {
            let axes = axes.resolve(name, &shapes[0]).ok()?;
            if axes.iter().any(|&a| shapes[0].dims()[a] == 0) {
                return None; // the kernel's error: the extremum of nothing
            }
            let groups = reduce_groups(&args[0], &shapes[0], &kept_shape(&shapes[0], &axes))?;
            return Some(groups.iter().map(|terms| self.fold(f, terms)).collect());
        }
        if let Some(sum_to) = any.downcast_ref::<SumTo>() {
            let groups = reduce_groups(&args[0], &shapes[0], &sum_to.shape)?;
            return Some(groups.iter().map(|terms| self.sum(terms)).collect());
        }
        if let Some(matmul) = any.downcast_ref::<MatMul>() {
            return self.matmul(matmul, &args, &shapes, out);
        }
        let positions = shape_op_positions(any, &shapes, out)?;
        positions
            .iter()
            .map(|p| match *p {
                Some((operand, k)) => args.get(operand)?.get(k).copied(),
                None => Some(Elem::Const(0.0)),
            })
            .collect()
    }

    /// A register for `e`: its own, or a constant's (one per bit pattern).
    fn reg_of(&mut self, e: Elem) -> u32 {
        match e {
            Elem::Reg(r) => r,
            Elem::Const(v) => *self.constants.entry(v.to_bits()).or_insert_with(|| {
                self.def.push(FIXED);
                self.init.push(v);
                (self.def.len() - 1) as u32
            }),
        }
    }

    /// A new register, written by the node being expanded.
    fn new_reg(&mut self) -> u32 {
        self.def.push(self.position);
        self.init.push(0.0);
        (self.def.len() - 1) as u32
    }

    /// The register a result accumulated into `acc` goes to: `acc`'s own when the node being
    /// expanded wrote it (a chain in progress), else a new one.
    fn target(&mut self, acc: Elem) -> u32 {
        match acc {
            Elem::Reg(r) if self.def[r as usize] == self.position => r,
            _ => self.new_reg(),
        }
    }

    fn unary(&mut self, f: fn(f64) -> f64, x: Elem) -> Elem {
        if let Elem::Const(v) = x {
            return Elem::Const(f(v));
        }
        let x = self.reg_of(x);
        let out = self.new_reg();
        self.instrs.push(ScalarInstr::Unary { f, x, out });
        Elem::Reg(out)
    }

    /// `f(a, b)`, accumulating into `a` when it is a chain in progress.
    fn binary(&mut self, f: BinaryFn, a: Elem, b: Elem) -> Elem {
        if let (Elem::Const(x), Elem::Const(y)) = (a, b) {
            return Elem::Const(f.apply(x, y));
        }
        let out = self.target(a);
        let (a, b) = (self.reg_of(a), self.reg_of(b));
        self.instrs.push(f.instr(a, b, out));
        Elem::Reg(out)
    }

    /// `c + a·b` as the kernels round it (the product, then the sum).
    fn mul_add(&mut self, a: Elem, b: Elem, c: Elem) -> Elem {
        if let (Elem::Const(x), Elem::Const(y)) = (a, b) {
            return self.binary(BinaryFn::Add, c, Elem::Const(scalar::mul(x, y)));
        }
        let out = self.target(c);
        let (a, b, c) = (self.reg_of(a), self.reg_of(b), self.reg_of(c));
        self.instrs.push(ScalarInstr::MulAdd { a, b, c, out });
        Elem::Reg(out)
    }

    fn select(&mut self, mask: Elem, a: Elem, b: Elem) -> Elem {
        if let Elem::Const(m) = mask {
            return if m != 0.0 { a } else { b };
        }
        let out = self.new_reg();
        let (mask, a, b) = (self.reg_of(mask), self.reg_of(a), self.reg_of(b));
        self.instrs.push(ScalarInstr::Select { mask, a, b, out });
        Elem::Reg(out)
    }

    /// A call of the op's `eval_scalar` (never folded: a user function may not be pure).
    fn general(&mut self, node: NodeId, op: &Arc<dyn Op>, x: Elem) -> Elem {
        let x = self.reg_of(x);
        let out = self.new_reg();
        self.instrs
            .push(ScalarInstr::General(Box::new(GeneralInstr {
                op: op.clone(),
                args: smallvec::smallvec![x],
                out,
                node,
            })));
        Elem::Reg(out)
    }

    fn with_constant(&mut self, f: BinaryFn, x: &[Elem], c: f64) -> Vec<Elem> {
        x.iter()
            .map(|&e| self.binary(f, e, Elem::Const(c)))
            .collect()
    }

    /// `((t₀ + t₁) + t₂) + ...`; 0 for no terms.
    fn sum(&mut self, terms: &[Elem]) -> Elem {
        if terms.is_empty() {
            return Elem::Const(0.0);
        }
        self.fold(BinaryFn::Add, terms)
    }

    /// `f(f(t₀, t₁), t₂)...` over at least one term.
    fn fold(&mut self, f: BinaryFn, terms: &[Elem]) -> Elem {
        let (&first, rest) = terms.split_first().expect("at least one term");
        rest.iter().fold(first, |acc, &t| self.binary(f, acc, t))
    }

    /// `op(a) @ op(b)`: per output element, `a₀·b₀ + a₁·b₁ + ...` in the kernels' order.
    fn matmul(
        &mut self,
        op: &MatMul,
        args: &[Vec<Elem>],
        shapes: &[Shape],
        out: &Shape,
    ) -> Option<Vec<Elem>> {
        let ([a, b], [sa, sb]) = (args, shapes) else {
            return None;
        };
        let (da, db, dout) = (sa.dims(), sb.dims(), out.dims());
        if da.len() < 2 || db.len() < 2 || dout.len() < 2 {
            return None;
        }
        let (a_rows, a_cols) = (da[da.len() - 2], da[da.len() - 1]);
        let (b_rows, b_cols) = (db[db.len() - 2], db[db.len() - 1]);
        let (m, k) = if op.transpose_a {
            (a_cols, a_rows)
        } else {
            (a_rows, a_cols)
        };
        let (k_b, n) = if op.transpose_b {
            (b_cols, b_rows)
        } else {
            (b_rows, b_cols)
        };
        let batch = Shape::new(&dout[..dout.len() - 2]);
        if k != k_b || [m, n] != dout[dout.len() - 2..] {
            return None;
        }
        if batch.numel() * m * n * k > MAX_PRODUCT {
            return None;
        }
        // the first element of each batch's matrix, for both operands
        let matrix_starts = |dims: &[usize], size: usize| -> Option<Vec<usize>> {
            let own = Shape::new(&dims[..dims.len() - 2]);
            if !own.broadcasts_to(&batch) {
                return None;
            }
            let strides: SmallVec<[usize; 4]> = own
                .broadcast_strides(&batch)
                .iter()
                .map(|s| s * size)
                .collect();
            Some(offsets(batch.dims(), &strides, 0))
        };
        let a_starts = matrix_starts(da, a_rows * a_cols)?;
        let b_starts = matrix_starts(db, b_rows * b_cols)?;
        let a_at = |i: usize, p: usize| {
            if op.transpose_a {
                p * a_cols + i
            } else {
                i * a_cols + p
            }
        };
        let b_at = |p: usize, j: usize| {
            if op.transpose_b {
                j * b_cols + p
            } else {
                p * b_cols + j
            }
        };
        let mut result = Vec::with_capacity(out.numel());
        for (&a0, &b0) in a_starts.iter().zip(&b_starts) {
            for i in 0..m {
                for j in 0..n {
                    let mut acc: Option<Elem> = None;
                    for p in 0..k {
                        let (x, y) = (a[a0 + a_at(i, p)], b[b0 + b_at(p, j)]);
                        acc = Some(match acc {
                            None => self.binary(BinaryFn::Mul, x, y),
                            Some(c) => self.mul_add(x, y, c),
                        });
                    }
                    result.push(acc.unwrap_or(Elem::Const(0.0)));
                }
            }
        }
        Some(result)
    }

    /// Assigns slots and builds the program.
    fn finish(
        mut self,
        inputs: &[PlanInput],
        outputs: &[NodeId],
        params: Vec<ParamLoad>,
        input_first: &HashMap<NodeId, u32>,
    ) -> ExpandedProgram {
        // registers for the outputs' elements and, per op node, its own and its operands'
        let mut output_regs = Vec::new();
        for &o in outputs {
            for e in self.elems_of(o).to_vec() {
                output_regs.push(self.reg_of(e));
            }
        }
        let mut check_regs: Vec<u32> = Vec::new();
        let mut checks = Vec::with_capacity(self.ends.len());
        let data = self.data;
        for (id, end) in std::mem::take(&mut self.ends) {
            let start = check_regs.len() as u32;
            let operands: &[NodeId] = match &node(data, id).kind {
                NodeKind::Op { inputs, .. } => inputs,
                _ => &[],
            };
            let mut lens = SmallVec::new();
            for &n in std::iter::once(&id).chain(operands) {
                let elems = self.elems_of(n).to_vec();
                lens.push(elems.len() as u32);
                for e in elems {
                    check_regs.push(self.reg_of(e));
                }
            }
            let len = lens.remove(0);
            checks.push(NodeCheck {
                node: id,
                end,
                start,
                len,
                operand_lens: lens,
            });
        }

        // liveness by node: a register lives until the last node that reads it or is it
        let mut last = self.def.clone();
        for (position, check) in checks.iter().enumerate() {
            let total = check.len + check.operand_lens.iter().sum::<u32>();
            for &r in &check_regs[check.start as usize..(check.start + total) as usize] {
                if self.def[r as usize] != FIXED {
                    last[r as usize] = last[r as usize].max(position as u32);
                }
            }
        }
        for &r in &output_regs {
            last[r as usize] = END;
        }

        // fixed registers first, in register order, so each leaf's elements stay consecutive
        let count = self.def.len();
        let mut slot_of = vec![0u32; count];
        let mut slots = Vec::new();
        for ((slot, &def), &init) in slot_of.iter_mut().zip(&self.def).zip(&self.init) {
            if def == FIXED {
                *slot = slots.len() as u32;
                slots.push(init);
            }
        }
        // then computed ones, node by node: a node's registers are allocated before its dead
        // operands are released, so results never overwrite operands still being read
        let mut dying: Vec<(u32, u32)> = (0..count as u32)
            .filter(|&r| self.def[r as usize] != FIXED && last[r as usize] != END)
            .map(|r| (last[r as usize], r))
            .collect();
        dying.sort_unstable();
        let (mut free, mut next_reg, mut next_dying) = (Vec::new(), 0, 0);
        for position in 0..checks.len() as u32 {
            while next_reg < count
                && (self.def[next_reg] == FIXED || self.def[next_reg] <= position)
            {
                if self.def[next_reg] != FIXED {
                    slot_of[next_reg] = free.pop().unwrap_or_else(|| {
                        slots.push(0.0);
                        (slots.len() - 1) as u32
                    });
                }
                next_reg += 1;
            }
            while let Some(&(_, r)) = dying.get(next_dying).filter(|d| d.0 == position) {
                free.push(slot_of[r as usize]);
                next_dying += 1;
            }
        }

        let slot = |r: u32| slot_of.get(r as usize).copied().unwrap_or(0);
        for instr in &mut self.instrs {
            instr.remap(slot);
        }
        ExpandedProgram {
            instrs: self.instrs,
            params: params
                .into_iter()
                .map(|p| ParamLoad {
                    first: slot(p.first),
                    ..p
                })
                .collect(),
            input_slots: inputs
                .iter()
                .map(|i| input_first.get(&i.node).map_or(0, |&r| slot(r)))
                .collect(),
            output_slots: output_regs.into_iter().map(slot).collect(),
            results: outputs
                .iter()
                .map(|&o| Tensor::zeros(node(data, o).spec.shape.clone(), DType::F64))
                .collect(),
            checks,
            check_slots: check_regs.into_iter().map(slot).collect(),
            slots,
        }
    }
}

impl ScalarInstr {
    /// Rewrites every register number (operands and result) through `slot`.
    fn remap(&mut self, slot: impl Fn(u32) -> u32) {
        match self {
            ScalarInstr::Unary { x, out, .. } => {
                *x = slot(*x);
                *out = slot(*out);
            }
            ScalarInstr::Add { a, b, out }
            | ScalarInstr::Sub { a, b, out }
            | ScalarInstr::Mul { a, b, out }
            | ScalarInstr::Div { a, b, out }
            | ScalarInstr::Binary { a, b, out, .. } => {
                *a = slot(*a);
                *b = slot(*b);
                *out = slot(*out);
            }
            ScalarInstr::MulAdd { a, b, c, out } => {
                *a = slot(*a);
                *b = slot(*b);
                *c = slot(*c);
                *out = slot(*out);
            }
            ScalarInstr::Select { mask, a, b, out } => {
                *mask = slot(*mask);
                *a = slot(*a);
                *b = slot(*b);
                *out = slot(*out);
            }
            ScalarInstr::General(general) => {
                for arg in &mut general.args {
                    *arg = slot(*arg);
                }
                general.out = slot(general.out);
            }
        }
    }
}

/// The row-major offsets `base + Σ index·stride` of every index of `dims`, in order.
fn offsets(dims: &[usize], strides: &[usize], base: usize) -> Vec<usize> {
    let count: usize = dims.iter().product();
    let mut result = Vec::with_capacity(count);
    let mut index: SmallVec<[usize; 4]> = SmallVec::from_elem(0, dims.len());
    let mut offset = base;
    for _ in 0..count {
        result.push(offset);
        for axis in (0..dims.len()).rev() {
            index[axis] += 1;
            offset += strides[axis];
            if index[axis] < dims[axis] {
                break;
            }
            offset -= strides[axis] * dims[axis];
            index[axis] = 0;
        }
    }
    result
}

/// For each operand, the element each output element reads under NumPy broadcasting; `None`
/// unless `out` is exactly the operands' broadcast shape.
fn broadcast_operands<const N: usize>(shapes: &[Shape], out: &Shape) -> Option<[Vec<usize>; N]> {
    let shapes: &[Shape; N] = shapes.try_into().ok()?;
    let mut joint = Shape::scalar();
    for shape in shapes {
        joint = Shape::broadcast("", &joint, shape).ok()?;
    }
    if &joint != out {
        return None;
    }
    Some(
        shapes
            .each_ref()
            .map(|s| offsets(out.dims(), &s.broadcast_strides(out), 0)),
    )
}

/// `shape` with the reduced `axes` kept as length 1.
fn kept_shape(shape: &Shape, axes: &[usize]) -> Shape {
    let mut dims: SmallVec<[usize; 4]> = shape.dims().into();
    for &axis in axes {
        dims[axis] = 1;
    }
    Shape::new(&dims)
}

/// The terms of each element of `x` (of `shape`) reduced to `kept`, a shape that broadcasts
/// to `shape` (reduced axes as 1, leading axes dropped): per output element, its terms in
/// row-major order.
fn reduce_groups(x: &[Elem], shape: &Shape, kept: &Shape) -> Option<Vec<Vec<Elem>>> {
    if !kept.broadcasts_to(shape) {
        return None;
    }
    let mut groups = vec![Vec::new(); kept.numel()];
    for (&e, target) in x
        .iter()
        .zip(offsets(shape.dims(), &kept.broadcast_strides(shape), 0))
    {
        groups[target].push(e);
    }
    Some(groups)
}

/// For the shape ops (reshape, broadcast_to, permute, transpose, slice, concat, pad): where
/// each output element comes from, `(operand, element)`, or `None` for a padding zero.
/// `None` overall for any other op.
#[allow(clippy::type_complexity)] // a list of optional (operand, element) pairs, said above
fn shape_op_positions(
    op: &dyn std::any::Any,
    shapes: &[Shape],
    out: &Shape,
) -> Option<Vec<Option<(usize, usize)>>> {
    let from_first =
        |offsets: Vec<usize>| Some(offsets.into_iter().map(|k| Some((0, k))).collect());
    let x = shapes.first()?;
    if op.is::<Reshape>() {
        return from_first((0..x.numel()).collect());
    }
    if op.is::<BroadcastTo>() {
        if !x.broadcasts_to(out) {
            return None;
        }
        return from_first(offsets(out.dims(), &x.broadcast_strides(out), 0));
    }
    let permutation = if let Some(permute) = op.downcast_ref::<Permute>() {
        Some(permute.perm.clone())
    } else if op.is::<Transpose>() && x.rank() >= 2 {
        let mut perm: Vec<usize> = (0..x.rank()).collect();
        perm.swap(x.rank() - 2, x.rank() - 1);
        Some(perm)
    } else {
        None
    };
    if let Some(perm) = permutation {
        let strides = x.strides();
        let strides: Option<SmallVec<[usize; 4]>> =
            perm.iter().map(|&p| strides.get(p).copied()).collect();
        let strides = strides.filter(|s| s.len() == out.rank())?;
        return from_first(offsets(out.dims(), &strides, 0));
    }
    if let Some(slice) = op.downcast_ref::<Slice>() {
        let axis = x.axis("slice", slice.axis).ok()?;
        let strides = x.strides();
        if out.rank() != x.rank() {
            return None;
        }
        return from_first(offsets(out.dims(), &strides, slice.start * strides[axis]));
    }
    if let Some(concat) = op.downcast_ref::<Concat>() {
        let axis = out.axis("concat", concat.axis).ok()?;
        let outer: usize = out.dims()[..axis].iter().product();
        let mut positions = Vec::with_capacity(out.numel());
        for o in 0..outer {
            for (operand, shape) in shapes.iter().enumerate() {
                let chunk: usize = shape.dims().get(axis..)?.iter().product();
                positions.extend((o * chunk..(o + 1) * chunk).map(|k| Some((operand, k))));
            }
        }
        return Some(positions);
    }
    if let Some(pad) = op.downcast_ref::<Pad>() {
        let axis = x.axis("pad", pad.axis).ok()?;
        let outer: usize = x.dims()[..axis].iter().product();
        let inner: usize = x.dims()[axis + 1..].iter().product();
        let chunk = x.dims()[axis] * inner;
        let mut positions = Vec::with_capacity(out.numel());
        for o in 0..outer {
            positions.extend(std::iter::repeat_n(None, pad.before * inner));
            positions.extend((o * chunk..(o + 1) * chunk).map(|k| Some((0, k))));
            positions.extend(std::iter::repeat_n(None, pad.after * inner));
        }
        return Some(positions);
    }
    None
}

#[cfg(test)]
mod tests;
