//! Layers across crates: activations against plain-Rust references and finite differences,
//! `Linear` against a naive product, `Mlp` naming, seeding and gradients, dropout statistics.

use adnet_autodiff::{check_grad, CheckOptions};
use adnet_graph::Graph;
use adnet_nn::layers::{Activation, Dropout, Init, Linear, LinearOptions, Mlp, Module};
use adnet_nn::Result;
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::SeedableRng;
use adnet_tensor::{assert_close, DType, Tensor};

/// Inputs away from the kinks of relu, leaky_relu and elu at 0 (further than any
/// finite-difference step).
const POINTS: [f64; 8] = [-3.1, -1.7, -0.6, -0.05, 0.2, 0.9, 1.8, 4.2];

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn elu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        alpha * x.exp_m1()
    }
}

/// A plain-Rust reference for an elementwise activation.
type Reference = fn(f64) -> f64;

/// Each elementwise activation with its plain-Rust reference.
fn elementwise() -> Vec<(Activation, Reference)> {
    vec![
        (Activation::Sigmoid, sigmoid),
        (Activation::Tanh, f64::tanh),
        (Activation::Softsign, |x| x / (1.0 + x.abs())),
        (Activation::Relu, |x| x.max(0.0)),
        (Activation::LeakyRelu(0.1), |x| {
            if x > 0.0 {
                x
            } else {
                0.1 * x
            }
        }),
        (Activation::Softplus, |x| x.exp().ln_1p()),
        (Activation::Elu(0.7), |x| elu(x, 0.7)),
        (Activation::Selu, |x| {
            1.050_700_987_355_480_5 * elu(x, 1.673_263_242_354_377_3)
        }),
        (Activation::Gelu, |x| {
            let inner = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044_715 * x.powi(3));
            0.5 * x * (1.0 + inner.tanh())
        }),
        (Activation::Silu, |x| x * sigmoid(x)),
        (Activation::Identity, |x| x),
    ]
}

#[test]
fn activation_values_match_plain_rust() -> Result<()> {
    for dtype in [DType::F64, DType::F32] {
        // f32 kernels round each intermediate to 24 bits
        let tol = if dtype == DType::F64 { 1e-13 } else { 1e-6 };
        for (activation, reference) in elementwise() {
            let g = Graph::new();
            let x = g.input("x", [POINTS.len()], dtype)?;
            let y = activation.forward(&g, x)?;
            let at = Tensor::from_f64s(&POINTS, [POINTS.len()], dtype)?;
            let values = g.eval_tensor(y, &[("x", &at)])?;
            assert_eq!(values.dtype(), dtype);
            for (&p, v) in POINTS.iter().zip(values.to_f64_vec()) {
                let p = if dtype == DType::F32 {
                    p as f32 as f64
                } else {
                    p
                };
                assert!(
                    (v - reference(p)).abs() <= tol * reference(p).abs().max(1.0),
                    "{activation:?}({p}) = {v}, expected {}",
                    reference(p)
                );
            }
        }
    }
    Ok(())
}

#[test]
fn softmax_values_match_plain_rust() -> Result<()> {
    let rows = [[1.0, -2.0, 0.5, 3.0], [0.0, 0.1, -0.1, 0.2]];
    let g = Graph::new();
    let x = g.input("x", [2, 4], DType::F64)?;
    let softmax = Activation::Softmax(-1).forward(&g, x)?;
    let log_softmax = Activation::LogSoftmax(1).forward(&g, x)?;
    let at = Tensor::from_f64s(&rows.concat(), [2, 4], DType::F64)?;
    let s = g.eval_tensor(softmax, &[("x", &at)])?.to_f64_vec();
    let l = g.eval_tensor(log_softmax, &[("x", &at)])?.to_f64_vec();
    for (r, row) in rows.iter().enumerate() {
        let total: f64 = row.iter().map(|v| v.exp()).sum();
        for (c, v) in row.iter().enumerate() {
            assert_close!(s[r * 4 + c], v.exp() / total, 1e-14);
            assert_close!(l[r * 4 + c], v - total.ln(), 1e-14);
        }
    }
    Ok(())
}

