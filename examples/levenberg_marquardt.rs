//! The classic training methods side by side: a 1-10-1 tanh network (31 parameters) fitting
//! `sin(x)` on 100 points of `[-π, π]`, from the same initial weights, full batch, with
//! Levenberg-Marquardt, Gauss-Newton, Møller's scaled conjugate gradient, L-BFGS, Adam and plain
//! gradient descent. One epoch is one iteration of each method. It prints the mean squared
//! error after 100 epochs and the epochs each needed to reach 1e-5, and plots the error
//! against epochs (log scale) to `target/plots/levenberg_marquardt.svg`.
//!
//! Run: `cargo run --release --example levenberg_marquardt`

use std::path::Path;
use std::time::Instant;

use adnet::graph::Graph;
use adnet::nn::classic::{
    FullBatchMethod, GaussNewton, Lbfgs, LevenbergMarquardt, ScaledConjugateGradient,
};
use adnet::nn::data::DataSet;
use adnet::nn::layers::{Activation, Mlp, Module};
use adnet::nn::optim::{Adam, Optimizer, Sgd};
use adnet::nn::plot::plot_curves;
use adnet::nn::train::{FitOptions, Step, Trainer};
use adnet::tensor::rand::{rngs::StdRng, SeedableRng};
use adnet::{DType, Tensor};

const SAMPLES: usize = 100;
const EPOCHS: usize = 100;
const GOAL: f64 = 1e-5;
/// The seed of the initial weights, the same for every method.
const SEED: u64 = 7;

type Error = Box<dyn std::error::Error>;

/// What trains the network.
enum Rule {
    Method(Box<dyn FullBatchMethod>),
    Optimizer(Box<dyn Optimizer>),
}

/// `(label, rule)` for every method compared.
fn rules() -> Result<Vec<(&'static str, Rule)>, Error> {
    Ok(vec![
        (
            "Levenberg-Marquardt",
            Rule::Method(Box::new(LevenbergMarquardt::default())),
        ),
        (
            "Gauss-Newton",
            Rule::Method(Box::new(GaussNewton::default())),
        ),
        (
            "scaled CG",
            Rule::Method(Box::new(ScaledConjugateGradient::default())),
        ),
        ("L-BFGS", Rule::Method(Box::new(Lbfgs::default()))),
        (
            "Adam (lr 0.01)",
            Rule::Optimizer(Box::new(Adam::new(0.01)?)),
        ),
        (
            "gradient descent (lr 0.1)",
            Rule::Optimizer(Box::new(Sgd::new(0.1)?)),
        ),
    ])
}

/// The mean squared error after each epoch, epoch 0 (the initial weights) first.
fn train(data: &DataSet, rule: Rule) -> Result<Vec<f64>, Error> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(SEED);
    let model = Mlp::new(&[1, 10, 1])
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(&g, "net", &mut rng)?;
    let params = model.parameters();
    let builder = Step::mse(model, 1, 1, DType::F64);
    let mut trainer = match rule {
        Rule::Method(method) => Trainer::with_method(&g, params, method, builder)?,
        Rule::Optimizer(optimizer) => Trainer::new(&g, params, optimizer, builder)?,
    };
    let one_epoch = FitOptions {
        epochs: 1,
        batch_size: SAMPLES,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    };
    let mut errors = vec![trainer.evaluate(data, SAMPLES)?.loss];
    for _ in 0..EPOCHS {
        let history = trainer.fit(data, None, &one_epoch)?;
        errors.push(trainer.evaluate(data, SAMPLES)?.loss);
        if history.method_stop.is_some() {
            break; // converged as far as the method can go
        }
    }
    Ok(errors)
}

fn main() -> Result<(), Error> {
    let x: Vec<f64> = (0..SAMPLES)
        .map(|i| {
            -std::f64::consts::PI + 2.0 * std::f64::consts::PI * i as f64 / (SAMPLES - 1) as f64
        })
        .collect();
    let y: Vec<f64> = x.iter().map(|x| x.sin()).collect();
    let data = DataSet::from_tensors(
        Tensor::from_vec(x, [SAMPLES, 1])?,
        Tensor::from_vec(y, [SAMPLES, 1])?,
    )?;

    println!(
        "1-10-1 tanh network fitting sin(x) on {SAMPLES} points, full batch, {EPOCHS} epochs\n"
    );
    println!(
        "{:<27} {:>14} {:>18} {:>10}",
        "method", "MSE at end", "epochs to 1e-5", "time"
    );
    let mut curves = Vec::new();
    for (label, rule) in rules()? {
        let start = Instant::now();
        let errors = train(&data, rule)?;
        let elapsed = start.elapsed();
        let reached = errors
            .iter()
            .position(|&e| e <= GOAL)
            .map_or("not reached".to_string(), |e| e.to_string());
        let last = *errors.last().expect("the initial error is always there");
        println!(
            "{label:<27} {last:>14.3e} {reached:>18} {:>8.1}ms",
            elapsed.as_secs_f64() * 1e3
        );
        let points: Vec<(f64, f64)> = errors
            .iter()
            .enumerate()
            .map(|(epoch, &e)| (epoch as f64, e))
            .collect();
        curves.push((label, points));
    }

    let dir = Path::new("target/plots");
    std::fs::create_dir_all(dir)?;
    let path = dir.join("levenberg_marquardt.svg");
    let series: Vec<(&str, &[(f64, f64)])> = curves
        .iter()
        .map(|(label, points)| (*label, points.as_slice()))
        .collect();
    plot_curves(
        &path,
        "1-10-1 tanh network fitting sin: mean squared error",
        &series,
        "epoch",
        "MSE",
        true,
    )?;
    println!("\nerror curves: {}", path.display());
    Ok(())
}
