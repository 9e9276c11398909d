//! `adnet check`: the gradient and the Hessian of every output against central differences.

use std::io::Write;

use adnet_autodiff::{check_grad, CheckEntry, CheckOptions};
use adnet_tensor::Tensor;
use serde_json::{Map, Value};

use crate::eval;
use crate::output::{json_number, write_json, Table};
use crate::values::Point;
use crate::Result;
use adnet_graph::Network;

/// The gradient checks of all outputs, merged.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Whether every entry of every output passed.
    pub passed: bool,
    /// How many entries were compared.
    pub checked: usize,
    /// How many failed.
    pub failed: usize,
    /// The largest absolute error (NaN when some entry is NaN).
    pub max_abs_error: f64,
    /// The largest relative error (NaN when some entry is NaN).
    pub max_rel_error: f64,
    /// The worst entries over all outputs, worst first, each with its output's name.
    pub worst: Vec<(String, CheckEntry)>,
}

/// Runs [`check_grad`] with [`CheckOptions::default`] and second order on every output at
/// `point`, differentiating against every input and parameter, and merges the reports.
///
/// # Errors
/// The errors of [`check_grad`].
pub fn check_network(network: &Network, point: &Point) -> Result<CheckReport> {
    let options = CheckOptions::default().with_second_order(true);
    let wrt: Vec<_> = point.wrt().map(|(_, node)| node).collect();
    let tensors: Vec<(String, Tensor)> = point
        .inputs
        .iter()
        .map(|(name, _, value)| (name.clone(), Tensor::scalar(*value)))
        .collect();
    let inputs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut report = CheckReport {
        passed: true,
        checked: 0,
        failed: 0,
        max_abs_error: 0.0,
        max_rel_error: 0.0,
        worst: Vec::new(),
    };
    let max = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        }
    };
    for (name, output) in &network.outputs {
        let one = check_grad(&network.graph, *output, &wrt, &inputs, &options)?;
        report.passed &= one.passed;
        report.checked += one.checked;
        report.failed += one.failed;
        report.max_abs_error = max(report.max_abs_error, one.max_abs_error);
        report.max_rel_error = max(report.max_rel_error, one.max_rel_error);
        // each output's report keeps its `options.worst` worst, so the overall worst are
        // among them
        report
            .worst
            .extend(one.worst.into_iter().map(|e| (name.clone(), e)));
    }
    report.worst.sort_by(|(_, a), (_, b)| {
        b.excess()
            .total_cmp(&a.excess())
            .then(b.abs_error.total_cmp(&a.abs_error))
    });
    report.worst.truncate(options.worst);
    Ok(report)
}

/// Checks the network at `point` and prints the worst entries: a table and a verdict, or
/// `{"passed": ..., "max_abs_error": ..., "max_rel_error": ..., "worst": [...]}`. Returns
/// whether the check passed.
///
/// The values, gradients and Hessians are evaluated first, so that a NaN or infinity is
/// reported as an error naming where it comes from rather than as a failed entry.
///
/// # Errors
/// A NaN or infinite value or derivative, and the errors of [`check_grad`].
pub fn check(network: &Network, point: &Point, json: bool, out: &mut dyn Write) -> Result<bool> {
    eval::values(network, point)?;
    eval::gradients(network, point)?;
    eval::hessians(network, point)?;
    let report = check_network(network, point)?;
    write_report(&report, json, out)?;
    Ok(report.passed)
}

/// Prints a report as a table or as JSON.
///
/// # Errors
/// When writing fails.
pub fn write_report(report: &CheckReport, json: bool, out: &mut dyn Write) -> Result<()> {
    if json {
        let worst = report
            .worst
            .iter()
            .map(|(output, e)| {
                let mut wrt = vec![Value::String(element(&e.wrt, &e.index))];
                if let Some(second) = &e.wrt2 {
                    let index = e.index2.as_deref().unwrap_or(&[]);
                    wrt.push(Value::String(element(second, index)));
                }
                let mut entry = Map::new();
                entry.insert("output".into(), Value::String(output.clone()));
                entry.insert("order".into(), Value::from(e.order));
                entry.insert("wrt".into(), Value::Array(wrt));
                entry.insert("analytic".into(), json_number(e.analytic));
                entry.insert("numeric".into(), json_number(e.numeric));
                entry.insert("abs_error".into(), json_number(e.abs_error));
                entry.insert("rel_error".into(), json_number(e.rel_error));
                entry.insert("allowed".into(), json_number(e.tolerance));
                entry.insert("passed".into(), Value::Bool(e.passed));
                Value::Object(entry)
            })
            .collect();
        let mut top = Map::new();
        top.insert("passed".into(), Value::Bool(report.passed));
        top.insert("max_abs_error".into(), json_number(report.max_abs_error));
        top.insert("max_rel_error".into(), json_number(report.max_rel_error));
        top.insert("worst".into(), Value::Array(worst));
        return write_json(&Value::Object(top), out);
    }
    if !report.worst.is_empty() {
        let header = [
            "output",
            "order",
            "derivative",
            "analytic",
            "numeric",
            "abs error",
            "rel error",
            "allowed",
            "status",
        ];
        let mut table = Table::new(header.iter().map(|s| s.to_string()).collect()).with_left(3);
        for (output, e) in &report.worst {
            let mut label = element(&e.wrt, &e.index);
            if let Some(second) = &e.wrt2 {
                label.push_str(" × ");
                label.push_str(&element(second, e.index2.as_deref().unwrap_or(&[])));
            }
            table.row(vec![
                output.clone(),
                e.order.to_string(),
                label,
                format!("{:.6e}", e.analytic),
                format!("{:.6e}", e.numeric),
                format!("{:.2e}", e.abs_error),
                format!("{:.2e}", e.rel_error),
                format!("{:.2e}", e.tolerance),
                if e.passed { "ok" } else { "FAIL" }.to_string(),
            ]);
        }
        table.write(out)?;
        if report.worst.len() < report.checked {
            writeln!(
                out,
                "(the {} worst of {} entries)",
                report.worst.len(),
                report.checked
            )?;
        }
    }
    if report.passed {
        write!(
            out,
            "PASS: all {} entries within atol + rtol·|numeric|",
            report.checked
        )?;
    } else {
        write!(
            out,
            "FAIL: {} of {} entries outside atol + rtol·|numeric|",
            report.failed, report.checked
        )?;
    }
    writeln!(
        out,
        "; max abs error {:.2e}, max rel error {:.2e}",
        report.max_abs_error, report.max_rel_error
    )?;
    Ok(())
}

/// `x` for a scalar, `w[0, 1]` for an element of a tensor.
fn element(name: &str, index: &[usize]) -> String {
    if index.is_empty() {
        name.to_string()
    } else {
        let parts: Vec<String> = index.iter().map(usize::to_string).collect();
        format!("{name}[{}]", parts.join(", "))
    }
}
