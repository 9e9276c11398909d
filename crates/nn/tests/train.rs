//! The training loop end to end: XOR (the lecture's example), iris with Adam, mini-batch
//! sizes, early stopping, the history CSV and the learning-rate range test.

use adnet_graph::Graph;
use adnet_nn::data::{CsvOptions, DataSet};
use adnet_nn::layers::{Activation, Mlp, Module};
use adnet_nn::optim::{Adam, Sgd};
use adnet_nn::train::{
    lr_range_test, EarlyStopping, FitOptions, Monitor, Step, Task, Trainer, HISTORY_CSV_HEADER,
};
use adnet_nn::Result;
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::SeedableRng;
use adnet_tensor::{DType, Tensor};

/// The seed of the XOR network's initial weights: seed 0 sticks at a plateau (loss 0.125, one
/// pattern wrong); seed 1 is the first that reaches loss < 1e-3 (5.8e-4 after 1000 epochs).
/// Of seeds 0..40, 27 converge within 2000 epochs.
const XOR_SEED: u64 = 1;

fn xor_data() -> DataSet {
    let x = Tensor::from_vec(vec![0.0f64, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2]).expect("4x2");
    let t = Tensor::from_vec(vec![0.0f64, 1.0, 1.0, 0.0], [4, 1]).expect("4x1");
    DataSet::from_tensors(x, t).expect("valid")
}

/// A 2-2-1 sigmoid MLP trained with MSE and SGD(0.5, momentum 0.9), f64.
fn xor_trainer(g: &Graph, seed: u64) -> Result<Trainer<'_>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mlp = Mlp::new(&[2, 2, 1])
        .activation(Activation::Sigmoid)
        .output_activation(Activation::Sigmoid)
        .dtype(DType::F64)
        .build(g, "xor", &mut rng)?;
    let params = mlp.parameters();
    let optimizer = Sgd::new(0.5)?.momentum(0.9)?;
    Trainer::new(
        g,
        params,
        Box::new(optimizer),
        Step::mse(mlp, 2, 1, DType::F64),
    )
}

fn full_batch(epochs: usize) -> FitOptions {
    FitOptions {
        epochs,
        batch_size: usize::MAX,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    }
}

#[test]
fn xor_full_batch_sgd_momentum_reaches_small_loss() -> Result<()> {
    let g = Graph::new();
    let mut trainer = xor_trainer(&g, XOR_SEED)?;
    let data = xor_data();
    let history = trainer.fit(&data, None, &full_batch(1000))?;
    let last = history.last().expect("epochs ran");
    assert!(last.train_loss < 1e-3, "loss {}", last.train_loss);
    let metrics = trainer.evaluate(&data, 4)?;
    assert_eq!(metrics.accuracy, Some(1.0));
    assert!(metrics.loss < 1e-3);
    assert_eq!(trainer.batch_sizes(), [4]); // built and compiled once
    assert_eq!(trainer.steps(), 1000);
    Ok(())
}

fn iris() -> Result<DataSet> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/iris.csv");
    let options = CsvOptions {
        has_header: true,
        dtype: DType::F64,
        ..CsvOptions::default()
    };
    DataSet::from_csv(path, &options)
}

/// A 4-16-3 tanh MLP on iris with cross-entropy on class labels.
fn iris_trainer(g: &Graph, lr: f64) -> Result<Trainer<'_>> {
    let mut rng = StdRng::seed_from_u64(0);
    let mlp = Mlp::new(&[4, 16, 3])
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(g, "iris", &mut rng)?;
    let params = mlp.parameters();
    Trainer::new(
        g,
        params,
        Box::new(Adam::new(lr)?),
        Step::cross_entropy(mlp, 4, DType::F64),
    )
}

fn iris_split() -> Result<(DataSet, DataSet)> {
    let (mut train, mut test) = iris()?.stratified_split(0.7, 0)?;
    let statistics = train.standardize();
    statistics.apply(&mut test)?;
    Ok((train, test))
}

