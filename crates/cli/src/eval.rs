//! Values and derivatives of a network at a [`Point`], with every NaN or infinity turned into
//! an error that names the node or the derivative.

use adnet_autodiff::{grad, hessian};
use adnet_graph::{GraphError, NodeId, Plan};

use crate::values::Point;
use crate::{CliError, Result};
use adnet_graph::Network;

/// The outputs' values, in output order. The plan runs with anomaly detection, so the first
/// node that produces a NaN or an infinity stops it.
///
/// # Errors
/// [`CliError::NonFinite`] naming the node with its formula (`q = ln(beta*x + y) is NaN at
/// x=-3, y=0.5`), and the errors of compiling and running the plan.
pub fn values(network: &Network, point: &Point) -> Result<Vec<f64>> {
    let outputs: Vec<NodeId> = network.outputs.iter().map(|(_, node)| *node).collect();
    let mut plan = network.graph.compile(outputs.iter().copied())?;
    plan.detect_anomalies(true);
    set_inputs(&mut plan, point)?;
    match plan.run(&network.graph) {
        Err(GraphError::NonFinite { node, value, .. }) => {
            return Err(CliError::NonFinite(format!(
                "{} is {} {}",
                describe_node(network, node),
                describe_value(value),
                point.describe()
            )));
        }
        other => other?,
    }
    let mut values = Vec::with_capacity(outputs.len());
    for (name, node) in &network.outputs {
        let value = plan.scalar(*node)?;
        // a leaf output (a constant read straight from the file) is not checked by the run
        if !value.is_finite() {
            return Err(CliError::NonFinite(format!(
                "output {name} is {} {}",
                describe_value(value),
                point.describe()
            )));
        }
        values.push(value);
    }
    Ok(values)
}

/// The gradient of each output with respect to the point's inputs and parameters: one row per
/// output, one entry per [`Point::wrt`] node.
///
/// # Errors
/// [`CliError::NonFinite`] for an entry that is NaN or infinite (`the derivative of o with
/// respect to x is infinite at x=0`); the errors of [`grad`] and of running the plan.
pub fn gradients(network: &Network, point: &Point) -> Result<Vec<Vec<f64>>> {
    let graph = &network.graph;
    let wrt: Vec<NodeId> = point.wrt().map(|(_, node)| node).collect();
    let mut nodes = Vec::with_capacity(network.outputs.len());
    for (_, output) in &network.outputs {
        let row: Vec<NodeId> = grad(graph, *output, &wrt)?.iter().map(|v| v.id()).collect();
        nodes.push(row);
    }
    let mut plan = graph.compile(nodes.iter().flatten().copied())?;
    set_inputs(&mut plan, point)?;
    plan.run(graph)?;
    let names: Vec<&str> = point.wrt().map(|(name, _)| name).collect();
    let mut rows = Vec::with_capacity(nodes.len());
    for ((output, _), row) in network.outputs.iter().zip(&nodes) {
        let mut values = Vec::with_capacity(row.len());
        for (name, node) in names.iter().zip(row) {
            let value = plan.scalar(*node)?;
            if !value.is_finite() {
                return Err(CliError::NonFinite(format!(
                    "the derivative of {output} with respect to {name} is {} {}",
                    describe_value(value),
                    point.describe()
                )));
            }
            values.push(value);
        }
        rows.push(values);
    }
    Ok(rows)
}

/// The Hessian of each output over the point's inputs and parameters, row-major (`n × n`
/// for `n` [`Point::wrt`] nodes), one per output.
///
/// # Errors
/// [`CliError::NonFinite`] for an entry that is NaN or infinite (`the second derivative of o
/// with respect to x and y is NaN at ...`); the errors of [`hessian`] and of running the plan.
pub fn hessians(network: &Network, point: &Point) -> Result<Vec<Vec<f64>>> {
    let graph = &network.graph;
    let wrt: Vec<NodeId> = point.wrt().map(|(_, node)| node).collect();
    let n = wrt.len();
    if n == 0 {
        return Ok(vec![Vec::new(); network.outputs.len()]);
    }
    let mut nodes = Vec::with_capacity(network.outputs.len());
    for (_, output) in &network.outputs {
        nodes.push(hessian(graph, *output, &wrt)?.id());
    }
    let mut plan = graph.compile(nodes.iter().copied())?;
    set_inputs(&mut plan, point)?;
    plan.run(graph)?;
    let names: Vec<&str> = point.wrt().map(|(name, _)| name).collect();
    let mut matrices = Vec::with_capacity(nodes.len());
    for ((output, _), node) in network.outputs.iter().zip(&nodes) {
        let values = plan.output(*node)?.to_f64_vec();
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            let (i, j) = (k / n, k % n);
            let wrt = if i == j {
                format!("{} twice", names[i])
            } else {
                format!("{} and {}", names[i], names[j])
            };
            return Err(CliError::NonFinite(format!(
                "the second derivative of {output} with respect to {wrt} is {} {}",
                describe_value(values[k]),
                point.describe()
            )));
        }
        matrices.push(values);
    }
    Ok(matrices)
}

/// Gives the plan the point's input values (inputs the plan does not read are accepted).
fn set_inputs(plan: &mut Plan, point: &Point) -> Result<()> {
    for (_, node, value) in &point.inputs {
        plan.set_scalar(*node, *value)?;
    }
    Ok(())
}

/// `NaN`, `infinite` or `infinite (-inf)`.
fn describe_value(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "infinite"
    } else {
        "infinite (-inf)"
    }
}

/// The definition a node belongs to: `q = ln(beta*x + y)` for a defined node, `the ln in
/// q = ln(beta*x + y) * 2` for a node inside a definition's expression, else the node id and op.
fn describe_node(network: &Network, node: NodeId) -> String {
    let op = match network.graph.kind(node) {
        Ok(adnet_graph::NodeKind::Op { op, .. }) => op.name().to_string(),
        _ => "value".to_string(),
    };
    // The parser builds a definition's nodes just before the node it names, so the node
    // belongs to the first definition at or after it in creation order.
    let owner = network
        .nodes
        .iter()
        .filter(|(_, defined, _, _)| *defined >= node)
        .min_by_key(|(_, defined, _, _)| *defined);
    match owner {
        Some((name, defined, expr, _)) if *defined == node => format!("{name} = {expr}"),
        Some((name, _, expr, _)) => format!("the {op} in {name} = {expr}"),
        None => format!("node {node} ({op})"),
    }
}
