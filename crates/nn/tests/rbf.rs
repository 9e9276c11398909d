//! RBF networks end to end: k-means finds seeded blobs, the least-squares output layer is the
//! closed-form solution and minimises the squared error, the forward pass is the formula,
//! gradients match finite differences, both training routes separate the two spirals, and bad
//! settings are errors that leave the graph as it was.

use adnet_autodiff::{check_grad, CheckOptions};
use adnet_graph::{Graph, GraphError, NodeId};
use adnet_nn::data::{two_spirals, DataSet};
use adnet_nn::layers::{Init, Module};
use adnet_nn::loss::{cross_entropy, Reduction};
use adnet_nn::optim::Adam;
use adnet_nn::rbf::{kmeans, Rbf, RbfOptions};
use adnet_nn::train::{FitOptions, Step, Trainer};
use adnet_nn::{NnError, Result};
use adnet_tensor::{DType, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `n` points uniform in `[lo, hi)^d`, row-major.
fn uniform(rng: &mut StdRng, n: usize, d: usize, (lo, hi): (f64, f64)) -> Vec<f64> {
    (0..n * d).map(|_| rng.random_range(lo..hi)).collect()
}

/// The Gaussian unit activations of `x` (`[n, d]`) in plain loops, straight from the formula
/// `φ_j(x) = exp(−‖x − c_j‖² / (2 σ_j²))`.
fn phi_by_formula(x: &[f64], centres: &[f64], widths: &[f64], d: usize) -> Vec<Vec<f64>> {
    x.chunks(d)
        .map(|row| {
            centres
                .chunks(d)
                .zip(widths)
                .map(|(c, sigma)| {
                    let mut squared = 0.0;
                    for (a, b) in row.iter().zip(c) {
                        squared += (a - b) * (a - b);
                    }
                    (-squared / (2.0 * sigma * sigma)).exp()
                })
                .collect()
        })
        .collect()
}

/// Solves `a x = b` (`a` square) by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("a non-empty range");
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in col + 1..n {
            let factor = a[row][col] / pivot_row[col];
            for (entry, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *entry -= factor * p;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let tail: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    x
}

#[test]
fn kmeans_recovers_separated_blobs_and_is_deterministic() -> Result<()> {
    let truth = [
        (-5.0, -5.0),
        (-5.0, 5.0),
        (5.0, -5.0),
        (5.0, 5.0),
        (0.0, 0.0),
    ];
    let mut rng = StdRng::seed_from_u64(11);
    let mut points = Vec::new();
    for &(cx, cy) in &truth {
        for _ in 0..40 {
            points.push(cx + rng.random_range(-0.5..0.5));
            points.push(cy + rng.random_range(-0.5..0.5));
        }
    }
    let x = Tensor::from_vec(points.clone(), [200, 2])?;
    let blob_mean = |b: usize, axis: usize| {
        (0..40)
            .map(|i| points[(b * 40 + i) * 2 + axis])
            .sum::<f64>()
            / 40.0
    };
    for seed in 0..10 {
        let result = kmeans(&x, truth.len(), seed, 100)?;
        assert!(result.converged, "seed {seed}");
        let centres = result.centres.to_f64_vec();
        for (b, &(cx, cy)) in truth.iter().enumerate() {
            // every sample of blob b is in one cluster, whose centre is the blob's mean
            let cluster = result.assignments[b * 40];
            assert!(
                result.assignments[b * 40..(b + 1) * 40]
                    .iter()
                    .all(|&a| a == cluster),
                "seed {seed}: blob {b} is split"
            );
            let (fx, fy) = (centres[cluster * 2], centres[cluster * 2 + 1]);
            assert!((fx - blob_mean(b, 0)).abs() < 1e-12 && (fy - blob_mean(b, 1)).abs() < 1e-12);
            assert!(
                (fx - cx).abs() < 0.2 && (fy - cy).abs() < 0.2,
                "seed {seed}"
            );
        }
        let inertia: f64 = (0..200)
            .map(|i| {
                let c = result.assignments[i];
                (points[2 * i] - centres[2 * c]).powi(2)
                    + (points[2 * i + 1] - centres[2 * c + 1]).powi(2)
            })
            .sum();
        assert!((result.inertia - inertia).abs() < 1e-9 * inertia);
        // the same seed gives the same clustering, bit for bit
        assert_eq!(kmeans(&x, truth.len(), seed, 100)?, result);
    }
    // different seeds number the clusters differently: the seed is used
    let numberings: Vec<Vec<usize>> = (0..10)
        .map(|seed| kmeans(&x, 5, seed, 100).map(|r| r.assignments))
        .collect::<Result<_>>()?;
    assert!(numberings.iter().any(|a| *a != numberings[0]));
    Ok(())
}

/// A network with `k` given centres in `d` dimensions and `out` outputs, its output layer
/// drawn at random, in `f64`.
fn fixed_network(
    g: &Graph,
    k: usize,
    d: usize,
    out: usize,
    seed: u64,
) -> Result<(Rbf, Vec<f64>, Vec<f64>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres = uniform(&mut rng, k, d, (-1.0, 1.0));
    let widths: Vec<f64> = (0..k).map(|_| rng.random_range(0.4..1.2)).collect();
    let options = RbfOptions::default()
        .with_dtype(DType::F64)
        .with_weight_init(Init::Uniform(-1.0, 1.0));
    let rbf = Rbf::with_centres(
        g,
        "rbf",
        &Tensor::from_vec(centres.clone(), [k, d])?,
        &Tensor::from_vec(widths.clone(), [k])?,
        out,
        options,
        &mut rng,
    )?;
    let bias: Vec<f64> = uniform(&mut rng, out, 1, (-1.0, 1.0));
    g.set_param(
        rbf.output().bias().expect("a bias"),
        &Tensor::from_vec(bias, [out])?,
    )?;
    Ok((rbf, centres, widths))
}

#[test]
fn least_squares_output_is_the_closed_form_solution_and_a_minimum() -> Result<()> {
    let (n, d, k, out) = (30, 2, 5, 2);
    let g = Graph::new();
    let (rbf, centres, widths) = fixed_network(&g, k, d, out, 3)?;
    let mut rng = StdRng::seed_from_u64(4);
    let x = uniform(&mut rng, n, d, (-1.5, 1.5));
    let t = uniform(&mut rng, n, out, (-2.0, 2.0));
    let features = Tensor::from_vec(x.clone(), [n, d])?;
    let targets = Tensor::from_vec(t.clone(), [n, out])?;

    // the design matrix [Φ | 1] and the normal equations, built and solved independently
    let phi = phi_by_formula(&x, &centres, &widths, d);
    let design: Vec<Vec<f64>> = phi
        .iter()
        .map(|row| row.iter().copied().chain([1.0]).collect())
        .collect();
    let m = k + 1;
    let sse_of = |w: &[f64]| -> f64 {
        // w is [m, out] row-major: weights, then the bias row
        let mut sse = 0.0;
        for (row, target) in design.iter().zip(t.chunks(out)) {
            for o in 0..out {
                let y: f64 = (0..m).map(|j| row[j] * w[j * out + o]).sum();
                sse += (y - target[o]).powi(2);
            }
        }
        sse
    };
    for ridge in [0.0, 1e-3] {
        let fit = rbf.fit_output(&g, &features, &targets, ridge)?;
        let weight = g.value(rbf.output().weight())?.to_f64_vec();
        let bias = g.value(rbf.output().bias().expect("a bias"))?.to_f64_vec();
        let solved: Vec<f64> = weight.iter().chain(&bias).copied().collect();
        for o in 0..out {
            let mut normal = vec![vec![0.0; m]; m];
            let mut rhs = vec![0.0; m];
            for (row, target) in design.iter().zip(t.chunks(out)) {
                for a in 0..m {
                    rhs[a] += row[a] * target[o];
                    for b in 0..m {
                        normal[a][b] += row[a] * row[b];
                    }
                }
            }
            // the documented ridge: n·ridge on the weights' diagonal, none on the bias
            for (j, row) in normal.iter_mut().enumerate().take(k) {
                row[j] += n as f64 * ridge;
            }
            let expected = solve(normal, rhs);
            for (j, e) in expected.iter().enumerate() {
                let got = solved[j * out + o];
                assert!(
                    (got - e).abs() < 1e-9 * (1.0 + e.abs()),
                    "ridge {ridge}: w[{j}, {o}] = {got}, expected {e}"
                );
            }
        }
        assert!((fit.sse - sse_of(&solved)).abs() < 1e-9 * fit.sse);
        assert!((fit.rmse - (fit.sse / (n * out) as f64).sqrt()).abs() < 1e-15);
        if ridge == 0.0 {
            // a minimum: moving any weight or bias either way increases the squared error
            for index in 0..solved.len() {
                for delta in [-1e-4, 1e-4] {
                    let mut moved = solved.clone();
                    moved[index] += delta;
                    assert!(sse_of(&moved) > fit.sse, "weight {index} moved by {delta}");
                }
            }
        }
    }
    // the network now computes the fitted outputs
    let fit = rbf.fit_output(&g, &features, &targets, 0.0)?;
    let xv = g.input("x", [n, d], DType::F64)?;
    let y = rbf.forward(&g, xv)?;
    let outputs = g.eval_tensor(y, &[("x", &features)])?.to_f64_vec();
    let network_sse: f64 = outputs.iter().zip(&t).map(|(y, t)| (y - t).powi(2)).sum();
    assert!((network_sse - fit.sse).abs() < 1e-9 * fit.sse);
    Ok(())
}

#[test]
fn forward_is_the_formula() -> Result<()> {
    let (n, d, k, out) = (7, 3, 4, 2);
    for dtype in [DType::F64, DType::F32] {
        let g = Graph::new();
        let (rbf, centres, widths) = fixed_network(&g, k, d, out, 5)?;
        let g = g.with_dtype(dtype)?;
        let weight = g.value(rbf.output().weight())?.to_f64_vec();
        let bias = g.value(rbf.output().bias().expect("a bias"))?.to_f64_vec();
        let mut rng = StdRng::seed_from_u64(6);
        let x = uniform(&mut rng, n, d, (-1.5, 1.5));
        // the f32 network computes with the f32-rounded values
        let round = |v: &[f64]| -> Vec<f64> {
            match dtype {
                DType::F32 => v.iter().map(|&a| f64::from(a as f32)).collect(),
                DType::F64 => v.to_vec(),
            }
        };
        let (x, centres) = (round(&x), round(&centres));
        let widths: Vec<f64> = round(&widths.iter().map(|w| w.ln()).collect::<Vec<_>>())
            .iter()
            .map(|l| l.exp())
            .collect();
        let input = g.input("x", [n, d], dtype)?;
        let y = rbf.forward(&g, input)?;
        let hidden = rbf.activations(&g, input)?;
        let features = Tensor::from_f64s(&x, [n, d], dtype)?;
        let outputs = g.eval_tensor(y, &[("x", &features)])?.to_f64_vec();
        let activations = g.eval_tensor(hidden, &[("x", &features)])?.to_f64_vec();
        let tolerance = if dtype == DType::F64 { 1e-12 } else { 1e-5 };
        let phi = phi_by_formula(&x, &centres, &widths, d);
        for (i, row) in phi.iter().enumerate() {
            for (j, p) in row.iter().enumerate() {
                assert!(
                    (activations[i * k + j] - p).abs() < tolerance,
                    "{dtype:?} φ[{i}, {j}]"
                );
            }
            for o in 0..out {
                let expected = bias[o] + (0..k).map(|j| row[j] * weight[j * out + o]).sum::<f64>();
                assert!(
                    (outputs[i * out + o] - expected).abs() < tolerance * 10.0,
                    "{dtype:?} y[{i}, {o}]"
                );
            }
        }
        // and design_matrix, outside the graph, agrees
        let design = rbf.design_matrix(&g, &features)?.to_f64_vec();
        for (a, b) in design.iter().zip(&activations) {
            assert!((a - b).abs() < tolerance);
        }
    }
    Ok(())
}

#[test]
fn gradients_match_finite_differences() -> Result<()> {
    let (n, d, k, classes) = (6, 2, 4, 3);
    let g = Graph::new();
    let (rbf, _, _) = fixed_network(&g, k, d, classes, 8)?;
    let x = g.input("x", [n, d], DType::F64)?;
    let t = g.input("t", [n], DType::F64)?;
    let loss = cross_entropy(rbf.forward(&g, x)?, t, 0.0, Reduction::Mean)?;
    let wrt: Vec<NodeId> = rbf.parameters().into_iter().map(|(_, id)| id).collect();
    assert_eq!(wrt.len(), 4); // centres, log-widths, output weight and bias
    let mut rng = StdRng::seed_from_u64(9);
    let features = Tensor::from_vec(uniform(&mut rng, n, d, (-1.0, 1.0)), [n, d])?;
    let labels = Tensor::from_vec(vec![0.0, 1.0, 2.0, 2.0, 1.0, 0.0], [n])?;
    let at = [("x", &features), ("t", &labels)];
    let first = check_grad(&g, loss, &wrt, &at, &CheckOptions::default())?;
    assert!(first.passed, "{first}");
    assert_eq!(first.checked, k * d + k + k * classes + classes);
    // and the Hessian, through the same graph (the ReLU clamp is away from its kink here)
    let second = check_grad(
        &g,
        loss,
        &wrt,
        &at,
        &CheckOptions::default().with_second_order(true),
    )?;
    assert!(second.passed, "{second}");
    // with respect to the input too, on a squared-error loss
    let y = rbf.forward(&g, x)?;
    let squares = y.try_mul(y)?.sum_all();
    let report = check_grad(
        &g,
        squares,
        &[x.id(), rbf.centres(), rbf.log_widths()],
        &at[..1],
        &CheckOptions::default(),
    )?;
    assert!(report.passed, "{report}");
    Ok(())
}

/// Two spirals of 100 points each (the `decision_boundaries` example's), as a data set with
/// class labels.
fn spirals() -> Result<DataSet> {
    let points = two_spirals(100, 0.02, &mut StdRng::seed_from_u64(7))?;
    let features: Vec<f64> = points.iter().flat_map(|&(x, y, _)| [x, y]).collect();
    let labels: Vec<f64> = points.iter().map(|&(_, _, c)| c as f64).collect();
    DataSet::from_tensors(
        Tensor::from_vec(features, [200, 2])?,
        Tensor::from_vec(labels, [200])?,
    )
}

/// The fraction of rows of two-column `logits` whose larger column is the label.
fn accuracy(logits: &Tensor, labels: &Tensor) -> f64 {
    let logits = logits.to_f64_vec();
    let labels = labels.to_f64_vec();
    let correct = logits
        .chunks(2)
        .zip(&labels)
        .filter(|(l, t)| f64::from(u8::from(l[1] > l[0])) == **t)
        .count();
    correct as f64 / labels.len() as f64
}

#[test]
fn two_stage_fit_separates_the_spirals() -> Result<()> {
    let data = spirals()?;
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let options = RbfOptions::default().with_dtype(DType::F64);
    let rbf = Rbf::new(&g, "rbf", data.features(), 40, 2, options, &mut rng)?;
    rbf.fit_output(&g, data.features(), data.targets(), 1e-6)?;
    let x = g.input("x", [200, 2], DType::F64)?;
    let logits = g.eval_tensor(rbf.forward(&g, x)?, &[("x", data.features())])?;
    let training = accuracy(&logits, data.targets());
    assert!(training >= 0.98, "training accuracy {training}");
    Ok(())
}

#[test]
fn gradient_training_through_the_trainer_separates_the_spirals() -> Result<()> {
    let data = spirals()?;
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    // 20 units: too few for the two-stage fit alone (about 87 %), enough once centres and
    // widths move
    let options = RbfOptions::default().with_dtype(DType::F64);
    let rbf = Rbf::new(&g, "rbf", data.features(), 20, 2, options, &mut rng)?;
    let widths_before = rbf.widths(&g)?;
    let probe = rbf.clone();
    let params = rbf.parameters();
    let mut trainer = Trainer::new(
        &g,
        params,
        Box::new(Adam::new(0.05)?),
        Step::cross_entropy(rbf, 2, DType::F64),
    )?;
    let options = FitOptions {
        epochs: 300,
        batch_size: 200,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    };
    trainer.fit(&data, None, &options)?;
    let training = accuracy(&trainer.predict(data.features())?, data.targets());
    assert!(training >= 0.99, "training accuracy {training}");
    // the widths were trained, and stayed positive (they are exp(ln σ))
    let widths_after = probe.widths(&g)?;
    assert_ne!(widths_before, widths_after);
    assert!(widths_after.iter().all(|&w| w > 0.0 && w.is_finite()));
    Ok(())
}

#[test]
fn bad_settings_are_errors_and_leave_the_graph_unchanged() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(0);
    let x = Tensor::from_vec(uniform(&mut rng, 6, 2, (0.0, 1.0)), [6, 2])?;
    let mut nan = x.to_f64_vec();
    nan[5] = f64::NAN;
    let nan = Tensor::from_vec(nan, [6, 2])?;
    let wide = Tensor::from_vec(uniform(&mut rng, 6, 3, (0.0, 1.0)), [6, 3])?;
    let flat = Tensor::from_vec(vec![0.0; 6], [6])?;

    // k-means
    let setting = |r: Result<_>| match r {
        Err(NnError::InvalidSetting { what, reason }) => Some((what, reason)),
        _ => None,
    };
    let (what, reason) = setting(kmeans(&x, 0, 0, 10).map(|_| ())).expect("k = 0");
    assert_eq!(
        (what, reason.as_str()),
        (
            "k",
            "need between 1 and 6 clusters (at most one per sample), got 0"
        )
    );
    assert_eq!(
        setting(kmeans(&x, 7, 0, 10).map(|_| ())).map(|s| s.0),
        Some("k")
    );
    let (what, reason) = setting(kmeans(&nan, 2, 0, 10).map(|_| ())).expect("a NaN");
    assert_eq!(
        (what, reason.as_str()),
        (
            "features",
            "sample 2 feature 1 is NaN (every value must be finite)"
        )
    );
    assert_eq!(
        setting(kmeans(&flat, 2, 0, 10).map(|_| ())).map(|s| s.0),
        Some("features")
    );

    // the network
    let g = Graph::new();
    let options = RbfOptions::default().with_dtype(DType::F64);
    for (features, units, what) in [
        (&x, 0, "units"),
        (&x, 7, "units"),
        (&nan, 2, "features"),
        (&flat, 2, "features"),
    ] {
        let result = Rbf::new(&g, "rbf", features, units, 2, options, &mut rng).map(|_| ());
        assert_eq!(setting(result).map(|s| s.0), Some(what), "{units} units");
    }
    assert_eq!(g.len(), 0);

    let rbf = Rbf::new(&g, "rbf", &x, 3, 2, options, &mut rng)?;
    let labels = Tensor::from_vec(vec![0.0, 1.0, 0.0, 1.0, 1.0, 0.0], [6])?;
    let before = g.value(rbf.output().weight())?;
    let fit = |features: &Tensor, targets: &Tensor, ridge: f64| {
        setting(rbf.fit_output(&g, features, targets, ridge).map(|_| ())).map(|s| s.0)
    };
    assert_eq!(fit(&wide, &labels, 0.0), Some("features"));
    assert_eq!(fit(&nan, &labels, 0.0), Some("features"));
    assert_eq!(
        fit(&x, &Tensor::from_vec(vec![0.0; 5], [5])?, 0.0),
        Some("targets")
    );
    assert_eq!(
        fit(
            &x,
            &Tensor::from_vec(vec![0.0, 1.0, 2.0, 1.0, 1.0, 0.0], [6])?,
            0.0
        ),
        Some("targets")
    );
    assert_eq!(fit(&x, &labels, -1.0), Some("ridge"));
    assert_eq!(fit(&x, &labels, f64::NAN), Some("ridge"));
    assert_eq!(g.value(rbf.output().weight())?, before);
    let err = rbf.design_matrix(&g, &wide).expect_err("3 features");
    assert_eq!(
        err.to_string(),
        "features: network `rbf` takes 2 features per sample, got shape [6, 3]"
    );

    // a wrong input width in the graph names both shapes and adds nothing
    let input = g.input("wide", [6, 3], DType::F64)?;
    let nodes = g.len();
    assert!(matches!(
        rbf.forward(&g, input),
        Err(NnError::Graph(GraphError::ShapeMismatch { .. }))
    ));
    assert_eq!(g.len(), nodes);

    // two identical centres with ridge 0: singular normal equations, reported, not a panic
    let g = Graph::new();
    let twins = Tensor::from_vec(vec![0.5, 0.5, 0.5, 0.5], [2, 2])?;
    let widths = Tensor::from_vec(vec![1.0, 1.0], [2])?;
    let rbf = Rbf::with_centres(&g, "rbf", &twins, &widths, 2, options, &mut rng)?;
    assert_eq!(
        setting(rbf.fit_output(&g, &x, &labels, 0.0).map(|_| ())).map(|s| s.0),
        Some("ridge")
    );
    // a ridge makes it solvable
    rbf.fit_output(&g, &x, &labels, 1e-6)?;
    Ok(())
}
