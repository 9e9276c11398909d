//! Shape ops: reshape, permute, transpose, broadcast_to, concat, slice and pad.
//!
//! Each is linear, and its derivative rule is its adjoint: another shape op applied to `ȳ`.

use adnet_tensor::kernels;
use adnet_tensor::{Shape, Tensor};

use super::sum_to_operand;
use crate::op::{common_dtype, expect_arity};
use crate::{Graph, InputGrads, NodeId, Op, Result, TensorSpec};

/// The same elements (row-major) under another shape with as many elements.
///
/// VJP: `x̄ = reshape(ȳ, x.shape)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reshape {
    /// The new shape.
    pub shape: Shape,
}

impl Op for Reshape {
    fn name(&self) -> &str {
        "reshape"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        let shape = kernels::reshape_shape(&inputs[0].shape, &self.shape)?;
        Ok(TensorSpec::new(shape, inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::reshape(x[0], &self.shape, y)?)
    }
    /// A one-element reshape keeps the value.
    fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
        Ok(x[0])
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        Ok(InputGrads::one(g.reshape(y_bar, g.spec(x[0])?.shape)?))
    }
    fn label(&self) -> String {
        format!("reshape({})", self.shape)
    }
}

/// Reorders axes: `y.dims[i] = x.dims[perm[i]]`, as NumPy's `transpose(x, perm)`.
///
/// VJP: `x̄ = permute(ȳ, perm⁻¹)`, the inverse permutation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Permute {
    /// A permutation of `0..rank`.
    pub perm: Vec<usize>,
}

impl Op for Permute {
    fn name(&self) -> &str {
        "permute"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        let shape = kernels::permute_shape(&inputs[0].shape, &self.perm)?;
        Ok(TensorSpec::new(shape, inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::permute(x[0], &self.perm, y)?)
    }
    fn vjp(&self, g: &Graph, _x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let mut inverse = vec![0; self.perm.len()];
        for (i, &p) in self.perm.iter().enumerate() {
            inverse[p] = i;
        }
        Ok(InputGrads::one(g.permute(y_bar, &inverse)?))
    }
    fn label(&self) -> String {
        format!("permute({:?})", self.perm)
    }
}

/// Swaps the last two axes (the matrix transpose, batched).
///
/// VJP: `x̄ = transpose(ȳ)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Transpose;

impl Op for Transpose {
    fn name(&self) -> &str {
        "transpose"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        let shape = &inputs[0].shape;
        if shape.rank() < 2 {
            return Err(adnet_tensor::TensorError::RankMismatch {
                op: "transpose",
                expected: 2,
                shape: shape.clone(),
            }
            .into());
        }
        let mut perm: Vec<usize> = (0..shape.rank()).collect();
        perm.swap(shape.rank() - 2, shape.rank() - 1);
        Ok(TensorSpec::new(
            kernels::permute_shape(shape, &perm)?,
            inputs[0].dtype,
        ))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::transpose(x[0], y)?)
    }
    fn vjp(&self, g: &Graph, _x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        Ok(InputGrads::one(g.transpose(y_bar)?))
    }
}

/// Repeats the operand along broadcast axes to reach `shape` (NumPy's `broadcast_to`).
///
/// VJP: `x̄ = sum_to(ȳ, x.shape)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BroadcastTo {
    /// The target shape.
    pub shape: Shape,
}

impl Op for BroadcastTo {
    fn name(&self) -> &str {
        "broadcast_to"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        let shape = kernels::broadcast_to_shape(&inputs[0].shape, &self.shape)?;
        Ok(TensorSpec::new(shape, inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::broadcast_to(x[0], &self.shape, y)?)
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        Ok(InputGrads::one(sum_to_operand(g, y_bar, x[0])?))
    }
    fn label(&self) -> String {
        format!("broadcast_to({})", self.shape)
    }
}

/// Joins its operands along an existing axis.
///
/// VJP: each operand's `x̄ᵢ` is its own slice of `ȳ` along the axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concat {
    /// The axis joined along (negative counts from the end).
    pub axis: isize,
}

