//! Derivatives of whole networks against hand-derived closed forms, identities that must hold
//! whatever the network, and the structural promises of `grad` (fan-out, depth, zeros, errors).

use adnet_autodiff::{grad, hessian, hvp, jacobian, jvp, vjp, AutodiffError, Result};
use adnet_graph::ops::ScalarFunction;
use adnet_graph::random::RandomDagConfig;
use adnet_graph::testing::{build_dag, dag_config};
use adnet_graph::{networks, Graph, NodeId, NodeKind};
use adnet_tensor::{DType, Shape, Tensor};
use proptest::prelude::*;

const TOL: f64 = 1e-12;

fn close(a: f64, e: f64, tol: f64) -> bool {
    (a - e).abs() <= tol * e.abs().max(1.0)
}

/// Evaluates several scalar nodes at the given inputs with one plan.
fn eval_all(g: &Graph, nodes: &[NodeId], at: &[(&str, f64)]) -> Result<Vec<f64>> {
    let mut plan = g.compile(nodes.iter().copied())?;
    for &(name, value) in at {
        plan.set_scalar(g.node(name)?, value)?;
    }
    plan.run(g)?;
    Ok(nodes
        .iter()
        .map(|&n| plan.scalar(n))
        .collect::<adnet_graph::Result<_>>()?)
}

#[test]
fn first_lecture_network_matches_hand_derivation() -> Result<()> {
    // u = αx + e^y, v = ln(βx + y), o = u² + v³/γ
    let g = Graph::new();
    let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
    let alpha = g.scalar_param("alpha", 0.8)?;
    let beta = g.scalar_param("beta", 1.2)?;
    let gamma = g.scalar_param("gamma", 2.0)?;
    let u = alpha * x + y.exp();
    let v = (beta * x + y).ln();
    let o = u.square() + v.powf(3.0) / gamma;
    let wrt = [x, y, alpha, beta, gamma];
    let d: Vec<NodeId> = grad(&g, o, &wrt)?.iter().map(|v| v.id()).collect();
    for (xv, yv) in [(1.0, 0.5), (2.0, -0.3), (0.4, 1.1)] {
        let got = eval_all(&g, &d, &[("x", xv), ("y", yv)])?;
        let (a, b, c) = (0.8, 1.2, 2.0);
        let (uu, s) = (a * xv + f64::exp(yv), b * xv + yv);
        let vv = s.ln();
        let expected = [
            2.0 * uu * a + 3.0 * vv * vv / c * b / s,
            2.0 * uu * yv.exp() + 3.0 * vv * vv / c / s,
            2.0 * uu * xv,
            3.0 * vv * vv / c * xv / s,
            -vv.powi(3) / (c * c),
        ];
        for (k, (g_k, e_k)) in got.iter().zip(expected).enumerate() {
            assert!(
                close(*g_k, e_k, TOL),
                "∂o/∂{k} at ({xv}, {yv}): {g_k} vs {e_k}"
            );
        }
    }
    Ok(())
}

#[test]
fn second_lecture_network_matches_hand_derivation() -> Result<()> {
    // p = αx + e^y, q = ln(βx + y), u = (p + q)/γ, v = pq, o = u ln v + v ln u; the
    // gradient derived by hand is `networks::lecture_gradient`
    let g = Graph::new();
    let net = networks::lecture(&g)?;
    let d: Vec<NodeId> = grad(&g, net.o, &net.leaves())?
        .iter()
        .map(|v| v.id())
        .collect();
    let (xv, yv) = (1.0, 0.5);
    let (_, expected) = networks::lecture_gradient(xv, yv, networks::LECTURE_PARAMS);
    let got = eval_all(&g, &d, &[("x", xv), ("y", yv)])?;
    for (k, (g_k, e_k)) in got.iter().zip(expected).enumerate() {
        assert!(close(*g_k, e_k, TOL), "∂o/∂{k}: {g_k} vs {e_k}");
    }
    Ok(())
}

#[test]
fn lecture_exercises_hold() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let y = x.sigmoid();
    let dy = grad(&g, y, &[x])?[0];
    let t = (x / 2.0).tanh();
    let dt = grad(&g, t, &[x])?[0];
    for xv in [-3.0, -0.5, 0.0, 0.7, 4.0] {
        let [y, dy, t, dt] = eval_all(&g, &[y.id(), dy.id(), t.id(), dt.id()], &[("x", xv)])?[..]
        else {
            unreachable!("four outputs")
        };
        assert!(close(dy, y * (1.0 - y), TOL), "sigmoid' = y(1 − y)");
        assert!(close(t, 2.0 * y - 1.0, TOL), "tanh(x/2) = 2 sigmoid(x) − 1");
        assert!(
            close(dt, (1.0 - t * t) / 2.0, TOL),
            "d tanh(x/2)/dx = (1 − t²)/2"
        );
    }
    Ok(())
}

