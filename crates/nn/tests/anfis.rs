//! ANFIS (Jang 1993) across crates: every layer against the paper's formulas evaluated in plain
//! Rust, membership-function gradients against finite differences (at the bell's centre too),
//! the hybrid rule against backpropagation on the paper's sinc example, its least-squares step,
//! the recursive least-squares form against the batch one, and the error cases.

use adnet_autodiff::{check_grad, grad, CheckOptions};
use adnet_graph::{Graph, GraphError, NodeId};
use adnet_nn::anfis::{
    Anfis, HybridOptions, HybridTrainer, LeastSquares, MembershipFunction, MembershipKind,
};
use adnet_nn::classic::linalg::{cholesky, cholesky_solve, gemv_transposed, gram};
use adnet_nn::data::DataSet;
use adnet_nn::layers::Module;
use adnet_nn::optim::Adam;
use adnet_nn::train::{FitOptions, Step, Trainer};
use adnet_nn::NnError;
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::{Rng, SeedableRng};
use adnet_tensor::{assert_close, DType, Tensor};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KINDS: [MembershipKind; 4] = [
    MembershipKind::Bell,
    MembershipKind::Gaussian,
    MembershipKind::Triangular,
    MembershipKind::Trapezoidal,
];

/// The paper's membership formulas, written out (independent of the library's code).
fn membership(kind: MembershipKind, p: &[f64], x: f64) -> f64 {
    match kind {
        MembershipKind::Bell => 1.0 / (1.0 + ((x - p[2]) / p[0]).abs().powf(2.0 * p[1])),
        MembershipKind::Gaussian => (-(x - p[0]).powi(2) / (2.0 * p[1] * p[1])).exp(),
        MembershipKind::Triangular => {
            let (a, b, c) = (p[0], p[1], p[2]);
            if x <= a || x >= c {
                0.0
            } else if x <= b {
                (x - a) / (b - a)
            } else {
                (c - x) / (c - b)
            }
        }
        MembershipKind::Trapezoidal => {
            let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
            if x <= a || x >= d {
                0.0
            } else if x < b {
                (x - a) / (b - a)
            } else if x <= c {
                1.0
            } else {
                (d - x) / (d - c)
            }
        }
    }
}

/// Reads a parameter as `f64`s.
fn values(g: &Graph, id: NodeId) -> Vec<f64> {
    g.value(id).expect("a parameter").to_f64_vec()
}

/// Gives every premise parameter of `anfis` random valid values around the initial ones, and
/// the consequent random values; returns the premise as `[input][function][parameter]`.
fn randomise(g: &Graph, anfis: &Anfis, rng: &mut StdRng) -> TestResult {
    let per = anfis.kind().parameter_names().len();
    let premise = anfis.premise_parameters();
    for (j, chunk) in premise.chunks(per).enumerate() {
        let m = anfis.mfs_per_input()[j];
        let mut columns: Vec<Vec<f64>> = chunk.iter().map(|(_, id)| values(g, *id)).collect();
        for k in 0..m {
            let shift = rng.random_range(-0.3..0.3);
            match anfis.kind() {
                MembershipKind::Bell => {
                    columns[0][k] *= rng.random_range(0.7..1.3);
                    columns[1][k] = rng.random_range(0.8..3.0);
                    columns[2][k] += shift;
                }
                MembershipKind::Gaussian => {
                    columns[0][k] += shift;
                    columns[1][k] *= rng.random_range(0.7..1.3);
                }
                _ => {
                    // shift every corner, then spread them a little: the order stays valid
                    for (rank, column) in columns.iter_mut().enumerate() {
                        column[k] += shift + 0.05 * rank as f64 * rng.random_range(0.0..1.0);
                    }
                }
            }
        }
        for ((_, id), column) in chunk.iter().zip(&columns) {
            g.set_param(*id, &Tensor::from_vec(column.clone(), [m])?)?;
        }
    }
    anfis.check_premise(g)?;
    let (_, consequent) = anfis.consequent_parameter();
    let shape = g.value(consequent)?.shape().clone();
    let theta: Vec<f64> = (0..shape.numel())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    g.set_param(consequent, &Tensor::from_vec(theta, shape)?)?;
    Ok(())
}

