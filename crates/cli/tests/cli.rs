//! The `adnet` binary end to end: every command in both output forms, every exit status, and
//! the numbers it prints compared bit for bit with the Rust API on the same network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use adnet_autodiff::{grad, hessian};
use adnet_graph::ops::ScalarFunction;
use adnet_graph::{parse, Graph, Network, NodeId};
use adnet_tensor::Tensor;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const LECTURE2: &str = "\
# the lecture's second network
input x, y
param alpha = 0.8, beta = 1.2, gamma = 2
p = alpha*x + exp(y)
q = ln(beta*x + y)
u = (p + q)/gamma
v = p*q
o = u*ln(v) + v*ln(u)
output o
";

/// A fresh file in the temp dir holding `contents` (a unique name per call and process).
fn write_file(name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "adnet-cli-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("the temp dir is writable");
    path
}

fn adnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adnet"))
        .args(args)
        .output()
        .expect("the adnet binary runs")
}

fn run_file(command: &str, path: &Path, extra: &[&str]) -> Output {
    let path = path.to_str().expect("temp paths are UTF-8");
    let mut args = vec![command, path];
    args.extend_from_slice(extra);
    adnet(&args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

/// Asserts the exit status, showing both streams when it differs.
fn assert_status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// The printed number, compared bit for bit with the one the Rust API computes.
fn assert_bits(printed: &Value, expected: f64, what: &str) {
    let printed = printed
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {printed} is not a number"));
    assert_eq!(
        printed.to_bits(),
        expected.to_bits(),
        "{what}: printed {printed}, computed {expected}"
    );
}

fn keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

/// The names derivatives are taken against: inputs, then parameters.
fn wrt(network: &Network) -> Vec<(String, NodeId)> {
    network
        .inputs
        .iter()
        .chain(&network.params)
        .cloned()
        .collect()
}

fn scalars<'a>(at: &'a [(&'a str, f64)]) -> Vec<(&'a str, Tensor)> {
    at.iter().map(|&(n, v)| (n, Tensor::scalar(v))).collect()
}

fn eval_at(g: &Graph, node: NodeId, at: &[(&str, f64)]) -> Result<Tensor, adnet_graph::GraphError> {
    let tensors = scalars(at);
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    g.eval_tensor(node, &refs)
}

#[test]
fn grad_json_matches_the_rust_api_bit_for_bit() -> TestResult {
    let path = write_file("lecture2.adn", LECTURE2);
    let output = run_file("grad", &path, &["--at", "x=1,y=0.5", "--json"]);
    assert_status(&output, 0);
    let printed = json(&output);
    assert_eq!(keys(&printed), ["outputs", "gradients"]);
    assert_eq!(
        keys(&printed["gradients"]["o"]),
        ["x", "y", "alpha", "beta", "gamma"]
    );

    let network = parse(LECTURE2)?;
    let at = [("x", 1.0), ("y", 0.5)];
    let o = network.outputs[0].1;
    assert_bits(
        &printed["outputs"]["o"],
        network.graph.eval(o, &at)?,
        "value of o",
    );
    let names = wrt(&network);
    let ids: Vec<NodeId> = names.iter().map(|(_, id)| *id).collect();
    let gradient = grad(&network.graph, o, &ids)?;
    for ((name, _), d) in names.iter().zip(gradient) {
        let expected = eval_at(&network.graph, d.id(), &at)?.to_scalar()?;
        assert_bits(&printed["gradients"]["o"][name], expected, name);
    }
    // the exact layout of the documentation: a space after each comma and colon, one line
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "{\"outputs\": {\"o\": 0.9079750049689331}, \"gradients\": {\"o\": {\"x\": "
        ),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    Ok(())
}

#[test]
fn grad_set_overrides_parameters_and_matches_the_api() -> TestResult {
    let path = write_file("lecture2.adn", LECTURE2);
    let output = run_file(
        "grad",
        &path,
        &[
            "--at",
            "y=0.5",
            "--at",
            "x=1",
            "--set",
            "alpha=0.3,gamma=1.5",
            "--json",
        ],
    );
    assert_status(&output, 0);
    let printed = json(&output);

    let network = parse(LECTURE2)?;
    for (name, value) in [("alpha", 0.3), ("gamma", 1.5)] {
        let node = network.graph.node(name)?.id();
        network.graph.set_param(node, &Tensor::scalar(value))?;
    }
    let at = [("x", 1.0), ("y", 0.5)];
    let o = network.outputs[0].1;
    assert_bits(&printed["outputs"]["o"], network.graph.eval(o, &at)?, "o");
    let names = wrt(&network);
    let ids: Vec<NodeId> = names.iter().map(|(_, id)| *id).collect();
    for ((name, _), d) in names.iter().zip(grad(&network.graph, o, &ids)?) {
        let expected = eval_at(&network.graph, d.id(), &at)?.to_scalar()?;
        assert_bits(&printed["gradients"]["o"][name], expected, name);
    }
    Ok(())
}

#[test]
fn grad_table_is_aligned_with_one_column_per_output() -> TestResult {
    let source = "input x\nconst k = 3\ns = sigmoid(x)\nt = tanh(x/2)\nd = 2*s - 1 - t + 0*k\noutput s, t, d\n";
    let path = write_file("identity.adn", source);
    let output = run_file("grad", &path, &["--at", "x=0.7"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["s", "t", "d"]
    );
    assert!(lines[1].starts_with("value "), "{text}");
    assert!(lines[2].starts_with("∂/∂x "), "{text}");
    assert!(
        !text.contains("∂/∂k"),
        "constants are not differentiated: {text}"
    );
    // numbers are right-aligned: every line ends at the same column
    let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{text}");
    // the printed numbers are the full values
    let s: f64 = lines[1]
        .split_whitespace()
        .nth(1)
        .ok_or("no value")?
        .parse()?;
    assert_eq!(s.to_bits(), (1.0 / (1.0 + (-0.7f64).exp())).to_bits());
    Ok(())
}

#[test]
fn json_has_one_entry_per_output_in_output_order() -> TestResult {
    let source = "input x\nparam w = 2\nconst k = 3\ns = sigmoid(w*x)\nt = tanh(x/2)*k\nd = 2*s - 1 - t\noutput d, s\noutput t\n";
    let path = write_file("three.adn", source);
    let output = run_file("grad", &path, &["--at", "x=-0.25", "--json"]);
    assert_status(&output, 0);
    let printed = json(&output);
    assert_eq!(keys(&printed["outputs"]), ["d", "s", "t"]);
    assert_eq!(keys(&printed["gradients"]), ["d", "s", "t"]);
    assert_eq!(keys(&printed["gradients"]["t"]), ["x", "w"]);

    let network = parse(source)?;
    let at = [("x", -0.25)];
    let ids: Vec<NodeId> = wrt(&network).iter().map(|(_, id)| *id).collect();
    for (name, node) in &network.outputs {
        assert_bits(
            &printed["outputs"][name],
            network.graph.eval(*node, &at)?,
            name,
        );
        let gradient = grad(&network.graph, *node, &ids)?;
        for (wrt, d) in ["x", "w"].iter().zip(gradient) {
            let expected = eval_at(&network.graph, d.id(), &at)?.to_scalar()?;
            assert_bits(&printed["gradients"][name][wrt], expected, wrt);
        }
    }
    Ok(())
}

#[test]
fn hessian_json_matches_the_rust_api_bit_for_bit() -> TestResult {
    let source = "input x, y\nparam a = 1, b = 100\nconst two = 2\nf = (a - x)^two + b*(y - x^2)^2\noutput f\n";
    let path = write_file("rosenbrock.adn", source);
    let output = run_file("hessian", &path, &["--at", "x=-1.2,y=1", "--json"]);
    assert_status(&output, 0);
    let printed = json(&output);
    assert_eq!(keys(&printed), ["hessians"]);
    assert_eq!(keys(&printed["hessians"]["f"]), ["wrt", "matrix"]);
    assert_eq!(
        printed["hessians"]["f"]["wrt"],
        serde_json::json!(["x", "y", "a", "b"])
    );

    let network = parse(source)?;
    let f = network.outputs[0].1;
    let ids: Vec<NodeId> = wrt(&network).iter().map(|(_, id)| *id).collect();
    let h = hessian(&network.graph, f, &ids)?;
    let expected = eval_at(&network.graph, h.id(), &[("x", -1.2), ("y", 1.0)])?.to_f64_vec();
    let matrix = printed["hessians"]["f"]["matrix"]
        .as_array()
        .ok_or("matrix is an array")?;
    assert_eq!(matrix.len(), 4);
    for (i, row) in matrix.iter().enumerate() {
        let row = row.as_array().ok_or("rows are arrays")?;
        assert_eq!(row.len(), 4);
        for (j, value) in row.iter().enumerate() {
            assert_bits(value, expected[i * 4 + j], &format!("H[{i}][{j}]"));
        }
    }
    // ∂²f/∂x² = 2 − 400(y − 3x²) at (−1.2, 1)
    assert!((expected[0] - (2.0 - 400.0 * (1.0 - 3.0 * 1.44))).abs() < 1e-9);
    Ok(())
}

#[test]
fn hessian_table_has_a_titled_square_per_output() -> TestResult {
    let source = "input x, y\nparam w = 0.5\nf = w*x*y\ng = x^2\noutput f, g\n";
    let path = write_file("two.adn", source);
    let output = run_file("hessian", &path, &["--at", "x=3,y=-2"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Hessian of f (value -3):", "{text}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["x", "y", "w"]
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["x", "0", "0.5", "-2"]
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["y", "0.5", "0", "3"]
    );
    assert_eq!(
        lines[4].split_whitespace().collect::<Vec<_>>(),
        ["w", "-2", "3", "0"]
    );
    assert_eq!(lines[5], "");
    assert_eq!(lines[6], "Hessian of g (value 9):");
    assert_eq!(
        lines[8].split_whitespace().collect::<Vec<_>>(),
        ["x", "2", "0", "0"]
    );
    Ok(())
}

#[test]
fn check_passes_on_the_lecture_network() -> TestResult {
    let path = write_file("lecture2.adn", LECTURE2);
    let output = run_file("check", &path, &["--at", "x=1,y=0.5"]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("output  order  derivative")),
        "{text}"
    );
    assert!(text.contains("(the 5 worst of 30 entries)"), "{text}");
    assert!(text.contains("PASS: all 30 entries"), "{text}");

    let output = run_file("check", &path, &["--at", "x=1,y=0.5", "--json"]);
    assert_status(&output, 0);
    let printed = json(&output);
    assert_eq!(
        keys(&printed),
        ["passed", "max_abs_error", "max_rel_error", "worst"]
    );
    assert_eq!(printed["passed"], Value::Bool(true));
    let max_abs = printed["max_abs_error"].as_f64().ok_or("a number")?;
    assert!(max_abs > 0.0 && max_abs < 1e-6, "{max_abs}");
    let worst = printed["worst"].as_array().ok_or("an array")?;
    assert_eq!(worst.len(), 5);
    assert_eq!(
        keys(&worst[0]),
        [
            "output",
            "order",
            "wrt",
            "analytic",
            "numeric",
            "abs_error",
            "rel_error",
            "allowed",
            "passed"
        ]
    );
    // the worst entry's error is the largest relative to what it is allowed
    let excess = |e: &Value| {
        e["abs_error"].as_f64().unwrap_or(f64::NAN) / e["allowed"].as_f64().unwrap_or(f64::NAN)
    };
    assert!(worst.windows(2).all(|w| excess(&w[0]) >= excess(&w[1])));
    Ok(())
}

#[test]
fn check_reports_the_same_numbers_as_check_grad() -> TestResult {
    use adnet_autodiff::{check_grad, CheckOptions};
    let path = write_file("lecture2.adn", LECTURE2);
    let output = run_file("check", &path, &["--at", "x=1,y=0.5", "--json"]);
    let printed = json(&output);
    let network = parse(LECTURE2)?;
    let ids: Vec<NodeId> = wrt(&network).iter().map(|(_, id)| *id).collect();
    let (x, y) = (Tensor::scalar(1.0), Tensor::scalar(0.5));
    let options = CheckOptions::default().with_second_order(true);
    let report = check_grad(
        &network.graph,
        network.outputs[0].1,
        &ids,
        &[("x", &x), ("y", &y)],
        &options,
    )?;
    assert_bits(
        &printed["max_abs_error"],
        report.max_abs_error,
        "max_abs_error",
    );
    assert_bits(
        &printed["max_rel_error"],
        report.max_rel_error,
        "max_rel_error",
    );
    for (entry, printed) in report
        .worst
        .iter()
        .zip(printed["worst"].as_array().ok_or("an array")?)
    {
        assert_bits(&printed["analytic"], entry.analytic, "analytic");
        assert_bits(&printed["numeric"], entry.numeric, "numeric");
        assert_eq!(printed["wrt"][0], Value::String(entry.wrt.clone()));
    }
    Ok(())
}

/// `abs` uses `abs'(0) = sign(0) = 0`, and the derivative of `sign` is 0; the central
/// difference of the gradient across the kink is `(1 − (−1)) / 2h`: the second-order check
/// fails, which is the one way a formula file can make `check` fail.
#[test]
fn check_exits_1_when_derivatives_disagree_at_a_kink() -> TestResult {
    let path = write_file("kink.adn", "input x\no = abs(x)\noutput o\n");
    let output = run_file("check", &path, &["--at", "x=0"]);
    assert_status(&output, 1);
    let text = stdout(&output);
    assert!(text.contains("FAIL: 1 of 2 entries"), "{text}");
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.contains("x × x") && l.ends_with("FAIL")),
        "{text}"
    );
    assert_eq!(stderr(&output), "");

    let output = run_file("check", &path, &["--at", "x=0", "--json"]);
    assert_status(&output, 1);
    let printed = json(&output);
    assert_eq!(printed["passed"], Value::Bool(false));
    assert_eq!(printed["worst"][0]["wrt"], serde_json::json!(["x", "x"]));
    assert_eq!(printed["worst"][0]["passed"], Value::Bool(false));
    // away from the kink the same network passes
    assert_status(&run_file("check", &path, &["--at", "x=0.5"]), 0);
    Ok(())
}

/// A network with a wrong derivative rule, built in code (a formula file cannot define one):
/// `run_network` reports the failed check as `Outcome::CheckFailed`, exit status 1.
#[test]
fn wrong_derivative_rule_fails_the_check_in_process() -> TestResult {
    let graph = Graph::new();
    let x = graph.scalar_input("x")?.id();
    let w = graph.scalar_param("w", 1.5)?.id();
    // f(t) = t², but its "derivative" is 3t (the second derivative, 3, matches the wrong rule)
    let square = ScalarFunction::new("square", |t| t * t).with_derivative(
        ScalarFunction::new("wrong", |t| 3.0 * t)
            .with_derivative(ScalarFunction::new("three", |_| 3.0)),
    );
    let wx = graph.mul(w, x)?;
    let o = graph.map(wx, &square)?.named("o")?.id();
    let network = Network {
        graph,
        inputs: vec![("x".into(), x)],
        params: vec![("w".into(), w)],
        consts: Vec::new(),
        outputs: vec![("o".into(), o)],
        nodes: vec![("o".into(), o, "square(w*x)".into(), 3)],
    };
    let request = adnet_cli::Request {
        at: vec!["x=2".into()],
        set: Vec::new(),
        json: true,
    };
    let mut out = Vec::new();
    let outcome = adnet_cli::run_network(&network, adnet_cli::Command::Check, &request, &mut out)?;
    assert_eq!(outcome, adnet_cli::Outcome::CheckFailed);
    assert_eq!(outcome.code(), adnet_cli::EXIT_CHECK_FAILED);
    let printed: Value = serde_json::from_slice(&out)?;
    assert_eq!(printed["passed"], Value::Bool(false));
    // the analytic ∂o/∂x is w·3(wx) = 13.5, the true one 2w²x = 9
    let first = printed["worst"]
        .as_array()
        .ok_or("an array")?
        .iter()
        .find(|e| e["order"] == 1 && e["wrt"][0] == "x")
        .ok_or("the gradient entry of x is among the worst")?;
    assert_eq!(first["analytic"].as_f64(), Some(13.5));
    assert!((first["numeric"].as_f64().ok_or("a number")? - 9.0).abs() < 1e-6);

    // with the right rule the same network passes
    let graph = Graph::new();
    let x = graph.scalar_input("x")?.id();
    let square = ScalarFunction::new("square", |t| t * t).with_derivative(
        ScalarFunction::new("twice", |t| 2.0 * t)
            .with_derivative(ScalarFunction::new("two", |_| 2.0)),
    );
    let o = graph.map(x, &square)?.id();
    let network = Network {
        graph,
        inputs: vec![("x".into(), x)],
        params: Vec::new(),
        consts: Vec::new(),
        outputs: vec![("o".into(), o)],
        nodes: Vec::new(),
    };
    let outcome = adnet_cli::run_network(
        &network,
        adnet_cli::Command::Check,
        &request,
        &mut Vec::new(),
    )?;
    assert_eq!(outcome, adnet_cli::Outcome::Success);
    Ok(())
}

#[test]
fn a_missing_second_derivative_is_an_error_not_a_failed_check() -> TestResult {
    let graph = Graph::new();
    let x = graph.scalar_input("x")?.id();
    let cube = ScalarFunction::new("cube", |t| t * t * t)
        .with_derivative(ScalarFunction::new("cube'", |t| 3.0 * t * t));
    let o = graph.map(x, &cube)?.id();
    let network = Network {
        graph,
        inputs: vec![("x".into(), x)],
        params: Vec::new(),
        consts: Vec::new(),
        outputs: vec![("o".into(), o)],
        nodes: Vec::new(),
    };
    let request = adnet_cli::Request {
        at: vec!["x=2".into()],
        ..Default::default()
    };
    let mut out = Vec::new();
    let outcome = adnet_cli::run_network(&network, adnet_cli::Command::Grad, &request, &mut out)?;
    assert_eq!(outcome, adnet_cli::Outcome::Success);
    let err = adnet_cli::run_network(&network, adnet_cli::Command::Hessian, &request, &mut out)
        .expect_err("no second derivative");
    assert!(
        err.to_string().contains("no derivative of order 2"),
        "{err}"
    );
    Ok(())
}

#[test]
fn dot_draws_adaptive_nodes_as_squares() -> TestResult {
    let path = write_file("lecture2.adn", LECTURE2);
    let output = run_file("dot", &path, &[]);
    assert_status(&output, 0);
    let text = stdout(&output);
    assert!(text.starts_with("digraph adnet {"), "{text}");
    assert!(text.trim_end().ends_with('}'), "{text}");
    assert!(text.contains("shape=box"), "{text}");
    assert!(text.contains("shape=circle"), "{text}");
    assert!(text.contains("label=\"alpha\\n[]\""), "{text}");
    assert_eq!(text, parse(LECTURE2)?.graph.to_dot());
    Ok(())
}

#[test]
fn parse_errors_name_file_line_and_column_with_a_caret() {
    let path = write_file("typo.adn", "input x\ny = expp(x)\noutput y\n");
    for command in ["grad", "hessian", "check", "dot"] {
        let output = run_file(
            command,
            &path,
            &["--at", "x=1"][..if command == "dot" { 0 } else { 2 }],
        );
        assert_status(&output, 2);
        let text = stderr(&output);
        let first = text.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            format!("error: {}:2:5: unknown function `expp`", path.display()),
            "{text}"
        );
        assert!(text.contains("2 | y = expp(x)"), "{text}");
        assert!(text.lines().any(|l| l.ends_with("|     ^")), "{text}");
        assert_eq!(stdout(&output), "");
    }
}