#[test]
fn fan_out_accumulates_every_use() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let mut total = x.sin();
    for k in 1..100 {
        total = total + x * (k as f64);
    }
    let dx = grad(&g, total, &[x])?[0];
    let expected = 0.3f64.cos() + (1..100).sum::<i32>() as f64;
    assert!(close(g.eval(dx, &[("x", 0.3)])?, expected, TOL));
    Ok(())
}

#[test]
fn a_chain_ten_thousand_deep_differentiates_without_recursion() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let mut y = x;
    for _ in 0..10_000 {
        y = (y * 0.5).sin() + y * 0.5;
    }
    let dx = grad(&g, y, &[x])?[0];
    // forward-mode product of the local derivatives, by hand
    let (mut value, mut derivative) = (0.2f64, 1.0f64);
    for _ in 0..10_000 {
        derivative *= 0.5 * (value * 0.5).cos() + 0.5;
        value = (value * 0.5).sin() + value * 0.5;
    }
    assert!(close(g.eval(dx, &[("x", 0.2)])?, derivative, 1e-9));
    Ok(())
}

#[test]
fn unreached_wrt_gets_zeros_of_its_shape() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let w = g.param("w", Tensor::ones([2, 3], DType::F32))?;
    let y = x.exp();
    let d = grad(&g, y, &[w])?;
    assert_eq!(d[0].shape(), Shape::from([2, 3]));
    assert_eq!(
        g.eval_tensor(d[0], &[("x", &Tensor::scalar(1.0))])?,
        Tensor::zeros([2, 3], DType::F32)
    );
    Ok(())
}

#[test]
fn grad_of_a_non_scalar_needs_a_cotangent() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [3], DType::F64)?;
    let y = x.exp();
    assert!(matches!(
        grad(&g, y, &[x]),
        Err(AutodiffError::NotScalar { .. })
    ));
    let u = g.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0], [3])?);
    let xb = vjp(&g, y, &[x], u)?[0];
    let value = g.eval_tensor(xb, &[("x", &Tensor::zeros([3], DType::F64))])?;
    assert_eq!(value.to_f64_vec(), vec![1.0, 2.0, 3.0]);
    let wrong = g.constant(Tensor::ones([2], DType::F64));
    assert!(matches!(
        vjp(&g, y, &[x], wrong),
        Err(AutodiffError::SpecMismatch { .. })
    ));
    Ok(())
}

#[test]
fn gradient_of_exp_is_the_exp_node_itself() -> Result<()> {
    // x̄ = ȳ·y with ȳ = 1: simplification removes the multiplication by one
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let y = x.exp();
    assert_eq!(grad(&g, y, &[x])?[0].id(), y.id());
    // and x + 0 folds too: d(2x)/dx is a constant node, no add of zeros in the plan
    let z = x * 2.0 + x.sin();
    let dz = grad(&g, z, &[x])?[0];
    let plan = g.compile([dz])?;
    assert!(plan.stats().instructions <= 2, "{:?}", plan.stats()); // cos(x) and one add
    Ok(())
}

#[test]
fn custom_function_differentiates_to_the_order_given_then_errors() -> Result<()> {
    let f = ScalarFunction::new("cube", |x: f64| x * x * x).with_derivative(
        ScalarFunction::new("3x²", |x: f64| 3.0 * x * x)
            .with_derivative(ScalarFunction::new("6x", |x: f64| 6.0 * x)),
    );
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let y = g.map(x, &f)?;
    let d1 = grad(&g, y, &[x])?[0];
    let d2 = grad(&g, d1, &[x])?[0];
    assert_eq!(g.eval(d1, &[("x", 2.0)])?, 12.0);
    assert_eq!(g.eval(d2, &[("x", 2.0)])?, 12.0);
    match grad(&g, d2, &[x]) {
        Err(AutodiffError::NoDerivative { op, order, node }) => {
            assert_eq!((op.as_str(), order), ("cube", 3));
            let NodeKind::Op { op, .. } = g.kind(node)? else {
                unreachable!("an op node")
            };
            assert_eq!(op.name(), "6x");
        }
        other => panic!("expected a missing third derivative, got {other:?}"),
    }
    Ok(())
}