#[test]
fn iris_with_adam_reaches_high_held_out_accuracy() -> Result<()> {
    let (train, test) = iris_split()?;
    assert_eq!((train.len(), test.len()), (105, 45));
    let g = Graph::new();
    let mut trainer = iris_trainer(&g, 0.01)?;
    let options = FitOptions {
        epochs: 60,
        batch_size: 16,
        seed: 3,
        quiet: true,
        ..FitOptions::default()
    };
    let history = trainer.fit(&train, Some(&test), &options)?;
    let last = history.last().expect("epochs ran");
    let metrics = trainer.evaluate(&test, 45)?;
    // 44/45 with this split; over split seeds 0..8 this setup scores 89-98 % (median 95.6 %)
    assert!(
        metrics.accuracy.expect("classification") >= 0.95,
        "{metrics:?}"
    );
    assert_eq!(last.val_accuracy, metrics.accuracy);
    let matrix = trainer.confusion_matrix(&test, 45)?;
    assert_eq!(matrix.classes(), 3);
    assert_eq!(matrix.total(), 45);
    assert_eq!(matrix.accuracy(), metrics.accuracy.expect("classification"));
    // 105 = 6 batches of 16 and one of 9; validation in 2 batches of 16 and one of 13; the
    // evaluations above in one of 45: one build per size
    let mut sizes = trainer.batch_sizes();
    sizes.sort_unstable();
    assert_eq!(sizes, [9, 13, 16, 45]);
    let predictions = trainer.predict(test.features())?;
    assert_eq!(predictions.dims(), &[45, 3]);
    Ok(())
}

#[test]
fn mini_batch_sizes_one_ten_and_full_all_decrease_the_loss() -> Result<()> {
    let (train, _) = iris_split()?;
    for batch_size in [1, 10, train.len()] {
        let g = Graph::new();
        let mut trainer = iris_trainer(&g, 0.01)?;
        let before = trainer.evaluate(&train, train.len())?.loss;
        let options = FitOptions {
            epochs: 5,
            batch_size,
            quiet: true,
            ..FitOptions::default()
        };
        let history = trainer.fit(&train, None, &options)?;
        let after = trainer.evaluate(&train, train.len())?.loss;
        assert!(after < before, "batch {batch_size}: {before} -> {after}");
        assert!(
            history.epochs[4].train_loss < history.epochs[0].train_loss,
            "batch {batch_size}"
        );
        assert_eq!(trainer.steps(), 5 * train.len().div_ceil(batch_size));
    }
    Ok(())
}

#[test]
fn early_stopping_stops_and_restores_the_best_weights() -> Result<()> {
    let (train, test) = iris_split()?;
    let g = Graph::new();
    // a rate far too high makes the validation loss bounce, so it stops improving quickly
    let mut trainer = iris_trainer(&g, 0.5)?;
    let early = EarlyStopping {
        patience: 3,
        monitor: Monitor::ValLoss,
        ..EarlyStopping::default()
    };
    let options = FitOptions {
        epochs: 200,
        batch_size: 8,
        early_stopping: Some(early),
        quiet: true,
        ..FitOptions::default()
    };
    let history = trainer.fit(&train, Some(&test), &options)?;
    assert!(history.stopped_early);
    assert!(history.len() < 200);
    let best = history
        .epochs
        .iter()
        .min_by(|a, b| a.val_loss.partial_cmp(&b.val_loss).expect("finite"))
        .expect("epochs ran");
    // patience 3: stopped three epochs after the best
    assert_eq!(history.len(), best.epoch + 4);
    assert_eq!(history.restored_epoch, Some(best.epoch));
    let now = trainer.evaluate(&test, 8)?.loss;
    assert!(
        (now - best.val_loss.expect("validated")).abs() < 1e-12,
        "{now} vs {best:?}"
    );
    Ok(())
}

#[test]
fn history_csv_has_the_header_and_one_line_per_epoch() -> Result<()> {
    let g = Graph::new();
    let mut trainer = xor_trainer(&g, XOR_SEED)?;
    let data = xor_data();
    let history = trainer.fit(&data, Some(&data), &full_batch(7))?;
    let mut text = Vec::new();
    history.write_csv(&mut text).expect("writing to memory");
    let text = String::from_utf8(text).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], HISTORY_CSV_HEADER);
    assert_eq!(lines.len(), 8);
    for (epoch, line) in lines[1..].iter().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 7);
        assert_eq!(fields[0], epoch.to_string());
        assert_eq!(fields[5], "0.5"); // lr
    }
    let path = std::env::temp_dir().join(format!("adnet-history-{}.csv", std::process::id()));
    history.to_csv(&path)?;
    let written = std::fs::read_to_string(&path).expect("just written");
    std::fs::remove_file(&path).ok();
    assert_eq!(written, text);
    Ok(())
}

#[test]
fn lr_range_test_sweeps_and_restores_the_parameters() -> Result<()> {
    let (train, _) = iris_split()?;
    let g = Graph::new();
    let mut trainer = iris_trainer(&g, 0.01)?;
    let before: Vec<Tensor> = trainer
        .params()
        .iter()
        .map(|&p| g.value(p))
        .collect::<std::result::Result<_, _>>()?;
    let points = lr_range_test(&mut trainer, &train, 1e-5, 10.0, 60, 16)?;
    assert!(points.len() >= 10);
    assert!(points.windows(2).all(|w| w[1].0 > w[0].0), "rates grow");
    assert!((points[0].0 - 1e-5).abs() < 1e-18);
    let lowest = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    assert!(
        lowest < points[0].1,
        "the loss falls somewhere in the sweep"
    );
    let after: Vec<Tensor> = trainer
        .params()
        .iter()
        .map(|&p| g.value(p))
        .collect::<std::result::Result<_, _>>()?;
    assert_eq!(before, after);
    assert_eq!(trainer.lr(), 0.01);
    Ok(())
}

