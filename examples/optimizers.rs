//! Seven optimizers on Rosenbrock's "banana" function
//! `f(x, y) = (1 − x)² + 100·(y − x²)²`, all from the classic start `(−1.2, 1)`.
//!
//! `f` is an adnet graph with `x` and `y` as parameters; its gradient is built once with
//! `grad` and compiled with `f` into one plan; every optimizer updates the parameters in place
//! through `Graph::with_params_mut`, exactly as a training loop does. The minimum is `f = 0` at
//! `(1, 1)`, at the end of a long, flat, curved valley: the gradient is steep across the valley
//! and shallow along it, which is what separates the methods.
//!
//! Each learning rate was tuned by hand: a sweep from 1e-4 to 2 (1, 2 and 5 per decade), keeping
//! a fast one with a margin to the fastest that still converges (plain SGD is stable below
//! `2/λ_max ≈ 2e-3`, the Hessian's largest eigenvalue at the minimum being about 1002; Nesterov
//! stalls from 1.5e-3; Adam is erratic above 0.2 and Nadam oscillates around the minimum from
//! 2e-2 to 0.2; RMSprop's steps have the size of `lr` whatever the gradient, so it circles the
//! minimum at a distance of about `lr` and needs 5e-5 to get below 1e-6 within 100 000 steps).
//! The table gives the steps until `f < 1e-6`.
//!
//! The paths are drawn over the function's contours in `target/plots/optimizers.svg`.
//!
//! Run: `cargo run --release --example optimizers`

use adnet::graph::{Graph, NodeId};
use adnet::nn::optim::{Adagrad, Adam, Nadam, Optimizer, Rmsprop, Sgd};
use adnet::nn::plot::plot_contours_with_paths;
use adnet::{grad, Tensor};

/// Steps each optimizer may take.
const MAX_STEPS: usize = 100_000;
/// The target value of `f`.
const TOLERANCE: f64 = 1e-6;
/// The start, `(x, y)`.
const START: (f64, f64) = (-1.2, 1.0);

/// The outcome of one minimisation.
struct Run {
    /// Steps taken until `f < TOLERANCE`, or `None` if not within `MAX_STEPS`.
    steps: Option<usize>,
    /// The last value of `f`.
    f: f64,
    /// The points `(x, y)` visited, the start first.
    path: Vec<(f64, f64)>,
}

/// Rosenbrock's function as a graph, its value and gradient compiled into one plan.
struct Banana {
    g: Graph,
    plan: adnet::Plan,
    params: [NodeId; 2],
}

impl Banana {
    fn new() -> Result<Banana, Box<dyn std::error::Error>> {
        let g = Graph::new();
        let x = g.scalar_param("x", START.0)?;
        let y = g.scalar_param("y", START.1)?;
        let f = (1.0 - x).square() + 100.0 * (y - x.square()).square();
        let df = grad(&g, f, &[x, y])?;
        let plan = g.compile([f, df[0], df[1]])?;
        let params = [x.id(), y.id()];
        Ok(Banana { g, plan, params })
    }

    /// Minimises `f` from the start with `optimizer`, until `f < TOLERANCE` or `MAX_STEPS`.
    fn minimise(
        &mut self,
        optimizer: &mut dyn Optimizer,
    ) -> Result<Run, Box<dyn std::error::Error>> {
        self.g.set_param(self.params[0], &Tensor::scalar(START.0))?;
        self.g.set_param(self.params[1], &Tensor::scalar(START.1))?;
        let mut path = vec![START];
        for step in 0..=MAX_STEPS {
            self.plan.run(&self.g)?;
            let f = self.plan.output_at(0).to_scalar()?;
            if f < TOLERANCE || step == MAX_STEPS || !f.is_finite() {
                let steps = (f < TOLERANCE).then_some(step);
                return Ok(Run { steps, f, path });
            }
            let grads = [self.plan.output_at(1), self.plan.output_at(2)];
            self.g.with_params_mut(&self.params, |p| {
                optimizer.step(p, &grads).map_err(Box::new)
            })??;
            let xy = self.g.value(self.params[0])?.to_scalar()?;
            path.push((xy, self.g.value(self.params[1])?.to_scalar()?));
        }
        unreachable!("the loop returns at step MAX_STEPS")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut banana = Banana::new()?;
    // (name, learning rate, optimizer); PyTorch's defaults for every other setting
    let optimizers: Vec<(&str, f64, Box<dyn Optimizer>)> = vec![
        ("SGD", 1.5e-3, Box::new(Sgd::new(1.5e-3)?)),
        (
            "momentum 0.9",
            1.5e-3,
            Box::new(Sgd::new(1.5e-3)?.momentum(0.9)?),
        ),
        (
            "Nesterov 0.9",
            1e-3,
            Box::new(Sgd::new(1e-3)?.momentum(0.9)?.nesterov(true)?),
        ),
        ("Adagrad", 0.5, Box::new(Adagrad::new(0.5)?)),
        ("RMSprop", 5e-5, Box::new(Rmsprop::new(5e-5)?)),
        ("Adam", 0.1, Box::new(Adam::new(0.1)?)),
        ("Nadam", 1e-2, Box::new(Nadam::new(1e-2)?)),
    ];
    println!(
        "Rosenbrock f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1); minimum 0 at (1, 1)"
    );
    println!("(learning rates tuned by hand for each optimizer)\n");
    println!(
        "{:<14} {:>8} {:>22} {:>12}   final (x, y)",
        "optimizer", "lr", "steps to f < 1e-6", "final f"
    );
    let mut paths = Vec::new();
    for (name, lr, mut optimizer) in optimizers {
        let Run { steps, f, path } = banana.minimise(optimizer.as_mut())?;
        let steps = match steps {
            Some(n) => n.to_string(),
            None => format!("not within {MAX_STEPS}"),
        };
        let (x, y) = *path.last().unwrap_or(&START);
        println!("{name:<14} {lr:>8} {steps:>22} {f:>12.3e}   ({x:.6}, {y:.6})");
        paths.push((name, thin(&path, 2000)));
    }

    std::fs::create_dir_all("target/plots")?;
    let labelled: Vec<(&str, &[(f64, f64)])> = paths
        .iter()
        .map(|(name, path)| (*name, path.as_slice()))
        .collect();
    plot_contours_with_paths(
        "target/plots/optimizers.svg",
        "Rosenbrock from (-1.2, 1)",
        |x, y| (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
        (-2.0, 2.0),
        (-1.0, 3.0),
        30,
        &labelled,
    )?;
    println!("\nwrote target/plots/optimizers.svg");
    Ok(())
}

/// At most about `n` points of `path`, evenly spaced, always keeping its last point.
fn thin(path: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    let stride = path.len().div_ceil(n).max(1);
    let mut kept: Vec<(f64, f64)> = path.iter().copied().step_by(stride).collect();
    if let Some(&last) = path.last() {
        if kept.last() != Some(&last) {
            kept.push(last);
        }
    }
    kept
}
