//! Gauss-Newton and Levenberg-Marquardt through the public API: exact solutions of linear
//! least-squares problems, MATLAB `trainlm`'s damping schedule, giving up at `mu_max`, and
//! nonlinear curve fitting.

use adnet_nn::classic::{
    minimize, FnObjective, FnResiduals, FullBatchMethod, GaussNewton, LevenbergMarquardt,
    Objective, StopReason, Stopping,
};
use adnet_nn::NnError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

type Fallible = Result<(), NnError>;

/// A random `m × n` matrix `A` (row-major) and `b` of length `m`, entries in `[-1, 1)`.
fn random_problem(seed: u64, m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut random =
        |count: usize| -> Vec<f64> { (0..count).map(|_| rng.random_range(-1.0..1.0)).collect() };
    (random(m * n), random(m))
}

/// The linear least-squares objective `r(θ) = Aθ − b`, `J = A`.
fn linear(a: Vec<f64>, b: Vec<f64>, n: usize) -> impl Objective {
    let m = b.len();
    FnResiduals::new(
        n,
        m,
        move |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
            for (i, ri) in r.iter_mut().enumerate() {
                let row = &a[i * n..(i + 1) * n];
                *ri = row.iter().zip(t).map(|(x, y)| x * y).sum::<f64>() - b[i];
            }
            if let Some(jac) = jac {
                jac.copy_from_slice(&a);
            }
        },
    )
}

/// `argmin ‖Ax − b‖` by Householder QR, independently of the normal equations the methods
/// solve.
fn least_squares_qr(a: &[f64], m: usize, n: usize, b: &[f64]) -> Vec<f64> {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    for k in 0..n {
        let column_norm = (k..m).map(|i| a[i * n + k].powi(2)).sum::<f64>().sqrt();
        // reflect onto −sign(a_kk)·‖x‖·e₁, so that v = x − αe₁ does not cancel
        let alpha = if a[k * n + k] > 0.0 {
            -column_norm
        } else {
            column_norm
        };
        let mut v: Vec<f64> = (k..m).map(|i| a[i * n + k]).collect();
        v[0] -= alpha;
        let v_squared: f64 = v.iter().map(|x| x * x).sum();
        if v_squared == 0.0 {
            continue;
        }
        // apply I − 2vvᵀ/vᵀv to the columns k.. of A and to b
        for j in k..n {
            let s = 2.0 * (k..m).map(|i| v[i - k] * a[i * n + j]).sum::<f64>() / v_squared;
            for i in k..m {
                a[i * n + j] -= s * v[i - k];
            }
        }
        let s = 2.0 * (k..m).map(|i| v[i - k] * b[i]).sum::<f64>() / v_squared;
        for i in k..m {
            b[i] -= s * v[i - k];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let known: f64 = (i + 1..n).map(|j| a[i * n + j] * x[j]).sum();
        x[i] = (b[i] - known) / a[i * n + i];
    }
    x
}

/// `‖x − y‖ / ‖y‖`.
fn relative_error(x: &[f64], y: &[f64]) -> f64 {
    let difference: f64 = x.iter().zip(y).map(|(p, q)| (p - q).powi(2)).sum();
    let size: f64 = y.iter().map(|q| q * q).sum();
    (difference / size).sqrt()
}

#[test]
fn qr_reference_solves_a_consistent_system() {
    // A θ = b exactly for θ = (1, -2, 3): the reference must return θ
    let (a, _) = random_problem(3, 8, 3);
    let b: Vec<f64> = a
        .chunks_exact(3)
        .map(|row| row[0] - 2.0 * row[1] + 3.0 * row[2])
        .collect();
    let x = least_squares_qr(&a, 8, 3, &b);
    assert!(relative_error(&x, &[1.0, -2.0, 3.0]) < 1e-14, "{x:?}");
}

#[test]
fn gauss_newton_solves_a_linear_problem_in_one_iteration() -> Fallible {
    let (m, n) = (20, 5);
    let (a, b) = random_problem(42, m, n);
    let solution = least_squares_qr(&a, m, n, &b);
    let mut objective = linear(a, b, n);
    let mut theta = vec![0.0; n];
    let mut gauss_newton = GaussNewton::new();
    let step = gauss_newton.iterate(&mut objective, &mut theta)?;
    assert_eq!((step.stop, step.evaluations), (None, 2));
    let error = relative_error(&theta, &solution);
    assert!(error < 1e-10, "relative error {error:e}");
    // further iterations can only polish the last digits, never raise the error, and give up
    // once E cannot see a decrease
    let mut previous = step.value;
    let mut stop = None;
    for _ in 0..10 {
        let before = theta.clone();
        let step = gauss_newton.iterate(&mut objective, &mut theta)?;
        assert!(step.value <= previous);
        previous = step.value;
        stop = step.stop;
        if stop.is_some() {
            assert_eq!(theta, before, "a failed iteration leaves θ unchanged");
            break;
        }
    }
    assert_eq!(stop, Some(StopReason::NoProgress));
    assert!(relative_error(&theta, &solution) < 1e-10);
    Ok(())
}

#[test]
fn levenberg_marquardt_solves_a_linear_problem_in_three_iterations() -> Fallible {
    let (m, n) = (20, 5);
    let (a, b) = random_problem(42, m, n);
    let solution = least_squares_qr(&a, m, n, &b);
    let mut objective = linear(a, b, n);
    let mut theta = vec![0.0; n];
    let mut lm = LevenbergMarquardt::default();
    let mut errors = Vec::new();
    let mut evaluations = Vec::new();
    for _ in 0..3 {
        let step = lm.iterate(&mut objective, &mut theta)?;
        assert_eq!(step.stop, None);
        errors.push(relative_error(&theta, &solution));
        evaluations.push(step.evaluations);
    }
    // the damped steps (mu = 1e-3, then 1e-4, against eigenvalues of AᵀA of order 1 to 10)
    // each shrink the error by about mu / λ_min, and are accepted at once (one Jacobian, one
    // trial); the third step's gain (E changes by about 1e-21) is below the rounding of E
    // (about 2.3), so it takes a few trials to find a step that E sees as lower
    assert_eq!(evaluations[..2], [2, 2]);
    assert!(errors[0] > 1e-6 && errors[1] < 1e-7, "{errors:?}");
    assert!(errors[2] < 1e-8, "{errors:?}");
    Ok(())
}

/// `r(t) = atan(t)`, one residual: the full Gauss-Newton step from `t = 2` lands at
/// `t ≈ −3.5`, where `|atan|` is larger.
fn arctangent() -> impl Objective {
    FnResiduals::new(1, 1, |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
        r[0] = t[0].atan();
        if let Some(jac) = jac {
            jac[0] = 1.0 / (1.0 + t[0] * t[0]);
        }
    })
}

