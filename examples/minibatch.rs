//! Mini-batch sizes compared: the same 64-64-10 ReLU MLP (same initial weights) trained on the
//! UCI digits (`data/digits.csv`, pixels scaled to `[0, 1]`, a stratified 75/25 split) with
//! plain SGD at one learning rate, for the same number of epochs, with batches of 1, 10, 100
//! and the whole training set. Small batches take many cheap, noisy steps per epoch; the full
//! batch takes one exact step. After every epoch the loss over the whole training set is
//! measured (outside the timed training). It prints a table of final loss, held-out accuracy
//! and training time, and plots the loss against epochs and against wall time to
//! `target/plots/minibatch_epochs.svg` and `target/plots/minibatch_time.svg`.
//!
//! Run: `cargo run --release --example minibatch`

use std::path::Path;
use std::time::Instant;

use adnet::graph::Graph;
use adnet::nn::data::{CsvOptions, DataSet};
use adnet::nn::layers::{Activation, Mlp, Module};
use adnet::nn::optim::Sgd;
use adnet::nn::plot::{plot_curves, plot_curves_scaled};
use adnet::nn::train::{FitOptions, Step, Trainer};
use adnet::tensor::rand::{rngs::StdRng, SeedableRng};
use adnet::{DType, Tensor};

/// Epochs for every batch size.
const EPOCHS: usize = 20;
/// SGD's learning rate, the same for every batch size.
const LR: f64 = 0.1;

/// One batch size's run.
struct Run {
    label: String,
    steps: usize,
    /// `(epoch, seconds of training so far, loss over the training set)`, epoch 0 first.
    curve: Vec<(f64, f64, f64)>,
    accuracy: f64,
}

fn digits(root: &Path) -> Result<DataSet, Box<dyn std::error::Error>> {
    let options = CsvOptions {
        has_header: false,
        dtype: DType::F32,
        ..CsvOptions::default()
    };
    let raw = DataSet::from_csv(root.join("data/digits.csv"), &options)?;
    let pixels: Vec<f64> = raw
        .features()
        .to_f64_vec()
        .iter()
        .map(|p| p / 16.0)
        .collect();
    let features = Tensor::from_f64s(&pixels, raw.features().dims(), DType::F32)?;
    Ok(DataSet::from_tensors(features, raw.targets().clone())?)
}

fn run(
    train: &DataSet,
    test: &DataSet,
    batch_size: usize,
) -> Result<Run, Box<dyn std::error::Error>> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let mlp = Mlp::new(&[64, 64, 10])
        .activation(Activation::Relu)
        .dtype(DType::F32)
        .build(&g, "mlp", &mut rng)?;
    let params = mlp.parameters();
    let mut trainer = Trainer::new(
        &g,
        params,
        Box::new(Sgd::new(LR)?),
        Step::cross_entropy(mlp, 64, DType::F32),
    )?;
    let n = train.len();
    let mut curve = vec![(0.0, 0.0, trainer.evaluate(train, n)?.loss)];
    let mut seconds = 0.0;
    for epoch in 1..=EPOCHS {
        // one epoch per call, each shuffled from its own seed; only training is timed
        let options = FitOptions {
            epochs: 1,
            batch_size,
            shuffle: true,
            seed: epoch as u64,
            quiet: true,
            ..FitOptions::default()
        };
        let start = Instant::now();
        trainer.fit(train, None, &options)?;
        seconds += start.elapsed().as_secs_f64();
        curve.push((epoch as f64, seconds, trainer.evaluate(train, n)?.loss));
    }
    let accuracy = trainer
        .evaluate(test, test.len())?
        .accuracy
        .ok_or("not a classification task")?;
    let label = if batch_size >= n {
        format!("full ({n})")
    } else {
        batch_size.to_string()
    };
    Ok(Run {
        label,
        steps: trainer.steps(),
        curve,
        accuracy,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (train, test) = digits(root)?.stratified_split(0.75, 0)?;
    println!(
        "digits, {} training and {} held-out images; MLP 64-64-10 (ReLU), SGD lr {LR}, {EPOCHS} epochs\n",
        train.len(),
        test.len()
    );
    println!(
        "{:>11} {:>7} {:>11} {:>10} {:>10}",
        "batch size", "steps", "train loss", "held out", "time (ms)"
    );
    let mut runs = Vec::new();
    for batch_size in [1, 10, 100, usize::MAX] {
        let run = run(&train, &test, batch_size)?;
        let &(_, seconds, loss) = run.curve.last().ok_or("no epoch ran")?;
        println!(
            "{:>11} {:>7} {:>11.4} {:>9.1}% {:>10.1}",
            run.label,
            run.steps,
            loss,
            100.0 * run.accuracy,
            seconds * 1e3
        );
        runs.push(run);
    }

    let plots = root.join("target/plots");
    std::fs::create_dir_all(&plots)?;
    let labels: Vec<String> = runs.iter().map(|r| format!("batch {}", r.label)).collect();
    let by_epoch: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .map(|r| r.curve.iter().map(|&(e, _, l)| (e, l)).collect())
        .collect();
    // the time axis is logarithmic, so it starts after the first epoch rather than at 0
    let by_time: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .map(|r| {
            r.curve
                .iter()
                .skip(1)
                .map(|&(_, s, l)| (s * 1e3, l))
                .collect()
        })
        .collect();
    let epoch_series: Vec<(&str, &[(f64, f64)])> = labels
        .iter()
        .zip(&by_epoch)
        .map(|(l, p)| (l.as_str(), p.as_slice()))
        .collect();
    let time_series: Vec<(&str, &[(f64, f64)])> = labels
        .iter()
        .zip(&by_time)
        .map(|(l, p)| (l.as_str(), p.as_slice()))
        .collect();
    let (epochs_path, time_path) = (
        plots.join("minibatch_epochs.svg"),
        plots.join("minibatch_time.svg"),
    );
    plot_curves(
        &epochs_path,
        "digits: training loss against epochs, by batch size",
        &epoch_series,
        "epoch",
        "cross-entropy over the training set",
        true,
    )?;
    plot_curves_scaled(
        &time_path,
        "digits: training loss against training time, by batch size",
        &time_series,
        "training time (ms)",
        "cross-entropy over the training set",
        true,
        true,
    )?;
    println!(
        "\nwrote {} and {}",
        epochs_path.display(),
        time_path.display()
    );
    Ok(())
}
