//! Radial basis function networks against an MLP on two intertwined spirals (200 training
//! points, 500 held out): an RBF network of 40 units trained the classic two-stage way
//! (centres by k-means, widths `d_max/√(2k)`, output layer by linear least squares on one-hot
//! targets); one of 20 units trained the same way; that 20-unit network after full gradient
//! training of its centres, widths and output layer from the two-stage solution (softmax
//! cross-entropy, full-batch Adam, through the ordinary `Trainer`); and a 2-32-32-2 tanh MLP
//! trained with Adam. It prints each model's training and held-out accuracy, parameter count
//! and training time, draws the four decision regions side by side to
//! `target/plots/rbf_vs_mlp.svg`, and writes the RBF network's graph (squares for adaptive
//! nodes, circles for fixed ones) to `target/plots/rbf.dot` (`dot -Tsvg` draws it).
//!
//! The two-stage fit takes no iterations at all, a k-means run and one Cholesky solve, well
//! under a millisecond: Gaussian units are local, so enough of them along each arm make the
//! problem linear. With too few units for that, moving the centres and widths by gradient
//! descent closes the gap, still with a twelfth of the MLP's parameters; the MLP has to carve
//! the same regions out of global tanh half planes, in many more steps.
//!
//! Run: `cargo run --release --example rbf`

use std::path::Path;
use std::time::Instant;

use adnet::graph::Graph;
use adnet::nn::data::{two_spirals, DataSet};
use adnet::nn::layers::{Activation, Mlp, Module};
use adnet::nn::optim::Adam;
use adnet::nn::plot::{plot_decision_grid, DecisionPanel};
use adnet::nn::rbf::{Rbf, RbfOptions};
use adnet::nn::train::{FitOptions, Step, Trainer};
use adnet::tensor::rand::{rngs::StdRng, SeedableRng};
use adnet::{DType, Tensor};

/// Gaussian units of the large two-stage RBF network, and of the small one (two-stage, then
/// gradient-trained).
const UNITS: usize = 40;
const FEW_UNITS: usize = 20;
/// The ridge of the least-squares output layer.
const RIDGE: f64 = 1e-6;
/// Full-batch Adam epochs for the gradient-trained RBF network, and its learning rate.
const RBF_EPOCHS: usize = 300;
const RBF_LR: f64 = 0.05;
/// Full-batch Adam epochs for the MLP, and its learning rate.
const MLP_EPOCHS: usize = 2000;
const MLP_LR: f64 = 0.01;
/// Cells per side of each decision-region panel.
const RESOLUTION: usize = 150;
/// The square shown, on both axes.
const RANGE: (f64, f64) = (-1.1, 1.1);

/// The points as `[n, 2]` features and `[n]` class labels.
fn data_set(points: &[(f64, f64, usize)]) -> Result<DataSet, Box<dyn std::error::Error>> {
    let features: Vec<f64> = points.iter().flat_map(|&(x, y, _)| [x, y]).collect();
    let labels: Vec<f64> = points.iter().map(|&(_, _, c)| c as f64).collect();
    Ok(DataSet::from_tensors(
        Tensor::from_vec(features, [points.len(), 2])?,
        Tensor::from_vec(labels, [points.len()])?,
    )?)
}

/// The centres of the plot's grid cells, row by row (`y` outer), `[RESOLUTION², 2]`.
fn grid() -> Result<Tensor, Box<dyn std::error::Error>> {
    let (low, high) = RANGE;
    let step = (high - low) / RESOLUTION as f64;
    let centre = |i: usize| low + (i as f64 + 0.5) * step;
    let cells: Vec<f64> = (0..RESOLUTION * RESOLUTION)
        .flat_map(|k| [centre(k % RESOLUTION), centre(k / RESOLUTION)])
        .collect();
    Ok(Tensor::from_vec(cells, [RESOLUTION * RESOLUTION, 2])?)
}