#[test]
fn every_layer_matches_the_papers_formulas() -> TestResult {
    let mut rng = StdRng::seed_from_u64(7);
    let mfs = [2, 3, 2];
    let ranges = [(-1.0, 1.0), (0.0, 2.0), (-3.0, 3.0)];
    for kind in KINDS {
        let g = Graph::new();
        let anfis = Anfis::builder(&mfs, &ranges)
            .membership(kind)
            .build(&g, "anfis")?;
        randomise(&g, &anfis, &mut rng)?;
        let rows = 9;
        let features: Vec<f64> = (0..rows)
            .flat_map(|_| ranges.map(|(lo, hi)| rng.random_range(lo..hi)))
            .collect();
        let x = g.input("x", [rows, 3], DType::F64)?;
        let layers = anfis.layers(&g, x)?;
        let mut outputs = layers.memberships.clone();
        outputs.extend([
            layers.firing,
            layers.normalized,
            layers.rule_outputs,
            layers.consequents,
            layers.output,
        ]);
        let mut plan = g.compile(outputs.iter().map(|v| v.id()))?;
        plan.set_input(x, &Tensor::from_vec(features.clone(), [rows, 3])?)?;
        plan.run(&g)?;

        let per = kind.parameter_names().len();
        let premise: Vec<Vec<f64>> = anfis
            .premise_parameters()
            .iter()
            .map(|(_, id)| values(&g, *id))
            .collect();
        let theta = values(&g, anfis.consequent_parameter().1);
        let rules = anfis.rules();
        assert_eq!(rules, 12);
        for (n, sample) in features.chunks(3).enumerate() {
            // layer 1
            let mu: Vec<Vec<f64>> = (0..3)
                .map(|j| {
                    (0..mfs[j])
                        .map(|k| {
                            let p: Vec<f64> = (0..per).map(|q| premise[j * per + q][k]).collect();
                            membership(kind, &p, sample[j])
                        })
                        .collect()
                })
                .collect();
            for (j, row) in mu.iter().enumerate() {
                for (k, &expected) in row.iter().enumerate() {
                    assert_close!(plan.output_at(j).get(&[n, k])?, expected, 1e-12);
                }
            }
            // layers 2 to 5, rule i = (k0, k1, k2) row-major
            let mut w = Vec::new();
            for k0 in 0..mfs[0] {
                for k1 in 0..mfs[1] {
                    for k2 in 0..mfs[2] {
                        w.push(mu[0][k0] * mu[1][k1] * mu[2][k2]);
                    }
                }
            }
            let total: f64 = w.iter().sum();
            let mut o = 0.0;
            for i in 0..rules {
                let w_bar = w[i] / total;
                let p = &theta[i * 4..i * 4 + 4];
                let f = p[0] * sample[0] + p[1] * sample[1] + p[2] * sample[2] + p[3];
                assert_close!(plan.output_at(3).get(&[n, i])?, w[i], 1e-12);
                assert_close!(plan.output_at(4).get(&[n, i])?, w_bar, 1e-12);
                assert_close!(plan.output_at(5).get(&[n, i])?, f, 1e-12);
                assert_close!(plan.output_at(6).get(&[n, i])?, w_bar * f, 1e-12);
                o += w_bar * f;
            }
            assert_close!(plan.output_at(7).get(&[n, 0])?, o, 1e-12);
        }
        // the rule order is the one rule_antecedents reports
        assert_eq!(anfis.rule_antecedents(7), Some(vec![1, 0, 1]));
    }
    Ok(())
}

#[test]
fn membership_function_values_read_back_match_the_formulas() -> TestResult {
    let mut rng = StdRng::seed_from_u64(3);
    for kind in KINDS {
        let g = Graph::new();
        let anfis = Anfis::builder(&[3], &[(-2.0, 2.0)])
            .membership(kind)
            .build(&g, "m")?;
        randomise(&g, &anfis, &mut rng)?;
        let functions = &anfis.membership_functions(&g)?[0];
        let premise: Vec<Vec<f64>> = anfis
            .premise_parameters()
            .iter()
            .map(|(_, id)| values(&g, *id))
            .collect();
        for (k, function) in functions.iter().enumerate() {
            assert_eq!(function.kind(), kind);
            let p: Vec<f64> = premise.iter().map(|column| column[k]).collect();
            for i in 0..=40 {
                let x = -3.0 + 0.15 * i as f64;
                assert_close!(function.value(x), membership(kind, &p, x), 1e-12);
            }
        }
    }
    Ok(())
}