#[test]
fn bad_at_items_name_the_problem() {
    let path = write_file("lecture2.adn", LECTURE2);
    let cases: &[(&[&str], &str)] = &[
        (&["--at", "x=1"], "error: --at: missing input y\n"),
        (&[], "error: --at: missing inputs x, y\n"),
        (
            &["--at", "x=1,y=2,z=3"],
            "error: --at: unknown input `z` (inputs are x, y)\n",
        ),
        (
            &["--at", "x=abc,y=1"],
            "error: --at: `x=abc` is not NAME=NUMBER\n",
        ),
        (&["--at", "x,y=1"], "error: --at: `x` is not NAME=NUMBER\n"),
        (
            &["--at", "x=1,y=nan"],
            "error: --at: `y=nan`: the value must be a finite number\n",
        ),
        (&["--at", "x=1,x=2"], "error: --at: x is given twice\n"),
        (
            &["--at", "x=1,y=2,alpha=3"],
            "error: --at: `alpha` is a parameter, not an input (change it with --set)\n",
        ),
    ];
    for command in ["grad", "hessian", "check"] {
        for (args, message) in cases {
            let output = run_file(command, &path, args);
            assert_status(&output, 2);
            assert_eq!(stderr(&output), *message, "{command} {args:?}");
            assert_eq!(stdout(&output), "");
        }
    }
}