/// The predicted class of each row of two-column logits.
fn classes(logits: &Tensor) -> Vec<usize> {
    logits
        .to_f64_vec()
        .chunks(2)
        .map(|l| usize::from(l[1] > l[0]))
        .collect()
}

/// The fraction of `data`'s samples whose class `predicted` gets right.
fn accuracy(predicted: &[usize], data: &DataSet) -> f64 {
    let labels = data.targets().to_f64_vec();
    let correct = predicted
        .iter()
        .zip(&labels)
        .filter(|(p, l)| **p as f64 == **l)
        .count();
    correct as f64 / labels.len() as f64
}

/// What one model achieved.
struct Outcome {
    name: String,
    train_accuracy: f64,
    test_accuracy: f64,
    parameters: usize,
    seconds: f64,
    /// The predicted class at every grid cell.
    regions: Vec<usize>,
}

/// An RBF network of `units` units in `g`, trained in two stages (k-means centres,
/// `d_max/√(2k)` widths, least-squares output layer on one-hot targets), with the seconds it
/// took.
fn two_stage(
    g: &Graph,
    units: usize,
    train: &DataSet,
) -> Result<(Rbf, f64), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(0);
    let options = RbfOptions::default().with_dtype(DType::F64);
    let rbf = Rbf::new(g, "rbf", train.features(), units, 2, options, &mut rng)?;
    let fit = rbf.fit_output(g, train.features(), train.targets(), RIDGE)?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "RBF {units}: k-means, least squares; RMS residual {:.3} on one-hot targets",
        fit.rmse
    );
    Ok((rbf, seconds))
}

/// The outcome of a two-stage RBF network of `units` units in `g`, predicting through the
/// graph; returns the network too.
fn two_stage_outcome(
    g: &Graph,
    units: usize,
    (train, test): (&DataSet, &DataSet),
) -> Result<(Outcome, Rbf), Box<dyn std::error::Error>> {
    let (rbf, seconds) = two_stage(g, units, train)?;
    let predict =
        |name: &str, features: &Tensor| -> Result<Vec<usize>, Box<dyn std::error::Error>> {
            let x = g.input(name, features.dims(), DType::F64)?;
            let logits = rbf.forward(g, x)?;
            Ok(classes(&g.eval_tensor(logits, &[(name, features)])?))
        };
    let outcome = Outcome {
        name: format!("RBF {units}, two-stage"),
        train_accuracy: accuracy(&predict("x_train", train.features())?, train),
        test_accuracy: accuracy(&predict("x_test", test.features())?, test),
        parameters: rbf.num_parameters(),
        seconds,
        regions: predict("x_grid", &grid()?)?,
    };
    Ok((outcome, rbf))
}