#[test]
fn hessian_of_the_lecture_network_is_symmetric_and_matches_hvp() -> Result<()> {
    let g = Graph::new();
    let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
    let alpha = g.scalar_param("alpha", 0.8)?;
    let p = alpha * x + y.exp();
    let q = (1.2 * x + y).ln();
    let o = (p + q) / 2.0 * (p * q).ln();
    let wrt = [x, y, alpha];
    let h = hessian(&g, o, &wrt)?;
    let v: Vec<_> = [0.3, -1.0, 2.0].iter().map(|&c| g.scalar(c)).collect();
    let hv = hvp(&g, o, &wrt, &v)?;
    let at = [("x", &Tensor::scalar(1.0)), ("y", &Tensor::scalar(0.5))];
    let h = g.eval_tensor(h, &at)?.to_f64_vec();
    for i in 0..3 {
        for j in 0..3 {
            assert!(
                close(h[3 * i + j], h[3 * j + i], 1e-12),
                "H[{i}][{j}] != H[{j}][{i}]"
            );
        }
        let row: f64 = (0..3).map(|j| h[3 * i + j] * [0.3, -1.0, 2.0][j]).sum();
        assert!(close(g.eval_tensor(hv[i], &at)?.to_scalar()?, row, 1e-12));
    }
    Ok(())
}

#[test]
fn jacobian_of_a_matrix_product_is_the_kronecker_structure() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [2, 3], DType::F64)?;
    let w = g.constant(Tensor::from_vec((0..12).map(f64::from).collect(), [3, 4])?);
    let y = x.matmul(w).tanh();
    let j = jacobian(&g, y, x)?;
    assert_eq!(j.shape(), Shape::from([2, 4, 2, 3]));
    let xv = Tensor::from_vec(vec![0.1, -0.2, 0.05, 0.3, 0.0, -0.1], [2, 3])?;
    let jv = g.eval_tensor(j, &[("x", &xv)])?;
    let yv = g.eval_tensor(y, &[("x", &xv)])?;
    for (r, c, r2, k) in (0..2).flat_map(|r| {
        (0..4).flat_map(move |c| (0..2).flat_map(move |r2| (0..3).map(move |k| (r, c, r2, k))))
    }) {
        let dy = 1.0 - yv.get(&[r, c])?.powi(2);
        let expected = if r == r2 {
            dy * (k * 4 + c) as f64
        } else {
            0.0
        };
        assert!(close(jv.get(&[r, c, r2, k])?, expected, 1e-12));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// ⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩ on random DAGs: forward mode (the transposed VJP) and reverse mode
    /// agree, for scalar and broadcasting tensor graphs.
    #[test]
    fn forward_and_reverse_modes_are_transposes(config in dag_config(40), seed in any::<u64>()) {
        use adnet_tensor::rand::{rngs::StdRng, SeedableRng};
        let g = Graph::new();
        let (dag, inputs) = build_dag(&g, &config);
        let leaves = &dag.leaves;
        let y = dag.nodes[dag.nodes.len() - 1];
        let y_spec = g.spec(y).unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        let v: Vec<NodeId> = leaves.iter().map(|&l| {
            let s = g.spec(l).unwrap();
            g.constant(Tensor::uniform(s.shape, -1.0, 1.0, s.dtype, &mut rng).unwrap()).id()
        }).collect();
        let w = g.constant(Tensor::uniform(y_spec.shape.clone(), -1.0, 1.0, y_spec.dtype, &mut rng).unwrap());
        let jv = jvp(&g, y, leaves, &v).unwrap();
        let jtw = vjp(&g, y, leaves, w).unwrap();
        let lhs = jv.try_mul(w).unwrap().sum_all();
        let mut rhs: Option<adnet_graph::Var<'_>> = None;
        for (&bar, &vi) in jtw.iter().zip(&v) {
            let term = bar.try_mul(vi).unwrap().sum_all();
            rhs = Some(match rhs { None => term, Some(r) => r.try_add(term).unwrap() });
        }
        let rhs = rhs.unwrap();
        let mut plan = g.compile([lhs, rhs]).unwrap();
        for (&leaf, value) in &inputs {
            plan.set_input(leaf, value).unwrap();
        }
        plan.run(&g).unwrap();
        let (a, b) = (plan.scalar(lhs).unwrap(), plan.scalar(rhs).unwrap());
        let tol = if config.dtype == DType::F32 { 1e-4 } else { 1e-10 };
        prop_assert!(close(a, b, tol), "⟨Jv, w⟩ = {a}, ⟨v, Jᵀw⟩ = {b}");
    }

    /// The gradient of a sum is the sum of the gradients.
    #[test]
    fn grad_is_linear(seed in any::<u64>()) {
        let g = Graph::new();
        let (dag, inputs) = build_dag(&g, &RandomDagConfig::w2(60, seed));
        let (a, b) = (dag.nodes[50], dag.nodes[59]);
        let sum = g.add(a, b).unwrap();
        let leaves = &dag.leaves;
        let ga = grad(&g, a, leaves).unwrap();
        let gb = grad(&g, b, leaves).unwrap();
        let gs = grad(&g, sum, leaves).unwrap();
        let outputs: Vec<NodeId> = ga.iter().chain(&gb).chain(&gs).map(|v| v.id()).collect();
        let mut plan = g.compile(outputs.iter().copied()).unwrap();
        for (&leaf, value) in &inputs {
            plan.set_input(leaf, value).unwrap();
        }
        plan.run(&g).unwrap();
        let n = leaves.len();
        for k in 0..n {
            let (x, y, s) = (plan.output_at(k).to_scalar().unwrap(), plan.output_at(n + k).to_scalar().unwrap(), plan.output_at(2 * n + k).to_scalar().unwrap());
            prop_assert!(close(s, x + y, 1e-12), "leaf {k}: {s} vs {x} + {y}");
        }
    }
}