#[test]
fn levenberg_marquardt_follows_matlab_damping_schedule() -> Fallible {
    let mut objective = arctangent();
    let mut lm = LevenbergMarquardt::default();
    let mut theta = vec![2.0];
    // epoch 1: the trials with mu = 1e-3 and 1e-2 overshoot (δ = −J·r / (J² + mu) lands at
    // t ≈ −3.40 and −2.43, |atan| 1.29 and 1.18 > atan 2 ≈ 1.11); mu = 1e-1 gives t ≈ 0.42
    let (j, r) = (0.2, 2.0f64.atan());
    let step = lm.iterate(&mut objective, &mut theta)?;
    assert_eq!((step.stop, step.evaluations), (None, 4));
    let accepted = 2.0 - j * r / (j * j + 1e-3 * 10.0 * 10.0);
    assert!((theta[0] - accepted).abs() < 1e-12, "{theta:?}");
    let mut expected_mu = 1e-3 * 10.0 * 10.0 * 0.1;
    assert_eq!(lm.mu(), expected_mu);
    // afterwards every first trial succeeds, and mu shrinks tenfold per epoch
    for _ in 0..4 {
        let step = lm.iterate(&mut objective, &mut theta)?;
        assert_eq!((step.stop, step.evaluations), (None, 2));
        expected_mu *= 0.1;
        assert_eq!(lm.mu(), expected_mu);
    }
    assert!(theta[0].abs() < 1e-12, "{theta:?}");
    lm.reset();
    assert_eq!(lm.mu(), 1e-3);
    Ok(())
}

/// The number of trials from `mu` up to `mu_max` when every trial fails.
fn trials_until(mut mu: f64, mu_inc: f64, mu_max: f64) -> usize {
    let mut trials = 0;
    while mu <= mu_max {
        trials += 1;
        mu *= mu_inc;
    }
    trials
}

#[test]
fn levenberg_marquardt_stops_at_max_damping_at_a_minimum() -> Fallible {
    // r = (t − 1, t + 1): the minimum, at t = 0, leaves E = 1 and g = 0, so every step is
    // zero and lowers nothing
    let mut objective =
        FnResiduals::new(1, 2, |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
            r.copy_from_slice(&[t[0] - 1.0, t[0] + 1.0]);
            if let Some(jac) = jac {
                jac.copy_from_slice(&[1.0, 1.0]);
            }
        });
    let mut lm = LevenbergMarquardt::default();
    let mut theta = vec![0.0];
    let step = lm.iterate(&mut objective, &mut theta)?;
    assert_eq!(step.stop, Some(StopReason::MaxDamping));
    assert_eq!((step.value, step.grad_norm), (1.0, 0.0));
    assert_eq!(step.evaluations, 1 + trials_until(1e-3, 10.0, 1e10));
    assert_eq!(theta, [0.0]);
    assert!(lm.mu() > 1e10);
    // damping stays exhausted: the next epoch gives up without a trial
    let step = lm.iterate(&mut objective, &mut theta)?;
    assert_eq!(
        (step.stop, step.evaluations),
        (Some(StopReason::MaxDamping), 1)
    );
    Ok(())
}

