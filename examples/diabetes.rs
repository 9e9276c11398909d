//! Levenberg-Marquardt against Adam on a real regression: disease progression one year after
//! baseline from ten measurements of 442 diabetes patients (`data/diabetes.csv`; Efron et al.,
//! "Least Angle Regression", 2004). Tanh networks with 2, 3, 5 and 8 hidden units, features and
//! target standardised with the training set's statistics, a seeded 75/25 split; 15 % of the
//! training part is held out for validation and both methods stop early on it (patience 6,
//! MATLAB's `max_fail` default), keeping the best weights. Levenberg-Marquardt runs full batch,
//! Adam in mini-batches of 32. The linear least-squares fit (one Gauss-Newton step on a 10-1
//! linear model) is the baseline. It prints held-out MSE (in standardised units) and RMSE (in
//! the target's units) with the epochs and time each took.
//!
//! What it shows: Levenberg-Marquardt stops (its validation error no longer improving) after
//! 9 to 20 epochs where Adam takes 30 to 110, and the two end at similar held-out errors; on
//! this small, nearly linear data set no network beats the linear least-squares fit.
//!
//! Run: `cargo run --release --example diabetes`

use std::path::Path;
use std::time::Instant;

use adnet::graph::Graph;
use adnet::nn::classic::{FullBatchMethod, GaussNewton, LevenbergMarquardt};
use adnet::nn::data::{CsvOptions, DataSet, TargetColumns};
use adnet::nn::layers::{Activation, Mlp, Module};
use adnet::nn::optim::{Adam, Optimizer};
use adnet::nn::train::{EarlyStopping, FitOptions, Monitor, Step, Trainer};
use adnet::tensor::rand::{rngs::StdRng, SeedableRng};
use adnet::{DType, Tensor};

type Error = Box<dyn std::error::Error>;

/// What trains a model, and for how many epochs at most, in batches of what size.
enum Rule {
    Method(Box<dyn FullBatchMethod>),
    Optimizer(Box<dyn Optimizer>, usize),
}

/// The data set's targets standardised with `mean` and `std`.
fn scale_targets(data: &DataSet, mean: f64, std: f64) -> Result<DataSet, Error> {
    let t: Vec<f64> = data
        .targets()
        .to_f64_vec()
        .iter()
        .map(|v| (v - mean) / std)
        .collect();
    let n = t.len();
    Ok(DataSet::from_tensors(
        data.features().clone(),
        Tensor::from_vec(t, [n, 1])?,
    )?)
}

/// Trains a network of `sizes` and returns (held-out MSE, epochs run, seconds).
fn run(
    sizes: &[usize],
    rule: Rule,
    epochs: usize,
    (train, valid, test): (&DataSet, &DataSet, &DataSet),
) -> Result<(f64, usize, f64), Error> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(3);
    let model = Mlp::new(sizes)
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(&g, "net", &mut rng)?;
    let params = model.parameters();
    let d = sizes[0];
    let builder = Step::mse(model, d, 1, DType::F64);
    let (mut trainer, batch_size) = match rule {
        Rule::Method(method) => (
            Trainer::with_method(&g, params, method, builder)?,
            train.len(),
        ),
        Rule::Optimizer(optimizer, batch) => (Trainer::new(&g, params, optimizer, builder)?, batch),
    };
    let options = FitOptions {
        epochs,
        batch_size,
        quiet: true,
        early_stopping: Some(EarlyStopping {
            patience: 6,
            min_delta: 0.0,
            monitor: Monitor::ValLoss,
            restore_best: true,
        }),
        ..FitOptions::default()
    };
    let start = Instant::now();
    let history = trainer.fit(train, Some(valid), &options)?;
    let seconds = start.elapsed().as_secs_f64();
    let mse = trainer.evaluate(test, test.len())?.loss;
    Ok((mse, history.len(), seconds))
}

fn main() -> Result<(), Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let options = CsvOptions {
        targets: TargetColumns::Columns(vec![10]),
        has_header: true,
        dtype: DType::F64,
        ..CsvOptions::default()
    };
    let data = DataSet::from_csv(root.join("data/diabetes.csv"), &options)?;
    let (train_all, test) = data.split(0.75, 0)?;
    let (mut train, mut valid) = train_all.split(0.85, 1)?;
    let mut test = test;
    let statistics = train.standardize();
    statistics.apply(&mut valid)?;
    statistics.apply(&mut test)?;
    let t = train.targets().to_f64_vec();
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    let std = (t.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / t.len() as f64).sqrt();
    let (train, valid, test) = (
        scale_targets(&train, mean, std)?,
        scale_targets(&valid, mean, std)?,
        scale_targets(&test, mean, std)?,
    );
    println!(
        "diabetes: {} training, {} validation, {} held-out patients; target sd {std:.1}\n",
        train.len(),
        valid.len(),
        test.len()
    );
    println!(
        "{:<34} {:>12} {:>14} {:>8} {:>10}",
        "model and method", "held-out MSE", "RMSE (units)", "epochs", "time"
    );
    let sets = (&train, &valid, &test);
    let mut runs: Vec<(String, Vec<usize>, Rule, usize)> = vec![(
        "linear, least squares (1 GN step)".to_string(),
        vec![10, 1],
        Rule::Method(Box::new(GaussNewton::default())),
        1,
    )];
    for hidden in [2, 3, 5, 8] {
        runs.push((
            format!("10-{hidden}-1, Levenberg-Marquardt"),
            vec![10, hidden, 1],
            Rule::Method(Box::new(LevenbergMarquardt::default())),
            500,
        ));
        runs.push((
            format!("10-{hidden}-1, Adam (lr 1e-3, batch 32)"),
            vec![10, hidden, 1],
            Rule::Optimizer(Box::new(Adam::new(1e-3)?), 32),
            5000,
        ));
    }
    for (label, sizes, rule, epochs) in runs {
        let (mse, ran, seconds) = run(&sizes, rule, epochs, sets)?;
        println!(
            "{label:<34} {mse:>12.4} {:>14.1} {ran:>8} {:>8.1}ms",
            mse.sqrt() * std,
            seconds * 1e3
        );
    }
    Ok(())
}
