//! The `.adn` parser through the public API: every grammar rule evaluated through a plan,
//! the lecture's network against the Rust-built one, every error with its `line:column` and
//! rendered caret, and arbitrary input never panicking.

use adnet_graph::{parse, Graph, GraphError, NodeKind, ParseError};
use proptest::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The value of `e` with inputs `x` and `y` (both declared, used or not).
fn eval_with(e: &str, x: f64, y: f64) -> Result<f64, GraphError> {
    let network = parse(&format!("input x, y\nv = {e}\noutput v\n"))?;
    let (_, v) = network.outputs[0];
    network.graph.eval(v, &[("x", x), ("y", y)])
}

fn eval(e: &str) -> Result<f64, GraphError> {
    eval_with(e, 0.0, 0.0)
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-12 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, expected {expected}"
    );
}

#[test]
fn precedence_and_associativity_follow_the_spec() -> TestResult {
    for (expression, expected) in [
        ("1+2*3", 7.0),
        ("2*3^2", 18.0),
        ("(1+2)*3", 9.0),
        ("2^3^2", 512.0),
        ("(2^3)^2", 64.0),
        ("8/4/2", 1.0),
        ("8-4-2", 2.0),
        ("-2^2", -4.0),
        ("2^-1", 0.5),
        ("-3 + 5", 2.0),
        ("--3", 3.0),
        ("+4 - -1", 5.0),
        ("1e-3 * 1000", 1.0),
        ("2.5e1 / .5", 50.0),
    ] {
        assert_eq!(eval(expression)?, expected, "{expression}");
    }
    Ok(())
}

#[test]
fn unary_minus_binds_looser_than_power() -> TestResult {
    assert_eq!(eval_with("-x^2", 3.0, 0.0)?, -9.0);
    assert_eq!(eval_with("--x", 3.0, 0.0)?, 3.0);
    assert_eq!(eval_with("---x", 3.0, 0.0)?, -3.0);
    assert_eq!(eval_with("-x*y", 3.0, 2.0)?, -6.0);
    assert_eq!(eval_with("x^-y", 2.0, 1.0)?, 0.5);
    Ok(())
}

#[test]
fn every_function_matches_std() -> TestResult {
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    type Reference = fn(f64) -> f64;
    let cases: [(&str, Reference); 18] = [
        ("exp", f64::exp),
        ("ln", f64::ln),
        ("log", f64::ln),
        ("sqrt", f64::sqrt),
        ("abs", f64::abs),
        ("sin", f64::sin),
        ("cos", f64::cos),
        ("tan", f64::tan),
        ("asin", f64::asin),
        ("acos", f64::acos),
        ("atan", f64::atan),
        ("sinh", f64::sinh),
        ("cosh", f64::cosh),
        ("tanh", f64::tanh),
        ("softplus", |x| x.exp().ln_1p()),
        ("softsign", |x| x / (1.0 + x.abs())),
        ("relu", |x| x.max(0.0)),
        ("sigmoid", |x| 1.0 / (1.0 + (-x).exp())),
    ];
    for x in [0.3, 0.7] {
        for (name, reference) in cases {
            let value = eval_with(&format!("{name}(x)"), x, 0.0)?;
            assert!(
                (value - reference(x)).abs() < 1e-12,
                "{name}({x}) = {value}, expected {}",
                reference(x)
            );
        }
    }
    assert_close(
        eval_with("sigmoid(-x)", 2.0, 0.0)?,
        sigmoid(-2.0),
        "sigmoid",
    );
    assert_eq!(eval_with("relu(x)", -2.0, 0.0)?, 0.0);
    assert_eq!(eval_with("abs(x)", -2.0, 0.0)?, 2.0);
    Ok(())
}

#[test]
fn binary_functions_take_two_arguments() -> TestResult {
    assert_eq!(eval_with("pow(x, y)", 2.0, 10.0)?, 1024.0);
    assert_eq!(eval_with("min(x, y)", 2.0, -1.0)?, -1.0);
    assert_eq!(eval_with("max(x, y)", 2.0, -1.0)?, 2.0);
    assert_eq!(eval_with("max(x + 1, 2 * y)", 2.0, 4.0)?, 8.0);
    Ok(())
}

