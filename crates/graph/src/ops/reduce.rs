//! Reductions (sum, mean, max, min, argmax), `sum_to`, and the softmax family.
//!
//! The derivative rules send a reduced cotangent back over the reduced axes: reshaped so the
//! reduced axes are kept as length 1 (`keep_axes`), then broadcast against the operand.

use adnet_tensor::kernels;
use adnet_tensor::{Shape, Tensor};
use smallvec::SmallVec;

use super::{broadcast_to_shape, reshape_to, same_spec, scalar_like};
use crate::op::expect_arity;
use crate::{Graph, GraphError, InputGrads, NodeId, Op, Result, TensorSpec};

/// Which axes a reduction covers: all of them, or a list (negative counts from the end).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Axes {
    /// Every axis: the result is a scalar (or all ones with keepdims).
    All,
    /// These axes; an empty list reduces nothing.
    List(Vec<isize>),
}

impl Axes {
    /// The axes normalised against `shape`, sorted.
    ///
    /// # Errors
    /// [`adnet_tensor::TensorError::AxisOutOfRange`] or `DuplicateAxis`, naming `op`.
    pub fn resolve(&self, op: &'static str, shape: &Shape) -> Result<SmallVec<[usize; 4]>> {
        match self {
            Axes::All => Ok((0..shape.rank()).collect()),
            Axes::List(list) => {
                let mut axes = list
                    .iter()
                    .map(|&a| shape.axis(op, a))
                    .collect::<adnet_tensor::Result<SmallVec<[usize; 4]>>>()?;
                axes.sort_unstable();
                if let Some(w) = axes.windows(2).find(|w| w[0] == w[1]) {
                    return Err(adnet_tensor::TensorError::DuplicateAxis { op, axis: w[0] }.into());
                }
                Ok(axes)
            }
        }
    }

    fn label(&self) -> String {
        match self {
            Axes::All => "all".to_string(),
            Axes::List(list) => format!("{list:?}"),
        }
    }

    /// The list of already resolved axes.
    fn of(axes: &[usize]) -> Axes {
        // an axis index is below the rank, which is far below isize::MAX
        Axes::List(axes.iter().map(|&a| a as isize).collect())
    }
}

/// `reduced` (a reduction's output or its cotangent) reshaped so the reduced `axes` of `x` are
/// kept as length 1, which broadcasts against `x`. No node is added when it already has that
/// shape (keepdims, or nothing reduced).
///
/// # Errors
/// [`GraphError::UnknownNode`].
fn keep_axes(g: &Graph, reduced: NodeId, x: NodeId, axes: &[usize]) -> Result<NodeId> {
    let mut dims: SmallVec<[usize; 4]> = g.spec(x)?.shape.dims().into();
    for &axis in axes {
        dims[axis] = 1;
    }
    reshape_to(g, reduced, &Shape::new(&dims))
}

/// Defines a reduction over chosen axes from its kernel and its derivative rule.
///
/// The rule is written `vjp: |g, x, y, y_bar, axes| x_bar`: an expression (using `?`) adding
/// the nodes of `x̄`, given the operand, the output, its cotangent (both as the op left them,
/// keepdims or not) and the reduced axes, resolved against `x`'s shape and sorted.
macro_rules! reduce_op {
    (
        $(#[$doc:meta])* $op:ident, $name:literal, $kernel:path,
        vjp: |$g:ident, $x:ident, $y:ident, $y_bar:ident, $axes:ident| $rule:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $op {
            /// The axes reduced.
            pub axes: Axes,
            /// Keep reduced axes as length 1.
            pub keepdims: bool,
        }

        impl Op for $op {
            fn name(&self) -> &str {
                $name
            }
            fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
                expect_arity(self, inputs, 1)?;
                let axes = self.axes.resolve($name, &inputs[0].shape)?;
                let shape = kernels::reduce_shape($name, &inputs[0].shape, &axes, self.keepdims)?;
                Ok(TensorSpec::new(shape, inputs[0].dtype))
            }
            fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
                let axes = self.axes.resolve($name, x[0].shape())?;
                Ok($kernel(x[0], &axes, self.keepdims, y)?)
            }
            /// A reduction of a scalar is the scalar.
            fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
                Ok(x[0])
            }
            fn vjp(&self, $g: &Graph, operands: &[NodeId], $y: NodeId, $y_bar: NodeId) -> Result<InputGrads> {
                let $x = operands[0];
                let $axes: &[usize] = &self.axes.resolve($name, &$g.spec($x)?.shape)?;
                Ok(InputGrads::one($rule))
            }
            fn label(&self) -> String {
                format!("{}({}{})", $name, self.axes.label(), if self.keepdims { ", keepdims" } else { "" })
            }
        }
    };
}

