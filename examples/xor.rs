//! XOR, the lecture's example: a 2-2-1 sigmoid MLP, trained full batch on the four patterns
//! with mean squared error and SGD (learning rate 0.5, momentum 0.9), in f64. It prints the
//! loss as training goes, the epoch where the loss first falls below 1e-3, and the network's
//! outputs for the four inputs; the loss curve (log scale) goes to
//! `target/plots/xor_loss.svg` and the learned decision regions to
//! `target/plots/xor_boundary.svg`.
//!
//! The initial weights come from seed 1: with two hidden units XOR has plateaus where one
//! pattern stays wrong (seed 0 sticks at loss 0.125), and about a third of seeds stall there.
//!
//! Run: `cargo run --release --example xor`

use std::path::Path;

use adnet::graph::Graph;
use adnet::nn::data::DataSet;
use adnet::nn::layers::{Activation, Mlp, Module};
use adnet::nn::optim::Sgd;
use adnet::nn::plot::{plot_curves, plot_decision_boundary};
use adnet::nn::train::{FitOptions, Step, Trainer};
use adnet::tensor::rand::{rngs::StdRng, SeedableRng};
use adnet::{DType, Tensor};

/// The seed of the initial weights.
const SEED: u64 = 1;
/// Full-batch epochs (one SGD step each).
const EPOCHS: usize = 2000;
/// The loss to reach.
const TARGET_LOSS: f64 = 1e-3;
/// Cells per side of the decision-boundary grid.
const RESOLUTION: usize = 200;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let labels = [0.0, 1.0, 1.0, 0.0];
    let x = Tensor::from_vec(inputs.concat(), [4, 2])?;
    let data = DataSet::from_tensors(x.clone(), Tensor::from_vec(labels.to_vec(), [4, 1])?)?;

    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mlp = Mlp::new(&[2, 2, 1])
        .activation(Activation::Sigmoid)
        .output_activation(Activation::Sigmoid)
        .dtype(DType::F64)
        .build(&g, "xor", &mut rng)?;
    let params = mlp.parameters();
    let optimizer = Sgd::new(0.5)?.momentum(0.9)?;
    let mut trainer = Trainer::new(
        &g,
        params,
        Box::new(optimizer),
        Step::mse(mlp, 2, 1, DType::F64),
    )?;

    println!("XOR with a 2-2-1 sigmoid MLP, MSE, SGD lr 0.5 momentum 0.9, full batch, f64");
    let before = trainer.predict(&x)?.to_f64_vec();
    let options = FitOptions {
        epochs: EPOCHS,
        batch_size: usize::MAX,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    };
    let history = trainer.fit(&data, None, &options)?;
    // full batch: each epoch's loss is the loss of the weights it started from
    println!("{:>6} {:>12}", "epoch", "loss");
    for record in history.epochs.iter().filter(|r| r.epoch % 200 == 0) {
        println!("{:>6} {:>12.3e}", record.epoch, record.train_loss);
    }
    let last = trainer.evaluate(&data, 4)?;
    println!("{:>6} {:>12.3e}  (after the last step)", EPOCHS, last.loss);
    match history.epochs.iter().find(|r| r.train_loss < TARGET_LOSS) {
        Some(r) => println!("loss < {TARGET_LOSS:e} after {} epochs", r.epoch),
        None => println!("loss stayed above {TARGET_LOSS:e} for {EPOCHS} epochs"),
    }

    let after = trainer.predict(&x)?.to_f64_vec();
    println!(
        "\n{:>4} {:>4} {:>7} {:>9} {:>9}",
        "x1", "x2", "target", "before", "after"
    );
    for (k, [x1, x2]) in inputs.iter().enumerate() {
        println!(
            "{x1:>4} {x2:>4} {:>7} {:>9.4} {:>9.4}",
            labels[k], before[k], after[k]
        );
    }

    let plots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&plots)?;
    let curve: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    plot_curves(
        plots.join("xor_loss.svg"),
        "XOR: mean squared error, 2-2-1 sigmoid MLP",
        &[("training loss", &curve)],
        "epoch",
        "loss",
        true,
    )?;

    // The network's class (output above 0.5) over the square, in one batch of every grid cell.
    let range = (-0.5, 1.5);
    let step = (range.1 - range.0) / RESOLUTION as f64;
    let centre = |i: usize| range.0 + (i as f64 + 0.5) * step;
    let grid: Vec<f64> = (0..RESOLUTION * RESOLUTION)
        .flat_map(|k| [centre(k % RESOLUTION), centre(k / RESOLUTION)])
        .collect();
    let classes: Vec<usize> = trainer
        .predict(&Tensor::from_vec(grid, [RESOLUTION * RESOLUTION, 2])?)?
        .to_f64_vec()
        .iter()
        .map(|&y| usize::from(y > 0.5))
        .collect();
    let cell = |v: f64| (((v - range.0) / step) as usize).min(RESOLUTION - 1);
    let predict = |x1: f64, x2: f64| classes[cell(x2) * RESOLUTION + cell(x1)];
    let points: Vec<(f64, f64, usize)> = inputs
        .iter()
        .zip(labels)
        .map(|([x1, x2], t)| (*x1, *x2, t as usize))
        .collect();
    plot_decision_boundary(
        plots.join("xor_boundary.svg"),
        "XOR: the 2-2-1 network's decision regions",
        predict,
        range,
        range,
        RESOLUTION,
        &points,
    )?;
    println!(
        "\nwrote {} and {}",
        plots.join("xor_loss.svg").display(),
        plots.join("xor_boundary.svg").display()
    );
    Ok(())
}