/// `y = Σ_n Σ_k r_{nk} μ_k(x_n)` for one input `x` (`[rows, 1]`) with three functions of
/// `kind` initialised over `[-2, 2]` (centres -2, 0, 2), random `r`: the graph and `y`.
fn weighted_memberships(kind: MembershipKind, rows: usize) -> Result<(Graph, NodeId), NnError> {
    let g = Graph::new();
    let anfis = Anfis::builder(&[3], &[(-2.0, 2.0)])
        .membership(kind)
        .build(&g, "m")?;
    let x = g.input("x", [rows, 1], DType::F64)?;
    let mu = anfis.layers(&g, x)?.memberships[0];
    let mut rng = StdRng::seed_from_u64(11);
    let r: Vec<f64> = (0..rows * 3).map(|_| rng.random_range(0.5..1.5)).collect();
    let y = mu
        .try_mul(g.constant(Tensor::from_vec(r, [rows, 3])?))?
        .sum_all()
        .id();
    Ok((g, y))
}

/// The ids of the input `x` and every premise parameter of `g` (all its parameters but the
/// consequent).
fn wrt(g: &Graph) -> Vec<NodeId> {
    let mut ids = vec![g.node("x").expect("x").id()];
    ids.extend(
        g.params()
            .into_iter()
            .filter(|&p| g.name_of(p).is_some_and(|n| n.contains(".premise."))),
    );
    ids
}

#[test]
fn membership_gradients_match_finite_differences() -> TestResult {
    // points away from every kink of the initial functions (corners at multiples of 0.5)
    let xs = [-2.3, -1.37, -0.61, 0.12, 0.83, 1.44, 2.21];
    let at = Tensor::from_vec(xs.to_vec(), [xs.len(), 1])?;
    for kind in KINDS {
        let (g, y) = weighted_memberships(kind, xs.len())?;
        let ids = wrt(&g);
        assert_eq!(ids.len(), 1 + kind.parameter_names().len());
        // the smooth families are checked to second order as well
        let smooth = matches!(kind, MembershipKind::Bell | MembershipKind::Gaussian);
        let options = CheckOptions::default().with_second_order(smooth);
        let report = check_grad(&g, y, &ids, &[("x", &at)], &options)?;
        assert!(report.passed, "{kind}: {report}");
        assert!(report.checked >= xs.len() + 3 * kind.parameter_names().len());
    }
    Ok(())
}

#[test]
fn bell_is_finite_and_flat_at_its_centre() -> TestResult {
    // x exactly at the three centres (-2, 0, 2): u = 0, where ∂/∂b involves ln|u|
    let at = Tensor::from_vec(vec![-2.0, 0.0, 2.0], [3, 1])?;
    let (g, y) = weighted_memberships(MembershipKind::Bell, 3)?;
    let ids = wrt(&g);
    let report = check_grad(&g, y, &ids, &[("x", &at)], &CheckOptions::default())?;
    assert!(report.passed, "{report}");
    // the analytic gradients there are finite
    let x = g.node("x")?;
    let grads = grad(&g, y, &ids)?;
    let mut plan = g.compile(grads.iter().map(|v| v.id()))?;
    plan.set_input(x, &at)?;
    plan.run(&g)?;
    for k in 0..ids.len() {
        assert!(plan.output_at(k).all_finite(), "derivative {k}");
    }
    // a bell alone, at its centre: value 1 and zero derivatives, even with b < 1/2
    for b in [2.0, 0.8, 0.3] {
        let g = Graph::new();
        let anfis = Anfis::builder(&[1], &[(-1.0, 1.0)]).build(&g, "m")?;
        let names = anfis.premise_parameters();
        g.set_param(names[1].1, &Tensor::from_vec(vec![b], [1])?)?;
        let x = g.input("x", [1, 1], DType::F64)?;
        let mu = anfis.layers(&g, x)?.memberships[0].sum_all();
        let grads = grad(&g, mu, &[x.id(), names[0].1, names[1].1, names[2].1])?;
        let mut plan = g.compile(std::iter::once(mu.id()).chain(grads.iter().map(|v| v.id())))?;
        plan.set_input(x, &Tensor::from_vec(vec![0.0], [1, 1])?)?;
        plan.run(&g)?;
        assert_eq!(plan.output_at(0).to_scalar()?, 1.0);
        for k in 1..5 {
            assert_eq!(
                plan.output_at(k).to_f64_vec(),
                vec![0.0],
                "b = {b}, derivative {k}"
            );
        }
    }
    Ok(())
}