reduce_op! {
    /// `y = Σ x` over the chosen axes.
    ///
    /// VJP: `x̄ = ȳ` broadcast back over the reduced axes.
    Sum, "reduce_sum", kernels::sum,
    vjp: |g, x, _y, y_bar, axes| {
        let y_bar = keep_axes(g, y_bar, x, axes)?;
        broadcast_to_shape(g, y_bar, &g.spec(x)?.shape)?
    }
}

reduce_op! {
    /// `y = mean(x)` over the chosen axes.
    ///
    /// VJP: `x̄ = ȳ / n` broadcast back over the reduced axes, `n` the number of elements
    /// averaged.
    Mean, "reduce_mean", kernels::mean,
    vjp: |g, x, _y, y_bar, axes| {
        let shape = g.spec(x)?.shape;
        let count: usize = axes.iter().map(|&a| shape.dims()[a]).product();
        let mut y_bar = keep_axes(g, y_bar, x, axes)?;
        if count != 1 {
            // an element count is exact in f64 up to 2^53
            y_bar = g.div(y_bar, scalar_like(g, x, count as f64)?)?.id();
        }
        broadcast_to_shape(g, y_bar, &shape)?
    }
}

reduce_op! {
    /// `y = max(x)` over the chosen axes (NaN propagates; an empty axis is an error at run).
    ///
    /// VJP: `x̄ = ȳ · [x = y] / #{x = y}`: the cotangent goes to the maximal elements, shared
    /// evenly when several tie.
    Max, "reduce_max", kernels::max,
    vjp: |g, x, y, y_bar, axes| extremum_vjp(g, x, y, y_bar, axes)?
}

reduce_op! {
    /// `y = min(x)` over the chosen axes (NaN propagates; an empty axis is an error at run).
    ///
    /// VJP: `x̄ = ȳ · [x = y] / #{x = y}`: the cotangent goes to the minimal elements, shared
    /// evenly when several tie.
    Min, "reduce_min", kernels::min,
    vjp: |g, x, y, y_bar, axes| extremum_vjp(g, x, y, y_bar, axes)?
}

/// The rule of `reduce_max` and `reduce_min`: `x̄ = ȳ · [x = y] / #{x = y}`.
fn extremum_vjp<'g>(
    g: &'g Graph,
    x: NodeId,
    y: NodeId,
    y_bar: NodeId,
    axes: &[usize],
) -> Result<crate::Var<'g>> {
    let y = keep_axes(g, y, x, axes)?;
    let y_bar = keep_axes(g, y_bar, x, axes)?;
    let mask = g.eq(x, y)?;
    let ties = g.sum(mask, Axes::of(axes), true)?;
    g.mul(g.div(y_bar, ties)?, mask)
}

/// The index of the largest element along one axis (first on ties), as a float of the
/// operand's dtype. Piecewise constant: not differentiable.
///
/// VJP: none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArgMax {
    /// The axis searched (negative counts from the end).
    pub axis: isize,
    /// Keep the axis as length 1.
    pub keepdims: bool,
}

