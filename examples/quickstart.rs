//! Quickstart: the lecture's adaptive network, evaluated at a few points with one compiled
//! plan, its exact gradient checked against finite differences, and a small 2-layer MLP
//! forward pass on a batch, then a short training run: a 1-16-1 tanh MLP fitted to `sin x`.
//!
//! Run: `cargo run --release --example quickstart`

use adnet::autodiff::{check_grad, CheckOptions};
use adnet::nn::data::DataSet;
use adnet::nn::layers::{Activation, Mlp, Module};
use adnet::nn::optim::Adam;
use adnet::nn::train::{FitOptions, Step, Trainer};
use std::f64::consts::PI;

use adnet::prelude::*;
use adnet::tensor::rand::{rngs::StdRng, SeedableRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The lecture's network: adaptive nodes p and q carry the parameters alpha and beta.
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

    let mut plan = g.compile([p, q, o])?;
    println!(
        "The lecture's network (alpha 0.8, beta 1.2, gamma 2): {} graph nodes,",
        g.len()
    );
    println!(
        "compiled into {} instructions on the scalar tape.\n",
        plan.stats().instructions
    );
    println!("{:>6} {:>6} {:>12} {:>12} {:>12}", "x", "y", "p", "q", "o");
    for (xv, yv) in [(1.0, 0.5), (2.0, 0.0), (0.5, 1.5)] {
        plan.set_scalar(x, xv)?;
        plan.set_scalar(y, yv)?;
        plan.run(&g)?;
        println!(
            "{xv:>6} {yv:>6} {:>12.6} {:>12.6} {:>12.6}",
            plan.scalar(p)?,
            plan.scalar(q)?,
            plan.scalar(o)?
        );
    }
    // Parameters live in the graph: change one and run the same plan again.
    g.set_param(alpha, &Tensor::scalar(0.3))?;
    plan.run(&g)?;
    println!("after setting alpha = 0.3:  o = {:.6}\n", plan.scalar(o)?);
    g.set_param(alpha, &Tensor::scalar(0.8))?;

    // The exact gradient, compiled once with the value, and checked against central differences.
    let wrt = [x, y, alpha, beta, gamma];
    let mut step = value_and_grad(&g, o, &wrt)?;
    step.plan().set_scalar(x, 1.0)?;
    step.plan().set_scalar(y, 0.5)?;
    step.run(&g)?;
    println!("at x = 1, y = 0.5:  o = {:.12}", step.value()?);
    for (k, name) in ["x", "y", "alpha", "beta", "gamma"].iter().enumerate() {
        println!("  do/d{name:<6} = {:>16.12}", step.grad(k).to_scalar()?);
    }
    let at = [("x", &Tensor::scalar(1.0)), ("y", &Tensor::scalar(0.5))];
    let report = check_grad(
        &g,
        o,
        &wrt,
        &at,
        &CheckOptions::default().with_second_order(true),
    )?;
    println!(
        "gradient and Hessian against central differences: {} ({} entries, max abs error {:.1e})\n",
        if report.passed { "PASS" } else { "FAIL" },
        report.checked,
        report.max_abs_error
    );

    // A 2-layer MLP, 4 -> 8 (tanh) -> 3 (softmax), on a batch of 5 rows, f32.
    let mut rng = StdRng::seed_from_u64(0);
    let net = Graph::new();
    let input = net.input("x", [5, 4], DType::F32)?;
    let w1 = net.param(
        "w1",
        Tensor::normal([4, 8], 0.0, 0.5, DType::F32, &mut rng)?,
    )?;
    let b1 = net.param("b1", Tensor::zeros([8], DType::F32))?;
    let w2 = net.param(
        "w2",
        Tensor::normal([8, 3], 0.0, 0.5, DType::F32, &mut rng)?,
    )?;
    let b2 = net.param("b2", Tensor::zeros([3], DType::F32))?;
    let hidden = (input.matmul(w1) + b1).tanh();
    let probabilities = (hidden.matmul(w2) + b2).softmax(-1);
    let mut forward = net.compile([probabilities])?;
    forward.set_input(
        input,
        &Tensor::normal([5, 4], 0.0, 1.0, DType::F32, &mut rng)?,
    )?;
    forward.run(&net)?;
    println!("MLP 4-8-3, class probabilities for 5 random rows:");
    println!("{:.4}", forward.output(probabilities)?);
    let stats = forward.stats();
    println!(
        "({} instructions, {} buffers, {} bytes reused across runs)",
        stats.instructions, stats.buffers, stats.buffer_bytes
    );

    // Training: a 1-16-1 tanh MLP learns sin x on [-pi, pi] (64 points, full batch, Adam).
    let fit = Graph::new();
    let mlp = Mlp::new(&[1, 16, 1])
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(&fit, "sin", &mut rng)?;
    let params = mlp.parameters();
    let mut trainer = Trainer::new(
        &fit,
        params,
        Box::new(Adam::new(0.02)?),
        Step::mse(mlp, 1, 1, DType::F64),
    )?;
    let xs: Vec<f64> = (0..64).map(|i| -PI + 2.0 * PI * i as f64 / 63.0).collect();
    let ys: Vec<f64> = xs.iter().map(|x| x.sin()).collect();
    let data = DataSet::from_tensors(
        Tensor::from_vec(xs, [64, 1])?,
        Tensor::from_vec(ys, [64, 1])?,
    )?;
    let before = trainer.evaluate(&data, 64)?.loss;
    let options = FitOptions {
        epochs: 500,
        batch_size: 64,
        quiet: true,
        ..FitOptions::default()
    };
    trainer.fit(&data, None, &options)?;
    let after = trainer.evaluate(&data, 64)?.loss;
    println!("\nMLP 1-16-1 fitted to sin x, 500 Adam steps: MSE {before:.4} -> {after:.2e}");
    Ok(())
}
