//! Custom functions, two ways.
//!
//! (a) A type implementing `Op`: a fused `swish(x) = x·sigmoid(x)` whose derivative rule is
//!     written as graph nodes, so its second derivative comes for free; checked against the same
//!     function composed from primitives.
//! (b) Plain closures: a Gaussian bump `e^(−x²)` given with its first and second derivatives.
//!     Derivatives up to the second work; asking for the third is an error naming the node and
//!     the order, never a silent zero.
//!
//! Run: `cargo run --release --example custom_op`

use adnet::autodiff::{grad, AutodiffError};
use adnet::graph::ops::{same_spec, ScalarFunction};
use adnet::graph::{InputGrads, Result as GraphResult};
use adnet::prelude::*;
use adnet::tensor::kernels;

/// `y = x·sigmoid(x)`, fused into one node. VJP: `x̄ = ȳ·(s + y·(1 − s))` with `s = sigmoid(x)`.
#[derive(Debug)]
struct Swish;

impl Op for Swish {
    fn name(&self) -> &str {
        "swish"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> GraphResult<TensorSpec> {
        same_spec(self, inputs, 1)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> GraphResult<()> {
        let swish = |v: f64| v * kernels::scalar::sigmoid(v);
        Ok(kernels::map_f64(x[0], &swish, y)?)
    }
    fn eval_scalar(&self, x: &[f64]) -> GraphResult<f64> {
        Ok(x[0] * kernels::scalar::sigmoid(x[0]))
    }
    fn vjp(&self, g: &Graph, x: &[NodeId], y: NodeId, y_bar: NodeId) -> GraphResult<InputGrads> {
        let s = g.sigmoid(x[0])?;
        let one_minus_s = g.sub(g.scalar_of(1.0, s.dtype()), s)?;
        let slope = g.add(s, g.mul(y, one_minus_s)?)?;
        Ok(InputGrads::one(g.mul(y_bar, slope)?))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // (a) the fused op against its composition, value and two derivatives
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let fused = g.apply(Swish, [x])?;
    let composed = x * x.sigmoid();
    let d1 = grad(&g, fused, &[x])?[0];
    let d2 = grad(&g, d1, &[x])?[0];
    let c1 = grad(&g, composed, &[x])?[0];
    let c2 = grad(&g, c1, &[x])?[0];
    println!("(a) swish as a custom Op, against x·sigmoid(x) built from primitives");
    println!(
        "{:>6} {:>12} {:>12} {:>12} {:>12}",
        "x", "f'", "composed f'", "f''", "composed f''"
    );
    for xv in [-2.0, 0.0, 1.5] {
        let at = [("x", xv)];
        let (a1, b1, a2, b2) = (
            g.eval(d1, &at)?,
            g.eval(c1, &at)?,
            g.eval(d2, &at)?,
            g.eval(c2, &at)?,
        );
        println!("{xv:>6} {a1:>12.8} {b1:>12.8} {a2:>12.8} {b2:>12.8}");
        assert!((a1 - b1).abs() < 1e-12 && (a2 - b2).abs() < 1e-12);
    }

    // (b) closures with a chain of derivatives
    let bump = ScalarFunction::new("bump", |x: f64| (-x * x).exp()).with_derivative(
        ScalarFunction::new("bump'", |x: f64| -2.0 * x * (-x * x).exp()).with_derivative(
            ScalarFunction::new("bump''", |x: f64| (4.0 * x * x - 2.0) * (-x * x).exp()),
        ),
    );
    let h = Graph::new();
    let x = h.scalar_input("x")?;
    let y = h.map(x, &bump)?.named("y")?;
    let dy = grad(&h, y, &[x])?[0];
    let d2y = grad(&h, dy, &[x])?[0];
    println!(
        "\n(b) e^(-x²) from closures, derivatives given up to order {}",
        bump.derivatives()
    );
    for xv in [0.0, 0.5, 1.0] {
        let at = [("x", xv)];
        println!(
            "x = {xv}: y = {:.6}, y' = {:.6}, y'' = {:.6}",
            h.eval(y, &at)?,
            h.eval(dy, &at)?,
            h.eval(d2y, &at)?
        );
    }
    match grad(&h, d2y, &[x]) {
        Err(error @ AutodiffError::NoDerivative { .. }) => {
            println!("third derivative: error, as it should be: {error}")
        }
        other => return Err(format!("expected a missing-derivative error, got {other:?}").into()),
    }
    Ok(())
}