impl Op for ArgMax {
    fn name(&self) -> &str {
        "argmax"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        let axis = inputs[0].shape.axis("argmax", self.axis)?;
        let shape = kernels::reduce_shape("argmax", &inputs[0].shape, &[axis], self.keepdims)?;
        Ok(TensorSpec::new(shape, inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        let axis = x[0].shape().axis("argmax", self.axis)?;
        Ok(kernels::argmax(x[0], axis, self.keepdims, y)?)
    }
    fn vjp(&self, _: &Graph, _: &[NodeId], _: NodeId, _: NodeId) -> Result<InputGrads> {
        Ok(InputGrads::none(1))
    }
    fn label(&self) -> String {
        format!("argmax({})", self.axis)
    }
}

/// Sums the operand down to `shape`: the reverse of broadcasting `shape` up to the operand's
/// shape, which the gradient of every broadcasting op needs.
///
/// VJP: `x̄ = broadcast_to(ȳ, x.shape)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SumTo {
    /// The target shape; it must broadcast to the operand's shape.
    pub shape: Shape,
}

impl Op for SumTo {
    fn name(&self) -> &str {
        "sum_to"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        expect_arity(self, inputs, 1)?;
        if !self.shape.broadcasts_to(&inputs[0].shape) {
            return Err(adnet_tensor::TensorError::NotBroadcastable {
                op: "sum_to",
                from: inputs[0].shape.clone(),
                to: self.shape.clone(),
            }
            .into());
        }
        Ok(TensorSpec::new(self.shape.clone(), inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::sum_to(x[0], &self.shape, y)?)
    }
    /// Summing a scalar to a scalar is the identity.
    fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
        Ok(x[0])
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let shape = g.spec(x[0])?.shape;
        Ok(InputGrads::one(broadcast_to_shape(g, y_bar, &shape)?))
    }
    fn label(&self) -> String {
        format!("sum_to({})", self.shape)
    }
}

/// Checks one operand and resolves `axis` against its shape.
fn one_axis(op: &dyn Op, name: &'static str, inputs: &[&TensorSpec], axis: isize) -> Result<usize> {
    expect_arity(op, inputs, 1)?;
    if inputs[0].shape.is_scalar() {
        return Err(GraphError::InvalidArgument {
            op: name.to_string(),
            reason: "needs an operand of rank at least 1, got a scalar".to_string(),
        });
    }
    Ok(inputs[0].shape.axis(name, axis)?)
}

/// `y = e^x / Σ e^x` along one axis, computed stably (the maximum is subtracted first).
///
/// VJP: `x̄ = y · (ȳ − Σ(ȳ · y))`, the sum along the axis (kept), built from the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Softmax {
    /// The axis normalised over (negative counts from the end).
    pub axis: isize,
}

impl Op for Softmax {
    fn name(&self) -> &str {
        "softmax"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        one_axis(self, "softmax", inputs, self.axis)?;
        same_spec(self, inputs, 1)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        let axis = x[0].shape().axis("softmax", self.axis)?;
        Ok(kernels::softmax(x[0], axis, y)?)
    }
    fn vjp(&self, g: &Graph, _x: &[NodeId], y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let dot = g.sum(g.mul(y_bar, y)?, Axes::List(vec![self.axis]), true)?;
        Ok(InputGrads::one(g.mul(y, g.sub(y_bar, dot)?)?))
    }
    fn label(&self) -> String {
        format!("softmax({})", self.axis)
    }
}

/// `y = x − logsumexp(x)` along one axis, computed stably.
///
/// VJP: `x̄ = ȳ − softmax(x) · Σ ȳ`, the sum along the axis (kept), with `softmax(x) = e^y`
/// built from the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogSoftmax {
    /// The axis normalised over (negative counts from the end).
    pub axis: isize,
}

impl Op for LogSoftmax {
    fn name(&self) -> &str {
        "log_softmax"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        one_axis(self, "log_softmax", inputs, self.axis)?;
        same_spec(self, inputs, 1)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        let axis = x[0].shape().axis("log_softmax", self.axis)?;
        Ok(kernels::log_softmax(x[0], axis, y)?)
    }
    fn vjp(&self, g: &Graph, _x: &[NodeId], y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let total = g.sum(y_bar, Axes::List(vec![self.axis]), true)?;
        let softmax = g.exp(y)?;
        Ok(InputGrads::one(g.sub(y_bar, g.mul(softmax, total)?)?))
    }
    fn label(&self) -> String {
        format!("log_softmax({})", self.axis)
    }
}

