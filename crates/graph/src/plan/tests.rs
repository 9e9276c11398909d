//! Tests of compiling and running plans.

use super::*;
use crate::random::RandomDagConfig;
use crate::testing::{build_dag, dag_config, eval_naive};
use crate::Var;
use adnet_tensor::testing::assert_tensors_close;
use proptest::prelude::*;
use std::time::Duration;

fn lecture(g: &Graph) -> Result<NodeId> {
    Ok(crate::networks::lecture(g)?.o.id())
}

fn lecture_closed_form(x: f64, y: f64, alpha: f64, beta: f64, gamma: f64) -> f64 {
    crate::networks::lecture_value(x, y, (alpha, beta, gamma))
}

#[test]
fn lecture_network_matches_closed_form_and_sees_new_params() -> Result<()> {
    let g = Graph::new();
    let o = lecture(&g)?;
    let mut plan = g.compile([o])?;
    assert!(plan.stats().scalar);
    let (x, y) = (g.node("x")?.id(), g.node("y")?.id());
    for k in 0..5 {
        let xv = 1.0 + 0.1 * k as f64;
        plan.set_scalar(x, xv)?;
        plan.set_scalar(y, 0.5)?;
        plan.run(&g)?;
        let expected = lecture_closed_form(xv, 0.5, 0.8, 1.2, 2.0);
        assert!((plan.scalar(o)? - expected).abs() < 1e-12);
    }
    g.set_param(g.node("alpha")?, &Tensor::scalar(0.3))?;
    plan.run(&g)?;
    let expected = lecture_closed_form(1.4, 0.5, 0.3, 1.2, 2.0);
    assert!((plan.scalar(o)? - expected).abs() < 1e-12);
    Ok(())
}

#[test]
fn plan_keeps_only_needed_nodes() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let unused_input = g.scalar_input("z")?;
    let y = x.exp();
    let _dead = (x * unused_input).sin();
    let mut plan = g.compile([y])?;
    assert_eq!(plan.stats().instructions, 1);
    assert_eq!(plan.inputs().collect::<Vec<_>>(), vec![x.id()]);
    // a declared input the outputs do not need is accepted (and still checked)
    plan.set_scalar(unused_input, 1.0)?;
    assert!(plan
        .set_input(unused_input, &Tensor::zeros([2], DType::F64))
        .is_err());
    Ok(())
}

#[test]
fn running_without_an_input_names_it() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let y = x.exp();
    let mut plan = g.compile([y])?;
    let err = plan.run(&g).unwrap_err();
    assert_eq!(
        err,
        GraphError::MissingInput {
            node: x.id(),
            name: "x".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "input %0 (`x`) was not set before running the plan"
    );
    Ok(())
}

#[test]
fn plan_rejects_another_graph_and_foreign_nodes() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let mut plan = g.compile([x.exp()])?;
    plan.set_scalar(x, 1.0)?;
    let other = Graph::new();
    assert_eq!(plan.run(&other), Err(GraphError::WrongGraph));
    assert!(matches!(
        plan.output(x),
        Err(GraphError::NotInPlan {
            role: "an output",
            ..
        })
    ));
    let y = x.sin();
    assert!(matches!(
        plan.set_scalar(y, 1.0),
        Err(GraphError::NotInPlan {
            role: "an input",
            ..
        })
    ));
    Ok(())
}

#[test]
fn set_input_checks_shape_and_dtype() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [2, 3], DType::F32)?;
    let mut plan = g.compile([x.sum_all()])?;
    let err = plan
        .set_input(x, &Tensor::zeros([3, 2], DType::F32))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "node %0 (`x`) holds f32 [2, 3], got f32 [3, 2]"
    );
    let err = plan
        .set_input(x, &Tensor::zeros([2, 3], DType::F64))
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::ValueMismatch {
            actual_dtype: DType::F64,
            ..
        }
    ));
    assert!(plan.set_scalar(x, 1.0).is_err());
    Ok(())
}

#[test]
fn leaf_outputs_are_returned() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [2], DType::F64)?;
    let w = g.param("w", Tensor::from_vec(vec![1.0, 2.0], [2])?)?;
    let mut plan = g.compile([x, w, x * w])?;
    plan.set_input(x, &Tensor::from_vec(vec![3.0, 4.0], [2])?)?;
    plan.run(&g)?;
    assert_eq!(plan.output(x)?.to_f64_vec(), vec![3.0, 4.0]);
    assert_eq!(plan.output(w)?.to_f64_vec(), vec![1.0, 2.0]);
    assert_eq!(plan.output_at(2).to_f64_vec(), vec![3.0, 8.0]);
    Ok(())
}

