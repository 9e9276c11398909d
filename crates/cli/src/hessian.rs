//! `adnet hessian`: each output's matrix of second derivatives over every input and
//! parameter.

use std::io::Write;

use serde_json::{Map, Value};

use crate::eval;
use crate::output::{json_number, number, write_json, Table};
use crate::values::Point;
use crate::Result;
use adnet_graph::Network;

/// Prints the Hessians at `point`: per output, a titled table whose rows and columns are the
/// inputs then the parameters, or `{"hessians": {"o": {"wrt": [...], "matrix": [[...]]}}}`.
///
/// # Errors
/// A NaN or infinite value or second derivative, and the errors of differentiating the
/// network.
pub fn hessian(network: &Network, point: &Point, json: bool, out: &mut dyn Write) -> Result<()> {
    let values = eval::values(network, point)?;
    let matrices = eval::hessians(network, point)?;
    let names: Vec<&str> = point.wrt().map(|(name, _)| name).collect();
    let n = names.len();
    if json {
        let mut hessians = Map::new();
        for ((output, _), matrix) in network.outputs.iter().zip(&matrices) {
            let rows = matrix
                .chunks(n.max(1))
                .map(|row| Value::Array(row.iter().map(|v| json_number(*v)).collect()))
                .collect();
            let mut entry = Map::new();
            entry.insert(
                "wrt".into(),
                Value::Array(names.iter().map(|s| Value::String(s.to_string())).collect()),
            );
            entry.insert("matrix".into(), Value::Array(rows));
            hessians.insert(output.clone(), Value::Object(entry));
        }
        let mut top = Map::new();
        top.insert("hessians".into(), Value::Object(hessians));
        return write_json(&Value::Object(top), out);
    }
    for (k, (((output, _), value), matrix)) in network
        .outputs
        .iter()
        .zip(&values)
        .zip(&matrices)
        .enumerate()
    {
        if k > 0 {
            writeln!(out)?;
        }
        writeln!(out, "Hessian of {output} (value {}):", number(*value))?;
        let mut header = vec![String::new()];
        header.extend(names.iter().map(|s| s.to_string()));
        let mut table = Table::new(header);
        for (i, name) in names.iter().enumerate() {
            let mut row = vec![name.to_string()];
            row.extend(matrix[i * n..(i + 1) * n].iter().map(|v| number(*v)));
            table.row(row);
        }
        table.write(out)?;
    }
    Ok(())
}
