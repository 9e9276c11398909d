//! Forward mode and second-order products, derived from the reverse-mode rules.
//!
//! [`jvp`] transposes the VJP: the VJP is linear in its cotangent `u`, so
//! `s(u) = Σᵢ ⟨vjp(u)ᵢ, vᵢ⟩ = ⟨u, J·v⟩` and `∂s/∂u = J·v`. No second set of rules exists.

use adnet_graph::{Graph, IntoNode, NodeId, Var};
use adnet_tensor::Tensor;

use crate::{grad, vjp, AutodiffError, Result};

/// `Σᵢ sum(aᵢ · bᵢ)`, the inner product of two lists of equally shaped nodes, as a scalar node.
fn inner<'g>(a: &[Var<'g>], b: &[NodeId]) -> Result<Option<Var<'g>>> {
    let mut total: Option<Var<'g>> = None;
    for (&x, &y) in a.iter().zip(b) {
        let term = x.try_mul(y)?.sum_all();
        total = Some(match total {
            None => term,
            Some(t) => t.try_add(term)?,
        });
    }
    Ok(total)
}

/// Checks that each tangent has its node's shape and dtype.
fn check_tangents(
    g: &Graph,
    wrt: &[NodeId],
    tangents: &[NodeId],
    what: &'static str,
) -> Result<()> {
    if wrt.len() != tangents.len() {
        return Err(AutodiffError::Arity {
            what: "tangents (one per wrt node)",
            expected: wrt.len(),
            actual: tangents.len(),
        });
    }
    for (&w, &v) in wrt.iter().zip(tangents) {
        let (want, got) = (g.spec(w)?, g.spec(v)?);
        if want != got {
            return Err(AutodiffError::SpecMismatch {
                what,
                node: w,
                expected: want.to_string(),
                actual: got.to_string(),
            });
        }
    }
    Ok(())
}

fn ids<I: IntoNode + Copy>(g: &Graph, nodes: &[I]) -> Result<Vec<NodeId>> {
    Ok(nodes
        .iter()
        .map(|n| n.node_in(g))
        .collect::<adnet_graph::Result<Vec<NodeId>>>()?)
}

/// The Jacobian-vector product `J·v = Σᵢ ∂y/∂wrtᵢ · tangentᵢ`, a node of `y`'s shape: forward
/// mode, obtained by transposing the VJP.
///
/// # Errors
/// [`AutodiffError::Arity`] unless there is one tangent per `wrt` node,
/// [`AutodiffError::SpecMismatch`] for a tangent whose shape or dtype differs from its node's,
/// and the errors of [`vjp`].
///
/// # Examples
/// ```
/// use adnet_autodiff::jvp;
/// use adnet_graph::Graph;
/// let g = Graph::new();
/// let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
/// let f = x * y.sin();
/// let (vx, vy) = (g.scalar(1.0), g.scalar(2.0));
/// let df = jvp(&g, f, &[x, y], &[vx, vy])?; // ∂f/∂x·1 + ∂f/∂y·2
/// let at = [("x", 3.0), ("y", 0.5)];
/// assert!((g.eval(df, &at)? - (0.5f64.sin() + 2.0 * 3.0 * 0.5f64.cos())).abs() < 1e-12);
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn jvp<'g, I: IntoNode + Copy, J: IntoNode + Copy>(
    g: &'g Graph,
    y: impl IntoNode,
    wrt: &[I],
    tangents: &[J],
) -> Result<Var<'g>> {
    let y = g.var(y)?;
    let (wrt, tangents) = (ids(g, wrt)?, ids(g, tangents)?);
    check_tangents(g, &wrt, &tangents, "tangent")?;
    let spec = y.spec();
    // The dummy cotangent: any value works (the result does not depend on it), but not 0 or 1,
    // which simplification would fold away along with the dependence on it.
    let u = g.constant(Tensor::full(spec.shape.clone(), 0.5, spec.dtype));
    let u_bars = vjp(g, y, &wrt, u)?;
    match inner(&u_bars, &tangents)? {
        Some(s) => Ok(grad(g, s, &[u])?[0]),
        None => Ok(g.constant(Tensor::zeros(spec.shape, spec.dtype))),
    }
}

/// The Hessian-vector product `H·v` of a one-element `y`: for each `wrt` node, the node
/// `Σⱼ ∂²y/∂wrtᵢ∂wrtⱼ · vⱼ` (reverse over reverse: the gradient of `⟨∇y, v⟩`).
///
/// # Errors
/// As [`jvp`] and [`grad`].
///
/// # Examples
/// ```
/// use adnet_autodiff::hvp;
/// use adnet_graph::Graph;
/// let g = Graph::new();
/// let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
/// let f = x * x * y; // H = [[2y, 2x], [2x, 0]]
/// let (vx, vy) = (g.scalar(1.0), g.scalar(1.0));
/// let hv = hvp(&g, f, &[x, y], &[vx, vy])?;
/// let at = [("x", 3.0), ("y", 5.0)];
/// assert_eq!(g.eval(hv[0], &at)?, 2.0 * 5.0 + 2.0 * 3.0);
/// assert_eq!(g.eval(hv[1], &at)?, 2.0 * 3.0);
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn hvp<'g, I: IntoNode + Copy, J: IntoNode + Copy>(
    g: &'g Graph,
    y: impl IntoNode,
    wrt: &[I],
    v: &[J],
) -> Result<Vec<Var<'g>>> {
    let (wrt, v) = (ids(g, wrt)?, ids(g, v)?);
    check_tangents(g, &wrt, &v, "tangent")?;
    let gradient = grad(g, y, &wrt)?;
    match inner(&gradient, &v)? {
        Some(s) => grad(g, s, &wrt),
        None => Ok(Vec::new()),
    }
}
