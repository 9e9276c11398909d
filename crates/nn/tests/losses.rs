//! The losses of `adnet_nn::loss` against plain-Rust reference formulas (f64 and f32, every
//! reduction), their gradients and Hessians against finite differences, their behaviour at
//! extreme logits, and values pinned against PyTorch.

use std::error::Error;

use adnet_autodiff::{check_grad, grad, CheckOptions};
use adnet_graph::{Graph, Var};
use adnet_nn::loss::*;
use adnet_tensor::{assert_close, DType, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

type TestResult = Result<(), Box<dyn Error>>;

const REDUCTIONS: [Reduction; 4] = [
    Reduction::None,
    Reduction::Sum,
    Reduction::Mean,
    Reduction::BatchMean,
];

/// Evaluates `loss(x, t, reduction)` on inputs of the given shapes and dtype.
fn evaluate<F>(
    loss: F,
    dtype: DType,
    x: (&[usize], &[f64]),
    t: (&[usize], &[f64]),
    reduction: Reduction,
) -> Result<Vec<f64>, Box<dyn Error>>
where
    F: for<'g> Fn(Var<'g>, Var<'g>, Reduction) -> adnet_nn::Result<Var<'g>>,
{
    let g = Graph::new();
    let x_var = g.input("x", x.0, dtype)?;
    let t_var = g.input("t", t.0, dtype)?;
    let y = loss(x_var, t_var, reduction)?;
    assert_eq!(y.dtype(), dtype, "a loss keeps its operands' dtype");
    let x_value = Tensor::from_f64s(x.1, x.0, dtype)?;
    let t_value = Tensor::from_f64s(t.1, t.0, dtype)?;
    Ok(g.eval_tensor(y, &[("x", &x_value), ("t", &t_value)])?
        .to_f64_vec())
}

/// `value` as the dtype holds it, so references see exactly what the graph sees.
fn round(dtype: DType, value: f64) -> f64 {
    match dtype {
        DType::F32 => value as f32 as f64,
        _ => value,
    }
}

/// The dtypes checked, with the seed and the relative tolerance of each.
const DTYPES: [(DType, u64, f64); 2] = [(DType::F64, 1, 1e-12), (DType::F32, 2, 2e-5)];

/// Compares every reduction of `loss` with per-sample reference `terms` (`n` samples).
fn assert_reductions<F>(
    loss: F,
    dtype: DType,
    tolerance: f64,
    x: (&[usize], &[f64]),
    t: (&[usize], &[f64]),
    terms: &[f64],
) -> TestResult
where
    F: for<'g> Fn(Var<'g>, Var<'g>, Reduction) -> adnet_nn::Result<Var<'g>>,
{
    let sum: f64 = terms.iter().sum();
    let batch = x.0[0] as f64;
    for reduction in REDUCTIONS {
        let expected = match reduction {
            Reduction::None => terms.to_vec(),
            Reduction::Sum => vec![sum],
            Reduction::Mean => vec![sum / terms.len() as f64],
            _ => vec![sum / batch],
        };
        let actual = evaluate(&loss, dtype, x, t, reduction)?;
        assert_eq!(actual.len(), expected.len(), "{reduction:?}");
        for (a, e) in actual.iter().zip(&expected) {
            assert_close!(*a, *e, tolerance);
        }
    }
    Ok(())
}

/// Checks an elementwise loss on random `[3, 4]` operands against `reference(i, x, t)`
/// (`i` is the flat index), in f64 and f32, for every reduction.
fn check_elementwise<F>(
    loss: F,
    reference: impl Fn(usize, f64, f64) -> f64,
    x_range: (f64, f64),
    target: impl Fn(&mut StdRng) -> f64,
) -> TestResult
where
    F: for<'g> Fn(Var<'g>, Var<'g>, Reduction) -> adnet_nn::Result<Var<'g>>,
{
    let shape = [3usize, 4];
    for (dtype, seed, tolerance) in DTYPES {
        let mut rng = StdRng::seed_from_u64(seed);
        let x: Vec<f64> = (0..12)
            .map(|_| round(dtype, rng.random_range(x_range.0..x_range.1)))
            .collect();
        let t: Vec<f64> = (0..12).map(|_| round(dtype, target(&mut rng))).collect();
        let terms: Vec<f64> = (0..12).map(|i| reference(i, x[i], t[i])).collect();
        assert_reductions(&loss, dtype, tolerance, (&shape, &x), (&shape, &t), &terms)?;
    }
    Ok(())
}

/// Gives a closure the higher-ranked signature the helpers take (a closure bound by `let` alone
/// would be inferred for one lifetime).
fn loss_fn<F>(f: F) -> F
where
    F: for<'g> Fn(Var<'g>, Var<'g>, Reduction) -> adnet_nn::Result<Var<'g>>,
{
    f
}

fn uniform(low: f64, high: f64) -> impl Fn(&mut StdRng) -> f64 {
    move |rng| rng.random_range(low..high)
}

fn sign(rng: &mut StdRng) -> f64 {
    if rng.random_bool(0.5) {
        1.0
    } else {
        -1.0
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

const POS_WEIGHT: [f64; 4] = [0.5, 1.0, 2.0, 3.0];

#[test]
fn regression_losses_match_reference_formulas() -> TestResult {
    check_elementwise(
        mse_loss,
        |_, x, t| (x - t).powi(2),
        (-3.0, 3.0),
        uniform(-3.0, 3.0),
    )?;
    check_elementwise(
        l1_loss,
        |_, x, t| (x - t).abs(),
        (-3.0, 3.0),
        uniform(-3.0, 3.0),
    )?;
    let huber = |_, x: f64, t: f64| {
        let d: f64 = x - t;
        if d.abs() < 0.7 {
            0.5 * d * d
        } else {
            0.7 * (d.abs() - 0.35)
        }
    };
    check_elementwise(
        |x, t, r| huber_loss(x, t, 0.7, r),
        huber,
        (-3.0, 3.0),
        uniform(-3.0, 3.0),
    )?;
    check_elementwise(
        |x, t, r| {
            HuberLoss {
                delta: 0.7,
                reduction: r,
            }
            .loss(x, t)
        },
        huber,
        (-3.0, 3.0),
        uniform(-3.0, 3.0),
    )?;
    let smooth_l1 = |_, x: f64, t: f64| {
        let d: f64 = x - t;
        if d.abs() < 0.7 {
            0.5 * d * d / 0.7
        } else {
            d.abs() - 0.35
        }
    };
    check_elementwise(
        |x, t, r| {
            SmoothL1Loss {
                beta: 0.7,
                reduction: r,
            }
            .loss(x, t)
        },
        smooth_l1,
        (-3.0, 3.0),
        uniform(-3.0, 3.0),
    )?;
    check_elementwise(
        log_cosh_loss,
        |_, x, t| (x - t).cosh().ln(),
        (-3.0, 3.0),
        uniform(-3.0, 3.0),
    )?;
    let log1p = |v: f64| (1.0 + v.max(KERAS_EPSILON)).ln();
    check_elementwise(
        msle_loss,
        |_, x, t| (log1p(x) - log1p(t)).powi(2),
        (-0.5, 5.0), // negative predictions are floored at ε, as in Keras
        uniform(0.0, 5.0),
    )?;
    check_elementwise(
        mape_loss,
        |_, x, t| 100.0 * (t - x).abs() / t.abs().max(KERAS_EPSILON),
        (-3.0, 3.0),
        |rng| sign(rng) * rng.random_range(0.5..3.0),
    )?;
    Ok(())
}

#[test]
fn elementwise_classification_losses_match_reference_formulas() -> TestResult {
    check_elementwise(
        binary_cross_entropy,
        |_, p, t| -(t * p.ln() + (1.0 - t) * (1.0 - p).ln()),
        (0.01, 0.99),
        uniform(0.0, 1.0),
    )?;
    let bce_logits =
        |w: f64, x: f64, t: f64| -(w * t * sigmoid(x).ln() + (1.0 - t) * (1.0 - sigmoid(x)).ln());
    check_elementwise(
        |x, t, r| binary_cross_entropy_with_logits(x, t, None, r),
        |_, x, t| bce_logits(1.0, x, t),
        (-5.0, 5.0),
        uniform(0.0, 1.0),
    )?;
    let pos_weight = Tensor::from_vec(POS_WEIGHT.to_vec(), [4])?;
    check_elementwise(
        |x, t, r| {
            let loss = BceWithLogitsLoss {
                pos_weight: Some(pos_weight.clone()),
                reduction: r,
            };
            loss.loss(x, t)
        },
        |i, x, t| bce_logits(POS_WEIGHT[i % 4], x, t),
        (-5.0, 5.0),
        uniform(0.0, 1.0),
    )?;
    check_elementwise(
        hinge_loss,
        |_, x, t| (1.0 - t * x).max(0.0),
        (-2.0, 2.0),
        sign,
    )?;
    check_elementwise(
        squared_hinge_loss,
        |_, x, t| (1.0 - t * x).max(0.0).powi(2),
        (-2.0, 2.0),
        sign,
    )?;
    check_elementwise(
        |x, t, r| kl_div_loss(x, t, false, r),
        |_, x, t| t * (t.ln() - x),
        (-3.0, 0.0),
        uniform(0.01, 1.0),
    )?;
    check_elementwise(
        |x, t, r| {
            KlDivLoss {
                log_target: true,
                reduction: r,
            }
            .loss(x, t)
        },
        |_, x, t| t.exp() * (t - x),
        (-3.0, 0.0),
        uniform(-3.0, 0.0),
    )?;
    check_elementwise(
        |x, t, r| {
            PoissonNllLoss {
                reduction: r,
                ..Default::default()
            }
            .loss(x, t)
        },
        |_, x, t| x.exp() - t * x,
        (-2.0, 2.0),
        uniform(0.0, 5.0),
    )?;
    check_elementwise(
        |x, t, r| poisson_nll_loss(x, t, false, true, 1e-8, r),
        |_, x, t| {
            let stirling = if t > 1.0 {
                t * t.ln() - t + 0.5 * (2.0 * std::f64::consts::PI * t).ln()
            } else {
                0.0
            };
            x - t * (x + 1e-8).ln() + stirling
        },
        (0.1, 5.0),
        uniform(0.0, 5.0),
    )?;
    Ok(())
}

/// `ln Σ e^row`, the naive way on small values.
fn logsumexp(row: &[f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// Random logits `[n, c]` and integer labels `[n]`, as the dtype holds them.
fn logits_and_labels(rng: &mut StdRng, dtype: DType, n: usize, c: usize) -> (Vec<f64>, Vec<f64>) {
    let logits = (0..n * c)
        .map(|_| round(dtype, rng.random_range(-3.0..3.0)))
        .collect();
    let labels = (0..n).map(|_| rng.random_range(0..c) as f64).collect();
    (logits, labels)
}

#[test]
fn label_losses_match_reference_formulas() -> TestResult {
    let (n, c) = (4usize, 5usize);
    for (dtype, seed, tolerance) in DTYPES {
        let mut rng = StdRng::seed_from_u64(seed);
        let (logits, labels) = logits_and_labels(&mut rng, dtype, n, c);
        let rows: Vec<&[f64]> = logits.chunks(c).collect();
        for smoothing in [0.0, 0.2] {
            let terms: Vec<f64> = rows
                .iter()
                .zip(&labels)
                .map(|(row, &label)| {
                    let lse = logsumexp(row);
                    let nll = lse - row[label as usize];
                    let uniform = row.iter().map(|v| lse - v).sum::<f64>() / c as f64;
                    (1.0 - smoothing) * nll + smoothing * uniform
                })
                .collect();
            let loss = loss_fn(|x, t, r| {
                CrossEntropyLoss {
                    label_smoothing: smoothing,
                    reduction: r,
                }
                .loss(x, t)
            });
            assert_reductions(
                loss,
                dtype,
                tolerance,
                (&[n, c], &logits),
                (&[n], &labels),
                &terms,
            )?;
        }
        let log_probs: Vec<f64> = rows
            .iter()
            .flat_map(|row| {
                let lse = logsumexp(row);
                row.iter().map(move |v| round(dtype, v - lse))
            })
            .collect();
        let terms: Vec<f64> = labels
            .iter()
            .enumerate()
            .map(|(i, &label)| -log_probs[i * c + label as usize])
            .collect();
        assert_reductions(
            nll_loss,
            dtype,
            tolerance,
            (&[n, c], &log_probs),
            (&[n], &labels),
            &terms,
        )?;
    }
    Ok(())
}

#[test]
fn probability_and_hinge_losses_match_reference_formulas() -> TestResult {
    let (n, c) = (4usize, 5usize);
    for (dtype, seed, tolerance) in DTYPES {
        let mut rng = StdRng::seed_from_u64(seed);
        let (logits, labels) = logits_and_labels(&mut rng, dtype, n, c);
        let mut probs: Vec<f64> = (0..n * c).map(|_| rng.random_range(0.0..1.0)).collect();
        for row in probs.chunks_mut(c) {
            let total: f64 = row.iter().sum();
            row.iter_mut().for_each(|p| *p = round(dtype, *p / total));
        }
        let shape = [n, c];
        for smoothing in [0.0, 0.2] {
            let terms: Vec<f64> = logits
                .chunks(c)
                .zip(probs.chunks(c))
                .map(|(row, target)| {
                    let lse = logsumexp(row);
                    row.iter()
                        .zip(target)
                        .map(|(v, t)| -((1.0 - smoothing) * t + smoothing / c as f64) * (v - lse))
                        .sum()
                })
                .collect();
            let loss = loss_fn(|x, t, r| cross_entropy_probs(x, t, smoothing, r));
            assert_reductions(
                loss,
                dtype,
                tolerance,
                (&shape, &logits),
                (&shape, &probs),
                &terms,
            )?;
        }
        let one_hot: Vec<f64> = (0..n * c)
            .map(|k| f64::from(labels[k / c] as usize == k % c))
            .collect();
        let terms: Vec<f64> = logits
            .chunks(c)
            .zip(one_hot.chunks(c))
            .map(|(p, t)| {
                let positive: f64 = p.iter().zip(t).map(|(p, t)| p * t).sum();
                let negative = p
                    .iter()
                    .zip(t)
                    .map(|(p, t)| (1.0 - t) * p)
                    .fold(f64::NEG_INFINITY, f64::max);
                (negative - positive + 1.0).max(0.0)
            })
            .collect();
        let loss = categorical_hinge_loss;
        assert_reductions(
            loss,
            dtype,
            tolerance,
            (&shape, &logits),
            (&shape, &one_hot),
            &terms,
        )?;
    }
    Ok(())
}

/// Checks the gradient and the Hessian of `loss` (mean-reduced) at `x`, `t` (both `[2, 3]`)
/// against central differences, with respect to `x` and, if `wrt_target`, `t` too.
fn check_derivatives<F>(name: &str, loss: F, x: &[f64], t: &[f64], wrt_target: bool) -> TestResult
where
    F: for<'g> Fn(Var<'g>, Var<'g>, Reduction) -> adnet_nn::Result<Var<'g>>,
{
    for reduction in [Reduction::Mean, Reduction::Sum] {
        let g = Graph::new();
        let x_var = g.input("x", [2, 3], DType::F64)?;
        let t_var = g.input("t", [2, 3], DType::F64)?;
        let y = loss(x_var, t_var, reduction)?;
        let wrt = if wrt_target {
            vec![x_var, t_var]
        } else {
            vec![x_var]
        };
        let x_value = Tensor::from_vec(x.to_vec(), [2, 3])?;
        let t_value = Tensor::from_vec(t.to_vec(), [2, 3])?;
        let options = CheckOptions::default().with_second_order(true);
        let report = check_grad(&g, y, &wrt, &[("x", &x_value), ("t", &t_value)], &options)?;
        assert!(report.passed, "{name} ({reduction:?}): {report}");
    }
    Ok(())
}

#[test]
fn gradients_and_hessians_match_finite_differences() -> TestResult {
    // Points away from every kink (|x − t| = 0, delta, beta; t·x = 1; t = 1 for Stirling).
    let x = [0.3, -1.2, 2.5, 1.7, -0.4, 0.9];
    let t = [0.5, -1.0, 1.0, 0.2, 0.8, -2.0];
    let p = [0.1, 0.7, 0.95, 0.5, 0.05, 0.3];
    let probs = [0.2, 0.9, 0.6, 0.5, 0.3, 0.7];
    let signs = [1.0, -1.0, 1.0, -1.0, -1.0, 1.0];
    check_derivatives("mse_loss", mse_loss, &x, &t, true)?;
    check_derivatives("l1_loss", l1_loss, &x, &t, true)?;
    check_derivatives(
        "huber_loss",
        |a, b, r| huber_loss(a, b, 0.7, r),
        &x,
        &t,
        true,
    )?;
    check_derivatives(
        "smooth_l1_loss",
        |a, b, r| smooth_l1_loss(a, b, 0.7, r),
        &x,
        &t,
        true,
    )?;
    check_derivatives("log_cosh_loss", log_cosh_loss, &x, &t, true)?;
    check_derivatives("msle_loss", msle_loss, &p, &probs, true)?;
    check_derivatives("mape_loss", mape_loss, &x, &t, true)?;
    check_derivatives(
        "binary_cross_entropy",
        binary_cross_entropy,
        &p,
        &probs,
        true,
    )?;
    let with_logits = loss_fn(|a, b, r| binary_cross_entropy_with_logits(a, b, None, r));
    check_derivatives(
        "binary_cross_entropy_with_logits",
        with_logits,
        &x,
        &probs,
        true,
    )?;
    let weight = Tensor::from_vec(vec![2.0, 0.5, 1.0], [3])?;
    let weighted = loss_fn(|a, b, r| binary_cross_entropy_with_logits(a, b, Some(&weight), r));
    check_derivatives(
        "binary_cross_entropy_with_logits(pos_weight)",
        weighted,
        &x,
        &probs,
        true,
    )?;
    check_derivatives("hinge_loss", hinge_loss, &x, &signs, true)?;
    check_derivatives("squared_hinge_loss", squared_hinge_loss, &x, &signs, true)?;
    let one_hot = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    check_derivatives(
        "categorical_hinge_loss",
        categorical_hinge_loss,
        &x,
        &one_hot,
        true,
    )?;
    let smoothed = loss_fn(|a, b, r| cross_entropy_probs(a, b, 0.1, r));
    check_derivatives("cross_entropy_probs", smoothed, &x, &probs, true)?;
    let log_probs: Vec<f64> = x.iter().map(|v| v - 3.0).collect();
    check_derivatives(
        "kl_div_loss",
        |a, b, r| kl_div_loss(a, b, false, r),
        &log_probs,
        &p,
        true,
    )?;
    let log_p: Vec<f64> = p.iter().map(|v| v.ln()).collect();
    let log_target = loss_fn(|a, b, r| kl_div_loss(a, b, true, r));
    check_derivatives(
        "kl_div_loss(log_target)",
        log_target,
        &log_probs,
        &log_p,
        true,
    )?;
    check_derivatives(
        "poisson_nll_loss",
        |a, b, r| {
            PoissonNllLoss {
                reduction: r,
                ..Default::default()
            }
            .loss(a, b)
        },
        &x,
        &p,
        true,
    )?;
    let counts = [0.5, 2.0, 3.0, 1.5, 0.2, 4.0];
    let full = loss_fn(|a, b, r| poisson_nll_loss(a, b, false, true, 1e-8, r));
    check_derivatives("poisson_nll_loss(full)", full, &probs, &counts, true)?;
    Ok(())
}

#[test]
fn label_loss_gradients_match_finite_differences_in_the_logits() -> TestResult {
    let logits = [
        1.0, -0.5, 2.0, 0.3, 0.3, -1.0, -2.0, 4.0, 0.5, 0.0, 0.1, -0.1,
    ];
    let labels = [2.0, 0.0, 1.0, -100.0]; // the last one is ignored
    let options = CheckOptions::default().with_second_order(true);
    for smoothing in [0.0, 0.1] {
        for reduction in [Reduction::Mean, Reduction::Sum] {
            let g = Graph::new();
            let x = g.input("x", [4, 3], DType::F64)?;
            let t = g.input("t", [4], DType::F64)?;
            let ce = cross_entropy(x, t, smoothing, reduction)?;
            let nll = nll_loss(x.log_softmax(-1), t, reduction)?;
            let (x_value, t_value) = (
                Tensor::from_vec(logits.to_vec(), [4, 3])?,
                Tensor::from_vec(labels.to_vec(), [4])?,
            );
            let at = [("x", &x_value), ("t", &t_value)];
            for y in [ce, nll] {
                let report = check_grad(&g, y, &[x], &at, &options)?;
                assert!(report.passed, "{smoothing} {reduction:?}: {report}");
            }
            // No gradient reaches the labels.
            let d_labels = grad(&g, ce, &[t])?[0];
            assert_eq!(g.eval_tensor(d_labels, &at)?.to_f64_vec(), [0.0; 4]);
        }
    }
    Ok(())
}

/// The value, gradient and Hessian diagonal of `loss(x, t)` (summed), all of which must be
/// finite.
fn value_and_derivatives<F>(
    loss: F,
    dtype: DType,
    x: (&[usize], &[f64]),
    t: (&[usize], &[f64]),
) -> Result<(f64, Vec<f64>), Box<dyn Error>>
where
    F: for<'g> Fn(Var<'g>, Var<'g>, Reduction) -> adnet_nn::Result<Var<'g>>,
{
    let g = Graph::new();
    let x_var = g.input("x", x.0, dtype)?;
    let t_var = g.input("t", t.0, dtype)?;
    let y = loss(x_var, t_var, Reduction::Sum)?;
    let dx = grad(&g, y, &[x_var])?[0];
    let ddx = grad(&g, dx.sum_all(), &[x_var])?[0];
    let x_value = Tensor::from_f64s(x.1, x.0, dtype)?;
    let t_value = Tensor::from_f64s(t.1, t.0, dtype)?;
    let at = [("x", &x_value), ("t", &t_value)];
    let value = g.eval_tensor(y, &at)?.to_scalar()?;
    let gradient = g.eval_tensor(dx, &at)?.to_f64_vec();
    let second = g.eval_tensor(ddx, &at)?.to_f64_vec();
    assert!(value.is_finite(), "value {value}");
    assert!(
        gradient.iter().all(|v| v.is_finite()),
        "gradient {gradient:?}"
    );
    assert!(
        second.iter().all(|v| v.is_finite()),
        "second derivatives {second:?}"
    );
    Ok((value, gradient))
}

#[test]
fn extreme_logits_give_finite_values_and_derivatives() -> TestResult {
    for dtype in [DType::F64, DType::F32] {
        // BCE with logits: the loss is |x| where the label disagrees, the gradient σ(x) − t.
        let x = [1e4, -1e4, 1e4, -1e4];
        let t = [0.0, 1.0, 1.0, 0.0];
        let with_logits = loss_fn(|a, b, r| binary_cross_entropy_with_logits(a, b, None, r));
        let (value, gradient) = value_and_derivatives(with_logits, dtype, (&[4], &x), (&[4], &t))?;
        assert_close!(value, 2e4, 1e-12);
        assert_eq!(gradient, [1.0, -1.0, 0.0, 0.0]);

        // log-cosh: |d| − ln 2 far out, gradient tanh(d) = ±1.
        let (value, gradient) = value_and_derivatives(
            log_cosh_loss,
            dtype,
            (&[2], &[1e4, -1e4]),
            (&[2], &[0.0, 0.0]),
        )?;
        assert_close!(value, 2e4 - 2.0 * std::f64::consts::LN_2, 1e-7);
        assert_eq!(gradient, [1.0, -1.0]);

        // Cross-entropy, labels and probabilities: the gradient is softmax − one-hot.
        let logits = [1e4, -1e4, 0.0, -1e4, 1e4, 1e4];
        let labels = [1.0, 0.0];
        let ce = loss_fn(|a, b, r| cross_entropy(a, b, 0.0, r));
        let (value, gradient) =
            value_and_derivatives(ce, dtype, (&[2, 3], &logits), (&[2], &labels))?;
        assert_close!(value, 4e4 + std::f64::consts::LN_2, 1e-7);
        assert_eq!(gradient, [1.0, -1.0, 0.0, -1.0, 0.5, 0.5]);
        let one_hot = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        let ce_probs = loss_fn(|a, b, r| cross_entropy_probs(a, b, 0.0, r));
        let (value, gradient) =
            value_and_derivatives(ce_probs, dtype, (&[2, 3], &logits), (&[2, 3], &one_hot))?;
        assert_close!(value, 4e4 + std::f64::consts::LN_2, 1e-7);
        assert_eq!(gradient, [1.0, -1.0, 0.0, -1.0, 0.5, 0.5]);
    }
    Ok(())
}

#[test]
fn bce_on_certain_probabilities_is_clamped_at_100() -> TestResult {
    for dtype in [DType::F64, DType::F32] {
        let p = [0.0, 1.0, 0.0, 1.0];
        let t = [1.0, 0.0, 0.0, 1.0];
        let terms = evaluate(
            binary_cross_entropy,
            dtype,
            (&[4], &p),
            (&[4], &t),
            Reduction::None,
        )?;
        assert_eq!(terms, [100.0, 100.0, 0.0, 0.0]);
        let (value, gradient) =
            value_and_derivatives(binary_cross_entropy, dtype, (&[4], &p), (&[4], &t))?;
        assert_eq!(value, 200.0);
        // The clamped logarithms are constant; the unclamped ones give −t/p + (1−t)/(1−p).
        assert_eq!(gradient, [0.0, 0.0, 1.0, -1.0]);
    }
    Ok(())
}

#[test]
fn label_shapes_are_checked_and_errors_name_both() -> TestResult {
    let g = Graph::new();
    let logits = g.input("logits", [4, 3], DType::F64)?;
    let wrong = g.input("wrong", [3], DType::F64)?;
    let before = g.len();
    let error = cross_entropy(logits, wrong, 0.0, Reduction::Mean).expect_err("[3] is not [4]");
    assert_eq!(
        error.to_string(),
        "cross_entropy: incompatible shapes [4, 3] and [3]"
    );
    let error = nll_loss(logits, logits, Reduction::Mean).expect_err("labels are [N]");
    assert_eq!(
        error.to_string(),
        "nll_loss: incompatible shapes [4, 3] and [4, 3]"
    );
    let error = cross_entropy(logits, wrong, 1.5, Reduction::Mean).expect_err("smoothing");
    assert_eq!(
        error.to_string(),
        "label_smoothing: must be in [0, 1], got 1.5"
    );
    let weight = Tensor::from_vec(vec![1.0, 2.0], [2])?;
    let with_weight =
        binary_cross_entropy_with_logits(logits, logits, Some(&weight), Reduction::Mean);
    assert_eq!(
        with_weight
            .expect_err("[2] does not broadcast to [4, 3]")
            .to_string(),
        "binary_cross_entropy_with_logits: incompatible shapes [4, 3] and [2]"
    );
    assert_eq!(g.len(), before, "a rejected loss adds no node");
    Ok(())
}

#[test]
fn unbatched_logits_take_a_scalar_label() -> TestResult {
    let logits = [0.5, 2.0, -1.0];
    let terms = evaluate(
        |x, t, r| cross_entropy(x, t, 0.0, r),
        DType::F64,
        (&[3], &logits),
        (&[], &[1.0]),
        Reduction::None,
    )?;
    assert_eq!(terms.len(), 1);
    assert_close!(terms[0], logsumexp(&logits) - 2.0, 1e-14);
    Ok(())
}

// --- PyTorch ----------------------------------------------------------------------------------
// The expected values below were printed by crates/nn/tests/fixtures/make_loss_fixtures.py with
// torch 2.15.0 (CPU, float64); the inputs are that script's, copied verbatim.

const X: [f64; 6] = [0.3, -1.2, 2.5, 1.7, -0.4, 0.0];
const Y: [f64; 6] = [0.5, -1.0, 1.0, 0.2, 0.9, -2.0];
const P: [f64; 6] = [0.1, 0.7, 0.999, 0.5, 0.01, 0.3];
const T: [f64; 6] = [0.0, 1.0, 1.0, 0.5, 0.0, 1.0];
const LOGITS: [f64; 9] = [1.0, -0.5, 2.0, 0.3, 0.3, -1.0, -2.0, 4.0, 0.5];
const LABELS: [f64; 3] = [2.0, 0.0, 1.0];
const LABELS_IGNORED: [f64; 3] = [2.0, -100.0, 1.0];
const SOFT: [f64; 9] = [0.2, 0.3, 0.5, 1.0, 0.0, 0.0, 0.1, 0.6, 0.3];
const RATES: [f64; 6] = [0.5, 1.5, 3.0, 2.0, 0.1, 4.0];
const COUNTS: [f64; 6] = [0.0, 2.0, 3.0, 1.0, 0.0, 5.0];

/// PyTorch's `mean`, `sum` and `none` results for one loss.
struct Expected<'a> {
    mean: f64,
    sum: f64,
    none: &'a [f64],
}

fn assert_matches_pytorch<F>(
    name: &str,
    loss: F,
    x: (&[usize], &[f64]),
    t: (&[usize], &[f64]),
    expected: Expected<'_>,
) -> TestResult
where
    F: for<'g> Fn(Var<'g>, Var<'g>, Reduction) -> adnet_nn::Result<Var<'g>>,
{
    let cases = [
        (Reduction::Mean, vec![expected.mean]),
        (Reduction::Sum, vec![expected.sum]),
        (Reduction::None, expected.none.to_vec()),
    ];
    for (reduction, want) in cases {
        let got = evaluate(&loss, DType::F64, x, t, reduction)?;
        assert_eq!(got.len(), want.len(), "{name} {reduction:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{name} {reduction:?}: {got:?} vs {want:?}"
            );
        }
    }
    Ok(())
}

fn log_softmax_rows(logits: &[f64], c: usize) -> Vec<f64> {
    logits
        .chunks(c)
        .flat_map(|row| {
            let lse = logsumexp(row);
            row.iter().map(move |v| v - lse)
        })
        .collect()
}

#[test]
fn regression_losses_match_pytorch() -> TestResult {
    let (x, y) = ((&[2usize, 3][..], &X[..]), (&[2usize, 3][..], &Y[..]));
    assert_matches_pytorch(
        "mse_loss",
        mse_loss,
        x,
        y,
        Expected {
            mean: 1.7116666666666667,
            sum: 10.27,
            none: &[
                0.04000000000000001,
                0.03999999999999998,
                2.25,
                2.25,
                1.6900000000000002,
                4.0,
            ],
        },
    )?;
    assert_matches_pytorch(
        "l1_loss",
        l1_loss,
        x,
        y,
        Expected {
            mean: 1.1166666666666667,
            sum: 6.7,
            none: &[0.2, 0.19999999999999996, 1.5, 1.5, 1.3, 2.0],
        },
    )?;
    assert_matches_pytorch(
        "huber_loss",
        |a, b, r| huber_loss(a, b, 0.8, r),
        x,
        y,
        Expected {
            mean: 0.6333333333333334,
            sum: 3.8000000000000007,
            none: &[
                0.020000000000000004,
                0.01999999999999999,
                0.8800000000000001,
                0.8800000000000001,
                0.7200000000000001,
                1.2800000000000002,
            ],
        },
    )?;
    assert_matches_pytorch(
        "smooth_l1_loss",
        |a, b, r| smooth_l1_loss(a, b, 0.8, r),
        x,
        y,
        Expected {
            mean: 0.7916666666666666,
            sum: 4.75,
            none: &[
                0.025000000000000005,
                0.024999999999999988,
                1.1,
                1.1,
                0.9,
                1.6,
            ],
        },
    )?;
    Ok(())
}

#[test]
#[allow(clippy::approx_constant)] // PyTorch's printed ln 2 (BCE at logit 0), pasted as printed
fn binary_losses_match_pytorch() -> TestResult {
    let shape = &[2usize, 3][..];
    assert_matches_pytorch(
        "binary_cross_entropy",
        binary_cross_entropy,
        (shape, &P),
        (shape, &T),
        Expected {
            mean: 0.3950343801115875,
            sum: 2.370206280669525,
            none: &[
                0.10536051565782631,
                0.35667494393873245,
                0.0010005003335835344,
                0.6931471805599453,
                0.010050335853501442,
                1.2039728043259361,
            ],
        },
    )?;
    assert_matches_pytorch(
        "binary_cross_entropy(0 and 1)",
        binary_cross_entropy,
        (&[4], &[0.0, 1.0, 0.0, 1.0]),
        (&[4], &[1.0, 0.0, 0.0, 1.0]),
        Expected {
            mean: 50.0,
            sum: 200.0,
            none: &[100.0, 100.0, 0.0, -0.0],
        },
    )?;
    let with_logits = loss_fn(|a, b, r| binary_cross_entropy_with_logits(a, b, None, r));
    assert_matches_pytorch(
        "binary_cross_entropy_with_logits",
        with_logits,
        (shape, &X),
        (shape, &T),
        Expected {
            mean: 0.7700793180742119,
            sum: 4.620475908445272,
            none: &[
                0.8543552444685272,
                1.4632824673380311,
                0.07888973429254963,
                1.017786029386266,
                0.5130152523999526,
                0.6931471805599453,
            ],
        },
    )?;
    let weight = Tensor::from_vec(vec![2.0, 0.5, 1.0], [3])?;
    let weighted = loss_fn(|a, b, r| binary_cross_entropy_with_logits(a, b, Some(&weight), r));
    assert_matches_pytorch(
        "binary_cross_entropy_with_logits(pos_weight)",
        weighted,
        (shape, &X),
        (shape, &T),
        Expected {
            mean: 0.6621212815782315,
            sum: 3.972727689469389,
            none: &[
                0.8543552444685272,
                0.7316412336690156,
                0.07888973429254963,
                1.1016790440793989,
                0.5130152523999526,
                0.6931471805599453,
            ],
        },
    )?;
    let counts = (shape, &COUNTS[..]);
    assert_matches_pytorch(
        "poisson_nll_loss",
        |a, b, r| poisson_nll_loss(a, b, true, false, 1e-8, r),
        (shape, &X),
        counts,
        Expected {
            mean: 2.362969069659086,
            sum: 14.177814417954517,
            none: &[
                1.3498588075760032,
                2.701194211912202,
                4.682493960703473,
                3.7739473917271997,
                0.6703200460356393,
                1.0,
            ],
        },
    )?;
    let full = loss_fn(|a, b, r| poisson_nll_loss(a, b, false, true, 1e-8, r));
    assert_matches_pytorch(
        "poisson_nll_loss(log_input=False, full=True)",
        full,
        (shape, &RATES),
        counts,
        Expected {
            mean: 1.0925581617544047,
            sum: 6.555348970526428,
            none: &[
                0.5,
                1.3408762550548738,
                1.4682446675387277,
                1.3068528144400546,
                0.1,
                1.8393752334927713,
            ],
        },
    )?;
    Ok(())
}

#[test]
fn categorical_losses_match_pytorch() -> TestResult {
    let logits = (&[3usize, 3][..], &LOGITS[..]);
    let labels = (&[3usize][..], &LABELS[..]);
    let ignored = (&[3usize][..], &LABELS_IGNORED[..]);
    let soft = (&[3usize, 3][..], &SOFT[..]);
    let ce = loss_fn(|a, b, r| cross_entropy(a, b, 0.0, r));
    let smoothed = loss_fn(|a, b, r| cross_entropy(a, b, 0.1, r));
    assert_matches_pytorch(
        "cross_entropy",
        ce,
        logits,
        labels,
        Expected {
            mean: 0.40819573061382436,
            sum: 1.224587191841473,
            none: &[0.37153903185268283, 0.820894537305632, 0.03215362268315814],
        },
    )?;
    assert_matches_pytorch(
        "cross_entropy(label_smoothing=0.1)",
        smoothed,
        logits,
        labels,
        Expected {
            mean: 0.5670846195027133,
            sum: 1.7012538585081396,
            none: &[0.4882056985193495, 0.8642278706389653, 0.3488202893498248],
        },
    )?;
    assert_matches_pytorch(
        "cross_entropy(ignored, label_smoothing=0.1)",
        smoothed,
        logits,
        ignored,
        Expected {
            mean: 0.41851299393458713,
            sum: 0.8370259878691743,
            none: &[0.4882056985193495, 0.0, 0.3488202893498248],
        },
    )?;
    let probs = loss_fn(|a, b, r| cross_entropy_probs(a, b, 0.0, r));
    assert_matches_pytorch(
        "cross_entropy_probs",
        probs,
        logits,
        soft,
        Expected {
            mean: 1.274862397280491,
            sum: 3.824587191841473,
            none: &[1.321539031852683, 0.820894537305632, 1.682153622683158],
        },
    )?;
    let probs = loss_fn(|a, b, r| cross_entropy_probs(a, b, 0.1, r));
    assert_matches_pytorch(
        "cross_entropy_probs(label_smoothing=0.1)",
        probs,
        logits,
        soft,
        Expected {
            mean: 1.3470846195027135,
            sum: 4.04125385850814,
            none: &[1.3432056985193495, 0.8642278706389653, 1.8338202893498248],
        },
    )?;
    let log_probs = log_softmax_rows(&LOGITS, 3);
    let log_probs = (&[3usize, 3][..], &log_probs[..]);
    assert_matches_pytorch(
        "nll_loss",
        nll_loss,
        log_probs,
        labels,
        Expected {
            mean: 0.40819573061382436,
            sum: 1.224587191841473,
            none: &[0.37153903185268283, 0.820894537305632, 0.03215362268315814],
        },
    )?;
    assert_matches_pytorch(
        "nll_loss(ignored)",
        nll_loss,
        log_probs,
        ignored,
        Expected {
            mean: 0.20184632726792048,
            sum: 0.40369265453584097,
            none: &[0.37153903185268283, 0.0, 0.03215362268315814],
        },
    )?;
    Ok(())
}

#[test]
fn kl_div_matches_pytorch() -> TestResult {
    let log_probs = log_softmax_rows(&LOGITS, 3);
    let log_probs = (&[3usize, 3][..], &log_probs[..]);
    let soft = (&[3usize, 3][..], &SOFT[..]);
    let kl = loss_fn(|a, b, r| kl_div_loss(a, b, false, r));
    assert_matches_pytorch(
        "kl_div",
        kl,
        log_probs,
        soft,
        Expected {
            mean: 0.21077649476890217,
            sum: 1.8969884529201195,
            none: &[
                -0.0475797761162835,
                0.5002698682580241,
                -0.16080407435363123,
                0.820894537305632,
                0.0,
                0.0,
                0.3729568529689113,
                -0.28720320064969956,
                0.6984542455071665,
            ],
        },
    )?;
    let log_soft: Vec<f64> = SOFT.iter().map(|p| p.max(1e-3).ln()).collect();
    let log_soft = (&[3usize, 3][..], &log_soft[..]);
    let kl_log = loss_fn(|a, b, r| kl_div_loss(a, b, true, r));
    assert_matches_pytorch(
        "kl_div(log_target)",
        kl_log,
        log_probs,
        log_soft,
        Expected {
            mean: 0.20956830349297406,
            sum: 1.8861147314367666,
            none: &[
                -0.0475797761162835,
                0.500269868258024,
                -0.16080407435363123,
                0.820894537305632,
                -0.006086860741676506,
                -0.004786860741676506,
                0.3729568529689114,
                -0.28720320064969956,
                0.6984542455071665,
            ],
        },
    )?;
    let plain = evaluate(kl, DType::F64, log_probs, soft, Reduction::BatchMean)?;
    assert_close!(plain[0], 0.6323294843067065, 1e-12);
    let logs = evaluate(
        kl_log,
        DType::F64,
        log_probs,
        log_soft,
        Reduction::BatchMean,
    )?;
    assert_close!(logs[0], 0.6287049104789222, 1e-12);
    Ok(())
}