/// `dμ/dx` of one function of `kind` (parameters `params`) at `x`, from the graph.
fn slope(kind: MembershipKind, params: &[f64], x: f64) -> Result<f64, NnError> {
    let g = Graph::new();
    let anfis = Anfis::builder(&[1], &[(-1.0, 1.0)])
        .membership(kind)
        .build(&g, "m")?;
    for ((_, id), &value) in anfis.premise_parameters().iter().zip(params) {
        g.set_param(*id, &Tensor::from_vec(vec![value], [1])?)?;
    }
    let input = g.input("x", [1, 1], DType::F64)?;
    let mu = anfis.layers(&g, input)?.memberships[0].sum_all();
    let d = grad(&g, mu, &[input])?[0];
    let mut plan = g.compile([d])?;
    plan.set_input(input, &Tensor::from_vec(vec![x], [1, 1])?)?;
    plan.run(&g)?;
    Ok(plan.output_at(0).to_scalar()?)
}

#[test]
fn kinks_take_the_documented_derivatives() -> TestResult {
    let triangle = [0.0, 1.0, 3.0];
    // at the feet, the flat side (relu'(0) = 0); at the peak, the mean of 1 and -1/2
    assert_eq!(slope(MembershipKind::Triangular, &triangle, 0.0)?, 0.0);
    assert_eq!(slope(MembershipKind::Triangular, &triangle, 3.0)?, 0.0);
    assert_close!(
        slope(MembershipKind::Triangular, &triangle, 1.0)?,
        0.25,
        1e-15
    );
    assert_close!(
        slope(MembershipKind::Triangular, &triangle, 0.5)?,
        1.0,
        1e-15
    );
    // a symmetric triangle is flat at its peak, as abs'(0) = 0
    assert_eq!(
        slope(MembershipKind::Triangular, &[-1.0, 0.0, 1.0], 0.0)?,
        0.0
    );
    let trapezoid = [0.0, 1.0, 2.0, 4.0];
    for corner in trapezoid {
        assert_eq!(slope(MembershipKind::Trapezoidal, &trapezoid, corner)?, 0.0);
    }
    assert_close!(
        slope(MembershipKind::Trapezoidal, &trapezoid, 3.0)?,
        -0.5,
        1e-15
    );
    Ok(())
}

/// The paper's first example: `sinc(x)·sinc(y)` on the 11 × 11 grid over `[-10, 10]²`.
fn sinc_data() -> Result<(Tensor, Tensor), NnError> {
    let sinc = |v: f64| if v == 0.0 { 1.0 } else { v.sin() / v };
    let grid: Vec<f64> = (0..11).map(|i| -10.0 + 2.0 * i as f64).collect();
    let (mut xs, mut zs) = (Vec::new(), Vec::new());
    for &u in &grid {
        for &v in &grid {
            xs.extend([u, v]);
            zs.push(sinc(u) * sinc(v));
        }
    }
    Ok((
        Tensor::from_vec(xs, [121, 2])?,
        Tensor::from_vec(zs, [121, 1])?,
    ))
}

/// The paper's 16-rule network for the sinc example.
fn sinc_anfis(g: &Graph) -> Result<Anfis, NnError> {
    Anfis::builder(&[4, 4], &[(-10.0, 10.0), (-10.0, 10.0)]).build(g, "anfis")
}

