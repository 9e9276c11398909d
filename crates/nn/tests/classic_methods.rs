//! The line-search methods (nonlinear conjugate gradient, scaled conjugate gradient, L-BFGS),
//! their strong-Wolfe line search, and Rprop, on closure objectives.
//!
//! The Rprop reference numbers live in `fixtures/rprop.json`, written by
//! `fixtures/make_rprop_fixture.py` with PyTorch 2.15 (`torch.optim.Rprop`, float64,
//! `foreach=False`; see that script for the problem and how to regenerate).

use adnet_nn::classic::{
    minimize, strong_wolfe, CgFormula, ConjugateGradient, FnObjective, FullBatchMethod, Lbfgs,
    Objective, Rprop, ScaledConjugateGradient, StopReason, Stopping, WolfeOptions,
};
use adnet_nn::NnError;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `f(x) = Σ 100·(x₂ᵢ₊₁ − x₂ᵢ²)² + (1 − x₂ᵢ)²` over consecutive pairs: the Rosenbrock function
/// for `n = 2`, the extended Rosenbrock function (Moré, Garbow & Hillstrom 1981) otherwise.
fn rosenbrock(x: &[f64], grad: Option<&mut [f64]>) -> f64 {
    let mut value = 0.0;
    for pair in x.chunks_exact(2) {
        let (a, b) = (pair[0], pair[1]);
        value += 100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2);
    }
    if let Some(g) = grad {
        for (pair, g) in x.chunks_exact(2).zip(g.chunks_exact_mut(2)) {
            let (a, b) = (pair[0], pair[1]);
            g[0] = -400.0 * a * (b - a * a) - 2.0 * (1.0 - a);
            g[1] = 200.0 * (b - a * a);
        }
    }
    value
}

/// The standard start: `(−1.2, 1)` repeated.
fn rosenbrock_start(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect()
}

/// Runs until the gradient is tiny (goal 0), so that the counts measure convergence itself.
fn run_to_convergence(
    method: &mut dyn FullBatchMethod,
    objective: &mut dyn Objective,
    theta: &mut [f64],
    max_epochs: usize,
) -> adnet_nn::Result<adnet_nn::classic::Report> {
    let stopping = Stopping {
        max_epochs,
        goal: 0.0,
        min_grad: 1e-9,
    };
    minimize(method, objective, theta, &stopping)
}

/// Each method with the most iterations it may take on the Rosenbrock functions below: the
/// counts observed (2-D / 10-D: Fletcher-Reeves 37 / 40, Polak-Ribière 36 / 26, scaled conjugate
/// gradient 101 / 62, L-BFGS 38 / 37) with a margin. For comparison, Nocedal & Wright
/// (*Numerical Optimization*, 2nd ed., §6.1) report 34 BFGS iterations on the 2-D function from
/// the same start (to ‖∇f‖ < 1e-5; Newton 21, steepest descent 5264).
fn methods() -> Vec<(Box<dyn FullBatchMethod>, usize)> {
    vec![
        (
            Box::new(ConjugateGradient::new(CgFormula::FletcherReeves)),
            FLETCHER_REEVES_BOUND,
        ),
        (
            Box::new(ConjugateGradient::new(CgFormula::PolakRibiere)),
            POLAK_RIBIERE_BOUND,
        ),
        (Box::new(ScaledConjugateGradient::new()), SCG_BOUND),
        (Box::new(Lbfgs::new()), LBFGS_BOUND),
    ]
}

const FLETCHER_REEVES_BOUND: usize = 50;
const POLAK_RIBIERE_BOUND: usize = 50;
const SCG_BOUND: usize = 130;
const LBFGS_BOUND: usize = 50;

#[test]
fn rosenbrock_from_the_standard_start() -> TestResult {
    for (mut method, bound) in methods() {
        let mut f = FnObjective::new(2, rosenbrock);
        let mut theta = rosenbrock_start(2);
        let report = run_to_convergence(method.as_mut(), &mut f, &mut theta, 5000)?;
        assert!(report.value < 1e-8, "{}: {report:?}", method.name());
        assert!((theta[0] - 1.0).abs() < 1e-4 && (theta[1] - 1.0).abs() < 1e-4);
        assert!(
            report.epochs <= bound,
            "{}: {} iterations",
            method.name(),
            report.epochs
        );
        assert_eq!(report.value, rosenbrock(&theta, None));
    }
    Ok(())
}