/// `y = ln Σ e^x` along one axis, computed stably: `logsumexp([1e4, 1e4]) = 1e4 + ln 2`.
///
/// VJP: `x̄ = ȳ · e^(x − y)` (`= ȳ · softmax(x)`), with `y` and `ȳ` kept along the axis so
/// they broadcast against `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogSumExp {
    /// The axis reduced (negative counts from the end).
    pub axis: isize,
    /// Keep the axis as length 1.
    pub keepdims: bool,
}

impl Op for LogSumExp {
    fn name(&self) -> &str {
        "logsumexp"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        let axis = one_axis(self, "logsumexp", inputs, self.axis)?;
        let shape = kernels::reduce_shape("logsumexp", &inputs[0].shape, &[axis], self.keepdims)?;
        Ok(TensorSpec::new(shape, inputs[0].dtype))
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        let axis = x[0].shape().axis("logsumexp", self.axis)?;
        Ok(kernels::logsumexp(x[0], axis, self.keepdims, y)?)
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let x = x[0];
        let axis = [g.spec(x)?.shape.axis("logsumexp", self.axis)?];
        let y = keep_axes(g, y, x, &axis)?;
        let y_bar = keep_axes(g, y_bar, x, &axis)?;
        Ok(InputGrads::one(g.mul(y_bar, g.exp(g.sub(x, y)?)?)?))
    }
    fn label(&self) -> String {
        format!("logsumexp({})", self.axis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_vjp, check_vjp_with, eval_vjp, tensor_in, VjpCheck};
    use crate::{Graph, GraphError};
    use adnet_tensor::{DType, TensorError};
    use proptest::prelude::*;

    /// Each reduction and the softmax family, built through the graph and run by a plan, give
    /// the values NumPy gives.
    #[test]
    fn reductions_run_through_a_plan() -> Result<()> {
        let g = Graph::new();
        let x = g.param(
            "x",
            Tensor::from_vec(vec![1.0f64, 5.0, 2.0, 4.0, 3.0, 6.0], [2, 3])?,
        )?;
        let keep = |axes: Vec<isize>| Axes::List(axes);
        let cases: Vec<(crate::Var<'_>, Vec<usize>, Vec<f64>)> = vec![
            (x.sum_all(), vec![], vec![21.0]),
            (x.sum(&[0]), vec![3], vec![5.0, 8.0, 8.0]),
            (g.sum(x, keep(vec![-1]), true)?, vec![2, 1], vec![8.0, 13.0]),
            (x.mean(&[1]), vec![2], vec![8.0 / 3.0, 13.0 / 3.0]),
            (g.max(x, keep(vec![1]), false)?, vec![2], vec![5.0, 6.0]),
            (g.min(x, Axes::All, false)?, vec![], vec![1.0]),
            (g.argmax(x, -1, false)?, vec![2], vec![1.0, 2.0]),
            (g.sum_to(x, [1, 3])?, vec![1, 3], vec![5.0, 8.0, 8.0]),
        ];
        let mut plan = g.compile(cases.iter().map(|c| c.0))?;
        plan.run(&g)?;
        for (node, dims, values) in &cases {
            let out = plan.output(*node)?;
            assert_eq!(out.dims(), dims.as_slice(), "{node:?}");
            for (a, e) in out.to_f64_vec().iter().zip(values) {
                assert!((a - e).abs() < 1e-12, "{node:?}: {a} vs {e}");
            }
        }
        Ok(())
    }

    #[test]
    fn softmax_family_is_stable_through_a_plan() -> Result<()> {
        let g = Graph::new();
        let x = g.param("x", Tensor::from_vec(vec![1e4f64, 1e4, 0.0, -1e4], [2, 2])?)?;
        let lse = g.logsumexp(x, -1, false)?;
        let sm = x.softmax(-1);
        let lsm = x.log_softmax(-1);
        let mut plan = g.compile([lse, sm, lsm])?;
        plan.run(&g)?;
        let lse = plan.output(lse)?.to_f64_vec();
        assert!((lse[0] - (1e4 + 2f64.ln())).abs() < 1e-9);
        assert!(lse[1].abs() < 1e-12);
        assert_eq!(plan.output(sm)?.to_f64_vec(), vec![0.5, 0.5, 1.0, 0.0]);
        let lsm = plan.output(lsm)?.to_f64_vec();
        assert!((lsm[0] + 2f64.ln()).abs() < 1e-12 && lsm[2] == 0.0 && lsm[3] == -1e4);
        Ok(())
    }

    #[test]
    fn reductions_check_axes_when_built() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [2, 3], DType::F32)?;
        let before = g.len();
        assert!(matches!(
            x.try_sum(&[-3]),
            Err(GraphError::Tensor(TensorError::AxisOutOfRange {
                axis: -3,
                rank: 2,
                ..
            }))
        ));
        assert!(matches!(
            g.argmax(x, 2, false),
            Err(GraphError::Tensor(TensorError::AxisOutOfRange { .. }))
        ));
        assert!(matches!(
            g.sum_to(x, [4]),
            Err(GraphError::Tensor(TensorError::NotBroadcastable { .. }))
        ));
        assert!(matches!(
            g.logsumexp(x, 5, false),
            Err(GraphError::Tensor(TensorError::AxisOutOfRange { .. }))
        ));
        assert_eq!(g.len(), before);
        assert_eq!(
            Sum {
                axes: Axes::List(vec![0]),
                keepdims: true
            }
            .label(),
            "reduce_sum([0], keepdims)"
        );
        Ok(())
    }

    /// Which axes of a rank-3 operand to reduce: all of them, or a random subset (possibly
    /// empty), each axis spelled positive or negative.
    fn axes() -> impl Strategy<Value = Axes> {
        prop_oneof![
            Just(Axes::All),
            (proptest::collection::vec(any::<bool>(), 3), any::<bool>()).prop_map(
                |(pick, negative)| {
                    Axes::List(
                        (0..3isize)
                            .filter(|&a| pick[a as usize])
                            .map(|a| if negative { a - 3 } else { a })
                            .collect(),
                    )
                }
            ),
        ]
    }

    /// Whether every two elements of `x` are more than 1e-3 apart (no tie near).
    fn distinct(x: &Tensor) -> bool {
        let v = x.to_f64_vec();
        v.iter()
            .enumerate()
            .all(|(i, a)| v[i + 1..].iter().all(|b| (a - b).abs() > 1e-3))
    }

    proptest! {
        #[test]
        fn sum_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axes in axes(), keepdims in any::<bool>(), seed in any::<u64>(),
        ) {
            check_vjp_with(&Sum { axes, keepdims }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn mean_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axes in axes(), keepdims in any::<bool>(), seed in any::<u64>(),
        ) {
            check_vjp_with(&Mean { axes, keepdims }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn max_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axes in axes(), keepdims in any::<bool>(), seed in any::<u64>(),
        ) {
            prop_assume!(distinct(&x));
            check_vjp_with(&Max { axes, keepdims }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn min_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axes in axes(), keepdims in any::<bool>(), seed in any::<u64>(),
        ) {
            prop_assume!(distinct(&x));
            check_vjp_with(&Min { axes, keepdims }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn argmax_has_no_gradient(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axis in -3isize..3, keepdims in any::<bool>(), seed in any::<u64>(),
        ) {
            prop_assume!(distinct(&x));
            check_vjp_with(&ArgMax { axis, keepdims }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn sum_to_vjp_matches_finite_differences(
            x in tensor_in([2, 3], -5.0, 5.0),
            shape in prop_oneof![
                Just(Shape::from([2, 3])), Just(Shape::from([3])), Just(Shape::from([1, 3])),
                Just(Shape::from([2, 1])), Just(Shape::from([1])), Just(Shape::scalar()),
            ],
            seed in any::<u64>(),
        ) {
            check_vjp_with(&SumTo { shape }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn softmax_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axis in -3isize..3, seed in any::<u64>(),
        ) {
            check_vjp_with(&Softmax { axis }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn log_softmax_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axis in -3isize..3, seed in any::<u64>(),
        ) {
            check_vjp_with(&LogSoftmax { axis }, &[x], &VjpCheck::seeded(seed))?;
        }

        #[test]
        fn logsumexp_vjp_matches_finite_differences(
            x in tensor_in([2, 3, 4], -5.0, 5.0), axis in -3isize..3, keepdims in any::<bool>(), seed in any::<u64>(),
        ) {
            check_vjp_with(&LogSumExp { axis, keepdims }, &[x], &VjpCheck::seeded(seed))?;
        }
    }

    #[test]
    fn reductions_of_scalars_and_vectors_check() -> Result<()> {
        for keepdims in [false, true] {
            check_vjp(
                &Sum {
                    axes: Axes::All,
                    keepdims,
                },
                &[1.5],
            )?;
            check_vjp(
                &Mean {
                    axes: Axes::All,
                    keepdims,
                },
                &[1.5],
            )?;
            check_vjp(
                &Max {
                    axes: Axes::All,
                    keepdims,
                },
                &[1.5],
            )?;
            let v = Tensor::from_vec(vec![0.3f64, -1.0, 2.0], [3])?;
            check_vjp(&Softmax { axis: 0 }, &[&v])?;
            check_vjp(&LogSumExp { axis: 0, keepdims }, &[v])?;
        }
        Ok(())
    }

    #[test]
    fn sum_of_a_scalar_passes_the_cotangent_through() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_param("x", 2.0)?;
        let y = x.sum_all();
        let y_bar = g.scalar(1.0);
        let x_bar = Sum {
            axes: Axes::All,
            keepdims: false,
        }
        .vjp(&g, &[x.id()], y.id(), y_bar.id())?;
        assert_eq!(x_bar, InputGrads::one(y_bar), "no node for a scalar");
        Ok(())
    }

    #[test]
    fn max_and_min_reductions_split_ties_evenly() -> Result<()> {
        let x = Tensor::from_vec(vec![1.0f64, 3.0, 3.0, 0.0, 2.0, 0.0], [2, 3])?;
        let max = Max {
            axes: Axes::List(vec![1]),
            keepdims: false,
        };
        let y_bar = Tensor::from_vec(vec![1.0f64, 4.0], [2])?;
        assert_eq!(
            eval_vjp(&max, &[&x], y_bar.clone())?,
            vec![Some(vec![0.0, 0.5, 0.5, 0.0, 4.0, 0.0])]
        );
        let min = Min {
            axes: Axes::List(vec![1]),
            keepdims: false,
        };
        assert_eq!(
            eval_vjp(&min, &[&x], y_bar)?,
            vec![Some(vec![1.0, 0.0, 0.0, 2.0, 0.0, 2.0])]
        );
        let all = Max {
            axes: Axes::All,
            keepdims: true,
        };
        let three = Tensor::from_vec(vec![3.0f64], [1, 1])?;
        assert_eq!(
            eval_vjp(&all, &[x], three)?,
            vec![Some(vec![0.0, 1.5, 1.5, 0.0, 0.0, 0.0])]
        );
        Ok(())
    }

    #[test]
    fn logsumexp_vjp_is_stable_at_large_inputs() -> Result<()> {
        let x = Tensor::from_vec(vec![1e4f64, 1e4], [2])?;
        let grads = eval_vjp(
            &LogSumExp {
                axis: 0,
                keepdims: false,
            },
            &[&x],
            1.0,
        )?;
        // x − y = −ln 2 is computed from two numbers near 1e4, so good to about ulp(1e4)
        for g in grads[0].as_ref().expect("a gradient flows") {
            assert!(adnet_tensor::testing::close(*g, 0.5, 1e-12), "{g}");
        }
        let grads = eval_vjp(
            &Softmax { axis: 0 },
            &[&x],
            Tensor::from_vec(vec![1.0f64, 0.0], [2])?,
        )?;
        assert_eq!(grads, vec![Some(vec![0.25, -0.25])]);
        let grads = eval_vjp(
            &LogSoftmax { axis: 0 },
            &[x],
            Tensor::from_vec(vec![1.0f64, 0.0], [2])?,
        )?;
        assert_eq!(grads, vec![Some(vec![0.5, -0.5])]);
        Ok(())
    }
}