#[test]
fn leaky_relu_is_x_above_zero_and_slope_times_x_below() -> TestResult {
    for slope in ["0.1", "-0.5", "1/10", "s", "w"] {
        let source = format!(
            "input x\nconst s = 0.1\nparam w = 0.1\ny = leaky_relu(x, {slope})\noutput y\n"
        );
        let network = parse(&source)?;
        let y = network.outputs[0].1;
        let s = if slope == "-0.5" { -0.5 } else { 0.1 };
        assert_eq!(network.graph.eval(y, &[("x", 3.0)])?, 3.0, "{slope}");
        assert_close(network.graph.eval(y, &[("x", -2.0)])?, -2.0 * s, slope);
        assert_eq!(network.graph.eval(y, &[("x", 0.0)])?, 0.0, "{slope}");
    }
    Ok(())
}

#[test]
fn constant_slopes_use_the_leaky_relu_op_and_parameter_slopes_a_composition() -> TestResult {
    let network = parse("input x\nparam w = 0.1\nconst s = 0.2\na = leaky_relu(x, s)\nb = leaky_relu(x, w)\noutput a, b\n")?;
    let op_name = |name: &str| -> Result<String, GraphError> {
        let node = network.graph.node(name)?;
        Ok(match network.graph.kind(node)? {
            NodeKind::Op { op, .. } => op.name().to_string(),
            other => other.describe().to_string(),
        })
    };
    assert_eq!(op_name("a")?, "leaky_relu");
    assert_eq!(op_name("b")?, "where");
    Ok(())
}

#[test]
fn negative_bases_with_integer_exponents_are_exact() -> TestResult {
    assert_eq!(
        (-2f64).powf(3.0),
        -8.0,
        "powf is exact here, so `Pow` is used"
    );
    assert_eq!(eval("(-2)^3")?, -8.0);
    assert_eq!(eval("(-2)^2")?, 4.0);
    assert_eq!(eval("pow(-2, 2)")?, 4.0);
    assert_eq!(eval("(-2)^-1")?, -0.5);
    assert_eq!(eval_with("x^3", -2.0, 0.0)?, -8.0);
    let network = parse("input x\nconst n = 3\ny = x^n\noutput y\n")?;
    assert_eq!(
        network.graph.eval(network.outputs[0].1, &[("x", -2.0)])?,
        -8.0
    );
    assert!(
        eval("(-2)^0.5")?.is_nan(),
        "a non-integer power of a negative base"
    );
    Ok(())
}

#[test]
fn declarations_repeat_and_take_signed_literals() -> TestResult {
    let source = "input x\ninput y\nparam w = -4.9\nparam b = +1, c = 2e-1\nconst k = -3, m = 0.5\nconst n = 7\nz = w*x + b*y + c + k*m + n\noutput z\n";
    let network = parse(source)?;
    let names = |list: &[(String, _)]| list.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&network.inputs), ["x", "y"]);
    assert_eq!(names(&network.params), ["w", "b", "c"]);
    assert_eq!(names(&network.consts), ["k", "m", "n"]);
    assert_eq!(
        network.graph.value(network.params[0].1)?.to_f64_vec(),
        [-4.9]
    );
    let z = network.outputs[0].1;
    let value = network.graph.eval(z, &[("x", 1.0), ("y", 2.0)])?;
    assert_close(value, -4.9 + 2.0 + 0.2 - 1.5 + 7.0, "z");
    assert!(matches!(
        network.graph.kind(network.consts[0].1)?,
        NodeKind::Const { .. }
    ));
    Ok(())
}

#[test]
fn comments_blank_lines_tabs_and_crlf_are_ignored() -> TestResult {
    let source = "# a network\r\n\r\n\tinput x   # ünïcode comment ✓\r\n   \r\ny = 2*x # double\r\n# trailing\r\noutput y";
    let network = parse(source)?;
    assert_eq!(
        network.graph.eval(network.outputs[0].1, &[("x", 4.0)])?,
        8.0
    );
    assert_eq!(
        network.nodes,
        vec![("y".to_string(), network.outputs[0].1, "2*x".to_string(), 5)]
    );
    Ok(())
}

