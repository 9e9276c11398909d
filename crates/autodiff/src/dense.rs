//! Dense Jacobians and Hessians, built from [`vjp`](crate::vjp) and [`jvp`](crate::jvp)
//! passes: as nodes, so they too can be evaluated and differentiated again.

use adnet_graph::{Graph, IntoNode, NodeId, Var};
use adnet_tensor::{Shape, Tensor};

use crate::{grad, jvp, vjp, Result};

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
/// As [`vjp`] and [`jvp`].
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
    let (y_spec, x_spec) = (y.spec(), x.spec());
    let (ny, nx) = (y_spec.shape.numel(), x_spec.shape.numel());
    let flat = if ny <= nx {
        let mut rows = Vec::with_capacity(ny);
        for i in 0..ny {
            let e = one_hot(g, &y_spec.shape, y_spec.dtype, i);
            let row = vjp(g, y, &[x], e)?[0];
            rows.push(row.try_reshape([1, nx])?);
        }
        join(g, rows, 0)?
    } else {
        let mut columns = Vec::with_capacity(nx);
        for j in 0..nx {
            let e = one_hot(g, &x_spec.shape, x_spec.dtype, j);
            columns.push(jvp(g, y, &[x], &[e])?.try_reshape([ny, 1])?);
        }
        join(g, columns, 1)?
    };
    let dims: Vec<usize> = y_spec
        .shape
        .dims()
        .iter()
        .chain(x_spec.shape.dims())
        .copied()
        .collect();
    Ok(flat.try_reshape(dims)?)
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
    let n: usize = gradient.iter().map(|v| v.shape().numel()).sum();
    let flat = join(
        g,
        gradient
            .iter()
            .map(|v| v.try_reshape([v.shape().numel()]))
            .collect::<adnet_graph::Result<Vec<_>>>()?,
        0,
    )?;
    let mut blocks = Vec::with_capacity(wrt.len());
    for &w in &wrt {
        let numel = g.spec(w)?.shape.numel();
        blocks.push(jacobian(g, flat, w)?.try_reshape([n, numel])?);
    }
    join(g, blocks, 1)
}
