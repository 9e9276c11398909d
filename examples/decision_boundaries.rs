//! The lecture's three pictures of what layers buy, made real: networks with one layer of
//! weights (no hidden layer: a half plane), two layers (one hidden layer) and three layers
//! (two hidden layers), each trained on three two-class problems: XOR (four noisy clusters
//! at the corners of the unit square), two intertwined spirals, and "meshed regions" (a 3×3
//! checkerboard). It prints each model's training accuracy and draws the nine decision
//! regions, one row per data set and one column per depth, to
//! `target/plots/decision_boundaries.svg`.
//!
//! The lecture's statements (half planes, convex regions, arbitrary regions) are about
//! threshold units with an AND or OR at the output. These networks use smooth tanh units and
//! softmax outputs, and with enough hidden units one hidden layer can approximate any region;
//! the two-layer networks here are kept small (4 hidden units) so that the picture shows what a
//! handful of half planes can carve, while the three-layer networks have 24 units per hidden
//! layer. All are trained full batch with Adam and cross-entropy, from fixed seeds.
//!
//! Run: `cargo run --release --example decision_boundaries`

use std::path::Path;
use std::time::Instant;

use adnet::graph::Graph;
use adnet::nn::data::{two_spirals, DataSet};
use adnet::nn::layers::{Activation, Mlp, Module};
use adnet::nn::optim::Adam;
use adnet::nn::plot::{plot_decision_grid, DecisionPanel};
use adnet::nn::train::{FitOptions, Step, Trainer};
use adnet::tensor::rand::{rngs::StdRng, Rng, SeedableRng};
use adnet::{DType, Tensor};

/// Cells per side of each panel's grid.
const RESOLUTION: usize = 150;

/// A two-class problem in the plane.
struct Problem {
    name: &'static str,
    /// `(x, y, class)`.
    points: Vec<(f64, f64, usize)>,
    /// The square shown, `(low, high)` on both axes.
    range: (f64, f64),
}

/// A network depth: the layer widths between the 2 inputs and the 2 logits.
struct Depth {
    name: &'static str,
    hidden: &'static [usize],
    epochs: usize,
    lr: f64,
}

const DEPTHS: [Depth; 3] = [
    Depth {
        name: "1 layer",
        hidden: &[],
        epochs: 500,
        lr: 0.05,
    },
    Depth {
        name: "2 layers (4 hidden)",
        hidden: &[4],
        epochs: 2000,
        lr: 0.03,
    },
    Depth {
        name: "3 layers (24-24 hidden)",
        hidden: &[24, 24],
        epochs: 2000,
        lr: 0.01,
    },
];

/// Four clusters of 25 points around the corners of the unit square; opposite corners share a
/// class.
fn xor(rng: &mut StdRng) -> Problem {
    let mut points = Vec::new();
    for (cx, cy) in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)] {
        let class = usize::from((cx + cy) == 1.0);
        for _ in 0..25 {
            let dx = rng.random_range(-0.2..0.2);
            let dy = rng.random_range(-0.2..0.2);
            points.push((cx + dx, cy + dy, class));
        }
    }
    Problem {
        name: "XOR",
        points,
        range: (-0.5, 1.5),
    }
}

/// Two spirals of 100 points each, one and a half turns, the second the first turned by half
/// a turn, with a little noise.
fn spirals(rng: &mut StdRng) -> Result<Problem, adnet::nn::NnError> {
    Ok(Problem {
        name: "two spirals",
        points: two_spirals(100, 0.02, rng)?,
        range: (-1.1, 1.1),
    })
}

/// 270 points spread uniformly over `[-1.5, 1.5]²`, classed by a 3×3 checkerboard.
fn checkerboard(rng: &mut StdRng) -> Problem {
    let points = (0..270)
        .map(|_| {
            let x: f64 = rng.random_range(-1.5..1.5);
            let y: f64 = rng.random_range(-1.5..1.5);
            let cell = (x + 1.5).floor() as usize + (y + 1.5).floor() as usize;
            (x, y, cell % 2)
        })
        .collect();
    Problem {
        name: "meshed regions",
        points,
        range: (-1.5, 1.5),
    }
}