/// `Σ cᵢ·f(x)ᵢ` with fixed weights `c` (so the check sees every partial derivative), checked at
/// orders 1 and 2 against central differences.
fn check_activation(activation: Activation, shape: &[usize], points: &[f64]) -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", shape, DType::F64)?;
    let n = points.len();
    let weights: Vec<f64> = (0..n).map(|i| 0.5 + 0.25 * i as f64).collect();
    let c = g.constant(Tensor::from_f64s(&weights, shape, DType::F64)?);
    let y = activation.forward(&g, x)?.try_mul(c)?.sum_all();
    let at = Tensor::from_f64s(points, shape, DType::F64)?;
    let options = CheckOptions::default().with_second_order(true);
    let report = check_grad(&g, y, &[x], &[("x", &at)], &options)?;
    assert!(report.passed, "{activation:?}:\n{report}");
    assert_eq!(report.checked, n + n * n);
    Ok(())
}

#[test]
fn activation_gradients_match_finite_differences() -> Result<()> {
    for (activation, _) in elementwise() {
        check_activation(activation, &[POINTS.len()], &POINTS)?;
    }
    let points = [1.0, -2.0, 0.5, 3.0, 0.0, 0.1, -0.1, 0.2];
    check_activation(Activation::Softmax(-1), &[2, 4], &points)?;
    check_activation(Activation::LogSoftmax(0), &[2, 4], &points)?;
    Ok(())
}

#[test]
fn linear_forward_equals_naive_matmul_plus_bias() -> Result<()> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(5);
    let options = LinearOptions::default()
        .with_dtype(DType::F64)
        .with_bias_init(Init::Uniform(-1.0, 1.0));
    let layer = Linear::new(&g, "fc", 4, 3, options, &mut rng)?;
    let x = g.input("x", [2, 4], DType::F64)?;
    let y = layer.forward(&g, x)?;
    let input = Tensor::uniform([2, 4], -2.0, 2.0, DType::F64, &mut rng)?;
    let actual = g.eval_tensor(y, &[("x", &input)])?;
    assert_eq!(actual.dims(), &[2, 3]);
    let w = g.value(layer.weight())?;
    let b = g.value(layer.bias().expect("a bias was asked for"))?;
    assert_eq!((w.dims(), b.dims()), (&[4, 3][..], &[3][..]));
    for i in 0..2 {
        for j in 0..3 {
            let mut expected = b.get(&[j])?;
            for k in 0..4 {
                expected += input.get(&[i, k])? * w.get(&[k, j])?;
            }
            assert_close!(actual.get(&[i, j])?, expected, 1e-14);
        }
    }
    Ok(())
}

#[test]
fn forward_twice_shares_the_parameters() -> Result<()> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(1);
    let mlp = Mlp::new(&[3, 5, 2]).build(&g, "net", &mut rng)?;
    let params = g.params();
    let a = g.input("a", [4, 3], DType::F32)?;
    let b = g.input("b", [4, 3], DType::F32)?;
    let ya = mlp.forward(&g, a)?;
    let yb = mlp.forward(&g, b)?;
    assert_eq!(g.params(), params);
    let at = Tensor::uniform([4, 3], -1.0, 1.0, DType::F32, &mut rng)?;
    assert_eq!(
        g.eval_tensor(ya, &[("a", &at)])?,
        g.eval_tensor(yb, &[("b", &at)])?
    );
    Ok(())
}

#[test]
fn parameter_names_are_hierarchical_and_unique() -> Result<()> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let encoder = Mlp::new(&[4, 8, 3]).build(&g, "encoder", &mut rng)?;
    let decoder = Mlp::new(&[3, 8, 4])
        .output_activation(Activation::Sigmoid)
        .build(&g, "decoder", &mut rng)?;
    let names: Vec<String> = encoder
        .parameters()
        .into_iter()
        .chain(decoder.parameters())
        .map(|(name, id)| {
            assert_eq!(g.name_of(id).as_deref(), Some(name.as_str()));
            name
        })
        .collect();
    assert_eq!(
        names,
        [
            "encoder.0.weight",
            "encoder.0.bias",
            "encoder.2.weight",
            "encoder.2.bias",
            "decoder.0.weight",
            "decoder.0.bias",
            "decoder.2.weight",
            "decoder.2.bias",
        ]
    );
    assert_eq!(g.params().len(), names.len());
    // building a second network under a used prefix is refused
    assert!(Mlp::new(&[4, 8, 3]).build(&g, "encoder", &mut rng).is_err());
    assert_eq!(g.params().len(), names.len());
    Ok(())
}