#[test]
fn set_accepts_only_parameters() {
    let source = "input x, y\nparam alpha = 0.8, beta = 1.2\nconst c = 2\no = alpha*x + beta*y + c\noutput o\n";
    let path = write_file("params.adn", source);
    let cases: &[(&str, &str)] = &[
        (
            "x=1",
            "error: --set: `x` is an input, not a parameter (give it with --at; parameters are alpha, beta)\n",
        ),
        ("c=1", "error: --set: `c` is a constant, not a parameter (parameters are alpha, beta)\n"),
        ("o=1", "error: --set: unknown parameter `o` (parameters are alpha, beta)\n"),
        ("alpha=x", "error: --set: `alpha=x` is not NAME=NUMBER\n"),
    ];
    for (set, message) in cases {
        let output = run_file("grad", &path, &["--at", "x=1,y=2", "--set", set]);
        assert_status(&output, 2);
        assert_eq!(stderr(&output), *message);
    }
    let output = run_file(
        "grad",
        &path,
        &["--at", "x=1,y=2", "--set", "beta=-4", "--json"],
    );
    assert_status(&output, 0);
    assert_eq!(
        json(&output)["outputs"]["o"].as_f64(),
        Some(0.8 - 8.0 + 2.0)
    );
}

#[test]
fn a_nan_value_names_the_node_its_formula_and_the_point() {
    let path = write_file("lecture2.adn", LECTURE2);
    for command in ["grad", "hessian", "check"] {
        for json in [false, true] {
            let mut args = vec!["--at", "x=-3,y=0.5"];
            if json {
                args.push("--json");
            }
            let output = run_file(command, &path, &args);
            assert_status(&output, 2);
            assert_eq!(
                stderr(&output),
                "error: q = ln(beta*x + y) is NaN at x=-3, y=0.5\n"
            );
            assert_eq!(stdout(&output), "");
        }
    }
    // a node inside a definition is named through the definition it belongs to
    let path = write_file("inner.adn", "input x\nq = 2*ln(x) + 1\noutput q\n");
    let output = run_file("grad", &path, &["--at", "x=-1"]);
    assert_status(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: the ln in q = 2*ln(x) + 1 is NaN at x=-1\n"
    );
    // an infinite value too
    let path = write_file(
        "inf.adn",
        "input x\nparam k = 800\nbig = exp(k*x)\no = big/2\noutput o\n",
    );
    let output = run_file("grad", &path, &["--at", "x=1"]);
    assert_status(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: big = exp(k*x) is infinite at x=1\n"
    );
}

