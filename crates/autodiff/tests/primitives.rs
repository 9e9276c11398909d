//! Every primitive op's first and second derivatives against central finite differences, through
//! reverse mode (`grad`, `hvp`, `hessian`) and forward mode (`jvp`), over each op's domain and
//! with broadcasting operands.
//!
//! `adnet-graph`'s op tests check each rule alone, at order 1 along one direction. Here each op
//! is differentiated the way users do it, twice. For `out = op(x…)` on `f64` parameter leaves a
//! check builds the scalar `y = Σ w⊙out + Σ c⊙out²`, with fixed random weights `w` and `c` (so
//! every output element matters), and compares
//! - `grad(y)` with central differences of `y` in every leaf element;
//! - `jvp(out)` along random tangents with a central difference of `out` along them;
//! - `hvp(y)` along a random direction, and the dense `hessian(y)` for up to [`DENSE_MAX`]
//!   elements, with central differences of the compiled analytic gradient; the Hessian must be
//!   symmetric (checked through two `hvp`s above [`DENSE_MAX`]).
//!
//! The `Σ c⊙out²` term makes the cotangent that reaches the op depend on `x`, so the second
//! order differentiates the op's own rule: for a linear op (`reshape`, `slice`, `sum`) `Σ w⊙out`
//! alone has a zero Hessian that never looks at the rule's derivative.

use std::sync::Arc;

use adnet_autodiff::{grad, hessian, hvp, jvp};
use adnet_graph::finite_diff::{self, Step};
use adnet_graph::ops::{
    Abs, Acos, Add, ArgMax, Asin, Atan, Axes, BroadcastTo, Concat, Cos, Cosh, Div, Elu, Equal, Exp,
    Greater, GreaterEqual, LeakyRelu, Less, LessEqual, Ln, LogSoftmax, LogSumExp, MatMul, Max,
    Maximum, Mean, Min, Minimum, Mul, Neg, NotEqual, Pad, Permute, Pow, Recip, Relu, Reshape,
    ScalarFunction, Sigmoid, Sign, Sin, Sinh, Slice, Softmax, Softplus, Softsign, Sqrt, Square,
    Sub, Sum, SumTo, Tan, Tanh, Transpose, Where,
};
use adnet_graph::{Graph, Op, Var};
use adnet_tensor::rand::{rngs::StdRng, Rng, SeedableRng};
use adnet_tensor::{DType, Shape, Tensor};
use proptest::prelude::*;

/// The first-order central-difference step (gradcheck's) for a coordinate of size 1 or more;
/// smaller coordinates take a proportionally smaller one ([`step_scale`]).
const STEP_1: f64 = finite_diff::DEFAULT_STEP;

/// The step for differencing the analytic gradient (same scaling). The gradient is computed to
/// about `ε` relative, so `h = 1e-5` balances truncation `h²·|g'''|/6` against rounding
/// `ε·|g|/h`, each near 1e-10 relative where the derivatives are of order 1.
const STEP_2: f64 = 1e-5;

/// The smallest step scale: a coordinate `x` takes the step `h·clamp(|x|, 1e-2, 1)`, so at the
/// bottom of `ln`'s and `sqrt`'s domain (`x = 1e-3`) the step is at most `1e-4·x` and the
/// truncation error, which grows like `(h/x)²` there, stays below 1e-8 relative.
const SCALE_FLOOR: f64 = 1e-2;

/// How far apart a derivative and its finite-difference estimate may be, relative to the
/// larger of 1 and the estimate's magnitude (the sum of the magnitudes of its terms where it is
/// a sum), on top of the rounding allowance ([`ROUNDING`]). Over 400 cases of every table the
/// worst difference was 6% of the allowance at order 1 and 3% at order 2 (about 5e-8
/// relative: `tan`, `asin`, `exp` at the ends of their domains); a wrong rule is off by `O(1)`.
const TOLERANCE_1: f64 = 1e-6;

/// As [`TOLERANCE_1`], for the second derivatives (differences of the analytic gradient).
const TOLERANCE_2: f64 = 1e-6;

/// Rounding allowance of a central difference, in units of `ε/h · |f|` for the values `f` it
/// differences (each computed with relative error about `ε`, magnified by the division by
/// `2h`): the same allowance as `adnet_graph::testing::VJP_ROUNDING`.
const ROUNDING: f64 = 16.0;