/// The training RMSE of `anfis` after `epochs` full-batch epochs of backpropagation (Adam,
/// learning rate 0.03) on all its parameters.
fn backprop_rmse(epochs: usize) -> Result<f64, NnError> {
    let (x, t) = sinc_data()?;
    let g = Graph::new();
    let anfis = sinc_anfis(&g)?;
    let params = anfis.parameters();
    let mut trainer = Trainer::new(
        &g,
        params,
        Box::new(Adam::new(0.03)?),
        Step::mse(anfis, 2, 1, DType::F64),
    )?;
    let data = DataSet::from_tensors(x, t)?;
    let options = FitOptions {
        epochs,
        batch_size: 121,
        shuffle: false,
        seed: 0,
        quiet: true,
        ..FitOptions::default()
    };
    let history = trainer.fit(&data, None, &options)?;
    let first = history.epochs[0].train_loss.sqrt();
    let last = trainer.evaluate(&data, 121)?.loss.sqrt();
    assert!(last < first, "backprop did not learn: {first} -> {last}");
    Ok(last)
}

#[test]
fn hybrid_learning_beats_backprop_on_the_sinc_example() -> TestResult {
    let epochs = 40;
    let (x, t) = sinc_data()?;
    let g = Graph::new();
    let anfis = sinc_anfis(&g)?;
    assert_eq!(anfis.parameter_count(), 72);
    let options = HybridOptions {
        epochs,
        step_size: 0.1,
        ..HybridOptions::default()
    };
    let history = anfis.fit_hybrid(&g, &x, &t, &options)?;
    assert_eq!(history.rmse.len(), epochs);
    assert_eq!(history.step_size.len(), epochs);
    assert!(history.final_rmse < history.rmse[0]);
    let backprop = backprop_rmse(epochs)?;
    assert!(
        history.final_rmse < 0.8 * backprop,
        "hybrid {} against backprop {backprop}",
        history.final_rmse
    );
    Ok(())
}

#[test]
fn least_squares_step_never_raises_the_error() -> TestResult {
    let (x, t) = sinc_data()?;
    let mut rng = StdRng::seed_from_u64(5);
    for form in [LeastSquares::Batch, LeastSquares::recursive()] {
        for kind in KINDS {
            let g = Graph::new();
            let anfis = Anfis::builder(&[4, 4], &[(-10.0, 10.0), (-10.0, 10.0)])
                .membership(kind)
                .build(&g, "anfis")?;
            randomise(&g, &anfis, &mut rng)?;
            let mut trainer = HybridTrainer::new(&g, &anfis, &x, &t)?;
            let before = trainer.rmse()?;
            let after = trainer.least_squares_step(form)?;
            assert!(after <= before, "{kind} {form:?}: {before} -> {after}");
            // at the optimum already: a second step changes nothing but rounding
            let again = trainer.least_squares_step(form)?;
            assert!(
                again <= after * (1.0 + 1e-9),
                "{kind} {form:?}: {after} -> {again}"
            );
            // and a premise step from there is a descent step for a small k
            let rmse = trainer.premise_step(1e-4)?;
            assert_close!(rmse, again, 1e-12);
            assert!(trainer.rmse()? < again, "{kind} {form:?}");
        }
    }
    Ok(())
}

/// The relative distance `‖u − v‖ / ‖v‖`.
fn relative_distance(u: &[f64], v: &[f64]) -> f64 {
    let difference = u.iter().zip(v).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
    let norm = v.iter().map(|b| b * b).sum::<f64>();
    (difference / norm).sqrt()
}

