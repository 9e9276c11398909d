//! `check_grad` end to end: it passes on correct networks in every mode (and on `f32` networks,
//! checked in `f64`), fails on wrong derivative rules of either order naming the culprit, keeps
//! the user's graph as it was, and applies `atol + rtol·|numeric|` exactly as documented.

use adnet_autodiff::{check_grad, AutodiffError, CheckOptions, GradCheck, Result};
use adnet_graph::ops::{same_spec, ScalarFunction};
use adnet_graph::{Graph, GraphError, InputGrads, NodeId, Op, TensorSpec};
use adnet_tensor::{kernels, DType, Tensor};

/// The lecture's second network (`adnet_graph::networks::lecture`); returns the graph and `o`.
fn lecture_network() -> Result<(Graph, NodeId)> {
    let g = Graph::new();
    let id = adnet_graph::networks::lecture(&g)?.o.id();
    Ok((g, id))
}

/// Checks the lecture network at x = 1, y = 0.5 against all five of its leaves.
fn check_lecture(options: &CheckOptions) -> Result<GradCheck> {
    let (g, o) = lecture_network()?;
    let wrt: Vec<NodeId> = ["x", "y", "alpha", "beta", "gamma"]
        .iter()
        .map(|name| g.node(name).map(|v| v.id()))
        .collect::<adnet_graph::Result<_>>()?;
    let (x, y) = (Tensor::scalar(1.0), Tensor::scalar(0.5));
    check_grad(&g, o, &wrt, &[("x", &x), ("y", &y)], options)
}

#[test]
fn lecture_network_passes_in_every_mode() -> Result<()> {
    let full = check_lecture(&CheckOptions::default())?;
    assert!(full.passed, "{full}");
    assert_eq!((full.checked, full.failed), (5, 0));
    assert!(full.max_abs_error < 1e-8, "{full}");
    assert_eq!(full.worst.len(), 5);
    assert!(full
        .worst
        .iter()
        .all(|e| e.order == 1 && e.index.is_empty()));

    let fast = check_lecture(&CheckOptions::default().with_fast_mode(true))?;
    assert!(fast.passed, "{fast}");
    assert_eq!(fast.checked, 1);

    let second = check_lecture(&CheckOptions::default().with_second_order(true))?;
    assert!(second.passed, "{second}");
    assert_eq!(second.checked, 5 + 25);

    let fast_second = check_lecture(
        &CheckOptions::default()
            .with_fast_mode(true)
            .with_second_order(true),
    )?;
    assert!(fast_second.passed, "{fast_second}");
    assert_eq!(fast_second.checked, 1 + 5);

    let scaled = check_lecture(&CheckOptions::default().scaled().with_second_order(true))?;
    assert!(scaled.passed, "{scaled}");
    // the scaled step is closer to optimal than 1e-6: tighter tolerances still pass
    let tight = check_lecture(
        &CheckOptions::default()
            .scaled()
            .with_atol(1e-9)
            .with_rtol(1e-8),
    )?;
    assert!(tight.passed, "{tight}");
    Ok(())
}

/// A 4×2 → 3 → 1 `f32` MLP, `y = sum(tanh(x W1 + b1) W2 + b2)²`; returns the graph, `y`, and
/// the batch.
fn f32_mlp() -> Result<(Graph, NodeId, Tensor)> {
    let g = Graph::new();
    let x = g.input("x", [4, 2], DType::F32)?;
    let w1 = Tensor::from_vec(vec![0.3f32, -0.7, 1.1, 0.2, -0.4, 0.9], [2, 3])?;
    let w1 = g.param("w1", w1)?;
    let b1 = g.param("b1", Tensor::from_vec(vec![0.1f32, -0.2, 0.05], [3])?)?;
    let w2 = g.param("w2", Tensor::from_vec(vec![0.5f32, -1.2, 0.8], [3, 1])?)?;
    let b2 = g.param("b2", Tensor::from_vec(vec![0.3f32], [1])?)?;
    let out = (x.matmul(w1) + b1).tanh().matmul(w2) + b2;
    let y = out.square().sum_all().id();
    let batch = Tensor::from_vec(vec![0.5f32, -1.0, 1.5, 2.0, -0.25, 0.75, 0.0, 1.0], [4, 2])?;
    Ok((g, y, batch))
}