#[test]
fn an_infinite_derivative_of_a_finite_value_is_an_error() {
    let path = write_file("sqrt.adn", "input x\no = sqrt(x)\noutput o\n");
    let output = run_file("grad", &path, &["--at", "x=0"]);
    assert_status(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: the derivative of o with respect to x is infinite at x=0\n"
    );
    let output = run_file("check", &path, &["--at", "x=0", "--json"]);
    assert_status(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: the derivative of o with respect to x is infinite at x=0\n"
    );
    let output = run_file("hessian", &path, &["--at", "x=0"]);
    assert_status(&output, 2);
    assert!(
        stderr(&output)
            .starts_with("error: the second derivative of o with respect to x twice is infinite"),
        "{}",
        stderr(&output)
    );
    // the value alone is fine
    assert_status(&run_file("grad", &path, &["--at", "x=4"]), 0);
}

#[test]
fn unreadable_files_are_errors() {
    let missing = std::env::temp_dir().join("adnet-cli-test-does-not-exist.adn");
    let output = run_file("grad", &missing, &["--at", "x=1"]);
    assert_status(&output, 2);
    assert!(
        stderr(&output).starts_with(&format!("error: cannot read {}:", missing.display())),
        "{}",
        stderr(&output)
    );
    let dir = write_file("x.adn", "")
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let output = run_file("dot", &dir, &[]);
    assert_status(&output, 2);
    assert!(
        stderr(&output).starts_with("error: cannot read"),
        "{}",
        stderr(&output)
    );
    let binary = write_file("binary.adn", [0xff, 0xfe, 0x00, 0x41]);
    let output = run_file("grad", &binary, &[]);
    assert_status(&output, 2);
    assert!(
        stderr(&output).starts_with("error: cannot read"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let output = adnet(&["--help"]);
    assert_status(&output, 0);
    assert!(stdout(&output).contains("hessian"), "{}", stdout(&output));
    assert_status(&adnet(&["grad", "--help"]), 0);
    assert_status(&adnet(&["--version"]), 0);
    for args in [
        &[][..],
        &["frobnicate"],
        &["grad"],
        &["grad", "f.adn", "--bogus"],
        &["dot", "a", "b"],
    ] {
        let output = adnet(args);
        assert_status(&output, 2);
        assert!(!stderr(&output).is_empty());
    }
}

#[test]
fn a_network_without_inputs_or_parameters_works() -> TestResult {
    let path = write_file("constant.adn", "const c = 3\no = c*2\noutput o\n");
    let output = run_file("grad", &path, &["--json"]);
    assert_status(&output, 0);
    assert_eq!(
        stdout(&output),
        "{\"outputs\": {\"o\": 6.0}, \"gradients\": {\"o\": {}}}\n"
    );
    let output = run_file("hessian", &path, &["--json"]);
    assert_status(&output, 0);
    assert_eq!(
        stdout(&output),
        "{\"hessians\": {\"o\": {\"wrt\": [], \"matrix\": []}}}\n"
    );
    let output = run_file("check", &path, &[]);
    assert_status(&output, 0);
    assert!(
        stdout(&output).starts_with("PASS: all 0 entries"),
        "{}",
        stdout(&output)
    );
    let output = run_file("grad", &path, &["--at", "x=1"]);
    assert_status(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: --at: unknown input `x` (the network has no inputs)\n"
    );
    Ok(())
}

/// Every printed number parses back to the same `f64`, including ones whose shortest form
/// needs all 17 digits or an exponent.
#[test]
fn json_numbers_round_trip_exactly() -> TestResult {
    let source =
        "input x\nparam w = 0.1\na = w*x/3\nb = exp(-40*x)*w\nc = x*1e300\noutput a, b, c\n";
    let path = write_file("numbers.adn", source);
    let output = run_file("grad", &path, &["--at", "x=1.1", "--json"]);
    assert_status(&output, 0);
    let printed = json(&output);
    let network = parse(source)?;
    let at = [("x", 1.1)];
    let ids: Vec<NodeId> = wrt(&network).iter().map(|(_, id)| *id).collect();
    for (name, node) in &network.outputs {
        assert_bits(
            &printed["outputs"][name],
            network.graph.eval(*node, &at)?,
            name,
        );
        for (wrt, d) in ["x", "w"].iter().zip(grad(&network.graph, *node, &ids)?) {
            let expected = eval_at(&network.graph, d.id(), &at)?.to_scalar()?;
            assert_bits(&printed["gradients"][name][wrt], expected, wrt);
        }
    }
    // and the text itself is the shortest round-trip form: the digits Rust's `{:e}` prints
    let b = network.graph.eval(network.outputs[1].1, &at)?;
    let c = network.graph.eval(network.outputs[2].1, &at)?;
    let text = stdout(&output);
    assert!(text.contains(&format!("\"b\": {b:e}")), "{b:e} in {text}");
    let c_text = format!("{c:e}").replace('e', "e+");
    assert!(
        text.contains(&format!("\"c\": {c_text}")),
        "{c_text} in {text}"
    );
    Ok(())
}

/// The example networks of `examples/networks/` all parse and differentiate.
#[test]
fn every_example_network_runs() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/networks");
    let points: &[(&str, &str)] = &[
        ("anfis.adn", "x=0.3,y=0.6"),
        ("lecture1.adn", "x=1,y=0.5"),
        ("lecture2.adn", "x=1,y=0.5"),
        ("rbf.adn", "x=0.3,y=-0.2"),
        ("rosenbrock.adn", "x=-1.2,y=1"),
        ("sigmoid_tanh.adn", "x=0.7"),
        ("xor.adn", "x=1,y=0"),
    ];
    let mut files: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".adn"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        points
            .iter()
            .map(|(f, _)| f.to_string())
            .collect::<Vec<_>>(),
        "every example needs a point here"
    );
    for (file, at) in points {
        let path = dir.join(file);
        parse(&std::fs::read_to_string(&path)?)?;
        for command in ["grad", "check"] {
            let output = run_file(command, &path, &["--at", at]);
            assert_status(&output, 0);
        }
        assert_status(&run_file("dot", &path, &[]), 0);
    }
    // the XOR weights solve XOR
    let xor = dir.join("xor.adn");
    for (at, expected) in [
        ("x=0,y=0", 0.0),
        ("x=0,y=1", 1.0),
        ("x=1,y=0", 1.0),
        ("x=1,y=1", 0.0),
    ] {
        let output = run_file("grad", &xor, &["--at", at, "--json"]);
        let o = json(&output)["outputs"]["o"].as_f64().ok_or("a number")?;
        assert!((o - expected).abs() < 0.01, "xor at {at}: {o}");
    }
    // the identity 2·sigmoid(x) − 1 = tanh(x/2)
    let output = run_file(
        "grad",
        &dir.join("sigmoid_tanh.adn"),
        &["--at", "x=0.7", "--json"],
    );
    let printed = json(&output);
    assert!(printed["outputs"]["d"].as_f64().ok_or("a number")?.abs() < 1e-15);
    assert!(
        printed["gradients"]["d"]["x"]
            .as_f64()
            .ok_or("a number")?
            .abs()
            < 1e-15
    );
    Ok(())
}