/// Trains `model` (with its parameters) by full-batch Adam on softmax cross-entropy.
fn gradient_train(
    name: String,
    g: &Graph,
    model: impl Module + 'static,
    parameters: usize,
    (epochs, lr): (usize, f64),
    (train, test): (&DataSet, &DataSet),
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let params = model.parameters();
    let mut trainer = Trainer::new(
        g,
        params,
        Box::new(Adam::new(lr)?),
        Step::cross_entropy(model, 2, DType::F64),
    )?;
    let options = FitOptions {
        epochs,
        batch_size: usize::MAX,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    };
    let history = trainer.fit(train, None, &options)?;
    let seconds = start.elapsed().as_secs_f64();
    let final_loss = history.last().map_or(f64::NAN, |epoch| epoch.train_loss);
    println!("{name}: {epochs} epochs of Adam, final cross-entropy {final_loss:.4}");
    Ok(Outcome {
        name,
        train_accuracy: accuracy(&classes(&trainer.predict(train.features())?), train),
        test_accuracy: accuracy(&classes(&trainer.predict(test.features())?), test),
        parameters,
        seconds,
        regions: classes(&trainer.predict(&grid()?)?),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(7);
    let train_points = two_spirals(100, 0.02, &mut rng)?;
    let test_points = two_spirals(250, 0.02, &mut rng)?;
    let (train, test) = (data_set(&train_points)?, data_set(&test_points)?);

    let (large, _) = two_stage_outcome(&Graph::new(), UNITS, (&train, &test))?;
    // the small network's two-stage fit is the start of gradient training of everything
    let g = Graph::new();
    let (small, rbf) = two_stage_outcome(&g, FEW_UNITS, (&train, &test))?;
    let (seconds, count) = (small.seconds, rbf.num_parameters());
    let mut tuned = gradient_train(
        format!("RBF {FEW_UNITS} + gradient"),
        &g,
        rbf,
        count,
        (RBF_EPOCHS, RBF_LR),
        (&train, &test),
    )?;
    tuned.seconds += seconds;

    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let mlp = Mlp::new(&[2, 32, 32, 2])
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(&g, "mlp", &mut rng)?;
    let count = mlp
        .parameters()
        .iter()
        .map(|(_, id)| g.spec(*id).map(|spec| spec.shape.numel()))
        .sum::<Result<usize, _>>()?;
    let mlp = gradient_train(
        "MLP 2-32-32-2 tanh".to_string(),
        &g,
        mlp,
        count,
        (MLP_EPOCHS, MLP_LR),
        (&train, &test),
    )?;

    let outcomes = [large, small, tuned, mlp];
    println!(
        "\n{:<28}{:>10}{:>10}{:>12}{:>12}",
        "model", "train", "held-out", "parameters", "time"
    );
    for o in &outcomes {
        println!(
            "{:<28}{:>9.1}%{:>9.1}%{:>12}{:>9.1} ms",
            o.name,
            100.0 * o.train_accuracy,
            100.0 * o.test_accuracy,
            o.parameters,
            1e3 * o.seconds
        );
    }

    let cell = |v: f64| {
        let (low, high) = RANGE;
        (((v - low) / (high - low) * RESOLUTION as f64) as usize).min(RESOLUTION - 1)
    };
    let predictors: Vec<Box<dyn Fn(f64, f64) -> usize + '_>> = outcomes
        .iter()
        .map(|o| {
            Box::new(move |x: f64, y: f64| o.regions[cell(y) * RESOLUTION + cell(x)])
                as Box<dyn Fn(f64, f64) -> usize>
        })
        .collect();
    let panels: Vec<DecisionPanel<'_>> = outcomes
        .iter()
        .zip(&predictors)
        .map(|(o, predict)| DecisionPanel {
            title: format!(
                "{}, {} params: {:.1} %",
                o.name,
                o.parameters,
                100.0 * o.test_accuracy
            ),
            predict: predict.as_ref(),
            x_range: RANGE,
            y_range: RANGE,
            resolution: RESOLUTION,
            points: &train_points,
        })
        .collect();
    let plots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&plots)?;
    let svg = plots.join("rbf_vs_mlp.svg");
    plot_decision_grid(
        &svg,
        "Two spirals, held-out accuracy: RBF networks and an MLP",
        &panels,
        2,
    )?;

    // the small network alone, for one sample: its parameters and forward nodes
    let picture = Graph::new();
    let options = RbfOptions::default().with_dtype(DType::F64);
    let mut rng = StdRng::seed_from_u64(0);
    let rbf = Rbf::new(
        &picture,
        "rbf",
        train.features(),
        FEW_UNITS,
        2,
        options,
        &mut rng,
    )?;
    let x = picture.input("x", [1, 2], DType::F64)?;
    rbf.forward(&picture, x)?.named("y")?;
    let dot_path = plots.join("rbf.dot");
    std::fs::write(&dot_path, picture.to_dot())?;
    println!(
        "\nwrote {} and {} ({:.1} s in all)",
        svg.display(),
        dot_path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