/// How far apart `H[i][j]` and `H[j][i]` may be, relative to the larger of 1 and their size:
/// they are computed by different products of the same rules, equal up to rounding.
const SYMMETRY_TOLERANCE: f64 = 1e-10;

/// The largest element count whose dense Hessian is built (one `jvp` or `vjp` per element);
/// above it the Hessian is checked through two `hvp`s.
const DENSE_MAX: usize = 12;

/// How far from a kink, pole or tie every drawn value stays (the finite-difference steps are
/// below 1e-5, so no perturbation crosses one).
const GAP: f64 = 1e-3;

/// How many times a case redraws operands that miss its precondition (a tie) before failing.
const REDRAWS: usize = 100;

/// The step scale of a coordinate: `clamp(|x|, SCALE_FLOOR, 1)` (see [`SCALE_FLOOR`]).
fn step_scale(x: f64) -> f64 {
    x.abs().clamp(SCALE_FLOOR, 1.0)
}

/// How a case draws one operand.
#[derive(Debug, Clone)]
enum Draw {
    /// Uniform in `low..high`, redrawn where within `radius` of `center` (a kink or a pole).
    Uniform {
        low: f64,
        high: f64,
        avoid: Option<(f64, f64)>,
    },
    /// A 0/1 mask held fixed: a constant leaf, not differentiated (`where`'s mask).
    Mask,
}

/// One operand of a case: its shape and how its values are drawn.
#[derive(Debug, Clone)]
struct Operand {
    shape: Shape,
    draw: Draw,
}

impl Operand {
    fn uniform(shape: impl Into<Shape>, low: f64, high: f64) -> Operand {
        Operand {
            shape: shape.into(),
            draw: Draw::Uniform {
                low,
                high,
                avoid: None,
            },
        }
    }

    /// Uniform in `low..high`, at least `radius` from `center`.
    fn avoiding(shape: impl Into<Shape>, low: f64, high: f64, center: f64, radius: f64) -> Operand {
        Operand {
            shape: shape.into(),
            draw: Draw::Uniform {
                low,
                high,
                avoid: Some((center, radius)),
            },
        }
    }

    fn mask(shape: impl Into<Shape>) -> Operand {
        Operand {
            shape: shape.into(),
            draw: Draw::Mask,
        }
    }

    fn sample(&self, rng: &mut StdRng) -> Tensor {
        let values: Vec<f64> = (0..self.shape.numel())
            .map(|_| match self.draw {
                Draw::Mask => f64::from(u8::from(rng.random::<bool>())),
                Draw::Uniform { low, high, avoid } => loop {
                    let v = rng.random_range(low..high);
                    match avoid {
                        Some((center, radius)) if (v - center).abs() < radius => {}
                        _ => break v,
                    }
                },
            })
            .collect();
        Tensor::from_f64s(&values, self.shape.clone(), DType::F64).expect("one value per element")
    }
}