#[test]
fn extended_rosenbrock_in_ten_dimensions() -> TestResult {
    for (mut method, bound) in methods() {
        let mut f = FnObjective::new(10, rosenbrock);
        let mut theta = rosenbrock_start(10);
        let report = run_to_convergence(method.as_mut(), &mut f, &mut theta, 5000)?;
        assert!(report.value < 1e-8, "{}: {report:?}", method.name());
        assert!(
            report.epochs <= bound,
            "{}: {} iterations",
            method.name(),
            report.epochs
        );
        assert!(theta.iter().all(|x| (x - 1.0).abs() < 1e-4), "{theta:?}");
    }
    Ok(())
}

#[test]
fn powell_restart_rescues_fletcher_reeves() -> TestResult {
    // without periodic restarts Fletcher-Reeves crawls (154 iterations observed); Powell's test
    // restarts it when consecutive gradients stop being orthogonal (32 observed)
    let mut counts = Vec::new();
    for powell in [false, true] {
        let mut cg = ConjugateGradient::new(CgFormula::FletcherReeves)
            .restart_every(usize::MAX)?
            .powell_restart(powell);
        let mut f = FnObjective::new(2, rosenbrock);
        let mut theta = rosenbrock_start(2);
        let report = run_to_convergence(&mut cg, &mut f, &mut theta, 5000)?;
        assert!(report.value < 1e-8);
        counts.push(report.epochs);
    }
    assert!(counts[1] * 3 < counts[0], "{counts:?}");
    Ok(())
}

/// `f(x) = ½ xᵀA x − bᵀx` with `A = BᵀB + I` for a seeded random `B`, and `A`, `b`.
fn random_quadratic(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let b_matrix: Vec<f64> = (0..n * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n)
                .map(|k| b_matrix[k * n + i] * b_matrix[k * n + j])
                .sum();
        }
        a[i * n + i] += 1.0;
    }
    let b = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    (a, b)
}

fn quadratic_objective(
    a: Vec<f64>,
    b: Vec<f64>,
) -> FnObjective<impl FnMut(&[f64], Option<&mut [f64]>) -> f64> {
    let n = b.len();
    FnObjective::new(n, move |x: &[f64], grad: Option<&mut [f64]>| {
        let mut value = 0.0;
        let mut ax = vec![0.0; n];
        for i in 0..n {
            ax[i] = (0..n).map(|j| a[i * n + j] * x[j]).sum();
            value += 0.5 * x[i] * ax[i] - b[i] * x[i];
        }
        if let Some(g) = grad {
            for i in 0..n {
                g[i] = ax[i] - b[i];
            }
        }
        value
    })
}