#[test]
fn rewired_graphs_are_ordered_by_their_edges_not_creation() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let a = x.exp();
    let b = x.sin();
    let c = a + b;
    // a now reads b, which was created after it
    g.replace_operand(a, 0, b)?;
    let order = g.topological_order([c])?;
    let position = |n: Var<'_>| order.iter().position(|&o| o == n.id());
    assert!(position(b) < position(a) && position(a) < position(c));
    let value = g.eval(c, &[("x", 0.3)])?;
    assert!((value - (0.3f64.sin().exp() + 0.3f64.sin())).abs() < 1e-15);
    Ok(())
}

#[test]
fn deep_chain_compiles_without_recursion() -> Result<()> {
    let g = Graph::new();
    let x = g.scalar_input("x")?;
    let mut y = x;
    for _ in 0..200_000 {
        y = y + 1.0;
    }
    let mut plan = g.compile([y])?;
    plan.set_scalar(x, 0.0)?;
    plan.run(&g)?;
    assert_eq!(plan.scalar(y)?, 200_000.0);
    // one slot for the input and one per constant, then two slots ping-pong for the chain
    assert!(plan.stats().buffers <= 200_000 + 3);
    Ok(())
}

#[test]
fn buffers_are_reused_along_a_chain() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [8], DType::F32)?;
    let mut y = x;
    for _ in 0..100 {
        y = y.tanh();
    }
    let plan = g.compile([y])?;
    assert_eq!(plan.stats().instructions, 100);
    assert_eq!(plan.stats().buffers, 2);
    Ok(())
}

#[test]
fn w2_graph_runs_on_the_scalar_tape() -> Result<()> {
    let g = Graph::new();
    let (dag, inputs) = build_dag(&g, &RandomDagConfig::w2(5_000, 3));
    let mut plan = g.compile([dag.output])?;
    assert!(plan.stats().scalar);
    for (&leaf, value) in &inputs {
        plan.set_input(leaf, value)?;
    }
    plan.run(&g)?;
    let naive = eval_naive(&g, &inputs)?;
    assert_eq!(
        plan.scalar(dag.output)?,
        naive[dag.output.index()].to_scalar()?
    );
    assert!(plan.stats().buffers < 16 + 200, "{:?}", plan.stats());
    Ok(())
}

