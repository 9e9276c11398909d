//! The lecture's single-layer perceptron: telling women (`+1`) from men (`−1`) by hair length
//! and voice frequency, with Rosenblatt's perceptron rule and with Widrow and Hoff's ADALINE
//! (LMS), then the perceptron failing on XOR, which no line separates. It prints the epochs each
//! rule took, the learned lines in the original units, and the mistakes, and draws the three
//! decision regions with the data to `target/plots/perceptron.svg`.
//!
//! The 40 people are synthetic, drawn from seed 7: 20 women with hair uniform in 10–60 cm and
//! voice (speaking fundamental frequency) uniform in 165–255 Hz, 20 men with hair in 1–25 cm and
//! voice in 85–155 Hz (the ranges usually quoted for adult speaking voices; the hair lengths are
//! plausible guesses). The 10 Hz gap between the voices makes the classes linearly separable. Features are standardized (mean 0, standard deviation 1) before
//! training, so hertz and centimetres weigh alike; the learned weights are then converted back
//! to the original units. The XOR run starts from small seeded random weights, so that its last
//! line is not the trivial one the rule cycles through from zero weights.
//!
//! Run: `cargo run --example perceptron`

use std::path::Path;

use adnet::nn::classic::perceptron::{
    Adaline, AdalineOptions, DecisionLine, Init, Perceptron, PerceptronOptions, SampleOrder,
};
use adnet::nn::data::DataSet;
use adnet::nn::plot::{plot_decision_grid, DecisionPanel};
use adnet::tensor::rand::{rngs::StdRng, Rng, SeedableRng};
use adnet::Tensor;

/// The region plotted: hair length (cm) and voice frequency (Hz).
const HAIR: (f64, f64) = (0.0, 65.0);
const VOICE: (f64, f64) = (70.0, 270.0);
/// Cells per side of each panel's grid.
const RESOLUTION: usize = 150;

/// A line in the lecture's variables, `x₁` hair length and `x₂` voice frequency.
fn describe(line: &DecisionLine) -> String {
    let ends = match line.clip(HAIR, VOICE) {
        Some([(h0, v0), (h1, v1)]) => {
            format!("from ({h0:.0} cm, {v0:.0} Hz) to ({h1:.0} cm, {v1:.0} Hz)")
        }
        None => "outside the plot".to_string(),
    };
    match *line {
        DecisionLine::Sloped { slope, intercept } => {
            let sign = if slope < 0.0 { '−' } else { '+' };
            let slope = slope.abs();
            format!("voice = {intercept:.1} Hz {sign} {slope:.3} Hz/cm × hair, {ends}")
        }
        DecisionLine::Vertical { x1 } => format!("hair = {x1:.1} cm, {ends}"),
    }
}

