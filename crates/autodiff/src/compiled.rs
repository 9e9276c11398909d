//! [`value_and_grad`]: the value and gradient compiled once into one plan, run every step.

use adnet_graph::{Graph, IntoNode, NodeId, Plan};
use adnet_tensor::Tensor;

use crate::{grad, Result};

/// A compiled value-and-gradient computation: one [`Plan`] whose outputs are `y` and the
/// gradient of `y` with respect to each `wrt` node. Set inputs through [`ValueAndGrad::plan`],
/// call [`ValueAndGrad::run`], read [`ValueAndGrad::value`] and [`ValueAndGrad::grad`].
#[derive(Debug)]
pub struct ValueAndGrad {
    plan: Plan,
    value: NodeId,
    grads: Vec<NodeId>,
}

/// Builds the gradient of a one-element `y` with respect to `wrt` and compiles value and
/// gradients into one plan (training compiles this once and runs it every step).
///
/// # Errors
/// As [`grad`] and [`Graph::compile`].
///
/// # Examples
/// ```
/// use adnet_autodiff::value_and_grad;
/// use adnet_graph::Graph;
/// let g = Graph::new();
/// let x = g.scalar_input("x")?;
/// let w = g.scalar_param("w", 3.0)?;
/// let loss = (w * x - 1.0).square();
/// let mut step = value_and_grad(&g, loss, &[w])?;
/// step.plan().set_scalar(x, 2.0)?;
/// step.run(&g)?;
/// assert_eq!(step.value()?, 25.0);
/// assert_eq!(step.grad(0).to_scalar()?, 2.0 * 5.0 * 2.0);
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn value_and_grad<I: IntoNode + Copy>(
    g: &Graph,
    y: impl IntoNode,
    wrt: &[I],
) -> Result<ValueAndGrad> {
    let value = y.node_in(g)?;
    let grads: Vec<NodeId> = grad(g, value, wrt)?.into_iter().map(|v| v.id()).collect();
    let plan = g.compile(std::iter::once(value).chain(grads.iter().copied()))?;
    Ok(ValueAndGrad { plan, value, grads })
}

impl ValueAndGrad {
    /// The compiled plan, to set inputs on.
    pub fn plan(&mut self) -> &mut Plan {
        &mut self.plan
    }

    /// Runs value and gradients with the graph's current parameters.
    ///
    /// # Errors
    /// As [`Plan::run`].
    pub fn run(&mut self, g: &Graph) -> Result<()> {
        Ok(self.plan.run(g)?)
    }

    /// The value of `y` after a run.
    ///
    /// # Errors
    /// Never for a plan built by [`value_and_grad`]; kept fallible like [`Plan::scalar`].
    pub fn value(&self) -> Result<f64> {
        Ok(self.plan.scalar(self.value)?)
    }

    /// The gradient with respect to the `k`-th `wrt` node after a run.
    ///
    /// # Panics
    /// When `k` is not below the number of `wrt` nodes.
    pub fn grad(&self, k: usize) -> &Tensor {
        self.plan.output_at(k + 1)
    }

    /// The gradient nodes, in `wrt` order.
    pub fn grad_nodes(&self) -> &[NodeId] {
        &self.grads
    }
}