#[test]
fn levenberg_marquardt_stops_at_max_damping_when_the_jacobian_lies() -> Fallible {
    // r = t, but the closure reports J = −1: every proposed step points uphill
    let mut objective =
        FnResiduals::new(1, 1, |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
            r[0] = t[0];
            if let Some(jac) = jac {
                jac[0] = -1.0;
            }
        });
    let mut lm = LevenbergMarquardt::default().mu_max(1e6)?;
    let mut theta = vec![1.0];
    let report = minimize(&mut lm, &mut objective, &mut theta, &Stopping::default())?;
    assert_eq!(report.reason, StopReason::MaxDamping);
    assert_eq!((report.epochs, report.values), (1, vec![0.5, 0.5]));
    assert_eq!(report.evaluations, 2 + trials_until(1e-3, 10.0, 1e6));
    assert_eq!(theta, [1.0]);
    // Gauss-Newton halves the uphill step 30 times, then gives up
    let mut theta = vec![1.0];
    let step = GaussNewton::new().iterate(&mut objective, &mut theta)?;
    assert_eq!(
        (step.stop, step.evaluations),
        (Some(StopReason::NoProgress), 32)
    );
    assert_eq!(theta, [1.0]);
    Ok(())
}

/// Residuals of `y = a·exp(b·x)` against exact data from `a = 2`, `b = −1` on
/// `x = 0, 0.2, …, 2`.
fn exponential_fit() -> impl Objective {
    let xs: Vec<f64> = (0..=10).map(|i| 0.2 * i as f64).collect();
    FnResiduals::new(
        2,
        xs.len(),
        move |t: &[f64], r: &mut [f64], jac: Option<&mut [f64]>| {
            for (ri, x) in r.iter_mut().zip(&xs) {
                *ri = t[0] * (t[1] * x).exp() - 2.0 * (-x).exp();
            }
            if let Some(jac) = jac {
                for (row, x) in jac.chunks_exact_mut(2).zip(&xs) {
                    row[0] = (t[1] * x).exp();
                    row[1] = t[0] * x * (t[1] * x).exp();
                }
            }
        },
    )
}

/// Runs until no step can lower the error any more.
const TO_THE_END: Stopping = Stopping {
    max_epochs: 200,
    goal: 0.0,
    min_grad: 0.0,
};

#[test]
fn levenberg_marquardt_fits_an_exponential() -> Fallible {
    for scaled_damping in [false, true] {
        let mut lm = LevenbergMarquardt::default().scaled_damping(scaled_damping);
        let mut theta = vec![1.0, 1.0];
        let report = minimize(&mut lm, &mut exponential_fit(), &mut theta, &TO_THE_END)?;
        assert!(
            (theta[0] - 2.0).abs() < 1e-12 && (theta[1] + 1.0).abs() < 1e-12,
            "scaled {scaled_damping}: {theta:?} after {report:?}"
        );
        assert!(report.values.windows(2).all(|w| w[1] < w[0]));
        assert!(report.value < 1e-24 && report.epochs < 50, "{report:?}");
    }
    Ok(())
}

#[test]
fn gauss_newton_with_halving_never_increases_the_error() -> Fallible {
    let mut theta = vec![1.0, 1.0];
    let mut gauss_newton = GaussNewton::new();
    let report = minimize(
        &mut gauss_newton,
        &mut exponential_fit(),
        &mut theta,
        &TO_THE_END,
    )?;
    assert!(
        report.values.windows(2).all(|w| w[1] <= w[0]),
        "{:?}",
        report.values
    );
    assert!(
        (theta[0] - 2.0).abs() < 1e-10 && (theta[1] + 1.0).abs() < 1e-10,
        "{theta:?} after {report:?}"
    );
    Ok(())
}

#[test]
fn least_squares_methods_reject_plain_objectives() {
    let mut plain = FnObjective::new(1, |t: &[f64], _: Option<&mut [f64]>| t[0] * t[0]);
    let methods: [Box<dyn FullBatchMethod>; 2] = [
        Box::new(LevenbergMarquardt::default()),
        Box::new(GaussNewton::new()),
    ];
    for mut method in methods {
        assert!(method.needs_residuals());
        let mut theta = vec![1.0];
        let result = minimize(&mut *method, &mut plain, &mut theta, &Stopping::default());
        assert!(
            matches!(result, Err(NnError::InvalidSetting { what: "method", .. })),
            "{}: {result:?}",
            method.name()
        );
        assert_eq!(theta, [1.0]);
    }
}

#[test]
fn invalid_damping_settings_are_rejected() {
    let rejected = |result: Result<LevenbergMarquardt, NnError>, name: &str| {
        assert!(
            matches!(&result, Err(NnError::InvalidSetting { what, .. }) if *what == name),
            "{name}: {result:?}"
        );
    };
    rejected(LevenbergMarquardt::new(0.0), "mu");
    rejected(LevenbergMarquardt::new(-1e-3), "mu");
    rejected(LevenbergMarquardt::default().mu_dec(1.0), "mu_dec");
    rejected(LevenbergMarquardt::default().mu_dec(0.0), "mu_dec");
    rejected(LevenbergMarquardt::default().mu_inc(1.0), "mu_inc");
    rejected(LevenbergMarquardt::default().mu_max(1e-3), "mu_max");
    rejected(
        LevenbergMarquardt::new(1.0).and_then(|lm| lm.mu_max(0.5)),
        "mu_max",
    );
}