/// A unit's `±1` output as a plot class: 1 (orange) for `+1`, 0 (blue) for `−1`.
fn class(output: adnet::nn::Result<f64>) -> usize {
    usize::from(matches!(output, Ok(y) if y > 0.0))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut people = Vec::new(); // (hair cm, voice Hz, 1 for a woman, 0 for a man)
    for _ in 0..20 {
        people.push((
            rng.random_range(10.0..60.0),
            rng.random_range(165.0..255.0),
            1,
        ));
        people.push((
            rng.random_range(1.0..25.0),
            rng.random_range(85.0..155.0),
            0,
        ));
    }
    let features: Vec<f64> = people.iter().flat_map(|&(h, v, _)| [h, v]).collect();
    let labels: Vec<f64> = people.iter().map(|&(_, _, c)| c as f64).collect();
    let mut data = DataSet::from_tensors(
        Tensor::from_vec(features, [people.len(), 2])?,
        Tensor::from_vec(labels.clone(), [people.len()])?,
    )?;
    let standardization = data.standardize();
    println!(
        "{} synthetic people; features standardized (hair mean {:.1} cm sd {:.1}, voice mean \
         {:.1} Hz sd {:.1})\n",
        people.len(),
        standardization.mean[0],
        standardization.std[0],
        standardization.mean[1],
        standardization.std[1]
    );

    let mut perceptron = Perceptron::new(2);
    let options = PerceptronOptions {
        order: SampleOrder::Shuffled { seed: 1 },
        ..PerceptronOptions::default()
    };
    let report = perceptron.fit_dataset(&data, &options)?;
    let perceptron = perceptron.to_original_units(&standardization)?;
    println!(
        "perceptron: converged {} after {} epochs, mistakes per epoch {:?}",
        if report.converged { "yes" } else { "no" },
        report.epochs,
        report.mistakes
    );
    println!("  line  {}", describe(&perceptron.decision_line()?));

    let mut adaline = Adaline::new(2);
    let options = AdalineOptions::default();
    let report = adaline.fit_dataset(&data, &options)?;
    let exact = Adaline::least_squares_dataset(&data)?;
    let gap = adaline
        .weights()
        .iter()
        .chain([&adaline.bias()])
        .zip(exact.weights().iter().chain([&exact.bias()]))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let adaline = adaline.to_original_units(&standardization)?;
    let exact = exact.to_original_units(&standardization)?;
    println!(
        "\nADALINE (LMS, lr {}): converged {} after {} epochs, MSE {:.4}, {} misclassified",
        options.lr,
        if report.converged { "yes" } else { "no" },
        report.epochs,
        report.mse.last().copied().unwrap_or(f64::NAN),
        report.misclassified
    );
    println!("  line  {}", describe(&adaline.decision_line()?));
    println!("least squares (closed form):");
    println!("  line  {}", describe(&exact.decision_line()?));
    println!("  LMS weights differ from it by at most {gap:.1e} (standardized units)");

    let xor_x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    let xor_t = [-1.0, 1.0, 1.0, -1.0];
    let mut xor = Perceptron::with_init(
        2,
        Init::Uniform {
            limit: 0.5,
            seed: 1,
        },
    )?;
    let options = PerceptronOptions {
        max_epochs: 100,
        order: SampleOrder::Shuffled { seed: 1 },
        ..PerceptronOptions::default()
    };
    let report = xor.fit(&xor_x, &xor_t, &options)?;
    println!(
        "\nXOR: converged {} after {} epochs; mistakes per epoch {:?}..., never fewer than {}",
        if report.converged { "yes" } else { "no" },
        report.epochs,
        &report.mistakes[..10.min(report.mistakes.len())],
        report.mistakes.iter().min().copied().unwrap_or(0)
    );
    println!(
        "  the last line, {}, misclassifies {} of the 4 points",
        xor.decision_line()
            .map_or("none".to_string(), |l| format!("{l:.2}")),
        xor.misclassified(&xor_x, &xor_t)?
    );

    let xor_points: Vec<(f64, f64, usize)> = xor_x
        .chunks(2)
        .zip(xor_t)
        .map(|(x, t)| (x[0], x[1], usize::from(t > 0.0)))
        .collect();
    let predict_perceptron = |h: f64, v: f64| class(perceptron.predict(&[h, v]));
    let predict_adaline = |h: f64, v: f64| class(adaline.predict(&[h, v]));
    let predict_xor = |x: f64, y: f64| class(xor.predict(&[x, y]));
    let panel = |title: &str, predict, x_range, y_range, points| DecisionPanel {
        title: title.to_string(),
        predict,
        x_range,
        y_range,
        resolution: RESOLUTION,
        points,
    };
    let panels = [
        panel(
            "perceptron (x: hair cm, y: voice Hz)",
            &predict_perceptron,
            HAIR,
            VOICE,
            &people,
        ),
        panel("ADALINE (LMS)", &predict_adaline, HAIR, VOICE, &people),
        panel(
            "perceptron on XOR after 100 epochs",
            &predict_xor,
            (-0.5, 1.5),
            (-0.5, 1.5),
            &xor_points,
        ),
    ];
    let plots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&plots)?;
    let path = plots.join("perceptron.svg");
    plot_decision_grid(
        &path,
        "Women (orange) and men (blue): the perceptron's and ADALINE's half planes",
        &panels,
        3,
    )?;
    println!("\nwrote {}", path.display());
    Ok(())
}