#[test]
fn same_seed_builds_the_same_mlp() -> Result<()> {
    let build = |seed: u64| -> Result<Vec<(String, Tensor)>> {
        let g = Graph::new();
        let mlp = Mlp::new(&[4, 8, 3])
            .bias_init(Init::Normal(0.0, 0.1))
            .build(&g, "mlp", &mut StdRng::seed_from_u64(seed))?;
        mlp.parameters()
            .into_iter()
            .map(|(name, id)| Ok((name, g.value(id)?)))
            .collect()
    };
    let first = build(7)?;
    assert_eq!(first.len(), 4);
    assert_eq!(first, build(7)?);
    assert_ne!(first, build(8)?);
    assert_eq!(first[0].1.dims(), &[4, 8]);
    assert_eq!(first[3].1.dims(), &[3]);
    Ok(())
}

#[test]
fn mlp_loss_gradients_match_finite_differences() -> Result<()> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(11);
    let mlp = Mlp::new(&[3, 4, 2])
        .activation(Activation::Tanh)
        .init(Init::GlorotNormal)
        .bias_init(Init::Uniform(-0.5, 0.5))
        .dtype(DType::F64)
        .build(&g, "mlp", &mut rng)?;
    let x = g.input("x", [5, 3], DType::F64)?;
    let target = g.input("target", [5, 2], DType::F64)?;
    let loss = mlp.forward(&g, x)?.try_sub(target)?.square().mean_all();
    let xs = Tensor::uniform([5, 3], -1.0, 1.0, DType::F64, &mut rng)?;
    let ts = Tensor::uniform([5, 2], -1.0, 1.0, DType::F64, &mut rng)?;
    let params: Vec<_> = mlp.parameters().into_iter().map(|(_, id)| id).collect();
    let inputs = [("x", &xs), ("target", &ts)];
    let report = check_grad(&g, loss, &params, &inputs, &CheckOptions::default())?;
    assert!(report.passed, "{report}");
    assert_eq!(report.checked, 3 * 4 + 4 + 4 * 2 + 2);
    let options = CheckOptions::default()
        .with_second_order(true)
        .with_fast_mode(true);
    let report = check_grad(&g, loss, &params, &inputs, &options)?;
    assert!(report.passed, "{report}");
    Ok(())
}

#[test]
fn f32_mlp_gradients_are_checked_in_f64() -> Result<()> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(12);
    let mlp = Mlp::new(&[2, 3, 1])
        .activation(Activation::Gelu)
        .build(&g, "mlp", &mut rng)?;
    let x = g.input("x", [4, 2], DType::F32)?;
    let loss = mlp.forward(&g, x)?.square().sum_all();
    let xs = Tensor::uniform([4, 2], -1.0, 1.0, DType::F32, &mut rng)?;
    let params: Vec<_> = mlp.parameters().into_iter().map(|(_, id)| id).collect();
    let report = check_grad(&g, loss, &params, &[("x", &xs)], &CheckOptions::default())?;
    assert!(report.passed, "{report}");
    Ok(())
}

const ROWS: usize = 100;
const COLS: usize = 100;