#[test]
fn anomaly_detection_stops_at_the_first_non_finite_tensor() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [3], DType::F32)?;
    let big = (x * 100.0).exp().named("big")?; // inf for x >= 0.9 in f32
    let y = (big - big).sum_all(); // inf - inf = NaN later on
    let mut plan = g.compile([y])?;
    plan.set_input(x, &Tensor::from_vec(vec![0.1f32, 2.0, -1.0], [3])?)?;
    plan.run(&g)?; // off by default: the NaN flows to the output
    assert!(plan.scalar(y)?.is_nan());
    plan.detect_anomalies(true);
    match plan.run(&g).unwrap_err() {
        GraphError::NonFinite {
            node,
            name,
            op,
            value,
            operands,
        } => {
            assert_eq!((node, name.as_str(), op.as_str()), (big.id(), "big", "exp"));
            assert_eq!(value, f64::INFINITY);
            assert_eq!(
                (operands[0].min, operands[0].max, operands[0].non_finite),
                (-100.0, 200.0, 0)
            );
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    plan.set_input(x, &Tensor::from_vec(vec![0.1f32, 0.2, -1.0], [3])?)?;
    plan.run(&g)?; // finite again: no error
    Ok(())
}

#[test]
fn anomaly_detection_reports_the_first_nan_on_the_scalar_tape() -> Result<()> {
    let g = Graph::new();
    let o = lecture(&g)?;
    let mut plan = g.compile([o])?;
    plan.detect_anomalies(true);
    plan.set_scalar(g.node("x")?, -3.0)?;
    plan.set_scalar(g.node("y")?, 0.5)?;
    let err = plan.run(&g).unwrap_err();
    let GraphError::NonFinite { op, operands, .. } = &err else {
        panic!("{err:?}")
    };
    // q = ln(beta*x + y) is the first NaN: ln of 1.2*(-3) + 0.5 = -3.1
    assert_eq!(op, "ln");
    assert!((operands[0].min + 3.1).abs() < 1e-12, "{err}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every op node of a random DAG is an output: if buffer reuse overwrote a value still
    /// needed, some output would differ from the naive evaluation.
    #[test]
    fn plan_matches_naive_evaluation_on_random_dags(config in dag_config(60), subset_seed in any::<u64>()) {
        let g = Graph::new();
        let (dag, inputs) = build_dag(&g, &config);
        let naive = eval_naive(&g, &inputs).unwrap();
        // every node, then a random subset: different outputs give different liveness
        let subset: Vec<NodeId> = dag.nodes.iter().copied()
            .filter(|n| (n.index() as u64).wrapping_mul(subset_seed | 1) % 3 == 0)
            .chain([dag.output])
            .collect();
        // small f64 tensor graphs run expanded unless told not to: check both lowerings
        let lowerings = [(dag.nodes.clone(), true), (subset.clone(), true), (subset, false)];
        for (outputs, allow_expansion) in lowerings {
            let mut plan = g.compile_with(outputs.iter().copied(), allow_expansion).unwrap();
            let all_scalar = g
                .topological_order(outputs.iter().copied())
                .unwrap()
                .iter()
                .all(|&n| g.spec(n).unwrap().shape.is_scalar());
            if config.leaf_shapes == vec![Shape::scalar()] {
                prop_assert!(plan.stats().scalar);
            }
            prop_assert_eq!(
                plan.stats().expanded,
                allow_expansion && config.dtype == DType::F64 && !all_scalar
            );
            for (&leaf, value) in &inputs {
                if plan.inputs().any(|i| i == leaf) {
                    plan.set_input(leaf, value).unwrap();
                }
            }
            for _ in 0..2 { // a second run reuses the same buffers
                plan.run(&g).unwrap();
                for &node in &outputs {
                    assert_tensors_close(plan.output(node).unwrap(), &naive[node.index()], 0.0);
                }
            }
        }
    }

    /// Buffer reuse: a tensor plan holds, per dtype and size, exactly as many buffers as there
    /// are op values of that kind alive at once at the worst point of the schedule (a plan
    /// without reuse would hold one per op), counted here independently of the allocator.
    #[test]
    fn plan_buffers_equal_peak_live_values(config in dag_config(80)) {
        let g = Graph::new();
        let (dag, _) = build_dag(&g, &config);
        // the tensor program, also for the small f64 graphs that would run expanded
        let plan = g.compile_with([dag.output], false).unwrap();
        prop_assume!(!plan.stats().scalar);
        let order = g.topological_order([dag.output]).unwrap();
        let operands = |n: NodeId| match g.kind(n).unwrap() {
            NodeKind::Op { inputs, .. } => Some(inputs),
            _ => None,
        };
        let ops: Vec<NodeId> = order.iter().copied().filter(|&n| operands(n).is_some()).collect();
        let mut last_reader = std::collections::HashMap::new();
        for (position, &n) in ops.iter().enumerate() {
            for input in operands(n).unwrap() {
                last_reader.insert(input, position);
            }
        }
        let kind = |n: NodeId| {
            let spec = g.spec(n).unwrap();
            (spec.dtype, spec.shape.numel())
        };
        let mut live = std::collections::HashSet::new();
        let mut peaks = std::collections::HashMap::new();
        for (position, &n) in ops.iter().enumerate() {
            live.insert(n);
            let alive = live.iter().filter(|&&m| kind(m) == kind(n)).count();
            let peak_of_kind = peaks.entry(kind(n)).or_insert(0);
            *peak_of_kind = alive.max(*peak_of_kind);
            for input in operands(n).unwrap() {
                if input != dag.output && last_reader.get(&input) == Some(&position) {
                    live.remove(&input);
                }
            }
        }
        let peak: usize = peaks.values().sum();
        prop_assert_eq!(plan.stats().buffers, peak);
        prop_assert!(peak <= ops.len());
    }
}

#[test]
fn plans_with_a_large_product_run_on_the_pool_with_the_same_results() -> Result<()> {
    // 256 x 256 x 256 = 2^24 multiply-adds: exactly the parallel threshold
    let g = Graph::new();
    let x = g.input("x", [256, 256], DType::F32)?;
    let w = g.param("w", Tensor::full([256, 256], 0.5, DType::F32))?;
    let big = g.matmul_t(x, w, false, true)?.relu().sum_all();
    let small = g
        .matmul_t(g.slice(x, 0, 0, 255)?, w, false, false)?
        .relu()
        .sum_all();
    let mut parallel = g.compile([big])?;
    let mut serial = g.compile([small])?;
    assert!(parallel.stats().parallel);
    assert!(!serial.stats().parallel);
    let scalar = Graph::new();
    assert!(!scalar.compile([lecture(&scalar)?])?.stats().parallel);
    let values: Vec<f64> = (0..256 * 256).map(|i| (i % 7) as f64 - 3.0).collect();
    let xs = Tensor::from_f64s(&values, [256, 256], DType::F32)?;
    parallel.set_input(x, &xs)?;
    serial.set_input(x, &xs)?;
    parallel.run(&g)?;
    serial.run(&g)?;
    // the first 255 rows' sum, then the last row's (each row of x·wᵀ is 0.5·Σ row)
    let last: f64 = values[255 * 256..].iter().sum::<f64>() * 0.5;
    let expected = serial.scalar(small)? + 256.0 * last.max(0.0);
    assert_eq!(parallel.scalar(big)?, expected);
    Ok(())
}

#[test]
fn profile_times_every_kernel_call_and_matches_run() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [8, 4], DType::F64)?;
    let w = g.param("w", Tensor::full([4, 3], 0.5, DType::F64))?;
    let h = x.matmul(w).named("h")?;
    let t = h.tanh();
    let y = (t * t).sum_all();
    let mut plan = g.compile_with([y], false)?;
    let xs = Tensor::full([8, 4], 1.0, DType::F64);
    plan.set_input(x, &xs)?;
    plan.run(&g)?;
    let expected = plan.scalar(y)?;
    let profile = plan.profile(&g, 3)?;
    assert_eq!(plan.scalar(y)?, expected);
    let ops: Vec<&str> = profile.entries().iter().map(|e| e.op.as_str()).collect();
    assert_eq!(ops, ["matmul", "tanh", "mul", "reduce_sum"]);
    assert_eq!(profile.entries()[0].node, Some(h.id()));
    assert_eq!(profile.entries()[0].name, "h");
    assert_eq!(profile.entries()[0].shape, Shape::from([8, 3]));
    let steps: Duration = profile.entries().iter().map(|e| e.time).sum();
    assert!(profile.total() > Duration::ZERO);
    let by_op = profile.by_op();
    assert_eq!(by_op.iter().map(|row| row.2).sum::<usize>(), 4);
    assert_eq!(by_op.iter().map(|row| row.1).sum::<Duration>(), steps);
    assert!(by_op.windows(2).all(|pair| pair[0].1 >= pair[1].1));
    let table = profile.to_string();
    assert!(table.starts_with("4 steps in "), "{table}");
    assert!(
        table.contains("slowest steps:") && table.contains("matmul"),
        "{table}"
    );
    // a scalar tape is timed as one step
    let s = Graph::new();
    let mut scalar = s.compile([lecture(&s)?])?;
    scalar.set_scalar(s.node("x")?, 1.0)?;
    scalar.set_scalar(s.node("y")?, 0.5)?;
    let profile = scalar.profile(&s, 1)?;
    assert_eq!(profile.entries().len(), 1);
    assert_eq!(profile.entries()[0].op, "tape");
    assert_eq!(profile.entries()[0].node, None);
    Ok(())
}

#[test]
fn a_buffer_is_never_shared_by_values_of_different_sizes() -> Result<()> {
    // s and t are one element, x·t a thousand: x·t may not take s's freed buffer (it would be
    // re-grown and zero-filled on every run), so four buffers: 1, 1, 1000 and the output's
    // 1000 (a value never shares its operand's buffer); sharing would make three
    let g = Graph::new();
    let x = g.input("x", [1000], DType::F32)?;
    let s = x.sum_all();
    let t = s + 1.0;
    let u = (x * t).exp();
    let plan = g.compile([u])?;
    let stats = plan.stats();
    let expected = (4, (1 + 1 + 1000 + 1000) * 4);
    assert_eq!((stats.buffers, stats.buffer_bytes), expected, "{stats:?}");
    Ok(())
}
