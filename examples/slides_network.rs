//! The lecture's adaptive network, differentiated: value, gradient, Hessian, and a gradient
//! check against central differences, at x = 1, y = 0.5, alpha = 0.8, beta = 1.2, gamma = 2.
//!
//!     p = alpha*x + exp(y)    q = ln(beta*x + y)    (adaptive nodes: they carry parameters)
//!     u = (p + q)/gamma       v = p*q               o = u*ln(v) + v*ln(u)
//!
//! Run: `cargo run --release --example slides_network`

use adnet::autodiff::{check_grad, CheckOptions};
use adnet::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let g = Graph::new();
    let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
    let alpha = g.scalar_param("alpha", 0.8)?;
    let beta = g.scalar_param("beta", 1.2)?;
    let gamma = g.scalar_param("gamma", 2.0)?;
    let p = (alpha * x + y.exp()).named("p")?;
    let q = (beta * x + y).ln().named("q")?;
    let u = ((p + q) / gamma).named("u")?;
    let v = (p * q).named("v")?;
    let o = (u * v.ln() + v * u.ln()).named("o")?;

    let wrt = [x, y, alpha, beta, gamma];
    let names = ["x", "y", "alpha", "beta", "gamma"];
    let gradient = grad(&g, o, &wrt)?;
    let h = hessian(&g, o, &wrt)?;
    let mut plan = g.compile(
        std::iter::once(o)
            .chain(gradient.iter().copied())
            .chain([h]),
    )?;
    plan.set_scalar(x, 1.0)?;
    plan.set_scalar(y, 0.5)?;
    plan.run(&g)?;

    println!("o = {:.12}\n", plan.scalar(o)?);
    println!("gradient:");
    for (name, d) in names.iter().zip(&gradient) {
        println!("  do/d{name:<6} = {:>16.12}", plan.scalar(*d)?);
    }
    println!("\nHessian (rows and columns x, y, alpha, beta, gamma):");
    let hessian = plan.output(h)?;
    for (i, name) in names.iter().enumerate() {
        let row = (0..names.len())
            .map(|j| Ok(format!("{:>12.6}", hessian.get(&[i, j])?)))
            .collect::<Result<Vec<String>, adnet::TensorError>>()?;
        println!("  {name:<6}{}", row.join(""));
    }

    let at = [("x", &Tensor::scalar(1.0)), ("y", &Tensor::scalar(0.5))];
    let report = check_grad(
        &g,
        o,
        &wrt,
        &at,
        &CheckOptions::default().with_second_order(true),
    )?;
    println!("\ngradient check against central differences (first and second order):\n{report}");
    if !report.passed {
        return Err("the gradient check failed".into());
    }
    std::fs::create_dir_all("target/plots")?;
    std::fs::write("target/plots/slides_network.dot", g.to_dot())?;
    println!("the network as Graphviz: target/plots/slides_network.dot");
    Ok(())
}