#[test]
fn train_mask_zeroes_about_p_and_scales_survivors() -> Result<()> {
    let g = Graph::new();
    let p = 0.3;
    let dropout = Dropout::new(&g, "drop", p, [ROWS, COLS], DType::F32)?;
    let x = g.input("x", [ROWS, COLS], DType::F32)?;
    let y = dropout.forward(&g, x)?;
    let mut plan = g.compile([y])?;
    plan.set_input(x, &Tensor::ones([ROWS, COLS], DType::F32))?;
    let mut rng = StdRng::seed_from_u64(3);
    dropout.train_mask(&mut plan, &mut rng)?;
    plan.run(&g)?;
    let values = plan.output(y)?.to_f64_vec();
    let zeros = values.iter().filter(|&&v| v == 0.0).count() as f64 / values.len() as f64;
    // 10 000 draws: the standard error of the fraction is 0.0046; 0.02 is over 4 of them
    assert!((zeros - p).abs() < 0.02, "zeroed fraction {zeros}");
    for &v in values.iter().filter(|&&v| v != 0.0) {
        assert_close!(v, 1.0 / (1.0 - p), 1e-6);
    }
    // a fresh mask differs from the last one
    dropout.train_mask(&mut plan, &mut rng)?;
    plan.run(&g)?;
    assert_ne!(plan.output(y)?.to_f64_vec(), values);
    Ok(())
}

#[test]
fn eval_mask_makes_dropout_the_identity() -> Result<()> {
    let g = Graph::new();
    let dropout = Dropout::new(&g, "drop", 0.6, [4, 5], DType::F64)?;
    let x = g.input("x", [4, 5], DType::F64)?;
    let y = dropout.forward(&g, x)?;
    let mut plan = g.compile([y])?;
    let mut rng = StdRng::seed_from_u64(4);
    let input = Tensor::normal([4, 5], 0.0, 1.0, DType::F64, &mut rng)?;
    plan.set_input(x, &input)?;
    dropout.train_mask(&mut plan, &mut rng)?;
    plan.run(&g)?;
    assert_ne!(plan.output(y)?, &input);
    dropout.eval_mask(&mut plan)?;
    plan.run(&g)?;
    assert_eq!(plan.output(y)?, &input);
    assert_eq!(dropout.ones_mask(), Tensor::ones([4, 5], DType::F64));
    Ok(())
}

#[test]
fn dropout_preserves_the_expected_value() -> Result<()> {
    let g = Graph::new();
    let dropout = Dropout::new(&g, "drop", 0.5, [ROWS], DType::F64)?;
    let x = g.input("x", [ROWS], DType::F64)?;
    let y = dropout.forward(&g, x)?;
    let mut plan = g.compile([y])?;
    let input: Vec<f64> = (0..ROWS).map(|i| 1.0 + i as f64 / ROWS as f64).collect();
    plan.set_input(x, &Tensor::from_f64s(&input, [ROWS], DType::F64)?)?;
    let mut rng = StdRng::seed_from_u64(6);
    let draws = 2000;
    let mut mean = vec![0.0; ROWS];
    for _ in 0..draws {
        dropout.train_mask(&mut plan, &mut rng)?;
        plan.run(&g)?;
        for (m, v) in mean.iter_mut().zip(plan.output(y)?.to_f64_vec()) {
            *m += v / draws as f64;
        }
    }
    // each element's mean: standard error x/√2000 ≈ 0.045 at x = 2; overall mean is tighter
    for (m, x) in mean.iter().zip(&input) {
        assert!((m - x).abs() < 0.2 * x, "{m} vs {x}");
    }
    let total: f64 = mean.iter().sum::<f64>() / ROWS as f64;
    let expected: f64 = input.iter().sum::<f64>() / ROWS as f64;
    assert_close!(total, expected, 0.01);
    Ok(())
}

#[test]
fn gradient_flows_through_the_dropout_mask() -> Result<()> {
    let g = Graph::new();
    let dropout = Dropout::new(&g, "drop", 0.5, [6], DType::F64)?;
    let x = g.input("x", [6], DType::F64)?;
    let y = dropout.forward(&g, x)?.tanh().sum_all();
    let mask = dropout.sample_mask(&mut StdRng::seed_from_u64(2));
    let at = Tensor::from_f64s(&POINTS[..6], [6], DType::F64)?;
    let inputs = [("x", &at), ("drop.mask", &mask)];
    let report = check_grad(&g, y, &[x], &inputs, &CheckOptions::default())?;
    assert!(report.passed, "{report}");
    Ok(())
}