/// Trains a network of `depth` on `problem`; returns its training accuracy and its class at
/// every grid cell (row by row, `y` outer).
fn train(
    problem: &Problem,
    depth: &Depth,
) -> Result<(f64, Vec<usize>), Box<dyn std::error::Error>> {
    let n = problem.points.len();
    let features: Vec<f64> = problem
        .points
        .iter()
        .flat_map(|&(x, y, _)| [x, y])
        .collect();
    let labels: Vec<f64> = problem.points.iter().map(|&(_, _, c)| c as f64).collect();
    let data = DataSet::from_tensors(
        Tensor::from_vec(features, [n, 2])?,
        Tensor::from_vec(labels, [n])?,
    )?;
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let sizes: Vec<usize> = [2]
        .iter()
        .chain(depth.hidden)
        .chain(&[2])
        .copied()
        .collect();
    let mlp = Mlp::new(&sizes)
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(&g, "mlp", &mut rng)?;
    let params = mlp.parameters();
    let mut trainer = Trainer::new(
        &g,
        params,
        Box::new(Adam::new(depth.lr)?),
        Step::cross_entropy(mlp, 2, DType::F64),
    )?;
    let options = FitOptions {
        epochs: depth.epochs,
        batch_size: usize::MAX,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    };
    trainer.fit(&data, None, &options)?;
    let accuracy = trainer
        .evaluate(&data, n)?
        .accuracy
        .ok_or("not a classification task")?;

    let (low, high) = problem.range;
    let step = (high - low) / RESOLUTION as f64;
    let centre = |i: usize| low + (i as f64 + 0.5) * step;
    let grid: Vec<f64> = (0..RESOLUTION * RESOLUTION)
        .flat_map(|k| [centre(k % RESOLUTION), centre(k / RESOLUTION)])
        .collect();
    let logits = trainer
        .predict(&Tensor::from_vec(grid, [RESOLUTION * RESOLUTION, 2])?)?
        .to_f64_vec();
    let classes = logits.chunks(2).map(|l| usize::from(l[1] > l[0])).collect();
    Ok((accuracy, classes))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(7);
    let problems = [xor(&mut rng), spirals(&mut rng)?, checkerboard(&mut rng)];

    print!("{:<22}", "training accuracy");
    for depth in &DEPTHS {
        print!("{:>26}", depth.name);
    }
    println!();
    let mut results = Vec::new();
    for problem in &problems {
        print!(
            "{:<22}",
            format!("{} ({})", problem.name, problem.points.len())
        );
        for depth in &DEPTHS {
            let (accuracy, classes) = train(problem, depth)?;
            print!("{:>25.1}%", 100.0 * accuracy);
            results.push((problem, depth, accuracy, classes));
        }
        println!();
    }

    let cell = |v: f64, (low, high): (f64, f64)| {
        (((v - low) / (high - low) * RESOLUTION as f64) as usize).min(RESOLUTION - 1)
    };
    let predictors: Vec<Box<dyn Fn(f64, f64) -> usize + '_>> = results
        .iter()
        .map(|(problem, _, _, classes)| {
            let range = problem.range;
            Box::new(move |x: f64, y: f64| classes[cell(y, range) * RESOLUTION + cell(x, range)])
                as Box<dyn Fn(f64, f64) -> usize>
        })
        .collect();
    let panels: Vec<DecisionPanel<'_>> = results
        .iter()
        .zip(&predictors)
        .map(|((problem, depth, accuracy, _), predict)| DecisionPanel {
            title: format!(
                "{}, {}: {:.0} %",
                problem.name,
                depth.name,
                100.0 * accuracy
            ),
            predict: predict.as_ref(),
            x_range: problem.range,
            y_range: problem.range,
            resolution: RESOLUTION,
            points: &problem.points,
        })
        .collect();
    let plots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&plots)?;
    let path = plots.join("decision_boundaries.svg");
    plot_decision_grid(
        &path,
        "Decision regions by depth: 1, 2 and 3 layers of weights",
        &panels,
        3,
    )?;
    println!(
        "\nwrote {} ({:.1} s in all)",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