/// Iterates until `‖∇f(θ)‖ < tolerance` (checked here, after each iteration) and returns the
/// number of iterations it took, or `None` when `limit` iterations were not enough.
fn iterations_to_gradient(
    method: &mut dyn FullBatchMethod,
    objective: &mut dyn Objective,
    theta: &mut [f64],
    tolerance: f64,
    limit: usize,
) -> adnet_nn::Result<Option<usize>> {
    let mut grad = vec![0.0; theta.len()];
    for k in 1..=limit {
        method.iterate(objective, theta)?;
        objective.value_grad(theta, &mut grad)?;
        if grad.iter().map(|g| g * g).sum::<f64>().sqrt() < tolerance {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

#[test]
fn conjugate_gradient_solves_a_quadratic_in_about_n_iterations() -> TestResult {
    // with exact line searches nonlinear CG is linear CG, which ends in at most n steps (N&W
    // Theorem 5.1), and so does BFGS (L-BFGS with a full history); a strict search
    // (c2 = 1e-6) comes close. The tolerance is 1e-7 of the starting gradient's norm (2.2):
    // f(θ) cannot resolve much smaller gradients (its changes fall below rounding).
    // Observed: 20 iterations for each.
    let n = 20;
    let (a, b) = random_quadratic(n, 7);
    let strict = WolfeOptions {
        c1: 1e-8,
        c2: 1e-6,
        max_evaluations: 40,
        ..WolfeOptions::default()
    };
    let methods: [Box<dyn FullBatchMethod>; 3] = [
        Box::new(ConjugateGradient::new(CgFormula::FletcherReeves).line_search(strict)?),
        Box::new(ConjugateGradient::new(CgFormula::PolakRibiere).line_search(strict)?),
        Box::new(Lbfgs::new().history(n)?.line_search(strict)?),
    ];
    for mut method in methods {
        let mut f = quadratic_objective(a.clone(), b.clone());
        let mut theta = vec![0.0; n];
        let count = iterations_to_gradient(method.as_mut(), &mut f, &mut theta, 2.2e-7, 100)?;
        assert!(
            count.is_some_and(|k| k <= n + 2),
            "{}: {count:?} iterations",
            method.name()
        );
    }
    Ok(())
}

/// A smooth function bounded below, with a random quadratic part (so every line through it is
/// bounded below and strong-Wolfe steps exist along any descent direction) plus random ripples
/// and an optional quartic.
#[derive(Debug, Clone)]
struct Bumpy {
    curvatures: Vec<f64>,
    center: Vec<f64>,
    /// `(amplitude, frequencies, phase)`: `amplitude · sin(frequenciesᵀx + phase)`.
    ripples: Vec<(f64, Vec<f64>, f64)>,
    quartic: f64,
}

impl Bumpy {
    fn value_grad(&self, x: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let n = x.len();
        let mut g = vec![0.0; n];
        let mut value = 0.0;
        let mut squared = 0.0;
        for i in 0..n {
            let u = x[i] - self.center[i];
            value += 0.5 * self.curvatures[i] * u * u;
            g[i] += self.curvatures[i] * u;
            squared += x[i] * x[i];
        }
        value += self.quartic * squared * squared;
        for i in 0..n {
            g[i] += 4.0 * self.quartic * squared * x[i];
        }
        for (amplitude, frequencies, phase) in &self.ripples {
            let t: f64 = frequencies.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + phase;
            value += amplitude * t.sin();
            for i in 0..n {
                g[i] += amplitude * t.cos() * frequencies[i];
            }
        }
        if let Some(grad) = grad {
            grad.copy_from_slice(&g);
        }
        value
    }
}

fn bumpy() -> impl Strategy<Value = Bumpy> {
    (1usize..=5).prop_flat_map(|n| {
        let ripple = (
            -2.0f64..2.0,
            prop::collection::vec(-3.0f64..3.0, n),
            0.0f64..6.3,
        );
        (
            prop::collection::vec(0.1f64..10.0, n),
            prop::collection::vec(-3.0f64..3.0, n),
            prop::collection::vec(ripple, 0..4),
            prop_oneof![Just(0.0), 0.0f64..1.0],
        )
            .prop_map(|(curvatures, center, ripples, quartic)| Bumpy {
                curvatures,
                center,
                ripples,
                quartic,
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn strong_wolfe_steps_satisfy_both_conditions(
        function in bumpy(),
        seed in any::<u64>(),
        log_initial_step in -4.0f64..4.0,
        c2 in prop_oneof![Just(0.9), Just(0.1), 0.01f64..0.99],
    ) {
        let n = function.curvatures.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let theta: Vec<f64> = (0..n).map(|_| rng.random_range(-4.0..4.0)).collect();
        let mut grad = vec![0.0; n];
        let value = function.value_grad(&theta, Some(&mut grad));
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        prop_assume!(norm(&grad) > 1e-3);
        // d = scale · (−g/‖g‖ + u) with ‖u‖ ≤ 0.9: a random descent direction at least
        // 0.05 (in cosine) away from orthogonal to g, along which the decrease a step can make
        // is not lost in rounding
        let mut u: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let shrink = rng.random_range(0.0..0.9) / norm(&u).max(1e-300);
        u.iter_mut().for_each(|x| *x *= shrink);
        let scale = 10f64.powf(rng.random_range(-2.0..2.0));
        let direction: Vec<f64> = grad
            .iter()
            .zip(&u)
            .map(|(g, u)| scale * (-g / norm(&grad) + u))
            .collect();
        let slope: f64 = grad.iter().zip(&direction).map(|(g, d)| g * d).sum();

        let options = WolfeOptions { c2, ..WolfeOptions::default() };
        let mut f = FnObjective::new(n, |x: &[f64], g: Option<&mut [f64]>| function.value_grad(x, g));
        let (mut point, mut point_grad) = (vec![0.0; n], vec![0.0; n]);
        let found = strong_wolfe(
            &mut f, &theta, value, &grad, &direction, 10f64.powf(log_initial_step), &options,
            &mut point, &mut point_grad,
        )?;
        prop_assert!(found.satisfied, "{found:?}");
        prop_assert!(found.evaluations <= options.max_evaluations);
        // the buffers hold the point and its gradient, and the value is its value
        for i in 0..n {
            prop_assert_eq!(point[i], theta[i] + found.step * direction[i]);
        }
        let mut expected_grad = vec![0.0; n];
        prop_assert_eq!(found.value, function.value_grad(&point, Some(&mut expected_grad)));
        prop_assert_eq!(&point_grad, &expected_grad);
        // both strong Wolfe conditions
        prop_assert!(found.value <= value + options.c1 * found.step * slope);
        let new_slope: f64 = point_grad.iter().zip(&direction).map(|(g, d)| g * d).sum();
        prop_assert!(new_slope.abs() <= c2 * slope.abs());
    }
}

#[test]
fn strong_wolfe_rejects_an_ascent_direction_and_bad_arguments() {
    let mut f = FnObjective::new(2, rosenbrock);
    let theta = rosenbrock_start(2);
    let mut grad = [0.0; 2];
    let value = rosenbrock(&theta, Some(&mut grad));
    let (mut point, mut point_grad) = ([0.0; 2], [0.0; 2]);
    let options = WolfeOptions::default();
    let mut search = |direction: &[f64], initial_step: f64, options: &WolfeOptions| {
        strong_wolfe(
            &mut f,
            &theta,
            value,
            &grad,
            direction,
            initial_step,
            options,
            &mut point,
            &mut point_grad,
        )
    };
    let setting = |r: adnet_nn::Result<_>| match r {
        Err(NnError::InvalidSetting { what, .. }) => what,
        other => panic!("expected InvalidSetting, got {other:?}"),
    };
    // +∇f, and a direction orthogonal to it
    assert_eq!(setting(search(&grad.clone(), 1.0, &options)), "direction");
    assert_eq!(
        setting(search(&[-grad[1], grad[0]], 1.0, &options)),
        "direction"
    );
    let descent = [-grad[0], -grad[1]];
    assert_eq!(setting(search(&descent, 0.0, &options)), "initial_step");
    assert_eq!(
        setting(search(&descent, f64::NAN, &options)),
        "initial_step"
    );
    assert_eq!(setting(search(&[1.0], 1.0, &options)), "theta");
    let swapped = WolfeOptions {
        c1: 0.9,
        c2: 0.1,
        ..options
    };
    assert_eq!(setting(search(&descent, 1.0, &swapped)), "c2");
    assert!(search(&descent, 1.0, &options).is_ok());
}

/// The Rprop fixtures' objective, `f(p) = Σ (p − target)² − 0.1·cos(p)`, whose gradient is the
/// one the fixtures feed PyTorch: `2·(p − target) + 0.1·sin(p)`.
fn rprop_problem(target: Vec<f64>) -> FnObjective<impl FnMut(&[f64], Option<&mut [f64]>) -> f64> {
    FnObjective::new(target.len(), move |p: &[f64], grad: Option<&mut [f64]>| {
        if let Some(g) = grad {
            for ((g, p), t) in g.iter_mut().zip(p).zip(&target) {
                *g = 2.0 * (p - t) + 0.1 * p.sin();
            }
        }
        p.iter()
            .zip(&target)
            .map(|(p, t)| (p - t).powi(2) - 0.1 * p.cos())
            .sum()
    })
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

#[test]
fn rprop_steps_match_pytorch() -> TestResult {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/rprop.json"))?;
    let p0 = floats(&fixture["problem"]["p0"]);
    let target = floats(&fixture["problem"]["target"]);
    let cases = fixture["cases"].as_array().expect("a list of cases");
    assert_eq!(cases.len(), 3);
    for case in cases {
        let options = &case["options"];
        let mut rprop = Rprop::default();
        if let Some(lr) = options.get("lr") {
            rprop = rprop.lr(lr.as_f64().expect("a number"))?;
        }
        if let Some(etas) = options.get("etas") {
            let etas = floats(etas);
            rprop = rprop.etas((etas[0], etas[1]))?;
        }
        if let Some(bounds) = options.get("step_sizes") {
            let bounds = floats(bounds);
            rprop = rprop.step_sizes((bounds[0], bounds[1]))?;
        }
        let mut f = rprop_problem(target.clone());
        let mut theta = p0.clone();
        let steps = case["steps"].as_array().expect("a list of steps");
        assert_eq!(steps.len(), 10);
        for (k, expected) in steps.iter().enumerate() {
            rprop.iterate(&mut f, &mut theta)?;
            for (actual, expected) in theta.iter().zip(floats(expected)) {
                let tolerance = 1e-6 * actual.abs().max(expected.abs()) + 1e-12;
                assert!(
                    (actual - expected).abs() <= tolerance,
                    "{options}: step {}: got {theta:?}, expected {expected}",
                    k + 1
                );
            }
        }
    }
    Ok(())
}

#[test]
fn irprop_plus_reverts_a_step_only_when_the_error_went_up() -> TestResult {
    // f = 100x² + (y − 10)² from (1, 1), first steps of 2.5: x overshoots to −1.5 and f rises
    // from 181 to 267.25, so at the sign change iRprop+ takes x back to 1; y keeps its sign and
    // moves on by 1.2 · 2.5. PyTorch's Rprop leaves x at −1.5.
    let objective = |x: &[f64], g: Option<&mut [f64]>| {
        if let Some(g) = g {
            g[0] = 200.0 * x[0];
            g[1] = 2.0 * (x[1] - 10.0);
        }
        100.0 * x[0] * x[0] + (x[1] - 10.0).powi(2)
    };
    let mut plus = Rprop::irprop_plus().lr(2.5)?;
    let mut minus = Rprop::default().lr(2.5)?;
    assert_eq!(plus.name(), "iRprop+");
    assert_eq!(minus.name(), "Rprop");
    let mut f = FnObjective::new(2, objective);
    let (mut a, mut b) = (vec![1.0, 1.0], vec![1.0, 1.0]);
    let up = plus.iterate(&mut f, &mut a)?;
    minus.iterate(&mut f, &mut b)?;
    assert_eq!(up.value, 267.25); // Rprop may raise the objective
    assert_eq!(
        (a.as_slice(), b.as_slice()),
        ([-1.5, 3.5].as_slice(), [-1.5, 3.5].as_slice())
    );
    plus.iterate(&mut f, &mut a)?;
    minus.iterate(&mut f, &mut b)?;
    assert_eq!(a, [1.0, 6.5]);
    assert_eq!(b, [-1.5, 6.5]);
    // then both go on with the halved step for x
    plus.iterate(&mut f, &mut a)?;
    assert_eq!(a[0], 1.0 - 1.25);

    // f = x² from 1 with steps of 1.5: x overshoots to −0.5 but f falls, so nothing is undone
    let mut plus = Rprop::irprop_plus().lr(1.5)?;
    let mut f = FnObjective::new(1, |x: &[f64], g: Option<&mut [f64]>| {
        if let Some(g) = g {
            g[0] = 2.0 * x[0];
        }
        x[0] * x[0]
    });
    let mut x = vec![1.0];
    plus.iterate(&mut f, &mut x)?;
    plus.iterate(&mut f, &mut x)?;
    assert_eq!(x, [-0.5]);
    Ok(())
}

#[test]
fn rprop_reaches_the_minimum_of_a_smooth_problem() -> TestResult {
    for mut rprop in [Rprop::default(), Rprop::irprop_plus()] {
        let mut f = rprop_problem(vec![1.0, 0.5, -1.5, 0.25, -2.0]);
        let mut theta = vec![0.5, -1.2, 2.0, 0.0, -0.3];
        // steps bottom out at Δmin = 1e-6, so the gradient (about 2·Δ per entry) does too
        let stopping = Stopping {
            max_epochs: 500,
            goal: f64::NEG_INFINITY,
            min_grad: 1e-4,
        };
        let report = minimize(&mut rprop, &mut f, &mut theta, &stopping)?;
        assert_eq!(report.reason, StopReason::MinGradient, "{}", rprop.name());
    }
    Ok(())
}

#[test]
fn every_method_rejects_a_theta_of_the_wrong_length_and_keeps_it() {
    let all: Vec<Box<dyn FullBatchMethod>> = vec![
        Box::new(ConjugateGradient::default()),
        Box::new(ScaledConjugateGradient::default()),
        Box::new(Lbfgs::default()),
        Box::new(Rprop::default()),
        Box::new(Rprop::irprop_plus()),
    ];
    for mut method in all {
        let mut f = FnObjective::new(2, rosenbrock);
        let mut theta = vec![1.0, 2.0, 3.0];
        let result = method.iterate(&mut f, &mut theta);
        assert!(
            matches!(result, Err(NnError::InvalidSetting { what: "theta", .. })),
            "{}: {result:?}",
            method.name()
        );
        assert_eq!(theta, [1.0, 2.0, 3.0]);
        let result = minimize(method.as_mut(), &mut f, &mut theta, &Stopping::default());
        assert!(matches!(
            result,
            Err(NnError::InvalidSetting { what: "theta", .. })
        ));
    }
}

#[test]
fn settings_are_validated() {
    let what = |r: Result<_, NnError>| match r {
        Err(NnError::InvalidSetting { what, .. }) => what,
        Ok(_) => "accepted",
        Err(other) => panic!("unexpected error {other:?}"),
    };
    assert_eq!(what(Lbfgs::new().history(0).map(|_| ())), "history_size");
    assert_eq!(
        what(ConjugateGradient::default().restart_every(0).map(|_| ())),
        "restart_every"
    );
    let bad_search = WolfeOptions {
        c2: 0.0,
        ..WolfeOptions::default()
    };
    assert_eq!(
        what(
            ConjugateGradient::default()
                .line_search(bad_search)
                .map(|_| ())
        ),
        "c2"
    );
    assert_eq!(what(Lbfgs::new().line_search(bad_search).map(|_| ())), "c2");
    assert_eq!(
        what(ScaledConjugateGradient::new().sigma(0.0).map(|_| ())),
        "sigma"
    );
    assert_eq!(
        what(ScaledConjugateGradient::new().lambda(-1.0).map(|_| ())),
        "lambda"
    );
    assert_eq!(what(Rprop::default().lr(-0.1).map(|_| ())), "lr");
    assert_eq!(what(Rprop::default().etas((0.5, 0.9)).map(|_| ())), "etas");
    assert_eq!(
        what(Rprop::default().step_sizes((1.0, 0.5)).map(|_| ())),
        "step_sizes"
    );
}

#[test]
fn names() {
    assert_eq!(
        ConjugateGradient::new(CgFormula::FletcherReeves).name(),
        "CG (Fletcher-Reeves)"
    );
    assert_eq!(ConjugateGradient::default().name(), "CG (Polak-Ribière)");
    assert_eq!(
        ConjugateGradient::default().formula(),
        CgFormula::PolakRibiere
    );
    assert_eq!(Lbfgs::default().name(), "L-BFGS");
    assert_eq!(
        ScaledConjugateGradient::default().name(),
        "Scaled conjugate gradient"
    );
}

#[test]
fn default_conjugate_gradient_is_polak_ribiere_with_its_cg_line_search() -> TestResult {
    let explicit = ConjugateGradient::new(CgFormula::PolakRibiere).line_search(WolfeOptions {
        c2: 0.1,
        ..WolfeOptions::default()
    })?;
    let loose = ConjugateGradient::new(CgFormula::PolakRibiere).line_search(WolfeOptions {
        c2: 0.9,
        ..WolfeOptions::default()
    })?;
    let mut paths = Vec::new();
    for mut method in [ConjugateGradient::default(), explicit, loose] {
        let mut f = FnObjective::new(2, rosenbrock);
        let mut theta = rosenbrock_start(2);
        for _ in 0..10 {
            method.iterate(&mut f, &mut theta)?;
        }
        paths.push(theta);
    }
    assert_eq!(paths[0], paths[1]);
    assert_ne!(paths[0], paths[2]);
    Ok(())
}