/// A batched 1-h-1 tanh network's residuals `W2ᵀ tanh(W1 x + b1) + b2 − t` for `batch` samples,
/// with its parameters, as the least-squares methods see it.
fn residual_network(g: &Graph, batch: usize, hidden: usize) -> Result<(NodeId, Vec<NodeId>)> {
    let values = |n: usize, seed: f64| -> Vec<f64> {
        (0..n).map(|i| ((i as f64 + seed) * 0.7).sin()).collect()
    };
    let x = g.constant(Tensor::from_vec(values(batch, 0.3), [batch, 1])?);
    let t = g.constant(Tensor::from_vec(values(batch, 1.9), [batch, 1])?);
    let w1 = g.param("w1", Tensor::from_vec(values(hidden, 2.2), [1, hidden])?)?;
    let b1 = g.param("b1", Tensor::from_vec(values(hidden, 3.1), [hidden])?)?;
    let w2 = g.param("w2", Tensor::from_vec(values(hidden, 4.4), [hidden, 1])?)?;
    let b2 = g.param("b2", Tensor::from_vec(values(1, 5.5), [1])?)?;
    let h = (x.try_matmul(w1)? + b1).tanh();
    let r = h.try_matmul(w2)? + b2 - t;
    Ok((r.id(), vec![w1.id(), b1.id(), w2.id(), b2.id()]))
}

#[test]
fn flat_jacobian_matches_central_differences_in_both_modes() -> Result<()> {
    // 3 hidden units: 10 parameters; 4 samples take the reverse branch, 25 the forward one
    for batch in [4, 25] {
        let g = Graph::new();
        let (r, params) = residual_network(&g, batch, 3)?;
        let j = adnet_autodiff::jacobian_flat(&g, r, &params)?;
        assert_eq!(j.shape(), Shape::from([batch, 10]));
        let jac = g.eval_tensor(j, &[])?.to_f64_vec();
        let mut column = 0;
        for &p in &params {
            let base = g.value(p)?;
            for k in 0..base.shape().numel() {
                let h = 1e-6;
                let mut shifted = base.to_f64_vec();
                shifted[k] += h;
                g.set_param(p, &Tensor::from_vec(shifted.clone(), base.shape().clone())?)?;
                let up = g.eval_tensor(r, &[])?.to_f64_vec();
                shifted[k] -= 2.0 * h;
                g.set_param(p, &Tensor::from_vec(shifted, base.shape().clone())?)?;
                let down = g.eval_tensor(r, &[])?.to_f64_vec();
                g.set_param(p, &base)?;
                for i in 0..batch {
                    let numeric = (up[i] - down[i]) / (2.0 * h);
                    let exact = jac[i * 10 + column];
                    assert!(
                        close(exact, numeric, 1e-7),
                        "batch {batch}: J[{i}, {column}] = {exact}, differences give {numeric}"
                    );
                }
                column += 1;
            }
        }
    }
    Ok(())
}
