//! User-defined elementwise functions from plain closures, differentiable to the order given.
//!
//! A [`ScalarFunction`] is `f` plus, optionally, its derivative as another `ScalarFunction`,
//! chained as deep as the user likes (`f`, `f'`, `f''`, ...). The node computing the `k`-th
//! function differentiates to the `k+1`-th; asking for a derivative beyond the last one given
//! is an error naming the function and the order, never a silent zero.

use std::fmt;
use std::sync::Arc;

use adnet_tensor::{kernels, Tensor};

use super::same_spec;
use crate::{Graph, GraphError, InputGrads, IntoNode, NodeId, Op, Result, TensorSpec, Var};

type Function = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// An elementwise scalar function and, optionally, its derivatives.
///
/// # Examples
/// ```
/// use adnet_graph::{ops::ScalarFunction, Graph};
/// // softplus written by hand, with its derivative sigmoid and sigmoid's derivative
/// let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
/// let f = ScalarFunction::new("my_softplus", |x: f64| x.exp().ln_1p())
///     .with_derivative(
///         ScalarFunction::new("my_sigmoid", sigmoid)
///             .with_derivative(ScalarFunction::new("my_sigmoid'", move |x| sigmoid(x) * (1.0 - sigmoid(x)))),
///     );
/// let g = Graph::new();
/// let x = g.scalar_input("x")?;
/// let y = g.map(x, &f)?;
/// assert!((g.eval(y, &[("x", 0.0)])? - 2f64.ln()).abs() < 1e-15);
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
#[derive(Clone)]
pub struct ScalarFunction {
    chain: Vec<(String, Function)>,
}

impl fmt::Debug for ScalarFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.chain.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ScalarFunction")
            .field("chain", &names)
            .finish()
    }
}

impl ScalarFunction {
    /// A function with no derivative given (differentiating it is an error).
    pub fn new(name: impl Into<String>, f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> Self {
        ScalarFunction {
            chain: vec![(name.into(), Arc::new(f))],
        }
    }

    /// Gives the derivative (itself a `ScalarFunction`, which may carry its own derivative).
    /// Replaces any derivative given before.
    pub fn with_derivative(mut self, derivative: ScalarFunction) -> Self {
        self.chain.truncate(1);
        self.chain.extend(derivative.chain);
        self
    }

    /// How many derivatives are given.
    pub fn derivatives(&self) -> usize {
        self.chain.len() - 1
    }
}

/// The node op for the `order`-th function of a [`ScalarFunction`]'s chain (0 = `f` itself).
///
/// VJP: `x̄ = ȳ · f⁽ᵏ⁺¹⁾(x)`, a node of the next function in the chain.
#[derive(Clone)]
pub struct ElementwiseFn {
    chain: Arc<[(String, Function)]>,
    order: usize,
}

impl fmt::Debug for ElementwiseFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ElementwiseFn({})", self.chain[self.order].0)
    }
}

impl Op for ElementwiseFn {
    fn name(&self) -> &str {
        &self.chain[self.order].0
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> Result<TensorSpec> {
        same_spec(self, inputs, 1)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> Result<()> {
        Ok(kernels::map_f64(
            x[0],
            self.chain[self.order].1.as_ref(),
            y,
        )?)
    }
    fn eval_scalar(&self, x: &[f64]) -> Result<f64> {
        Ok((self.chain[self.order].1)(x[0]))
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], _y: NodeId, y_bar: NodeId) -> Result<InputGrads> {
        let next = self.order + 1;
        if next >= self.chain.len() {
            return Err(GraphError::NoDerivative {
                op: self.chain[0].0.clone(),
                order: next,
            });
        }
        let derivative = ElementwiseFn {
            chain: self.chain.clone(),
            order: next,
        };
        let dy_dx = g.apply(derivative, [x[0]])?;
        Ok(InputGrads::one(g.mul(y_bar, dy_dx)?))
    }
}

impl Graph {
    /// Adds `f(x)` elementwise for a user-defined [`ScalarFunction`].
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`] when `x` is not in this graph.
    pub fn map(&self, x: impl IntoNode, f: &ScalarFunction) -> Result<Var<'_>> {
        let op = ElementwiseFn {
            chain: f.chain.clone().into(),
            order: 0,
        };
        self.apply(op, [x.node_in(self)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeKind;

    #[test]
    fn derivative_beyond_the_chain_is_an_error_naming_the_order() -> Result<()> {
        let f = ScalarFunction::new("cube", |x: f64| x * x * x)
            .with_derivative(ScalarFunction::new("3x²", |x: f64| 3.0 * x * x));
        assert_eq!(f.derivatives(), 1);
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let y = g.map(x, &f)?;
        let one = g.scalar(1.0);
        let NodeKind::Op { op, inputs } = g.kind(y)? else {
            unreachable!("y is an op")
        };
        let first = op.vjp(&g, &inputs, y.id(), one.id())?;
        let dy = first.0[0].expect("first derivative given");
        assert_eq!(g.eval(dy, &[("x", 2.0)])?, 12.0);
        // the derivative node is 1·f'(x); differentiate f' itself: no f'' was given
        let derivative = g.operands(dy)?[1];
        let NodeKind::Op { op, inputs } = g.kind(derivative)? else {
            unreachable!("an op")
        };
        assert_eq!(op.name(), "3x²");
        assert_eq!(
            op.vjp(&g, &inputs, derivative, one.id()).unwrap_err(),
            GraphError::NoDerivative {
                op: "cube".into(),
                order: 2
            }
        );
        Ok(())
    }

    #[test]
    fn closures_run_on_both_paths_and_dtypes() -> Result<()> {
        let f = ScalarFunction::new("half", |x: f64| x / 2.0);
        let g = Graph::new();
        let x = g.input("x", [3], adnet_tensor::DType::F32)?;
        let y = g.map(x, &f)?;
        let out = g.eval_tensor(y, &[("x", &Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3])?)])?;
        assert_eq!(out.to_f64_vec(), vec![0.5, 1.0, 1.5]);
        let s = g.scalar_input("s")?;
        assert_eq!(g.eval(g.map(s, &f)?, &[("s", 5.0)])?, 2.5);
        Ok(())
    }
}