#[test]
fn recursive_least_squares_equals_the_batch_solution() -> TestResult {
    // the design matrix of the sinc network at its initial premise, by plain loops over the
    // normalised strengths: rows [w̄_1 x, w̄_1 y, w̄_1, ..., w̄_16 x, w̄_16 y, w̄_16]
    let (x, t) = sinc_data()?;
    let g = Graph::new();
    let anfis = sinc_anfis(&g)?;
    let input = g.input("x", [121, 2], DType::F64)?;
    let normalized = anfis.layers(&g, input)?.normalized;
    let mut plan = g.compile([normalized])?;
    plan.set_input(input, &x)?;
    plan.run(&g)?;
    let w = plan.output_at(0).to_f64_vec();
    let features = x.to_f64_vec();
    let targets = t.to_f64_vec();
    let (rows, cols) = (121, 48);
    let mut a = Vec::with_capacity(rows * cols);
    for n in 0..rows {
        for i in 0..16 {
            let strength = w[n * 16 + i];
            a.extend([
                strength * features[2 * n],
                strength * features[2 * n + 1],
                strength,
            ]);
        }
    }

    // the recursive form with S₀ = γI is exactly (AᵀA + I/γ) θ = Aᵀt
    let gamma = LeastSquares::DEFAULT_GAMMA;
    let recursive = LeastSquares::Recursive { gamma }.solve(&a, rows, cols, &targets)?;
    let mut normal = vec![0.0; cols * cols];
    gram(&a, rows, cols, &mut normal);
    for i in 0..cols {
        normal[i * cols + i] += 1.0 / gamma;
    }
    let mut regularised = vec![0.0; cols];
    gemv_transposed(&a, rows, cols, &targets, &mut regularised);
    cholesky(&mut normal, cols).expect("positive definite with the ridge");
    cholesky_solve(&normal, cols, &mut regularised);
    let distance = relative_distance(&recursive, &regularised);
    assert!(distance < 1e-8, "{distance}");

    // and so the batch solution, within O(1/γ): 5e-5 at γ = 1e6 on this matrix, 5e-7 at 1e8
    let batch = LeastSquares::Batch.solve(&a, rows, cols, &targets)?;
    let distance = relative_distance(&recursive, &batch);
    assert!(distance < 1e-4, "{distance}");
    let precise = LeastSquares::Recursive { gamma: 1e8 };
    let distance = relative_distance(&precise.solve(&a, rows, cols, &targets)?, &batch);
    assert!(distance < 1e-6, "{distance}");

    // the hybrid trainer's step gives the same consequents both ways
    let solve = |form: LeastSquares| -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
        let g = Graph::new();
        let anfis = sinc_anfis(&g)?;
        let mut trainer = HybridTrainer::new(&g, &anfis, &x, &t)?;
        let rmse = trainer.least_squares_step(form)?;
        Ok((values(&g, anfis.consequent_parameter().1), rmse))
    };
    let (from_batch, batch_rmse) = solve(LeastSquares::Batch)?;
    let (from_recursive, recursive_rmse) = solve(precise)?;
    assert!(relative_distance(&from_batch, &batch) < 1e-12);
    assert!(relative_distance(&from_recursive, &from_batch) < 1e-6);
    assert_close!(recursive_rmse, batch_rmse, 1e-9);

    // and on a random well-conditioned problem, element by element, at the default γ
    let mut rng = StdRng::seed_from_u64(2);
    let (rows, cols) = (60, 7);
    let a: Vec<f64> = (0..rows * cols)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let b: Vec<f64> = (0..rows).map(|_| rng.random_range(-1.0..1.0)).collect();
    let batch = LeastSquares::Batch.solve(&a, rows, cols, &b)?;
    let recursive = LeastSquares::recursive().solve(&a, rows, cols, &b)?;
    for (r, e) in recursive.iter().zip(&batch) {
        assert_close!(*r, *e, 1e-6);
    }
    Ok(())
}

#[test]
fn trains_in_f32_with_both_rules() -> TestResult {
    let (x, t) = sinc_data()?;
    let g = Graph::new();
    let anfis = Anfis::builder(&[3, 3], &[(-10.0, 10.0), (-10.0, 10.0)])
        .dtype(DType::F32)
        .build(&g, "anfis")?;
    // f64 data is converted to the model's dtype
    let history = anfis.fit_hybrid(
        &g,
        &x,
        &t,
        &HybridOptions {
            epochs: 5,
            least_squares: LeastSquares::recursive(),
            ..HybridOptions::default()
        },
    )?;
    assert!(history.final_rmse.is_finite() && history.final_rmse < history.rmse[0] + 1e-6);
    assert_eq!(g.value(anfis.consequent_parameter().1)?.dtype(), DType::F32);
    Ok(())
}

