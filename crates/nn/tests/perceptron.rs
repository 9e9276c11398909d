//! The perceptron and ADALINE through the public API: the perceptron separates separable data
//! within Novikoff's bound and reports failure on XOR; LMS settles at the least-squares
//! solution; bad data and settings are rejected with the sample named.

use adnet_nn::classic::perceptron::{
    Adaline, AdalineOptions, Perceptron, PerceptronOptions, SampleOrder,
};
use adnet_nn::data::DataSet;
use adnet_nn::{NnError, Result};
use adnet_tensor::{assert_close, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `n` points uniform in `[−1, 1]²`, kept only at distance at least `margin` from a random line
/// through the square, labelled `±1` by its side; returns features (row-major), targets and
/// the line's augmented normal `(w₁, w₂, b)` of unit length in `w`.
fn separable(n: usize, margin: f64, seed: u64) -> (Vec<f64>, Vec<f64>, [f64; 3]) {
    let mut rng = StdRng::seed_from_u64(seed);
    let angle: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    let normal = [angle.cos(), angle.sin(), rng.random_range(-0.3..0.3)];
    let (mut features, mut targets) = (Vec::new(), Vec::new());
    while targets.len() < n {
        let x: [f64; 2] = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        let distance = normal[0] * x[0] + normal[1] * x[1] + normal[2];
        if distance.abs() >= margin {
            features.extend_from_slice(&x);
            targets.push(distance.signum());
        }
    }
    (features, targets, normal)
}

#[test]
fn perceptron_separates_separable_data_within_novikoffs_bound() -> Result<()> {
    for seed in 0..5 {
        let (x, t, normal) = separable(100, 0.1, seed);
        // Novikoff: with x̃ = (x, 1) and a unit separator u of (w, b), at most (R / γ)²
        // mistakes, R = max ‖x̃‖ and γ = min t u·x̃
        let norm = normal.iter().map(|v| v * v).sum::<f64>().sqrt();
        let (mut radius, mut gamma) = (0.0f64, f64::INFINITY);
        for (row, &target) in x.chunks(2).zip(&t) {
            radius = radius.max((row[0] * row[0] + row[1] * row[1] + 1.0).sqrt());
            let side = normal[0] * row[0] + normal[1] * row[1] + normal[2];
            gamma = gamma.min(target * side / norm);
        }
        let bound = (radius / gamma).powi(2);
        for order in [SampleOrder::Fixed, SampleOrder::Shuffled { seed }] {
            let mut perceptron = Perceptron::new(2);
            let options = PerceptronOptions {
                order,
                ..PerceptronOptions::default()
            };
            let report = perceptron.fit(&x, &t, &options)?;
            assert!(report.converged, "seed {seed}, {order:?}: {report:?}");
            assert_eq!(report.mistakes.len(), report.epochs);
            assert_eq!(report.mistakes.last(), Some(&0));
            let total: usize = report.mistakes.iter().sum();
            assert!(
                (total as f64) <= bound,
                "seed {seed}: {total} mistakes, bound {bound:.0}"
            );
            // a separating line: every sample strictly on its class's side
            assert_eq!(perceptron.misclassified(&x, &t)?, 0);
            for (row, &target) in x.chunks(2).zip(&t) {
                assert!(target * perceptron.net(row)? > 0.0);
            }
            let line = perceptron.decision_line()?;
            assert!(line.clip((-1.0, 1.0), (-1.0, 1.0)).is_some(), "{line}");
        }
    }
    Ok(())
}

#[test]
fn perceptron_reports_non_convergence_on_xor() -> Result<()> {
    let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    let t = [0.0, 1.0, 1.0, 0.0];
    for order in [SampleOrder::Fixed, SampleOrder::Shuffled { seed: 7 }] {
        let mut perceptron = Perceptron::new(2);
        let options = PerceptronOptions {
            max_epochs: 200,
            order,
            ..PerceptronOptions::default()
        };
        let report = perceptron.fit(&x, &t, &options)?;
        assert!(!report.converged);
        assert_eq!(report.epochs, 200);
        assert_eq!(report.mistakes.len(), 200);
        assert!(report.mistakes.iter().all(|&m| m > 0), "{report:?}");
        assert!(perceptron.misclassified(&x, &t)? > 0);
    }
    Ok(())
}

#[test]
fn fit_dataset_reads_class_indices_like_plus_minus_one_targets() -> Result<()> {
    let (x, t, _) = separable(40, 0.05, 9);
    let labels: Vec<f64> = t.iter().map(|&t| f64::from(u8::from(t > 0.0))).collect();
    let data = DataSet::from_tensors(
        Tensor::from_vec(x.clone(), [40, 2])?,
        Tensor::from_vec(labels, [40])?,
    )?;
    let mut from_data = Perceptron::new(2);
    let mut from_slices = Perceptron::new(2);
    let options = PerceptronOptions::default();
    assert_eq!(
        from_data.fit_dataset(&data, &options)?,
        from_slices.fit(&x, &t, &options)?
    );
    assert_eq!(from_data, from_slices);
    let mut adaline = Adaline::new(2);
    adaline.fit_dataset(&data, &AdalineOptions::default())?;
    let exact = Adaline::least_squares_dataset(&data)?;
    assert_eq!(exact, Adaline::least_squares(2, &x, &t)?);
    Ok(())
}

#[test]
fn lms_converges_to_the_least_squares_solution() -> Result<()> {
    // two overlapping clouds: no line fits the ±1 targets exactly, so the residuals at the
    // optimum are not zero and LMS ends within O(lr) of it: 6e-4 away at lr = 1e-3, 3e-4 at 5e-4
    let mut rng = StdRng::seed_from_u64(5);
    let (mut x, mut t) = (Vec::new(), Vec::new());
    for i in 0..12 {
        let class = if i % 2 == 0 { 1.0 } else { -1.0 };
        x.push(0.6 * class + rng.random_range(-1.0..1.0));
        x.push(-0.3 * class + rng.random_range(-1.0..1.0));
        t.push(class);
    }
    let exact = Adaline::least_squares(2, &x, &t)?;
    let mut lms = Adaline::new(2);
    let options = AdalineOptions {
        lr: 5e-4,
        max_epochs: 50_000,
        tol: 1e-13,
        ..AdalineOptions::default()
    };
    let report = lms.fit(&x, &t, &options)?;
    assert!(report.converged, "{} epochs", report.epochs);
    for (w, e) in lms.weights().iter().zip(exact.weights()) {
        assert_close!(*w, *e, 1e-3);
    }
    assert_close!(lms.bias(), exact.bias(), 1e-3);
    // the least-squares weights minimise the error; LMS's are no better and barely worse
    let (best, reached) = (exact.mse(&x, &t)?, lms.mse(&x, &t)?);
    assert!(
        best <= reached && reached - best < 1e-5,
        "{best} vs {reached}"
    );
    assert_close!(
        report.mse.last().copied().unwrap_or(f64::NAN),
        reached,
        1e-15
    );
    assert_eq!(report.misclassified, lms.misclassified(&x, &t)?);
    Ok(())
}

#[test]
fn lms_reaches_an_exact_linear_fit() -> Result<()> {
    // t = x exactly: the residuals vanish at the optimum, so LMS converges to it, not near it
    let mut adaline = Adaline::new(1);
    let options = AdalineOptions {
        lr: 0.1,
        tol: 1e-20,
        order: SampleOrder::Shuffled { seed: 1 },
        ..AdalineOptions::default()
    };
    let report = adaline.fit(&[-1.0, 1.0, 1.0, -1.0], &[-1.0, 1.0, 1.0, -1.0], &options)?;
    assert_close!(adaline.weights()[0], 1.0, 1e-9);
    assert_close!(adaline.bias(), 0.0, 1e-9);
    assert!(report.mse.last().is_some_and(|&e| e < 1e-18));
    Ok(())
}

fn invalid_setting<T: std::fmt::Debug>(result: Result<T>) -> (&'static str, String) {
    match result {
        Err(NnError::InvalidSetting { what, reason }) => (what, reason),
        other => panic!("expected InvalidSetting, got {other:?}"),
    }
}

#[test]
fn bad_data_and_settings_are_rejected_naming_the_problem() -> Result<()> {
    let mut perceptron = Perceptron::new(2);
    let mut adaline = Adaline::new(2);
    let p = PerceptronOptions::default();
    let a = AdalineOptions::default();

    let (what, reason) = invalid_setting(perceptron.fit(&[1.0, 2.0, 3.0], &[1.0, -1.0], &p));
    assert_eq!(what, "features");
    assert!(reason.contains("3 values"), "{reason}");

    let x = [1.0, 2.0, 3.0, 4.0, f64::NAN, 6.0];
    let (what, reason) = invalid_setting(adaline.fit(&x, &[1.0, -1.0, 1.0], &a));
    assert_eq!(what, "features");
    assert!(reason.contains("sample 2"), "{reason}");

    // three classes
    let labels = Tensor::from_vec(vec![0.0f64, 1.0, 2.0], [3])?;
    let data = DataSet::from_tensors(Tensor::from_vec(vec![0.0f64; 6], [3, 2])?, labels)?;
    let (what, reason) = invalid_setting(perceptron.fit_dataset(&data, &p));
    assert_eq!(what, "targets");
    assert!(reason.contains("sample 2 has target 2"), "{reason}");

    let zero_lr = AdalineOptions { lr: 0.0, ..a };
    assert_eq!(
        invalid_setting(adaline.fit(&[0.0, 1.0], &[1.0], &zero_lr)).0,
        "lr"
    );
    let zero_lr = PerceptronOptions { lr: 0.0, ..p };
    assert_eq!(
        invalid_setting(perceptron.fit(&[0.0, 1.0], &[1.0], &zero_lr)).0,
        "lr"
    );
    // nothing was learned from the rejected calls
    assert_eq!(perceptron, Perceptron::new(2));
    assert_eq!(adaline, Adaline::new(2));
    Ok(())
}