impl Op for Concat {
    fn name(&self) -> &str {
        "concat"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        let dtype = common_dtype(self, inputs)?;
        let first = inputs
            .first()
            .ok_or(adnet_tensor::TensorError::EmptyConcat)?;
        let axis = first.shape.axis("concat", self.axis)?;
        let shapes: Vec<&Shape> = inputs.iter().map(|s| &s.shape).collect();
        Ok(TensorSpec::new(
            kernels::concat_shape(&shapes, axis)?,
            dtype,
        ))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        let axis = x[0].shape().axis("concat", self.axis)?;
        Ok(kernels::concat(x, axis, y)?)
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let mut grads = Vec::with_capacity(x.len());
        let mut start = 0;
        for &operand in x {
            let shape = g.spec(operand)?.shape;
            let axis = shape.axis("concat", self.axis)?;
            let end = start + shape.dims()[axis];
            grads.push(Some(g.slice(y_bar, self.axis, start, end)?.id()));
            start = end;
        }
        Ok(InputGrads::new(grads))
    }
    fn label(&self) -> String {
        format!("concat({})", self.axis)
    }
}

/// Takes `start..end` along one axis.
///
/// VJP: `x̄ = pad(ȳ, axis, start, len − end)`, zeros where nothing was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slice {
    /// The axis sliced (negative counts from the end).
    pub axis: isize,
    /// The first index taken.
    pub start: usize,
    /// One past the last index taken.
    pub end: usize,
}