#[test]
fn nodes_carry_their_names_and_expressions() -> TestResult {
    let network =
        parse("input x\nparam a = 2\np = a * (x + 1)   # note\nq = p\nr = 3\noutput p, q, r\n")?;
    let g = &network.graph;
    let texts: Vec<_> = network
        .nodes
        .iter()
        .map(|(name, id, text, line)| (name.as_str(), g.name_of(*id), text.as_str(), *line))
        .collect();
    assert_eq!(
        texts,
        [
            ("p", Some("p".to_string()), "a * (x + 1)", 3),
            ("q", Some("q".to_string()), "p", 4),
            ("r", Some("r".to_string()), "3", 5),
        ]
    );
    // `q = p` and `r = 3` get nodes of their own, so `p` and the shared 3 keep their names
    assert_eq!(g.name_of(g.node("p")?), Some("p".to_string()));
    assert_eq!(g.name_of(g.scalar(3.0)), None);
    assert_eq!(g.eval(g.node("q")?, &[("x", 1.0)])?, 4.0);
    assert_eq!(g.eval(g.node("r")?, &[])?, 3.0);
    let outputs: Vec<_> = network.outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(outputs, ["p", "q", "r"]);
    Ok(())
}

#[test]
fn named_constants_do_not_name_other_uses_of_their_value() -> TestResult {
    let network = parse("input x\nconst c = 3.0\ny = x*3 + c\noutput y\n")?;
    let g = &network.graph;
    assert_eq!(g.name_of(g.scalar(3.0)), None);
    assert_eq!(g.eval(network.outputs[0].1, &[("x", 1.0)])?, 6.0);
    Ok(())
}

#[test]
fn lecture_network_matches_the_rust_built_one() -> TestResult {
    let source = "\
# the lecture's adaptive network
input x, y
param alpha = 0.8, beta = 1.2, gamma = 2
p = alpha*x + exp(y)
q = ln(beta*x + y)
u = (p + q)/gamma
v = p*q
o = u*ln(v) + v*ln(u)
output o
";
    let network = Graph::parse(source)?;
    let parsed = network
        .graph
        .eval(network.outputs[0].1, &[("x", 1.0), ("y", 0.5)])?;

    let g = Graph::new();
    let o = adnet_graph::networks::lecture(&g)?.o;
    let built = g.eval(o, &[("x", 1.0), ("y", 0.5)])?;

    assert_eq!(parsed, built);
    assert_close(parsed, 0.907_975_004_969, "o");
    assert!((parsed - 0.907_975_004_969).abs() < 1e-12);
    assert_eq!(network.nodes.len(), 5);
    assert_eq!(network.graph.len(), g.len());
    Ok(())
}

/// The error `source` gives, checked to be at `line:col`.
fn error_at(source: &str, line: u32, col: u32) -> ParseError {
    match parse(source) {
        Ok(_) => panic!("{source:?} parsed"),
        Err(error) => {
            assert_eq!(
                (error.line(), error.col()),
                (line, col),
                "{source:?}: {error}"
            );
            assert!(
                error.to_string().starts_with(&format!("{line}:{col}: ")),
                "{error}"
            );
            error
        }
    }
}

#[test]
fn redefinition_names_the_first_line() {
    let error = error_at("input x\nparam x = 1\noutput x\n", 2, 7);
    assert_eq!(
        error,
        ParseError::Redefinition {
            line: 2,
            col: 7,
            name: "x".into(),
            previous_line: 1
        }
    );
    error_at("input x\ny = x\ny = 2*x\noutput y\n", 3, 1);
    error_at("input x, x\noutput x\n", 1, 10);
}