#[test]
fn binary_task_is_detected_for_a_sigmoid_output() -> Result<()> {
    let g = Graph::new();
    let mut trainer = xor_trainer(&g, XOR_SEED)?.with_task(Task::Auto);
    let metrics = trainer.evaluate(&xor_data(), 4)?;
    assert!(metrics.accuracy.is_some());
    Ok(())
}

/// W5: steps per second of full-batch XOR. Run with
/// `cargo test --release -p adnet-nn --test train -- --ignored --nocapture xor_step_timing`.
#[test]
#[ignore = "timing, run by hand in release mode"]
fn xor_step_timing() -> Result<()> {
    let g = Graph::new();
    let mut trainer = xor_trainer(&g, XOR_SEED)?;
    let data = xor_data();
    for _ in 0..1000 {
        trainer.train_batch(data.features(), data.targets())?;
    }
    let steps = 200_000;
    let start = std::time::Instant::now();
    for _ in 0..steps {
        trainer.train_batch(data.features(), data.targets())?;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "xor train_batch: {:.3} us/step, {:.0} steps/s",
        seconds / steps as f64 * 1e6,
        steps as f64 / seconds
    );
    let start = std::time::Instant::now();
    trainer.fit(&data, None, &full_batch(steps))?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "xor fit (full batch): {:.3} us/epoch, {:.0} epochs/s",
        seconds / steps as f64 * 1e6,
        steps as f64 / seconds
    );
    Ok(())
}

/// A 4-16-3 ReLU MLP on iris with dropout after the hidden layer, built for any batch size.
fn dropout_trainer(g: &Graph) -> Result<(Trainer<'_>, adnet_nn::layers::Dropout)> {
    use adnet_nn::layers::{Dropout, Linear, LinearOptions, Sequential};
    let mut rng = StdRng::seed_from_u64(0);
    let dropout = Dropout::new(g, "drop", 0.5, [1, 16], DType::F64)?;
    let options = LinearOptions {
        dtype: DType::F64,
        ..LinearOptions::default()
    };
    let mut net = Sequential::new();
    net.push(Linear::new(g, "fc1", 4, 16, options, &mut rng)?)
        .push(Activation::Relu)
        .push(dropout.clone())
        .push(Linear::new(g, "fc2", 16, 3, options, &mut rng)?);
    let params = net.parameters();
    let trainer = Trainer::new(
        g,
        params,
        Box::new(Adam::new(0.01)?),
        Step::cross_entropy(net, 4, DType::F64),
    )?;
    Ok((trainer, dropout))
}

#[test]
fn trainer_drops_units_while_training_and_not_while_evaluating() -> Result<()> {
    let (data, _) = iris_split()?;
    let g = Graph::new();
    let (trainer, dropout) = dropout_trainer(&g)?;
    let mut trainer = trainer.with_dropout(&dropout);
    let (x, y) = (data.features(), data.targets());
    // evaluation is deterministic: the masks are all ones
    let a = trainer.evaluate(&data, 105)?.loss;
    let b = trainer.evaluate(&data, 105)?.loss;
    assert_eq!(a, b);
    // a training step sees a randomly thinned network: its loss differs from evaluation's
    let trained = trainer.train_batch(x, y)?.loss;
    assert_ne!(trained, a);
    // fitting with mini-batches of 32 (and a last batch of 9) builds a mask per batch size
    let history = trainer.fit(
        &data,
        None,
        &FitOptions {
            epochs: 30,
            batch_size: 32,
            quiet: true,
            ..FitOptions::default()
        },
    )?;
    // [1, 16] from `new`, then batches of 105, 32 and 9 rows
    assert_eq!(dropout.masks().len(), 4);
    let metrics = trainer.evaluate(&data, 105)?;
    assert!(
        metrics.accuracy.expect("classification") > 0.9,
        "accuracy {:?} after {} epochs",
        metrics.accuracy,
        history.len()
    );
    // without with_dropout the mask inputs are never set, and the first step says so
    let g2 = Graph::new();
    let (mut bare, _) = dropout_trainer(&g2)?;
    let error = bare.train_batch(x, y).unwrap_err().to_string();
    assert!(error.contains("drop.mask"), "{error}");
    Ok(())
}