impl Op for Slice {
    fn name(&self) -> &str {
        "slice"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        let axis = inputs[0].shape.axis("slice", self.axis)?;
        let shape = kernels::slice_shape(&inputs[0].shape, axis, self.start, self.end)?;
        Ok(TensorSpec::new(shape, inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        let axis = x[0].shape().axis("slice", self.axis)?;
        Ok(kernels::slice(x[0], axis, self.start, self.end, y)?)
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let shape = g.spec(x[0])?.shape;
        let len = shape.dims()[shape.axis("slice", self.axis)?];
        let x_bar = g.pad(y_bar, self.axis, self.start, len - self.end)?;
        Ok(InputGrads::one(x_bar))
    }
    fn label(&self) -> String {
        format!("slice({}, {}..{})", self.axis, self.start, self.end)
    }
}

/// Zero-pads along one axis: `before` zeros, the operand, `after` zeros (the adjoint of
/// [`Slice`]).
///
/// VJP: `x̄ = slice(ȳ, axis, before..before + len)`, dropping the padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pad {
    /// The axis padded (negative counts from the end).
    pub axis: isize,
    /// Zeros before.
    pub before: usize,
    /// Zeros after.
    pub after: usize,
}

impl Op for Pad {
    fn name(&self) -> &str {
        "pad"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        let axis = inputs[0].shape.axis("pad", self.axis)?;
        let shape = kernels::pad_shape(&inputs[0].shape, axis, self.before, self.after)?;
        Ok(TensorSpec::new(shape, inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        let axis = x[0].shape().axis("pad", self.axis)?;
        Ok(kernels::pad(x[0], axis, self.before, self.after, y)?)
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let shape = g.spec(x[0])?.shape;
        let len = shape.dims()[shape.axis("pad", self.axis)?];
        let x_bar = g.slice(y_bar, self.axis, self.before, self.before + len)?;
        Ok(InputGrads::one(x_bar))
    }
    fn label(&self) -> String {
        format!("pad({}, {}, {})", self.axis, self.before, self.after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_vjp_with, eval_vjp, tensor_in, VjpCheck};
    use crate::{Graph, GraphError};
    use adnet_tensor::{DType, TensorError};
    use proptest::prelude::*;

    fn arange(dims: &[usize]) -> Tensor {
        let n: usize = dims.iter().product();
        let values: Vec<f64> = (0..n).map(|v| v as f64).collect();
        Tensor::from_f64s(&values, dims, DType::F64).expect("length matches")
    }

    /// Each shape op, built through the graph and run by a plan, gives the values NumPy gives.
    #[test]
    fn shape_ops_run_through_a_plan() -> Result<()> {
        let g = Graph::new();
        let x = g.param("x", arange(&[2, 3]))?;
        let cases: Vec<(crate::Var<'_>, Vec<usize>, Vec<f64>)> = vec![
            (x.reshape([3, 2]), vec![3, 2], vec![0., 1., 2., 3., 4., 5.]),
            (x.t(), vec![3, 2], vec![0., 3., 1., 4., 2., 5.]),
            (
                g.permute(x, &[1, 0])?,
                vec![3, 2],
                vec![0., 3., 1., 4., 2., 5.],
            ),
            (
                g.broadcast_to(g.sum_to(x, [3])?, [2, 3])?,
                vec![2, 3],
                vec![3., 5., 7., 3., 5., 7.],
            ),
            (
                g.concat([x, x], 0)?,
                vec![4, 3],
                vec![0., 1., 2., 3., 4., 5., 0., 1., 2., 3., 4., 5.],
            ),
            (
                g.concat([x, x], -1)?,
                vec![2, 6],
                vec![0., 1., 2., 0., 1., 2., 3., 4., 5., 3., 4., 5.],
            ),
            (g.slice(x, 1, 1, 3)?, vec![2, 2], vec![1., 2., 4., 5.]),
            (
                g.pad(x, 0, 1, 0)?,
                vec![3, 3],
                vec![0., 0., 0., 0., 1., 2., 3., 4., 5.],
            ),
        ];
        let mut plan = g.compile(cases.iter().map(|c| c.0))?;
        plan.run(&g)?;
        for (node, dims, values) in &cases {
            let out = plan.output(*node)?;
            assert_eq!(out.dims(), dims.as_slice(), "{node:?}");
            assert_eq!(&out.to_f64_vec(), values, "{node:?}");
        }
        Ok(())
    }

    #[test]
    fn shape_ops_reject_bad_arguments_and_keep_the_graph() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [2, 3], DType::F32)?;
        let y = g.input("y", [2, 4], DType::F64)?;
        let before = g.len();
        assert!(matches!(
            x.try_reshape([4, 2]),
            Err(GraphError::Tensor(TensorError::InvalidReshape { .. }))
        ));
        assert!(matches!(
            g.permute(x, &[0, 0]),
            Err(GraphError::Tensor(TensorError::InvalidPermutation { .. }))
        ));
        assert!(matches!(
            g.scalar(1.0).try_t(),
            Err(GraphError::Tensor(TensorError::RankMismatch { .. }))
        ));
        assert!(matches!(
            g.broadcast_to(x, [3, 3]),
            Err(GraphError::Tensor(TensorError::NotBroadcastable { .. }))
        ));
        assert!(matches!(
            g.concat([x, y], 0),
            Err(GraphError::DTypeMismatch { .. })
        ));
        let z = g.input("z", [3, 3], DType::F32)?;
        assert!(matches!(
            g.concat([x, z], 1),
            Err(GraphError::Tensor(TensorError::ShapeMismatch {
                op: "concat",
                ..
            }))
        ));
        assert!(matches!(
            g.concat(Vec::<crate::NodeId>::new(), 0),
            Err(GraphError::Tensor(TensorError::EmptyConcat))
        ));
        assert!(matches!(
            g.slice(x, 1, 2, 4),
            Err(GraphError::Tensor(TensorError::SliceOutOfRange { .. }))
        ));
        assert!(matches!(
            g.slice(x, 2, 0, 1),
            Err(GraphError::Tensor(TensorError::AxisOutOfRange { .. }))
        ));
        assert!(matches!(
            g.pad(x, -3, 1, 1),
            Err(GraphError::Tensor(TensorError::AxisOutOfRange { .. }))
        ));
        assert_eq!(g.len(), before + 2); // the scalar constant and `z`
        Ok(())
    }

    proptest! {
        #[test]
        fn reshape_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0),
            shape in prop_oneof![Just(vec![24]), Just(vec![4, 6]), Just(vec![2, 12, 1]), Just(vec![1, 2, 3, 4])],
            seed in any::<u64>(),
        ) {
            check_vjp_with(&Reshape { shape: shape.into() }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn permute_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0),
            perm in Just(vec![0usize, 1, 2]).prop_shuffle(),
            seed in any::<u64>(),
        ) {
            check_vjp_with(&Permute { perm }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn transpose_vjp_matches_finite_differences(
            x in prop_oneof![tensor_in([2, 3], -5.0, 5.0), tensor_in([2, 3, 4], -5.0, 5.0)],
            seed in any::<u64>(),
        ) {
            check_vjp_with(&Transpose, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn broadcast_to_vjp_matches_finite_differences(
            x in prop_oneof![
                tensor_in([3], -5.0, 5.0), tensor_in([2, 1], -5.0, 5.0), tensor_in([1, 3], -5.0, 5.0),
                tensor_in([2, 3], -5.0, 5.0), tensor_in(Shape::scalar(), -5.0, 5.0),
            ],
            seed in any::<u64>(),
        ) {
            let op = BroadcastTo { shape: Shape::from([4, 2, 3]) };
            check_vjp_with(&op, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn concat_vjp_matches_finite_differences(
            axis in -2isize..2,
            lengths in proptest::collection::vec(1usize..4, 1..4),
            seed in any::<u64>(),
        ) {
            // operands of shape [2, 3] with their length along `axis` replaced
            let axis_index = usize::try_from(axis.rem_euclid(2)).unwrap();
            let operands: Vec<Tensor> = lengths
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let mut dims = vec![2, 3];
                    dims[axis_index] = n;
                    let count: usize = dims.iter().product();
                    let values: Vec<f64> = (0..count).map(|k| (k + 7 * i) as f64 * 0.37 - 2.0).collect();
                    Tensor::from_f64s(&values, dims, DType::F64).unwrap()
                })
                .collect();
            check_vjp_with(&Concat { axis }, &operands, &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn slice_vjp_matches_finite_differences(
            x in tensor_in([3, 4], -5.0, 5.0),
            axis in -2isize..2,
            bounds in (0usize..4, 0usize..4),
            seed in any::<u64>(),
        ) {
            let len = if axis.rem_euclid(2) == 0 { 3 } else { 4 };
            let (start, end) = (bounds.0.min(len - 1), (bounds.1 % len) + 1);
            prop_assume!(start < end);
            check_vjp_with(&Slice { axis, start, end }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn pad_vjp_matches_finite_differences(
            x in tensor_in([2, 3], -5.0, 5.0),
            axis in -2isize..2,
            before in 0usize..3,
            after in 0usize..3,
            seed in any::<u64>(),
        ) {
            check_vjp_with(&Pad { axis, before, after }, &[x], &VjpCheck::seeded(seed))?;
        }
    }

    #[test]
    fn shape_rules_are_the_adjoint_ops() -> Result<()> {
        let x = arange(&[2, 3]);
        let y_bar = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2])?;
        let slice = Slice {
            axis: 1,
            start: 1,
            end: 3,
        };
        assert_eq!(
            eval_vjp(&slice, &[&x], y_bar)?,
            vec![Some(vec![0.0, 1.0, 2.0, 0.0, 3.0, 4.0])]
        );
        let pad = Pad {
            axis: 0,
            before: 1,
            after: 0,
        };
        assert_eq!(
            eval_vjp(&pad, &[&x], arange(&[3, 3]))?,
            vec![Some(vec![3.0, 4.0, 5.0, 6.0, 7.0, 8.0])]
        );
        let concat = Concat { axis: 0 };
        let grads = eval_vjp(&concat, &[x.clone(), arange(&[1, 3])], arange(&[3, 3]))?;
        assert_eq!(
            grads,
            vec![
                Some(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
                Some(vec![6.0, 7.0, 8.0])
            ]
        );
        let permute = Permute {
            perm: vec![1, 2, 0],
        };
        let grads = eval_vjp(&permute, &[arange(&[2, 3, 4])], arange(&[3, 4, 2]))?;
        let expected: Vec<f64> = (0..24)
            .map(|flat| {
                // x[i, j, k] flows to y[j, k, i]
                let (i, j, k) = (flat / 12, (flat / 4) % 3, flat % 4);
                (j * 8 + k * 2 + i) as f64
            })
            .collect();
        assert_eq!(grads, vec![Some(expected)]);
        Ok(())
    }
}