#[test]
fn parameter_names_are_hierarchical() -> TestResult {
    let g = Graph::new();
    let anfis = Anfis::builder(&[2, 3], &[(0.0, 1.0), (0.0, 1.0)])
        .membership(MembershipKind::Gaussian)
        .build(&g, "fis")?;
    let names: Vec<String> = anfis.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "fis.premise.0.c",
            "fis.premise.0.sigma",
            "fis.premise.1.c",
            "fis.premise.1.sigma",
            "fis.consequent"
        ]
    );
    assert_eq!(g.value(anfis.consequent_parameter().1)?.dims(), &[6, 3]);
    assert_eq!(
        g.value(anfis.consequent_parameter().1)?.to_f64_vec(),
        vec![0.0; 18]
    );
    // the DOT export draws the adaptive nodes (parameters and the ops reading them) as boxes
    let x = g.input("x", [1, 2], DType::F64)?;
    anfis.forward(&g, x)?;
    let dot = g.to_dot();
    assert!(dot.contains("fis.consequent\\n[6, 3]\", shape=box"));
    assert!(dot.contains("shape=circle"));
    Ok(())
}

#[test]
fn rejects_bad_settings() -> TestResult {
    let g = Graph::new();
    let setting = |result: Result<Anfis, NnError>| match result {
        Err(NnError::InvalidSetting { what, .. }) => what,
        other => panic!("expected InvalidSetting, got {other:?}"),
    };
    assert_eq!(
        setting(Anfis::builder(&[], &[]).build(&g, "a")),
        "mfs_per_input"
    );
    assert_eq!(
        setting(Anfis::builder(&[2, 0], &[(0.0, 1.0); 2]).build(&g, "a")),
        "mfs_per_input"
    );
    assert_eq!(
        setting(Anfis::builder(&[2, 2], &[(0.0, 1.0)]).build(&g, "a")),
        "ranges"
    );
    assert_eq!(
        setting(Anfis::builder(&[2], &[(1.0, 1.0)]).build(&g, "a")),
        "ranges"
    );
    assert_eq!(
        setting(Anfis::builder(&[2], &[(0.0, f64::NAN)]).build(&g, "a")),
        "ranges"
    );
    assert_eq!(
        setting(Anfis::builder(&[usize::MAX, 2], &[(0.0, 1.0); 2]).build(&g, "a")),
        "mfs_per_input"
    );
    assert!(g.is_empty(), "rejected builds add nothing");

    let anfis = Anfis::builder(&[2], &[(0.0, 1.0)]).build(&g, "a")?;
    let (x, t) = (
        Tensor::zeros([4, 1], DType::F64),
        Tensor::zeros([4, 1], DType::F64),
    );
    let bad = [
        (
            HybridOptions {
                epochs: 0,
                ..HybridOptions::default()
            },
            "epochs",
        ),
        (
            HybridOptions {
                step_size: 0.0,
                ..HybridOptions::default()
            },
            "step_size",
        ),
        (
            HybridOptions {
                step_size: f64::INFINITY,
                ..HybridOptions::default()
            },
            "step_size",
        ),
        (
            HybridOptions {
                step_increase: 0.9,
                ..HybridOptions::default()
            },
            "step_increase",
        ),
        (
            HybridOptions {
                step_decrease: 1.1,
                ..HybridOptions::default()
            },
            "step_decrease",
        ),
        (
            HybridOptions {
                least_squares: LeastSquares::Recursive { gamma: -1.0 },
                ..HybridOptions::default()
            },
            "gamma",
        ),
    ];
    let before = g.len();
    for (options, field) in bad {
        match anfis.fit_hybrid(&g, &x, &t, &options) {
            Err(NnError::InvalidSetting { what, .. }) => assert_eq!(what, field),
            other => panic!("{field}: expected InvalidSetting, got {other:?}"),
        }
    }
    assert_eq!(g.len(), before, "rejected options add nothing");
    let mut trainer = HybridTrainer::new(&g, &anfis, &x, &t)?;
    assert!(matches!(
        trainer.premise_step(-1.0),
        Err(NnError::InvalidSetting {
            what: "step_size",
            ..
        })
    ));
    Ok(())
}