#[test]
fn f32_mlp_passes_checked_in_f64() -> Result<()> {
    let (g, y, batch) = f32_mlp()?;
    let wrt: Vec<NodeId> = ["x", "w1", "b1", "w2", "b2"]
        .iter()
        .map(|name| g.node(name).map(|v| v.id()))
        .collect::<adnet_graph::Result<_>>()?;
    let report = check_grad(&g, y, &wrt, &[("x", &batch)], &CheckOptions::default())?;
    assert!(report.passed, "{report}");
    assert_eq!(report.checked, 8 + 6 + 3 + 3 + 1);
    // f32 differences with h = 1e-6 would be off by about ε_f32/h ≈ 0.1; these agree to
    // f64 accuracy, so the check ran in f64
    assert!(report.max_abs_error < 1e-7, "{report}");
    let matrix = report.worst.iter().find(|e| e.index.len() == 2);
    assert!(
        matrix.is_some(),
        "matrix entries carry a two-part index: {report}"
    );

    let second = CheckOptions::default()
        .with_second_order(true)
        .with_fast_mode(true);
    let report = check_grad(&g, y, &wrt, &[("x", &batch)], &second)?;
    assert!(report.passed, "{report}");
    assert_eq!(report.checked, 1 + 21);
    Ok(())
}

#[test]
fn users_graph_and_parameters_are_unchanged() -> Result<()> {
    let (g, y, batch) = f32_mlp()?;
    let params = g.params();
    let before: Vec<Tensor> = params
        .iter()
        .map(|&p| g.value(p))
        .collect::<adnet_graph::Result<_>>()?;
    let len = g.len();
    let options = CheckOptions::default().with_second_order(true);
    let report = check_grad(&g, y, &params, &[("x", &batch)], &options)?;
    assert!(report.passed, "{report}");
    let after: Vec<Tensor> = params
        .iter()
        .map(|&p| g.value(p))
        .collect::<adnet_graph::Result<_>>()?;
    assert_eq!(before, after);
    assert!(after.iter().all(|t| t.dtype() == DType::F32));
    assert_eq!(
        g.len(),
        len,
        "no gradient nodes were added to the user's graph"
    );

    let (g, o) = lecture_network()?;
    let len = g.len();
    let alpha = g.node("alpha")?.id();
    let report = check_grad(
        &g,
        o,
        &[alpha],
        &[("x", &Tensor::scalar(1.0)), ("y", &Tensor::scalar(0.5))],
        &options,
    )?;
    assert!(report.passed, "{report}");
    assert_eq!(g.value(alpha)?.to_scalar()?, 0.8);
    assert_eq!(g.len(), len);
    Ok(())
}

/// `y = x²` elementwise, with a deliberately wrong derivative rule: `x̄ = ȳ·4x`, twice the
/// right `ȳ·2x`.
#[derive(Debug)]
struct WrongSquare;

impl Op for WrongSquare {
    fn name(&self) -> &str {
        "wrong_square"
    }
    fn infer(&self, inputs: &[&TensorSpec]) -> adnet_graph::Result<TensorSpec> {
        same_spec(self, inputs, 1)
    }
    fn forward(&self, x: &[&Tensor], y: &mut Tensor) -> adnet_graph::Result<()> {
        Ok(kernels::map_f64(x[0], &|v| v * v, y)?)
    }
    fn vjp(
        &self,
        g: &Graph,
        x: &[NodeId],
        _y: NodeId,
        y_bar: NodeId,
    ) -> adnet_graph::Result<InputGrads> {
        let four = g.scalar_of(4.0, g.spec(x[0])?.dtype);
        let dy_dx = g.mul(x[0], four)?;
        Ok(InputGrads::one(g.mul(y_bar, dy_dx)?))
    }
}

