//! `adnet grad`: the outputs' values and their gradients with respect to every input and
//! parameter.

use std::io::Write;

use serde_json::{Map, Value};

use crate::eval;
use crate::output::{json_number, number, write_json, Table};
use crate::values::Point;
use crate::Result;
use adnet_graph::Network;

/// Prints the values and gradients at `point`: a table with one column per output (rows
/// `value`, then `∂/∂name` for the inputs and parameters in declaration order), or
/// `{"outputs": {...}, "gradients": {"o": {"x": ...}}}`.
///
/// # Errors
/// A NaN or infinite value or derivative, and the errors of differentiating the network.
pub fn grad(network: &Network, point: &Point, json: bool, out: &mut dyn Write) -> Result<()> {
    let values = eval::values(network, point)?;
    let gradients = eval::gradients(network, point)?;
    let names: Vec<&str> = point.wrt().map(|(name, _)| name).collect();
    if json {
        let mut outputs = Map::new();
        let mut grads = Map::new();
        for (((output, _), value), row) in network.outputs.iter().zip(&values).zip(&gradients) {
            outputs.insert(output.clone(), json_number(*value));
            let entries = names
                .iter()
                .zip(row)
                .map(|(name, d)| (name.to_string(), json_number(*d)))
                .collect::<Map<_, _>>();
            grads.insert(output.clone(), Value::Object(entries));
        }
        let mut top = Map::new();
        top.insert("outputs".into(), Value::Object(outputs));
        top.insert("gradients".into(), Value::Object(grads));
        return write_json(&Value::Object(top), out);
    }
    let mut header = vec![String::new()];
    header.extend(network.outputs.iter().map(|(name, _)| name.clone()));
    let mut table = Table::new(header);
    let mut row = vec!["value".to_string()];
    row.extend(values.iter().map(|v| number(*v)));
    table.row(row);
    for (k, name) in names.iter().enumerate() {
        let mut row = vec![format!("∂/∂{name}")];
        row.extend(gradients.iter().map(|g| number(g[k])));
        table.row(row);
    }
    table.write(out)
}
