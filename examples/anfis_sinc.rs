//! ANFIS on the first example of Jang's paper ("ANFIS: Adaptive-Network-based Fuzzy Inference
//! System", IEEE Trans. SMC 23(3), 1993): modelling the two-input sinc function
//! `z = sin(x)/x · sin(y)/y` from the 121 points of the 11 × 11 grid over `[-10, 10]²`, with a
//! 16-rule first-order Sugeno system (4 generalised bell membership functions per input, 72
//! parameters: 24 premise, 48 consequent).
//!
//! The same initial network (MATLAB `genfis1`'s: evenly spaced bells, zero consequents) is
//! trained for 200 epochs by the paper's hybrid rule (least squares for the consequents, then a
//! normalised gradient step of size `k` for the premise, `k` adapted by the paper's heuristic,
//! `k₀ = 0.1`), with the batch and the recursive least-squares forms, and by backpropagation on
//! all 72 parameters through the ordinary `Trainer` (full batch, Adam with learning rate 0.02,
//! the best of the optimizers tried, each at a few rates: Adam from 0.01 to 0.3, Nadam, Adamax,
//! Adagrad, RMSprop and SGD with momentum; the paper compares against plain backpropagation,
//! which does worse). It prints the RMSE as training goes and the final training RMSE of each,
//! and writes
//!
//! - `target/plots/anfis_sinc_rmse.svg`: RMSE against epochs, both rules (log scale);
//! - `target/plots/anfis_sinc_mfs_x.svg` and `target/plots/anfis_sinc_mfs_y.svg`: the
//!   membership functions of each input before and after hybrid training, as the paper's
//!   figures show them (two files, as the plot module draws one panel per file);
//! - `target/plots/anfis.dot`: the 16-rule network's graph in Graphviz's DOT language
//!   (adaptive nodes as boxes, fixed ones as circles), and `target/plots/anfis_2x2.dot`, a
//!   4-rule network small enough to read; `dot -Tsvg target/plots/anfis_2x2.dot -o
//!   docs/anfis.svg` draws the README's picture.
//!
//! Run: `cargo run --release --example anfis_sinc`

use std::path::Path;
use std::time::Instant;

use adnet::graph::Graph;
use adnet::nn::anfis::{Anfis, HybridHistory, HybridOptions, LeastSquares};
use adnet::nn::data::DataSet;
use adnet::nn::layers::Module;
use adnet::nn::optim::Adam;
use adnet::nn::plot::plot_curves;
use adnet::nn::train::{FitOptions, Step, Trainer};
use adnet::{DType, Tensor};

/// Training epochs for both rules.
const EPOCHS: usize = 200;
/// Membership functions per input.
const MFS: usize = 4;
/// The hybrid rule's initial step size `k₀`.
const STEP_SIZE: f64 = 0.1;
/// Backpropagation's learning rate (Adam).
const LR: f64 = 0.02;
/// The input range, both inputs.
const RANGE: (f64, f64) = (-10.0, 10.0);

type Error = Box<dyn std::error::Error>;

fn sinc(v: f64) -> f64 {
    if v == 0.0 {
        1.0
    } else {
        v.sin() / v
    }
}

/// The 121 training pairs: inputs `[121, 2]`, targets `[121, 1]`.
fn training_data() -> Result<(Tensor, Tensor), Error> {
    let grid: Vec<f64> = (0..11).map(|i| -10.0 + 2.0 * i as f64).collect();
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for &x in &grid {
        for &y in &grid {
            inputs.extend([x, y]);
            targets.push(sinc(x) * sinc(y));
        }
    }
    Ok((
        Tensor::from_vec(inputs, [121, 2])?,
        Tensor::from_vec(targets, [121, 1])?,
    ))
}

/// The paper's network, as `genfis1` initialises it.
fn network(g: &Graph) -> Result<Anfis, Error> {
    Ok(Anfis::builder(&[MFS, MFS], &[RANGE, RANGE]).build(g, "anfis")?)
}

/// Trains a fresh network with the hybrid rule; returns its history and the membership
/// functions of both inputs before and after, sampled for plotting.
fn hybrid(
    x: &Tensor,
    t: &Tensor,
    least_squares: LeastSquares,
) -> Result<(HybridHistory, Vec<Curves>), Error> {
    let g = Graph::new();
    let anfis = network(&g)?;
    let before = sample_functions(&anfis, &g)?;
    let options = HybridOptions {
        epochs: EPOCHS,
        step_size: STEP_SIZE,
        least_squares,
        ..HybridOptions::default()
    };
    let history = anfis.fit_hybrid(&g, x, t, &options)?;
    let after = sample_functions(&anfis, &g)?;
    Ok((history, vec![before, after]))
}

/// Trains a fresh network by backpropagation; returns the RMSE at the start of every epoch
/// and after the last.
fn backprop(x: &Tensor, t: &Tensor) -> Result<Vec<f64>, Error> {
    let g = Graph::new();
    let anfis = network(&g)?;
    let params = anfis.parameters();
    let mut trainer = Trainer::new(
        &g,
        params,
        Box::new(Adam::new(LR)?),
        Step::mse(anfis, 2, 1, DType::F64),
    )?;
    let data = DataSet::from_tensors(x.clone(), t.clone())?;
    let options = FitOptions {
        epochs: EPOCHS,
        batch_size: 121,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    };
    // full batch: each epoch's loss is the mean squared error of the weights it started from
    let history = trainer.fit(&data, None, &options)?;
    let mut rmse: Vec<f64> = history.epochs.iter().map(|r| r.train_loss.sqrt()).collect();
    rmse.push(trainer.evaluate(&data, 121)?.loss.sqrt());
    Ok(rmse)
}