/// Builds the op's output node from the case's leaves (in operand order).
type Build = Box<dyn for<'g> Fn(&'g Graph, &[Var<'g>]) -> adnet_graph::Result<Var<'g>>>;

/// A primitive under test: how to build it, its operands, and a precondition on their values.
struct Case {
    name: String,
    operands: Vec<Operand>,
    valid: fn(&[Tensor]) -> bool,
    build: Build,
}

impl Case {
    /// `op` applied to the operands.
    fn op(op: impl Op, operands: Vec<Operand>) -> Case {
        let name = op.label();
        let op: Arc<dyn Op> = Arc::new(op);
        Case {
            name,
            operands,
            valid: |_| true,
            build: Box::new(move |g, x| g.apply_arc(op.clone(), x.iter().copied())),
        }
    }

    /// The output built by a closure (a user function through `Graph::map`).
    fn built(name: &str, operands: Vec<Operand>, build: Build) -> Case {
        Case {
            name: name.to_string(),
            operands,
            valid: |_| true,
            build,
        }
    }

    /// This case with operands redrawn until `valid` holds.
    fn when(mut self, valid: fn(&[Tensor]) -> bool) -> Case {
        self.valid = valid;
        self
    }
}

/// Whether every two elements of the first operand are more than [`GAP`] apart (no tie near,
/// for `reduce_max`, `reduce_min`, `argmax`).
fn distinct(x: &[Tensor]) -> bool {
    let v = x[0].to_f64_vec();
    v.iter()
        .enumerate()
        .all(|(i, a)| v[i + 1..].iter().all(|b| (a - b).abs() > GAP))
}

/// Whether no element of the first operand is within [`GAP`] of an element of the second (no
/// tie near, for `min`, `max` and the comparisons, whatever broadcasting pairs up).
fn apart(x: &[Tensor]) -> bool {
    let b = x[1].to_f64_vec();
    x[0].to_f64_vec()
        .iter()
        .all(|a| b.iter().all(|b| (a - b).abs() > GAP))
}

/// Column `i` of the Jacobian of `f` at `x` by central differences with step `h`, `f` varied
/// in coordinate `i` alone (so that each coordinate takes a step of its own size).
fn partial(
    f: &mut dyn FnMut(&[f64]) -> adnet_graph::Result<Vec<f64>>,
    x: &[f64],
    i: usize,
    h: f64,
) -> adnet_graph::Result<Vec<f64>> {
    let mut point = x.to_vec();
    let mut along = |t: &[f64]| {
        point[i] = t[0];
        f(&point)
    };
    let jacobian = finite_diff::jacobian(&mut along, &[x[i]], Step::Fixed(h))?;
    Ok(jacobian.into_iter().map(|row| row[0]).collect())
}

/// `|got − expected| <= allowed`, or a failure naming the case, the quantity and the operands.
fn expect_close(
    case: &str,
    what: &str,
    got: f64,
    expected: f64,
    allowed: f64,
    operands: &[Tensor],
) -> Result<(), TestCaseError> {
    let values: Vec<Vec<f64>> = operands.iter().map(Tensor::to_f64_vec).collect();
    prop_assert!(
        (got - expected).abs() <= allowed,
        "{case}: {what} is {got:e}, finite differences give {expected:e} (difference {:e}, \
         allowed {allowed:e}) at {values:?}",
        (got - expected).abs()
    );
    Ok(())
}

/// Draws the case's operands from `seed` (redrawing those that miss its precondition) and
/// checks its first and second derivatives (see the module documentation).
fn check_case(case: &Case, seed: u64) -> Result<(), TestCaseError> {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..REDRAWS {
        let values: Vec<Tensor> = case.operands.iter().map(|o| o.sample(&mut rng)).collect();
        if (case.valid)(&values) {
            return check_derivatives(case, &values, rng.random());
        }
    }
    Err(TestCaseError::fail(format!(
        "{}: no operands met the precondition in {REDRAWS} draws",
        case.name
    )))
}

/// Flattens the values of several nodes after a run, in order.
fn flat_outputs(plan: &adnet_graph::Plan, nodes: &[Var<'_>]) -> adnet_graph::Result<Vec<f64>> {
    let mut values = Vec::new();
    for node in nodes {
        values.extend(plan.output(*node)?.to_f64_vec());
    }
    Ok(values)
}

/// A constant for each parameter, uniform in `[-1, 1]` times the step scale of its
/// coordinate, and the values flattened: a random tangent or direction as large as a
/// coordinate allows (see [`SCALE_FLOOR`]).
fn direction<'g>(
    g: &'g Graph,
    params: &[Var<'g>],
    x: &[f64],
    rng: &mut StdRng,
) -> adnet_graph::Result<(Vec<Var<'g>>, Vec<f64>)> {
    let flat: Vec<f64> = x
        .iter()
        .map(|&xi| rng.random_range(-1.0..1.0) * step_scale(xi))
        .collect();
    let mut nodes = Vec::with_capacity(params.len());
    let mut offset = 0;
    for p in params {
        let shape = p.shape();
        let n = shape.numel();
        nodes.push(g.constant(Tensor::from_f64s(
            &flat[offset..offset + n],
            shape,
            DType::F64,
        )?));
        offset += n;
    }
    Ok((nodes, flat))
}

/// Checks the case's derivatives at `operands` (see the module documentation); `seed` draws the
/// weights `w` and `c`, the tangents and the Hessian directions.
fn check_derivatives(case: &Case, operands: &[Tensor], seed: u64) -> Result<(), TestCaseError> {
    let name = case.name.as_str();
    let g = Graph::new();
    let mut leaves = Vec::with_capacity(operands.len());
    let mut params = Vec::new();
    let mut x0 = Vec::new();
    for (i, (operand, value)) in case.operands.iter().zip(operands).enumerate() {
        leaves.push(match operand.draw {
            Draw::Mask => g.constant(value.clone()),
            Draw::Uniform { .. } => {
                let p = g.param(&format!("x{i}"), value.clone())?;
                params.push(p);
                x0.extend(value.to_f64_vec());
                p
            }
        });
    }
    let n = x0.len();

    let out = (case.build)(&g, &leaves)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let shape = out.shape();
    let w = g.constant(Tensor::uniform(
        shape.clone(),
        -1.0,
        1.0,
        DType::F64,
        &mut rng,
    )?);
    let c = g.constant(Tensor::uniform(shape, 0.0, 0.5, DType::F64, &mut rng)?);
    let terms = out.try_mul(w)?.try_add(out.square().try_mul(c)?)?;
    let y = terms.sum_all();

    // every derivative node first, then the plans
    let gradient = grad(&g, y, &params)?;
    let (tangents, t) = direction(&g, &params, &x0, &mut rng)?;
    let jv = jvp(&g, out, &params, &tangents)?;
    let (r_nodes, r) = direction(&g, &params, &x0, &mut rng)?;
    let hr = hvp(&g, y, &params, &r_nodes)?;
    let (q_nodes, q) = direction(&g, &params, &x0, &mut rng)?;
    let dense = if n <= DENSE_MAX {
        Some(hessian(&g, y, &params)?)
    } else {
        None
    };
    let hq = if dense.is_none() {
        hvp(&g, y, &params, &q_nodes)?
    } else {
        Vec::new()
    };

    let set = |x: &[f64]| -> adnet_graph::Result<()> {
        let mut offset = 0;
        for p in &params {
            let shape = p.shape();
            let size = shape.numel();
            g.set_param(
                *p,
                &Tensor::from_f64s(&x[offset..offset + size], shape, DType::F64)?,
            )?;
            offset += size;
        }
        Ok(())
    };
    let mut forward = g.compile([terms, out])?;
    let mut gradient_plan = g.compile(gradient.iter().copied())?;
    let mut analytic = g.compile(
        std::iter::once(jv)
            .chain(hr.iter().copied())
            .chain(hq.iter().copied())
            .chain(dense),
    )?;
    set(&x0)?;
    forward.run(&g)?;
    let terms0 = forward.output(terms)?.to_f64_vec();
    let out0 = forward.output(out)?.to_f64_vec();
    gradient_plan.run(&g)?;
    let g0 = flat_outputs(&gradient_plan, &gradient)?;
    analytic.run(&g)?;
    let jv0 = analytic.output(jv)?.to_f64_vec();
    let hr0 = flat_outputs(&analytic, &hr)?;
    let hq0 = flat_outputs(&analytic, &hq)?;
    let dense0 = dense
        .map(|h| analytic.output(h).map(Tensor::to_f64_vec))
        .transpose()?;

    let mut f_terms = |x: &[f64]| -> adnet_graph::Result<Vec<f64>> {
        set(x)?;
        forward.run(&g)?;
        Ok(forward.output(terms)?.to_f64_vec())
    };

    // order 1, reverse: ∂y/∂xᵢ = Σₖ ∂termsₖ/∂xᵢ, differencing the terms so that the rounding
    // of the ones xᵢ does not touch (bit-identical on both sides) adds nothing
    for i in 0..n {
        let h = STEP_1 * step_scale(x0[i]);
        let column = partial(&mut f_terms, &x0, i, h)?;
        let expected: f64 = column.iter().sum();
        let magnitude: f64 = column.iter().map(|d| d.abs()).sum();
        let touched: f64 = column
            .iter()
            .zip(&terms0)
            .filter(|(d, _)| **d != 0.0)
            .map(|(_, v)| v.abs())
            .sum();
        let allowed = TOLERANCE_1 * magnitude.max(1.0) + ROUNDING * f64::EPSILON / h * touched;
        expect_close(
            name,
            &format!("grad[{i}]"),
            g0[i],
            expected,
            allowed,
            operands,
        )?;
    }

    // order 1, forward: J·t against the central difference of out along t
    let mut f_out = |x: &[f64]| -> adnet_graph::Result<Vec<f64>> {
        set(x)?;
        forward.run(&g)?;
        Ok(forward.output(out)?.to_f64_vec())
    };
    let expected = finite_diff::directional(&mut f_out, &x0, &t, STEP_1)?;
    prop_assert_eq!(
        jv0.len(),
        expected.len(),
        "{}: jvp has the wrong shape",
        name
    );
    for (k, (got, e)) in jv0.iter().zip(&expected).enumerate() {
        let allowed =
            TOLERANCE_1 * e.abs().max(1.0) + ROUNDING * f64::EPSILON / STEP_1 * out0[k].abs();
        expect_close(name, &format!("jvp[{k}]"), *got, *e, allowed, operands)?;
    }

    // order 2: H·r against the central difference of the compiled gradient along r
    let mut f_grad = |x: &[f64]| -> adnet_graph::Result<Vec<f64>> {
        set(x)?;
        gradient_plan.run(&g)?;
        flat_outputs(&gradient_plan, &gradient)
    };
    let expected = finite_diff::directional(&mut f_grad, &x0, &r, STEP_2)?;
    prop_assert_eq!(hr0.len(), n, "{}: hvp has the wrong size", name);
    for (k, (got, e)) in hr0.iter().zip(&expected).enumerate() {
        let allowed =
            TOLERANCE_2 * e.abs().max(1.0) + ROUNDING * f64::EPSILON / STEP_2 * g0[k].abs();
        expect_close(name, &format!("hvp[{k}]"), *got, *e, allowed, operands)?;
    }

    if let Some(h) = dense0 {
        // the dense Hessian, column by column, and its symmetry
        for i in 0..n {
            let step = STEP_2 * step_scale(x0[i]);
            let column = partial(&mut f_grad, &x0, i, step)?;
            for (k, e) in column.iter().enumerate() {
                let allowed =
                    TOLERANCE_2 * e.abs().max(1.0) + ROUNDING * f64::EPSILON / step * g0[k].abs();
                let what = format!("hessian[{k}][{i}]");
                expect_close(name, &what, h[k * n + i], *e, allowed, operands)?;
            }
            for k in 0..i {
                let (a, b) = (h[k * n + i], h[i * n + k]);
                prop_assert!(
                    (a - b).abs() <= SYMMETRY_TOLERANCE * a.abs().max(b.abs()).max(1.0),
                    "{}: the Hessian is not symmetric: H[{}][{}] = {:e}, H[{}][{}] = {:e}",
                    name,
                    k,
                    i,
                    a,
                    i,
                    k,
                    b
                );
            }
        }
    } else {
        // symmetry through two products: ⟨q, H·r⟩ = ⟨r, H·q⟩
        let q_hr: f64 = q.iter().zip(&hr0).map(|(a, b)| a * b).sum();
        let r_hq: f64 = r.iter().zip(&hq0).map(|(a, b)| a * b).sum();
        let magnitude: f64 = q
            .iter()
            .zip(&hr0)
            .chain(r.iter().zip(&hq0))
            .map(|(a, b)| (a * b).abs())
            .sum();
        prop_assert!(
            (q_hr - r_hq).abs() <= SYMMETRY_TOLERANCE * magnitude.max(1.0),
            "{}: the Hessian is not symmetric: ⟨q, H·r⟩ = {:e}, ⟨r, H·q⟩ = {:e}",
            name,
            q_hr,
            r_hq
        );
    }
    Ok(())
}

/// Runs [`check_case`] on every case of a table, each with its own seed.
fn check_all(cases: &[Case], seed: u64) -> Result<(), TestCaseError> {
    for (i, case) in cases.iter().enumerate() {
        check_case(case, seed.wrapping_add(i as u64))?;
    }
    Ok(())
}

/// The elementwise functions of one operand of `shape`, each on its domain, staying [`GAP`]
/// away from kinks (and from 0 for `softsign`, whose second derivative jumps there).
fn unary_cases(shape: &Shape) -> Vec<Case> {
    let on = |low: f64, high: f64| vec![Operand::uniform(shape.clone(), low, high)];
    let off_zero = |low: f64, high: f64, radius: f64| {
        vec![Operand::avoiding(shape.clone(), low, high, 0.0, radius)]
    };
    // x³/3 + sin x with its two derivatives, x² + cos x and 2x − sin x
    let custom = ScalarFunction::new("cubic_sine", |x: f64| x * x * x / 3.0 + x.sin())
        .with_derivative(
            ScalarFunction::new("cubic_sine'", |x: f64| x * x + x.cos()).with_derivative(
                ScalarFunction::new("cubic_sine''", |x: f64| 2.0 * x - x.sin()),
            ),
        );
    vec![
        Case::op(Neg, on(-10.0, 10.0)),
        Case::op(Abs, off_zero(-10.0, 10.0, GAP)),
        Case::op(Sign, off_zero(-10.0, 10.0, GAP)),
        Case::op(Exp, on(-10.0, 10.0)),
        Case::op(Ln, on(1e-3, 1e3)),
        Case::op(Sqrt, on(1e-3, 1e3)),
        Case::op(Square, on(-10.0, 10.0)),
        Case::op(Recip, off_zero(-10.0, 10.0, 0.1)),
        Case::op(Sin, on(-10.0, 10.0)),
        Case::op(Cos, on(-10.0, 10.0)),
        // poles at ±π/2 ≈ ±1.5708
        Case::op(Tan, on(-1.4, 1.4)),
        Case::op(Asin, on(-0.95, 0.95)),
        Case::op(Acos, on(-0.95, 0.95)),
        Case::op(Atan, on(-10.0, 10.0)),
        Case::op(Sinh, on(-5.0, 5.0)),
        Case::op(Cosh, on(-5.0, 5.0)),
        Case::op(Tanh, on(-6.0, 6.0)),
        Case::op(Sigmoid, on(-30.0, 30.0)),
        Case::op(Softplus, on(-30.0, 30.0)),
        Case::op(Softsign, off_zero(-10.0, 10.0, GAP)),
        Case::op(Relu, off_zero(-10.0, 10.0, GAP)),
        Case::op(LeakyRelu { slope: 0.1 }, off_zero(-10.0, 10.0, GAP)),
        Case::op(Elu { alpha: 1.5 }, off_zero(-10.0, 10.0, GAP)),
        Case::built(
            "cubic_sine (ScalarFunction, 2 derivatives)",
            on(-3.0, 3.0),
            Box::new(move |g, x| g.map(x[0], &custom)),
        ),
    ]
}

/// Operand shape pairs of the broadcasting checks: equal, a trailing vector, a column against a
/// row, a scalar against a matrix, and a vector against a matrix.
fn broadcast_pairs() -> Vec<(Shape, Shape)> {
    vec![
        (Shape::from([2, 3]), Shape::from([2, 3])),
        (Shape::from([2, 3]), Shape::from([3])),
        (Shape::from([2, 1]), Shape::from([1, 3])),
        (Shape::scalar(), Shape::from([2, 2])),
        (Shape::from([3]), Shape::from([2, 3])),
    ]
}

/// The broadcasting binary ops (and `where`, with a fixed mask) on operands of shapes `a` and
/// `b`, each on its domain: divisors and powers' bases away from 0, no ties near for `min`,
/// `max` and the comparisons.
fn binary_cases(a: &Shape, b: &Shape) -> Vec<Case> {
    let both = |low: f64, high: f64| {
        vec![
            Operand::uniform(a.clone(), low, high),
            Operand::uniform(b.clone(), low, high),
        ]
    };
    vec![
        Case::op(Add, both(-10.0, 10.0)),
        Case::op(Sub, both(-10.0, 10.0)),
        Case::op(Mul, both(-10.0, 10.0)),
        Case::op(
            Div,
            vec![
                Operand::uniform(a.clone(), -10.0, 10.0),
                Operand::avoiding(b.clone(), -5.0, 5.0, 0.0, 0.1),
            ],
        ),
        Case::op(
            Pow,
            vec![
                Operand::uniform(a.clone(), 0.1, 5.0),
                Operand::uniform(b.clone(), -3.0, 3.0),
            ],
        ),
        Case::op(Minimum, both(-10.0, 10.0)).when(apart),
        Case::op(Maximum, both(-10.0, 10.0)).when(apart),
        Case::op(Equal, both(-10.0, 10.0)).when(apart),
        Case::op(NotEqual, both(-10.0, 10.0)).when(apart),
        Case::op(Less, both(-10.0, 10.0)).when(apart),
        Case::op(LessEqual, both(-10.0, 10.0)).when(apart),
        Case::op(Greater, both(-10.0, 10.0)).when(apart),
        Case::op(GreaterEqual, both(-10.0, 10.0)).when(apart),
        Case::op(
            Where,
            vec![
                Operand::mask([2, 1]),
                Operand::uniform(a.clone(), -10.0, 10.0),
                Operand::uniform(b.clone(), -10.0, 10.0),
            ],
        ),
    ]
}

/// The reductions of an operand of `shape` over `axes`, `sum_to` onto each shape that
/// broadcasts to it, and the softmax family along each axis.
fn reduction_cases(shape: &Shape, axes: &Axes, keepdims: bool) -> Vec<Case> {
    let x = || vec![Operand::uniform(shape.clone(), -5.0, 5.0)];
    let mut cases = vec![
        Case::op(
            Sum {
                axes: axes.clone(),
                keepdims,
            },
            x(),
        ),
        Case::op(
            Mean {
                axes: axes.clone(),
                keepdims,
            },
            x(),
        ),
        Case::op(
            Max {
                axes: axes.clone(),
                keepdims,
            },
            x(),
        )
        .when(distinct),
        Case::op(
            Min {
                axes: axes.clone(),
                keepdims,
            },
            x(),
        )
        .when(distinct),
    ];
    let rank = shape.rank() as isize;
    for axis in -rank..rank {
        cases.push(Case::op(ArgMax { axis, keepdims }, x()).when(distinct));
        cases.push(Case::op(Softmax { axis }, x()));
        cases.push(Case::op(LogSoftmax { axis }, x()));
        cases.push(Case::op(LogSumExp { axis, keepdims }, x()));
    }
    // sum_to onto every shape that drops leading axes or keeps an axis as length 1
    let dims = shape.dims();
    for keep in 0..(1usize << dims.len()) {
        let target: Vec<usize> = (0..dims.len())
            .map(|a| if keep >> a & 1 == 1 { dims[a] } else { 1 })
            .collect();
        cases.push(Case::op(
            SumTo {
                shape: Shape::new(&target),
            },
            x(),
        ));
        cases.push(Case::op(
            SumTo {
                shape: Shape::new(&target[1..]),
            },
            x(),
        ));
    }
    cases.push(Case::op(
        SumTo {
            shape: Shape::scalar(),
        },
        x(),
    ));
    cases
}

/// The shape ops, each on small operands.
fn shape_cases() -> Vec<Case> {
    let x = |dims: &[usize]| Operand::uniform(Shape::new(dims), -2.0, 2.0);
    vec![
        Case::op(
            Reshape {
                shape: Shape::from([3, 2]),
            },
            vec![x(&[2, 3])],
        ),
        Case::op(
            Reshape {
                shape: Shape::from([6]),
            },
            vec![x(&[2, 3])],
        ),
        Case::op(
            Reshape {
                shape: Shape::from([1, 1]),
            },
            vec![x(&[])],
        ),
        Case::op(Permute { perm: vec![1, 0] }, vec![x(&[2, 3])]),
        Case::op(
            Permute {
                perm: vec![2, 0, 1],
            },
            vec![x(&[2, 3, 2])],
        ),
        Case::op(Transpose, vec![x(&[2, 3])]),
        Case::op(Transpose, vec![x(&[2, 2, 3])]),
        Case::op(
            BroadcastTo {
                shape: Shape::from([2, 3]),
            },
            vec![x(&[3])],
        ),
        Case::op(
            BroadcastTo {
                shape: Shape::from([2, 3]),
            },
            vec![x(&[2, 1])],
        ),
        Case::op(
            BroadcastTo {
                shape: Shape::from([2, 2]),
            },
            vec![x(&[])],
        ),
        Case::op(
            BroadcastTo {
                shape: Shape::from([2, 2, 3]),
            },
            vec![x(&[1, 3])],
        ),
        Case::op(Concat { axis: 0 }, vec![x(&[2, 3]), x(&[1, 3])]),
        Case::op(Concat { axis: -1 }, vec![x(&[2, 3]), x(&[2, 2])]),
        Case::op(Concat { axis: 1 }, vec![x(&[2, 1]), x(&[2, 2]), x(&[2, 1])]),
        Case::op(
            Slice {
                axis: 1,
                start: 1,
                end: 4,
            },
            vec![x(&[2, 5])],
        ),
        Case::op(
            Slice {
                axis: -2,
                start: 0,
                end: 1,
            },
            vec![x(&[3, 2])],
        ),
        Case::op(
            Pad {
                axis: 0,
                before: 1,
                after: 2,
            },
            vec![x(&[2, 3])],
        ),
        Case::op(
            Pad {
                axis: -1,
                before: 0,
                after: 1,
            },
            vec![x(&[2, 3])],
        ),
    ]
}

/// `matmul` with every pair of transpose flags, and batched products whose batch axes
/// broadcast.
fn matmul_cases() -> Vec<Case> {
    let x = |dims: &[usize]| Operand::uniform(Shape::new(dims), -2.0, 2.0);
    let mm = |transpose_a, transpose_b| MatMul {
        transpose_a,
        transpose_b,
    };
    vec![
        Case::op(mm(false, false), vec![x(&[2, 3]), x(&[3, 2])]),
        Case::op(mm(true, false), vec![x(&[3, 2]), x(&[3, 2])]),
        Case::op(mm(false, true), vec![x(&[2, 3]), x(&[2, 3])]),
        Case::op(mm(true, true), vec![x(&[3, 2]), x(&[2, 3])]),
        // batch [2] against none, and [1] against [2]
        Case::op(mm(false, false), vec![x(&[2, 2, 3]), x(&[3, 2])]),
        Case::op(mm(true, true), vec![x(&[1, 3, 2]), x(&[2, 2, 3])]),
        Case::op(mm(false, true), vec![x(&[2, 3]), x(&[2, 2, 3])]),
    ]
}

/// Which axes to reduce of an operand of `rank`: all, or a random subset (possibly empty),
/// each spelled positive or negative.
fn axes(rank: usize, all: bool, pick: &[bool], negative: bool) -> Axes {
    if all {
        return Axes::All;
    }
    let rank = rank as isize;
    Axes::List(
        (0..rank)
            .filter(|&a| pick[a as usize])
            .map(|a| if negative { a - rank } else { a })
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Every elementwise function of one operand (and a user `ScalarFunction` with two
    /// derivatives), scalar or `[2, 3]`.
    #[test]
    fn unary_derivatives_match_finite_differences(scalar in any::<bool>(), seed in any::<u64>()) {
        let shape = if scalar { Shape::scalar() } else { Shape::from([2, 3]) };
        check_all(&unary_cases(&shape), seed)?;
    }

    /// Every broadcasting binary op, the comparisons (no gradient) and `where`, for each
    /// broadcasting shape pair.
    #[test]
    fn binary_derivatives_match_finite_differences(
        pair in proptest::sample::select(broadcast_pairs()),
        seed in any::<u64>(),
    ) {
        check_all(&binary_cases(&pair.0, &pair.1), seed)?;
    }

    /// Sum, mean, max, min over any axes, argmax (no gradient), `sum_to`, and softmax,
    /// log-softmax and logsumexp along each axis, of a `[2, 3]` operand (dense Hessian) or a
    /// `[2, 3, 4]` one (Hessian through `hvp`).
    #[test]
    fn reduction_derivatives_match_finite_differences(
        big in any::<bool>(),
        all in any::<bool>(),
        pick in proptest::collection::vec(any::<bool>(), 3),
        negative in any::<bool>(),
        keepdims in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let shape = if big { Shape::from([2, 3, 4]) } else { Shape::from([2, 3]) };
        let axes = axes(shape.rank(), all, &pick, negative);
        check_all(&reduction_cases(&shape, &axes, keepdims), seed)?;
    }

    /// Reshape, permute, transpose, broadcast_to, concat, slice and pad.
    #[test]
    fn shape_op_derivatives_match_finite_differences(seed in any::<u64>()) {
        check_all(&shape_cases(), seed)?;
    }

    /// `matmul`, all four transpose flags and broadcast batches.
    #[test]
    fn matmul_derivatives_match_finite_differences(seed in any::<u64>()) {
        check_all(&matmul_cases(), seed)?;
    }
}

/// The checker itself: a user function whose second derivative is wrong (its first is right)
/// fails the second-order comparison, and one whose first derivative is wrong fails `grad`.
#[test]
fn checker_rejects_wrong_derivatives() {
    let cube = |second: fn(f64) -> f64, first: fn(f64) -> f64| {
        let f = ScalarFunction::new("cube", |x: f64| x * x * x).with_derivative(
            ScalarFunction::new("cube'", first)
                .with_derivative(ScalarFunction::new("cube''", second)),
        );
        let build: Build = Box::new(move |g, x| g.map(x[0], &f));
        Case::built("cube", vec![Operand::uniform([2, 3], -2.0, 2.0)], build)
    };
    let right = cube(|x| 6.0 * x, |x| 3.0 * x * x);
    check_case(&right, 7).expect("the right derivatives pass");
    let wrong_second = cube(|x| 5.0 * x, |x| 3.0 * x * x);
    let error = check_case(&wrong_second, 7).expect_err("a wrong f'' is caught");
    assert!(error.to_string().contains("hvp["), "{error}");
    let wrong_first = cube(|x| 6.0 * x, |x| 3.0 * x * x + 0.01);
    let error = check_case(&wrong_first, 7).expect_err("a wrong f' is caught");
    assert!(error.to_string().contains("grad["), "{error}");
}