#[test]
fn wrong_custom_vjp_fails_and_the_report_names_it() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let w = g.param("w", Tensor::from_vec(vec![0.5, -1.5, 2.0], [3])?)?;
    let scaled = g.apply(WrongSquare, [w])?;
    let y = (scaled * x).sum_all();
    let options = CheckOptions::default().with_worst(2);
    let report = check_grad(&g, y, &[x, w], &[("x", &Tensor::scalar(3.0))], &options)?;
    assert!(!report.passed, "{report}");
    assert_eq!((report.checked, report.failed), (4, 3)); // x's own derivative is right
    assert_eq!(report.worst.len(), 2);
    let worst = &report.worst[0];
    assert_eq!(worst.wrt, "w");
    assert!(!worst.passed);
    // ∂y/∂wᵢ = 2·wᵢ·x; the wrong rule gives 4·wᵢ·x
    let i = worst.index[0];
    let w_i = [0.5, -1.5, 2.0][i];
    assert!((worst.numeric - 2.0 * w_i * 3.0).abs() < 1e-6, "{report}");
    assert!((worst.analytic - 4.0 * w_i * 3.0).abs() < 1e-12, "{report}");
    let text = report.to_string();
    assert!(text.contains(&format!("w[{i}]")), "{text}");
    assert!(text.contains(&format!("{:.6e}", worst.analytic)), "{text}");
    assert!(text.contains(&format!("{:.6e}", worst.numeric)), "{text}");
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.starts_with("FAIL: 3 of 4")),
        "{text}"
    );

    // fast mode catches it too, from a single directional derivative
    let fast = check_grad(
        &g,
        y,
        &[x, w],
        &[("x", &Tensor::scalar(3.0))],
        &CheckOptions::default().with_fast_mode(true),
    )?;
    assert!(!fast.passed, "{fast}");
    Ok(())
}

/// `f(x) = x²` whose derivative is off by the constant `c`.
fn square_off_by(c: f64) -> ScalarFunction {
    ScalarFunction::new("square", |x: f64| x * x)
        .with_derivative(ScalarFunction::new("square'", move |x: f64| 2.0 * x + c))
}

fn check_square(c: f64, options: &CheckOptions) -> Result<GradCheck> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let y = g.map(x, &square_off_by(c))?;
    check_grad(&g, y, &[x], &[("x", &Tensor::scalar(1.0))], options)
}

#[test]
fn tolerance_is_atol_plus_rtol_times_the_numeric_value() -> Result<()> {
    // numeric 2 (central differences are exact on a quadratic, up to ~1e-10 of rounding):
    // allowed error 1e-5 + 1e-3·2 = 2.01e-3
    let defaults = CheckOptions::default();
    let inside = check_square(2.00e-3, &defaults)?;
    assert!(inside.passed, "{inside}");
    assert!((inside.worst[0].tolerance - 2.01e-3).abs() < 1e-12);
    let outside = check_square(2.02e-3, &defaults)?;
    assert!(!outside.passed, "{outside}");
    assert!((outside.worst[0].abs_error - 2.02e-3).abs() < 1e-8);
    assert!((outside.worst[0].rel_error - 1.01e-3).abs() < 1e-8);

    // rtol 0: atol alone
    let atol_only = CheckOptions::default().with_rtol(0.0).with_atol(1e-4);
    assert!(check_square(0.9e-4, &atol_only)?.passed);
    assert!(!check_square(1.1e-4, &atol_only)?.passed);
    // atol 0: rtol·|numeric| alone
    let rtol_only = CheckOptions::default().with_atol(0.0).with_rtol(1e-2);
    assert!(check_square(1.9e-2, &rtol_only)?.passed);
    assert!(!check_square(2.1e-2, &rtol_only)?.passed);
    Ok(())
}