#[test]
fn unknown_names_functions_and_arity() {
    let error = error_at("input x\ny = x + z\noutput y\n", 2, 9);
    assert_eq!(error.to_string(), "2:9: unknown name `z`");
    let error = error_at("input x\ny = expp(x)\noutput y\n", 2, 5);
    assert_eq!(error.to_string(), "2:5: unknown function `expp`");
    let error = error_at("input x\ny = 1 + x(2)\noutput y\n", 2, 9);
    assert!(matches!(error, ParseError::UnknownFunction { .. }));
    let error = error_at("input x\ny = leaky_relu(x)\noutput y\n", 2, 5);
    assert_eq!(
        error,
        ParseError::Arity {
            line: 2,
            col: 5,
            function: "leaky_relu".into(),
            expected: 2,
            actual: 1
        }
    );
    assert_eq!(
        error.to_string(),
        "2:5: `leaky_relu` takes 2 arguments, got 1"
    );
    let error = error_at("input x\ny = 2 * exp(x, x)\noutput y\n", 2, 9);
    assert_eq!(error.to_string(), "2:9: `exp` takes 1 argument, got 2");
    error_at("input x\ny = max()\noutput y\n", 2, 5);
    let error = error_at("input x\ny = exp + 1\noutput y\n", 2, 9);
    assert!(
        matches!(error, ParseError::UnexpectedToken { .. }),
        "{error}"
    );
}

#[test]
fn use_before_definition_names_the_defining_line() {
    let error = error_at("input x\ny = 2*z\nz = x\noutput y\n", 2, 7);
    assert_eq!(
        error,
        ParseError::UseBeforeDefinition {
            line: 2,
            col: 7,
            name: "z".into(),
            defined_line: 3
        }
    );
    error_at("output x\ninput x\n", 1, 8);
    error_at("y = w\nparam a = 1, w = 2\noutput y\n", 1, 5);
}

#[test]
fn reserved_words_cannot_be_defined() {
    error_at("input x\nexp = x\noutput exp\n", 2, 1);
    error_at("input output\n", 1, 7);
    error_at("param log = 1\n", 1, 7);
}

#[test]
fn missing_output_and_empty_files() {
    let error = error_at("input x\ny = 2*x   # no output\n\n", 2, 8);
    assert_eq!(error, ParseError::NoOutput { line: 2, col: 8 });
    for source in [
        "",
        "\n\n",
        "   \t\r\n",
        "# only a comment\n  # another\n",
        "\u{feff}",
    ] {
        assert_eq!(
            error_at(source, 1, 1),
            ParseError::Empty { line: 1, col: 1 }
        );
    }
    error_at("input x\noutput y\n", 2, 8);
    error_at("input x\noutput x, x\n", 2, 11);
}