/// The membership functions of each input, sampled at 201 points: `[input][function]`.
type Curves = Vec<Vec<Vec<(f64, f64)>>>;

fn sample_functions(anfis: &Anfis, g: &Graph) -> Result<Curves, Error> {
    Ok(anfis
        .membership_functions(g)?
        .iter()
        .map(|functions| {
            functions
                .iter()
                .map(|f| {
                    (0..=200)
                        .map(|i| {
                            let x = RANGE.0 + (RANGE.1 - RANGE.0) * i as f64 / 200.0;
                            (x, f.value(x))
                        })
                        .collect()
                })
                .collect()
        })
        .collect())
}

/// Writes the DOT of a network with `mfs` functions per input applied to a batch of `rows`,
/// its layer nodes named as in the paper.
fn write_dot(path: &Path, mfs: usize, rows: usize) -> Result<(), Error> {
    let g = Graph::new();
    let anfis = Anfis::builder(&[mfs, mfs], &[RANGE, RANGE]).build(&g, "anfis")?;
    let x = g.input("x", [rows, 2], DType::F64)?;
    let layers = anfis.layers(&g, x)?;
    layers.memberships[0].named("layer1.mu_x")?;
    layers.memberships[1].named("layer1.mu_y")?;
    layers.firing.named("layer2.w")?;
    layers.normalized.named("layer3.w_bar")?;
    layers.rule_outputs.named("rules.f")?;
    layers.consequents.named("layer4.w_bar_f")?;
    layers.output.named("layer5.o")?;
    std::fs::write(path, g.to_dot())?;
    Ok(())
}

fn main() -> Result<(), Error> {
    let (x, t) = training_data()?;
    println!(
        "ANFIS on sinc(x)·sinc(y): 121 training pairs on [-10, 10]², {} rules ({MFS} bell \
         functions per input), {} parameters, {EPOCHS} epochs",
        MFS * MFS,
        network(&Graph::new())?.parameter_count()
    );
    println!(
        "hybrid: least squares + normalised gradient steps (k0 = {STEP_SIZE}); backprop: \
         Adam (lr {LR}), full batch\n"
    );

    let start = Instant::now();
    let (batch, functions) = hybrid(&x, &t, LeastSquares::Batch)?;
    let hybrid_time = start.elapsed();
    let start = Instant::now();
    let (recursive, _) = hybrid(&x, &t, LeastSquares::recursive())?;
    let recursive_time = start.elapsed();
    let start = Instant::now();
    let backprop = backprop(&x, &t)?;
    let backprop_time = start.elapsed();

    // hybrid: the error after each epoch's least-squares step; backprop: at each epoch's start
    println!(
        "{:>6} {:>14} {:>10} {:>16}",
        "epoch", "hybrid RMSE", "k", "backprop RMSE"
    );
    for epoch in (0..EPOCHS).step_by(20).chain([EPOCHS - 1]) {
        println!(
            "{epoch:>6} {:>14.4e} {:>10.4} {:>16.4e}",
            batch.rmse[epoch], batch.step_size[epoch], backprop[epoch]
        );
    }
    println!("\nfinal training RMSE after {EPOCHS} epochs:");
    println!(
        "  hybrid, batch least squares      {:.4e}  ({:.0} ms)",
        batch.final_rmse,
        hybrid_time.as_secs_f64() * 1e3
    );
    println!(
        "  hybrid, recursive least squares  {:.4e}  ({:.0} ms)",
        recursive.final_rmse,
        recursive_time.as_secs_f64() * 1e3
    );
    println!(
        "  backprop (Adam)                  {:.4e}  ({:.0} ms)",
        backprop[EPOCHS],
        backprop_time.as_secs_f64() * 1e3
    );

    let dir = Path::new("target/plots");
    std::fs::create_dir_all(dir)?;
    let rmse_path = dir.join("anfis_sinc_rmse.svg");
    let curve = |values: &[f64]| -> Vec<(f64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(epoch, &e)| (epoch as f64, e))
            .collect()
    };
    let (hybrid_curve, backprop_curve) = (curve(&batch.rmse), curve(&backprop[..EPOCHS]));
    plot_curves(
        &rmse_path,
        "ANFIS on sinc(x)·sinc(y): training RMSE",
        &[
            ("hybrid (least squares + gradient)", &hybrid_curve),
            ("backprop (Adam)", &backprop_curve),
        ],
        "epoch",
        "RMSE",
        true,
    )?;
    println!("\nerror curves: {}", rmse_path.display());

    for (input, axis) in ["x", "y"].iter().enumerate() {
        let path = dir.join(format!("anfis_sinc_mfs_{axis}.svg"));
        let labels: Vec<String> = ["initial", "final"]
            .iter()
            .flat_map(|stage| (1..=MFS).map(move |k| format!("{stage} A{k}")))
            .collect();
        let curves: Vec<&[(f64, f64)]> = functions
            .iter()
            .flat_map(|stage| stage[input].iter().map(Vec::as_slice))
            .collect();
        let series: Vec<(&str, &[(f64, f64)])> =
            labels.iter().map(String::as_str).zip(curves).collect();
        plot_curves(
            &path,
            &format!("membership functions on {axis}, before and after hybrid learning"),
            &series,
            axis,
            "membership grade",
            false,
        )?;
        println!("membership functions on {axis}: {}", path.display());
    }

    let dot = dir.join("anfis.dot");
    write_dot(&dot, MFS, 121)?;
    let small = dir.join("anfis_2x2.dot");
    write_dot(&small, 2, 1)?;
    println!(
        "network graphs: {} and {} (render with `dot -Tsvg`)",
        dot.display(),
        small.display()
    );
    Ok(())
}