/// A seeded linear congruential generator, enough to make garbage from.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random bytes, random characters and random sequences of the language's own tokens: the
/// binary exits 0 or 2 (or 1 for a check) and never panics.
#[test]
fn garbage_never_panics_the_binary() {
    let tokens = [
        "input",
        "param",
        "const",
        "output",
        "x",
        "y",
        "w",
        "o",
        "=",
        "+",
        "-",
        "*",
        "/",
        "^",
        "(",
        ")",
        ",",
        "\n",
        " ",
        "1",
        "0",
        "-3",
        "1e308",
        "1e-320",
        "2.5",
        "exp",
        "ln",
        "sqrt",
        "abs",
        "pow",
        "max",
        "leaky_relu",
        "sigmoid",
        "#",
        "é",
        "\t",
        "\r",
        ".",
        "_",
        "0x",
    ];
    let mut rng = Lcg(0x5eed);
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for _ in 0..20 {
        let len = rng.below(200);
        cases.push((0..len).map(|_| rng.next() as u8).collect());
    }
    for _ in 0..20 {
        let len = rng.below(120);
        let text: String = (0..len)
            .map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'))
            .collect();
        cases.push(text.into_bytes());
    }
    for _ in 0..60 {
        let len = rng.below(40);
        let text: String = (0..len)
            .map(|_| tokens[rng.below(tokens.len())])
            .collect::<Vec<_>>()
            .join(" ");
        cases.push(text.into_bytes());
    }
    // near-valid files: a valid header then random statements
    for _ in 0..40 {
        let mut text = String::from("input x, y\nparam w = 0.5\n");
        for line in 0..rng.below(4) + 1 {
            text.push_str(&format!("o{line} = "));
            for _ in 0..rng.below(8) + 1 {
                text.push_str(tokens[4 + rng.below(tokens.len() - 4)]);
            }
            text.push('\n');
        }
        text.push_str("output o0\n");
        cases.push(text.into_bytes());
    }
    cases.push("(".repeat(5_000).into_bytes());
    cases.push(format!("input x\no = {}x\noutput o\n", "-".repeat(5_000)).into_bytes());
    let commands: [&[&str]; 5] = [
        &["grad", "--at", "x=1,y=0.5"],
        &["check", "--at", "x=0,y=0", "--json"],
        &["hessian", "--at", "x=-1,y=2"],
        &["dot"],
        &["grad", "--at", "x=1e308,y=-1e308", "--set", "w=1e-320"],
    ];
    for (k, contents) in cases.iter().enumerate() {
        let path = write_file("garbage.adn", contents);
        let args = commands[k % commands.len()];
        let mut full = vec![args[0], path.to_str().expect("temp paths are UTF-8")];
        full.extend_from_slice(&args[1..]);
        let output = adnet(&full);
        let code = output.status.code();
        let err = stderr(&output);
        assert!(
            matches!(code, Some(0..=2)) && !err.contains("panicked"),
            "exit {code:?} on {:?} with {full:?}:\n{err}",
            String::from_utf8_lossy(contents)
        );
        if code == Some(2) {
            assert!(err.starts_with("error: "), "{err}");
        }
    }
}

#[test]
fn garbage_arguments_never_panic() {
    let path = write_file("lecture2.adn", LECTURE2);
    let path = path.to_str().expect("temp paths are UTF-8");
    let weird = [
        "", "=", ",", ",,", "x==1", "x=1,", "=1", "x=1e999", "x=-0", "x=0x10", "é=1", "x=1;y=2",
        "x=1 y=2", "--json", "-", "x=--1",
    ];
    for at in weird {
        for command in ["grad", "hessian", "check"] {
            for flag in ["--at", "--set"] {
                let output = adnet(&[command, path, flag, at]);
                let code = output.status.code();
                assert!(
                    matches!(code, Some(0..=2)) && !stderr(&output).contains("panicked"),
                    "{command} {flag} {at:?}: {code:?} {}",
                    stderr(&output)
                );
            }
        }
    }
}