#[test]
fn syntax_errors_point_at_the_offending_token() {
    let error = error_at("input x\ny = x @ 2\noutput y\n", 2, 7);
    assert_eq!(error.to_string(), "2:7: unexpected character `@`");
    let error = error_at("input x\ny x + 1\noutput y\n", 2, 3);
    assert_eq!(error.to_string(), "2:3: expected `=`, found `x`");
    let error = error_at("input x\ny = (x + 1 # comment\noutput y\n", 2, 11);
    assert_eq!(error.to_string(), "2:11: expected `)`, found end of line");
    let error = error_at("input x\ny = exp(x\noutput y", 2, 10);
    assert_eq!(
        error.to_string(),
        "2:10: expected `,` or `)`, found end of line"
    );
    let error = error_at("input x\ny = 1.2.3 * x\noutput y\n", 2, 5);
    assert_eq!(error.to_string(), "2:5: invalid number `1.2.3`");
    error_at("input x\ny = 1e * x\noutput y\n", 2, 5);
    error_at("input x\ny = 2x\noutput y\n", 2, 5);
    error_at("input x\nparam w = x\noutput w\n", 2, 11);
    error_at("input x\nparam w\noutput w\n", 2, 8);
    error_at("input x y\n", 1, 9);
    error_at("input\n", 1, 6);
    error_at("input x\ny = x +\noutput y", 2, 8);
    error_at("input x\n= x\n", 2, 1);
    error_at("input x\ny = x\n\toutput y z\n", 3, 11);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() -> TestResult {
    let deep = 100;
    let ok = format!(
        "input x\ny = {}x{}\noutput y\n",
        "(".repeat(deep - 1),
        ")".repeat(deep - 1)
    );
    assert!(parse(&ok).is_ok());
    assert_eq!(eval(&format!("{}1", "-".repeat(deep - 1)))?, -1.0);
    for nested in ["(", "-", "2^"] {
        let source = format!("input x\ny = {}x\noutput y\n", nested.repeat(100_000));
        let error = parse(&source).unwrap_err();
        assert!(
            matches!(
                error,
                ParseError::TooDeep {
                    line: 2,
                    limit: 100,
                    ..
                }
            ),
            "{error}"
        );
    }
    Ok(())
}

#[test]
fn rendered_errors_show_the_line_and_a_caret() {
    let source = "input x, y\nparam alpha = 0.8\np = alpha*x + expp(y)\noutput p\n";
    let error = error_at(source, 3, 15);
    assert_eq!(
        error.render(source),
        "\
3:15: unknown function `expp`
  |
3 | p = alpha*x + expp(y)
  |               ^
"
    );

    // tabs stay tabs under the line, so the caret lines up in any terminal
    let source = "input x\r\n\ty =\tx + z\r\noutput y\r\n";
    let error = error_at(source, 2, 10);
    assert_eq!(
        error.render(source),
        "2:10: unknown name `z`\n  |\n2 | \ty =\tx + z\n  | \t   \t    ^\n"
    );

    // a missing token at the end of the line is marked just past it
    let source = "input x\ny = (x + 1\noutput y\n";
    assert_eq!(
        error_at(source, 2, 11).render(source),
        "2:11: expected `)`, found end of line\n  |\n2 | y = (x + 1\n  |           ^\n"
    );

    // a two-digit line number widens the gutter
    let source = format!("{}input x\ny = x ^ ^\n", "\n".repeat(9));
    assert_eq!(
        error_at(&source, 11, 9).render(&source),
        "11:9: expected an expression, found `^`\n   |\n11 | y = x ^ ^\n   |         ^\n"
    );

    let error = error_at("", 1, 1);
    assert!(error.render("").starts_with("1:1: empty file"));
}

#[test]
fn parse_errors_convert_into_graph_errors() {
    fn parse_into_graph_error(source: &str) -> Result<usize, GraphError> {
        Ok(parse(source)?.nodes.len())
    }
    let error = parse_into_graph_error("output\n").unwrap_err();
    assert!(matches!(error, GraphError::Parse(_)));
    assert_eq!(error.to_string(), "1:7: expected a name, found end of line");
}

const TOKENS: [&str; 24] = [
    "x",
    "y",
    "=",
    "+",
    "*",
    "^",
    "(",
    ")",
    ",",
    "exp",
    "1.5",
    "\n",
    "input",
    "param",
    "output",
    "-",
    "#",
    "const",
    "leaky_relu",
    "z",
    " ",
    "2",
    "/",
    "\r\n",
];

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let source = String::from_utf8_lossy(&bytes);
        if let Err(error) = parse(&source) {
            let rendered = error.render(&source);
            let prefix = format!("{}:{}: ", error.line(), error.col());
            prop_assert!(rendered.starts_with(&prefix), "{}", rendered);
        }
    }

    #[test]
    fn random_token_sequences_never_panic(indices in prop::collection::vec(0..TOKENS.len(), 0..60)) {
        let source: String = indices.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        match parse(&source) {
            Ok(network) => prop_assert!(!network.outputs.is_empty()),
            Err(error) => {
                let rendered = error.render(&source);
                prop_assert!(rendered.contains('^'));
            }
        }
    }

    #[test]
    fn valid_prefixes_of_random_networks_parse(
        lines in prop::collection::vec((0..3usize, 0..3usize, 0..4usize), 1..12)
    ) {
        // a chain of nodes, each combining two earlier names; always valid
        let mut source = String::from("input x\nparam w = -0.5\n");
        let mut names = vec!["x".to_string(), "w".to_string()];
        for (k, (a, b, op)) in lines.iter().enumerate() {
            let lhs = &names[a % names.len()];
            let rhs = &names[b % names.len()];
            let op = ["+", "*", "-", "/"][*op];
            source.push_str(&format!("n{k} = {lhs} {op} -{rhs}^2\n"));
            names.push(format!("n{k}"));
        }
        source.push_str(&format!("output {}\n", names[names.len() - 1]));
        let network = parse(&source).map_err(|e| TestCaseError::fail(e.render(&source)))?;
        prop_assert_eq!(network.nodes.len(), lines.len());
    }
}