#[test]
fn rejects_inputs_of_the_wrong_shape_dtype_or_graph() -> TestResult {
    let g = Graph::new();
    let anfis = Anfis::builder(&[2, 2], &[(0.0, 1.0); 2]).build(&g, "a")?;
    let wide = g.input("wide", [5, 3], DType::F64)?;
    let err = anfis.forward(&g, wide).unwrap_err();
    assert_eq!(
        err.to_string(),
        "anfis `a`: incompatible shapes [5, 3] and [5, 2]"
    );
    let flat = g.input("flat", [2], DType::F64)?;
    assert!(matches!(
        anfis.forward(&g, flat),
        Err(NnError::Graph(GraphError::ShapeMismatch { .. }))
    ));
    let single = g.input("single", [4, 2], DType::F32)?;
    assert!(matches!(
        anfis.forward(&g, single),
        Err(NnError::Graph(GraphError::DTypeMismatch { .. }))
    ));
    // the hybrid trainer checks the data before adding anything
    let before = g.len();
    let x = Tensor::zeros([4, 3], DType::F64);
    let t = Tensor::zeros([4, 1], DType::F64);
    assert!(matches!(
        HybridTrainer::new(&g, &anfis, &x, &t),
        Err(NnError::Graph(GraphError::ShapeMismatch { .. }))
    ));
    let x = Tensor::zeros([4, 2], DType::F64);
    let t = Tensor::zeros([3, 1], DType::F64);
    assert!(matches!(
        HybridTrainer::new(&g, &anfis, &x, &t),
        Err(NnError::Graph(GraphError::ShapeMismatch { .. }))
    ));
    let empty = Tensor::zeros([0, 2], DType::F64);
    assert!(matches!(
        HybridTrainer::new(&g, &anfis, &empty, &Tensor::zeros([0], DType::F64)),
        Err(NnError::InvalidSetting { what: "x", .. })
    ));
    assert_eq!(g.len(), before);
    // a network used with a graph it was not built in
    let other = Graph::new();
    let x_other = other.input("x", [4, 2], DType::F64)?;
    assert!(matches!(
        anfis.forward(&other, x_other),
        Err(NnError::Graph(GraphError::UnknownName { .. }))
    ));
    assert!(anfis.membership_functions(&other).is_err());
    Ok(())
}

#[test]
fn silent_rules_give_zero_output_not_nan() -> TestResult {
    // triangles over [0, 1]: x = 5 is outside every one, so every firing strength is 0
    let g = Graph::new();
    let anfis = Anfis::builder(&[2, 2], &[(0.0, 1.0); 2])
        .membership(MembershipKind::Triangular)
        .build(&g, "t")?;
    let mut rng = StdRng::seed_from_u64(1);
    randomise(&g, &anfis, &mut rng)?;
    let x = g.input("x", [2, 2], DType::F64)?;
    let layers = anfis.layers(&g, x)?;
    let loss = layers.output.sum_all();
    let params: Vec<NodeId> = anfis.parameters().into_iter().map(|(_, id)| id).collect();
    let grads = grad(&g, loss, &params)?;
    let mut plan = g.compile(
        [layers.normalized.id(), layers.output.id()]
            .into_iter()
            .chain(grads.iter().map(|v| v.id())),
    )?;
    plan.set_input(x, &Tensor::from_vec(vec![5.0, 5.0, 0.5, 0.5], [2, 2])?)?;
    plan.run(&g)?;
    let normalized = plan.output_at(0).to_f64_vec();
    assert_eq!(&normalized[..4], &[0.0; 4]);
    assert_close!(normalized[4..].iter().sum::<f64>(), 1.0, 1e-12);
    assert_eq!(plan.output_at(1).get(&[0, 0])?, 0.0);
    for k in 0..params.len() {
        assert!(plan.output_at(2 + k).all_finite(), "gradient {k}");
    }
    Ok(())
}

#[test]
fn premise_check_names_the_bad_function() -> TestResult {
    let g = Graph::new();
    let anfis = Anfis::builder(&[3], &[(0.0, 1.0)])
        .membership(MembershipKind::Triangular)
        .build(&g, "t")?;
    let peak = anfis.premise_parameters()[1].1;
    g.set_param(peak, &Tensor::from_vec(vec![0.0, 9.0, 1.0], [3])?)?;
    match anfis.check_premise(&g) {
        Err(NnError::InvalidSetting { what, reason }) => {
            assert_eq!(what, "premise");
            assert!(reason.starts_with("input 0, function 1:"), "{reason}");
        }
        other => panic!("expected InvalidSetting, got {other:?}"),
    }
    let functions = anfis.membership_functions(&g)?;
    assert_eq!(
        functions[0][1],
        MembershipFunction::Triangular {
            a: 0.0,
            b: 9.0,
            c: 1.0
        }
    );
    Ok(())
}
