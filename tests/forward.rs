//! Whole networks through the facade, against plain Rust computing the same thing.

use adnet::prelude::*;
use adnet::tensor::rand::{rngs::StdRng, SeedableRng};

fn lecture_closed_form(x: f64, y: f64) -> f64 {
    adnet::graph::networks::lecture_value(x, y, adnet::graph::networks::LECTURE_PARAMS)
}

#[test]
fn lecture_network_equals_its_formula_on_a_grid() -> Result<(), GraphError> {
    let g = Graph::new();
    let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
    let alpha = g.scalar_param("alpha", 0.8)?;
    let beta = g.scalar_param("beta", 1.2)?;
    let gamma = g.scalar_param("gamma", 2.0)?;
    let p = alpha * x + y.exp();
    let q = (beta * x + y).ln();
    let u = (p + q) / gamma;
    let v = p * q;
    let o = u * v.ln() + v * u.ln();
    let mut plan = g.compile([o])?;
    for i in 0..10 {
        for j in 0..10 {
            // 1.2x + y > 1 keeps q, u and v positive, so every logarithm is defined
            let (xv, yv) = (1.0 + 0.3 * i as f64, 0.1 + 0.2 * j as f64);
            plan.set_scalar(x, xv)?;
            plan.set_scalar(y, yv)?;
            plan.run(&g)?;
            let expected = lecture_closed_form(xv, yv);
            assert!(expected.is_finite());
            assert!((plan.scalar(o)? - expected).abs() <= 1e-12 * expected.abs().max(1.0));
        }
    }
    Ok(())
}

/// `tanh(x W1 + b1) W2 + b2` by plain loops in f64.
fn mlp_by_hand(
    x: &[f64],
    w1: &[f64],
    b1: &[f64],
    w2: &[f64],
    b2: &[f64],
    dims: (usize, usize, usize, usize),
) -> Vec<f64> {
    let (batch, inputs, hidden, outputs) = dims;
    let mut h = vec![0.0; batch * hidden];
    for r in 0..batch {
        for j in 0..hidden {
            let mut s = b1[j];
            for k in 0..inputs {
                s += x[r * inputs + k] * w1[k * hidden + j];
            }
            h[r * hidden + j] = s.tanh();
        }
    }
    let mut y = vec![0.0; batch * outputs];
    for r in 0..batch {
        for j in 0..outputs {
            let mut s = b2[j];
            for k in 0..hidden {
                s += h[r * hidden + k] * w2[k * outputs + j];
            }
            y[r * outputs + j] = s;
        }
    }
    y
}

#[test]
fn mlp_forward_matches_plain_loops_in_both_dtypes() -> Result<(), Box<dyn std::error::Error>> {
    let dims = (7, 5, 9, 3);
    let mut rng = StdRng::seed_from_u64(11);
    let x = Tensor::normal([dims.0, dims.1], 0.0, 1.0, DType::F64, &mut rng)?;
    let w1 = Tensor::normal([dims.1, dims.2], 0.0, 0.5, DType::F64, &mut rng)?;
    let b1 = Tensor::normal([dims.2], 0.0, 0.5, DType::F64, &mut rng)?;
    let w2 = Tensor::normal([dims.2, dims.3], 0.0, 0.5, DType::F64, &mut rng)?;
    let b2 = Tensor::normal([dims.3], 0.0, 0.5, DType::F64, &mut rng)?;
    let expected = mlp_by_hand(
        &x.to_f64_vec(),
        &w1.to_f64_vec(),
        &b1.to_f64_vec(),
        &w2.to_f64_vec(),
        &b2.to_f64_vec(),
        dims,
    );
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
        let g = Graph::new();
        let input = g.input("x", [dims.0, dims.1], dtype)?;
        let l1 = g.param("w1", w1.to_dtype(dtype))?;
        let c1 = g.param("b1", b1.to_dtype(dtype))?;
        let l2 = g.param("w2", w2.to_dtype(dtype))?;
        let c2 = g.param("b2", b2.to_dtype(dtype))?;
        let y = (input.matmul(l1) + c1).tanh().matmul(l2) + c2;
        let mut plan = g.compile([y])?;
        plan.set_input(input, &x.to_dtype(dtype))?;
        plan.run(&g)?;
        let got = plan.output(y)?;
        assert_eq!(got.dims(), &[dims.0, dims.3]);
        for (a, e) in got.to_f64_vec().iter().zip(&expected) {
            assert!(
                (a - e).abs() <= tol * e.abs().max(1.0),
                "{dtype}: {a} vs {e}"
            );
        }
    }
    Ok(())
}
