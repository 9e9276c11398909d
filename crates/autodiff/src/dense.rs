//! Dense Jacobians and Hessians, built from [`vjp`](crate::vjp) and [`jvp`](crate::jvp)
//! passes: as nodes, so they too can be evaluated and differentiated again.

use adnet_graph::{Graph, IntoNode, NodeId, Var};
use adnet_tensor::{Shape, Tensor};

use crate::{grad, vjp, Result};

/// A constant of `shape` that is 1 at flat position `index` and 0 elsewhere.
fn one_hot<'g>(g: &'g Graph, shape: &Shape, dtype: adnet_tensor::DType, index: usize) -> Var<'g> {
    let mut values = vec![0.0; shape.numel()];
    values[index] = 1.0;
    g.constant(Tensor::from_f64s(&values, shape.clone(), dtype).expect("one value per element"))
}

/// Concatenates pieces along `axis`, skipping the op for a single piece.
fn join<'g>(g: &'g Graph, pieces: Vec<Var<'g>>, axis: isize) -> Result<Var<'g>> {
    if pieces.len() == 1 {
        return Ok(pieces[0]);
    }
    Ok(g.concat(pieces, axis)?)
}

/// The Jacobian `∂y/∂x` as a node of shape `y.shape ++ x.shape`. It takes one reverse pass per
/// element of `y` or one forward pass per element of `x`, whichever is fewer.
///
/// # Errors
/// As [`vjp`] and [`jvp`](crate::jvp).
///
/// # Examples
/// ```
/// use adnet_autodiff::jacobian;
/// use adnet_graph::Graph;
/// use adnet_tensor::{DType, Tensor};
/// let g = Graph::new();
/// let x = g.input("x", [2], DType::F64)?;
/// let y = x * x; // diagonal Jacobian 2x
/// let j = jacobian(&g, y, x)?;
/// let value = g.eval_tensor(j, &[("x", &Tensor::from_vec(vec![3.0, 4.0], [2])?)])?;
/// assert_eq!(value.to_f64_vec(), vec![6.0, 0.0, 0.0, 8.0]);
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn jacobian<'g>(g: &'g Graph, y: impl IntoNode, x: impl IntoNode) -> Result<Var<'g>> {
    let (y, x) = (g.var(y)?, g.var(x)?);
    let dims: Vec<usize> = y
        .shape()
        .dims()
        .iter()
        .chain(x.shape().dims())
        .copied()
        .collect();
    Ok(jacobian_flat(g, y, &[x])?.try_reshape(dims)?)
}

/// The Jacobian of `y`, flattened, with respect to all elements of the `wrt` nodes, flattened
/// in order: a node of shape `[m, n]`, `m` the element count of `y` and `n` the total element
/// count of `wrt` (row `i` is the gradient of `y`'s element `i`). This is the Jacobian that
/// Gauss-Newton and Levenberg-Marquardt need: `y` a residual vector, `wrt` every parameter.
///
/// It takes the fewer passes: `m` reverse passes (one per row, each giving the whole row), or
/// `n` forward passes (one per column). The forward passes share one reverse pass with a
/// placeholder cotangent `u` and transpose it: column `j` is `∂(ū_j)/∂u`, where `ū` is the
/// flattened VJP, linear in `u`. All of it is graph nodes: compile them once, run them as often
/// as the parameters change.
///
/// # Errors
/// As [`vjp`] and [`grad`].
///
/// # Examples
/// ```
/// use adnet_autodiff::jacobian_flat;
/// use adnet_tensor::Tensor;
/// use adnet_graph::Graph;
/// let g = Graph::new();
/// let (a, b) = (g.scalar_input("a")?, g.scalar_input("b")?);
/// let r = g.concat([(a * b).try_reshape([1])?, (a + b).try_reshape([1])?], 0)?;
/// let j = jacobian_flat(&g, r, &[a, b])?; // [[b, a], [1, 1]]
/// let value = g.eval_tensor(j, &[("a", &Tensor::scalar(2.0)), ("b", &Tensor::scalar(3.0))])?;
/// assert_eq!(value.to_f64_vec(), vec![3.0, 2.0, 1.0, 1.0]);
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn jacobian_flat<'g, I: IntoNode + Copy>(
    g: &'g Graph,
    y: impl IntoNode,
    wrt: &[I],
) -> Result<Var<'g>> {
    let y = g.var(y)?;
    let wrt = wrt
        .iter()
        .map(|w| w.node_in(g))
        .collect::<adnet_graph::Result<Vec<NodeId>>>()?;
    let y_spec = y.spec();
    let m = y_spec.shape.numel();
    let sizes = wrt
        .iter()
        .map(|&w| Ok(g.spec(w)?.shape.numel()))
        .collect::<Result<Vec<usize>>>()?;
    let n: usize = sizes.iter().sum();
    if m <= n {
        let mut rows = Vec::with_capacity(m);
        for i in 0..m {
            let e = one_hot(g, &y_spec.shape, y_spec.dtype, i);
            let pieces = vjp(g, y, &wrt, e)?
                .into_iter()
                .zip(&sizes)
                .map(|(v, &size)| v.try_reshape([size]))
                .collect::<adnet_graph::Result<Vec<_>>>()?;
            rows.push(join(g, pieces, 0)?.try_reshape([1, n])?);
        }
        join(g, rows, 0)
    } else {
        // Any cotangent works but 0 or 1, which folding would remove with the dependence on u.
        let u = g.constant(Tensor::full(y_spec.shape.clone(), 0.5, y_spec.dtype));
        let u_bars = vjp(g, y, &wrt, u)?;
        let mut columns = Vec::with_capacity(n);
        for (u_bar, &size) in u_bars.iter().zip(&sizes) {
            let spec = u_bar.spec();
            for j in 0..size {
                let e = one_hot(g, &spec.shape, spec.dtype, j);
                let picked = u_bar.try_mul(e)?.sum_all();
                columns.push(grad(g, picked, &[u])?[0].try_reshape([m, 1])?);
            }
        }
        join(g, columns, 1)
    }
}

/// The dense Hessian of a one-element `y` over all elements of the `wrt` nodes, flattened in
/// order: a node of shape `[n, n]` with `n` the total element count.
///
/// # Errors
/// As [`grad`] and [`jacobian`].
///
/// # Examples
/// ```
/// use adnet_autodiff::hessian;
/// use adnet_graph::Graph;
/// use adnet_tensor::Tensor;
/// let g = Graph::new();
/// let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
/// let f = x * x * y;
/// let h = hessian(&g, f, &[x, y])?;
/// let at = [("x", &Tensor::scalar(3.0)), ("y", &Tensor::scalar(5.0))];
/// let value = g.eval_tensor(h, &at)?;
/// assert_eq!(value.to_f64_vec(), vec![10.0, 6.0, 6.0, 0.0]);
/// # Ok::<(), adnet_autodiff::AutodiffError>(())
/// ```
pub fn hessian<'g, I: IntoNode + Copy>(
    g: &'g Graph,
    y: impl IntoNode,
    wrt: &[I],
) -> Result<Var<'g>> {
    let wrt = wrt
        .iter()
        .map(|w| w.node_in(g))
        .collect::<adnet_graph::Result<Vec<NodeId>>>()?;
    let gradient = grad(g, y, &wrt)?;
    let flat = join(
        g,
        gradient
            .iter()
            .map(|v| v.try_reshape([v.shape().numel()]))
            .collect::<adnet_graph::Result<Vec<_>>>()?,
        0,
    )?;
    jacobian_flat(g, flat, &wrt)
}
