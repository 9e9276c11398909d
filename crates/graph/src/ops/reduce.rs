//! Reductions (sum, mean, max, min, argmax), `sum_to`, and the softmax family.

use adnet_tensor::kernels;
use adnet_tensor::{Shape, Tensor};
use smallvec::SmallVec;

use super::same_spec;
use crate::op::expect_arity;
use crate::{GraphError, Op, Result, TensorSpec};

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
}

/// Defines a reduction over chosen axes from its kernel.
macro_rules! reduce_op {
    ($(#[$doc:meta])* $op:ident, $name:literal, $kernel:path) => {
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
            fn label(&self) -> String {
                format!("{}({}{})", $name, self.axes.label(), if self.keepdims { ", keepdims" } else { "" })
            }
        }
    };
}

reduce_op! {
    /// `y = Σ x` over the chosen axes.
    Sum, "reduce_sum", kernels::sum
}

reduce_op! {
    /// `y = mean(x)` over the chosen axes.
    Mean, "reduce_mean", kernels::mean
}

reduce_op! {
    /// `y = max(x)` over the chosen axes (NaN propagates; an empty axis is an error at run).
    Max, "reduce_max", kernels::max
}

reduce_op! {
    /// `y = min(x)` over the chosen axes (NaN propagates; an empty axis is an error at run).
    Min, "reduce_min", kernels::min
}

/// The index of the largest element along one axis (first on ties), as a float of the
/// operand's dtype. Piecewise constant: not differentiable.
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
    fn label(&self) -> String {
        format!("argmax({})", self.axis)
    }
}

/// Sums the operand down to `shape`: the reverse of broadcasting `shape` up to the operand's
/// shape, which the gradient of every broadcasting op needs.
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
    fn label(&self) -> String {
        format!("softmax({})", self.axis)
    }
}

/// `y = x − logsumexp(x)` along one axis, computed stably.
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
    fn label(&self) -> String {
        format!("log_softmax({})", self.axis)
    }
}

/// `y = ln Σ e^x` along one axis, computed stably: `logsumexp([1e4, 1e4]) = 1e4 + ln 2`.
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
    fn label(&self) -> String {
        format!("logsumexp({})", self.axis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Graph, GraphError};
    use adnet_tensor::{DType, TensorError};

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
}