/// `sin` with the right first derivative (`cos`) and a wrong second one (`+sin`).
fn sin_with_wrong_second_derivative() -> ScalarFunction {
    ScalarFunction::new("my_sin", f64::sin).with_derivative(
        ScalarFunction::new("my_cos", f64::cos)
            .with_derivative(ScalarFunction::new("my_wrong_sin", f64::sin)),
    )
}

#[test]
fn second_order_mode_catches_a_wrong_second_derivative() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let w = g.scalar_param("w", 0.7)?;
    let y = g.map(w * x, &sin_with_wrong_second_derivative())?;
    let at = [("x", &Tensor::scalar(1.3))];

    let first = check_grad(&g, y, &[x, w], &at, &CheckOptions::default())?;
    assert!(first.passed, "the first derivative is right: {first}");

    let second = check_grad(
        &g,
        y,
        &[x, w],
        &at,
        &CheckOptions::default().with_second_order(true),
    )?;
    assert!(!second.passed, "{second}");
    let worst = &second.worst[0];
    assert_eq!(worst.order, 2);
    assert!(worst.wrt2.is_some() && worst.index2.is_some());
    assert!(second.worst.iter().all(|e| e.order == 2 || e.passed));

    let fast = check_grad(
        &g,
        y,
        &[x, w],
        &at,
        &CheckOptions::default()
            .with_second_order(true)
            .with_fast_mode(true),
    )?;
    assert!(!fast.passed, "{fast}");
    assert_eq!(fast.worst[0].order, 2);
    assert_eq!(fast.worst[0].wrt2.as_deref(), Some("u"));
    Ok(())
}

#[test]
fn rejected_calls_say_why() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [2], DType::F64)?;
    let w = g.scalar_param("w", 2.0)?;
    let y = x * w;
    let at = Tensor::from_vec(vec![1.0, 2.0], [2])?;
    let options = CheckOptions::default();

    let err = check_grad(&g, y, &[w], &[("x", &at)], &options).unwrap_err();
    assert!(matches!(err, AutodiffError::NotScalar { node, .. } if node == y.id()));

    let s = y.sum_all();
    let err = check_grad(&g, s, &[y], &[("x", &at)], &options).unwrap_err();
    assert!(matches!(
        err,
        AutodiffError::Graph(GraphError::WrongKind { node, .. }) if node == y.id()
    ));

    let err = check_grad(&g, s, &[w], &[], &options).unwrap_err();
    assert!(matches!(
        err,
        AutodiffError::Graph(GraphError::MissingInput { node, .. }) if node == x.id()
    ));
    let err = check_grad(&g, s, &[x], &[("nope", &at)], &options).unwrap_err();
    assert_eq!(
        err,
        AutodiffError::Graph(GraphError::UnknownName("nope".into()))
    );

    // a second derivative that was never given is an error, not a silent zero
    let h = Graph::new();
    let z = h.scalar_input("z")?;
    let f = ScalarFunction::new("cube", |v: f64| v * v * v)
        .with_derivative(ScalarFunction::new("cube'", |v: f64| 3.0 * v * v));
    let out = h.map(z, &f)?;
    let at = [("z", &Tensor::scalar(2.0))];
    assert!(check_grad(&h, out, &[z], &at, &options)?.passed);
    let err = check_grad(&h, out, &[z], &at, &options.with_second_order(true)).unwrap_err();
    assert!(
        matches!(err, AutodiffError::NoDerivative { order: 2, .. }),
        "{err}"
    );
    Ok(())
}

#[test]
fn nan_values_fail_the_check() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let y = x.ln();
    let report = check_grad(
        &g,
        y,
        &[x],
        &[("x", &Tensor::scalar(-1.0))],
        &CheckOptions::default(),
    )?;
    assert!(!report.passed, "{report}");
    assert!(report.max_abs_error.is_nan());
    Ok(())
}
