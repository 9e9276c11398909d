//! Reverse mode as a graph transformation: [`vjp`] and [`grad`] add the derivative's nodes to
//! the graph and return them, so they can be evaluated, exported, and differentiated again.

use adnet_graph::{Graph, GraphError, IntoNode, NodeId, NodeKind, Var};

use crate::{AutodiffError, Result};

/// The gradient of a one-element node `y` with respect to each node of `wrt`, as new nodes of
/// the same graph (each of its `wrt` node's shape).
///
/// Only nodes on a path from some `wrt` node to `y` are visited; a node used several times
/// accumulates its cotangents; a `wrt` node that `y` does not depend on gets an explicit zero of
/// its shape. The new nodes are simplified (no multiplications by a constant one, no additions
/// of a constant zero). Apply `grad` to its own results for higher derivatives.
///
/// # Errors
/// [`AutodiffError::NotScalar`] when `y` has more than one element (use [`vjp`] with a
/// cotangent), [`AutodiffError::NoDerivative`] naming the node whose op has no rule of the
/// needed order.
///
/// # Cost
/// Linear in the number of nodes between `wrt` and `y`; no recursion.
///
/// # Examples
/// ```
/// use adnet_autodiff::grad;
/// use adnet_graph::Graph;
/// let mut g = Graph::new();
/// let x = g.scalar_input("x")?;
/// let y = x * x * x;
/// let dy = grad(&g, y, &[x])?[0];
/// let d2y = grad(&g, dy, &[x])?[0];
/// assert_eq!(g.eval(dy, &[("x", 2.0)])?, 12.0);
/// assert_eq!(g.eval(d2y, &[("x", 2.0)])?, 12.0);
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn grad<'g, I: IntoNode + Copy>(
    g: &'g Graph,
    y: impl IntoNode,
    wrt: &[I],
) -> Result<Vec<Var<'g>>> {
    let y = g.var(y)?;
    let spec = y.spec();
    if spec.shape.numel() != 1 {
        return Err(AutodiffError::NotScalar {
            node: y.id(),
            shape: spec.shape,
        });
    }
    let one = g.constant(adnet_tensor::Tensor::full(
        spec.shape.clone(),
        1.0,
        spec.dtype,
    ));
    vjp(g, y, wrt, one)
}

/// The vector-Jacobian product: given a cotangent `y_bar` of `y`'s shape, the nodes
/// `ȳ · ∂y/∂w` for each `w` in `wrt` (each of `w`'s shape). [`grad`] is `vjp` with a cotangent
/// of one.
///
/// # Errors
/// [`AutodiffError::SpecMismatch`] when `y_bar`'s shape or dtype differs from `y`'s, and the
/// errors of [`grad`].
pub fn vjp<'g, I: IntoNode + Copy>(
    g: &'g Graph,
    y: impl IntoNode,
    wrt: &[I],
    y_bar: impl IntoNode,
) -> Result<Vec<Var<'g>>> {
    let y = y.node_in(g)?;
    let y_bar = y_bar.node_in(g)?;
    let wrt = wrt
        .iter()
        .map(|w| w.node_in(g))
        .collect::<adnet_graph::Result<Vec<NodeId>>>()?;
    let (y_spec, bar_spec) = (g.spec(y)?, g.spec(y_bar)?);
    if y_spec != bar_spec {
        return Err(AutodiffError::SpecMismatch {
            what: "cotangent",
            node: y,
            expected: y_spec.to_string(),
            actual: bar_spec.to_string(),
        });
    }
    let first_new = g.len();
    let order = g.topological_order([y])?;

    // Which nodes depend on some `wrt` node: only those carry cotangents.
    let mut depends = vec![false; g.len()];
    for &w in &wrt {
        depends[w.index()] = true;
    }
    let mut operands_of = Vec::with_capacity(order.len());
    for &node in &order {
        let kind = g.kind(node)?;
        if let NodeKind::Op { inputs, .. } = &kind {
            if inputs.iter().any(|i| depends[i.index()]) {
                depends[node.index()] = true;
            }
        }
        operands_of.push(kind);
    }

    let mut cotangent: Vec<Option<NodeId>> = vec![None; g.len()];
    cotangent[y.index()] = Some(y_bar);
    for (&node, kind) in order.iter().zip(&operands_of).rev() {
        let NodeKind::Op { op, inputs } = kind else {
            continue;
        };
        if !depends[node.index()] {
            continue;
        }
        let Some(node_bar) = cotangent[node.index()] else {
            continue;
        };
        let grads = op.vjp(g, inputs, node, node_bar).map_err(|e| match e {
            GraphError::NoDerivative { op, order } => {
                AutodiffError::NoDerivative { node, op, order }
            }
            other => AutodiffError::Graph(other),
        })?;
        if grads.0.len() != inputs.len() {
            return Err(AutodiffError::BadRule {
                node,
                op: op.name().to_string(),
                reason: format!("{} cotangents for {} operands", grads.0.len(), inputs.len()),
            });
        }
        for (&input, input_bar) in inputs.iter().zip(grads.0) {
            let Some(input_bar) = input_bar else { continue };
            if !depends[input.index()] {
                continue;
            }
            let (want, got) = (g.spec(input)?, g.spec(input_bar)?);
            if want != got {
                return Err(AutodiffError::BadRule {
                    node,
                    op: op.name().to_string(),
                    reason: format!("the cotangent of operand {input} is {got}, expected {want}"),
                });
            }
            cotangent[input.index()] = Some(match cotangent[input.index()] {
                None => input_bar,
                Some(sum) => g.add(sum, input_bar)?.id(),
            });
        }
    }

    let mut results = Vec::with_capacity(wrt.len());
    for &w in &wrt {
        results.push(match cotangent.get(w.index()).copied().flatten() {
            Some(bar) => bar,
            None => {
                let spec = g.spec(w)?;
                g.constant(adnet_tensor::Tensor::zeros(spec.shape, spec.dtype))
                    .id()
            }
        });
    }
    let folded = g.fold_identities(first_new);
    results
        .into_iter()
        .map(|r| Ok(g.var(folded.resolve(r))?))
        .collect()
}
