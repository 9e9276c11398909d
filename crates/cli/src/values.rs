//! `--at` and `--set`: parsing `NAME=NUMBER` lists and matching them to the network's inputs
//! and parameters.

use adnet_graph::NodeId;
use adnet_tensor::Tensor;

use crate::{CliError, Result};
use adnet_graph::Network;

/// Where a network is evaluated: every input's value and every parameter's (after `--set`),
/// in declaration order, inputs first. These are also the nodes derivatives are taken against.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The inputs: name, node, value from `--at`.
    pub inputs: Vec<(String, NodeId, f64)>,
    /// The parameters: name, node, value (from `--set`, else the file's).
    pub params: Vec<(String, NodeId, f64)>,
}

impl Point {
    /// Matches `--at` and `--set` items to the network, and writes the `--set` values into its
    /// parameters.
    ///
    /// # Errors
    /// [`CliError::Values`] for a malformed item, a name given twice, an unknown or missing
    /// input, or a `--set` of something that is not a parameter; [`CliError::Graph`] when a
    /// parameter is not an `f64` scalar.
    pub fn resolve(network: &Network, at: &[String], set: &[String]) -> Result<Point> {
        let at = parse_items("--at", at)?;
        let set = parse_items("--set", set)?;
        let names = |list: &[(String, NodeId)]| -> String {
            list.iter()
                .map(|(name, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };

        for (name, _) in &at {
            if !network.inputs.iter().any(|(n, _)| n == name) {
                let hint = if network.params.iter().any(|(n, _)| n == name) {
                    format!("`{name}` is a parameter, not an input (change it with --set)")
                } else if network.inputs.is_empty() {
                    format!("unknown input `{name}` (the network has no inputs)")
                } else {
                    format!(
                        "unknown input `{name}` (inputs are {})",
                        names(&network.inputs)
                    )
                };
                return Err(values_error("--at", hint));
            }
        }
        let missing: Vec<&str> = network
            .inputs
            .iter()
            .filter(|(n, _)| !at.iter().any(|(given, _)| given == n))
            .map(|(n, _)| n.as_str())
            .collect();
        match missing.as_slice() {
            [] => {}
            [one] => return Err(values_error("--at", format!("missing input {one}"))),
            many => {
                return Err(values_error(
                    "--at",
                    format!("missing inputs {}", many.join(", ")),
                ))
            }
        }

        for (name, value) in &set {
            let Some((_, node)) = network.params.iter().find(|(n, _)| n == name) else {
                let hint = if network.params.is_empty() {
                    "the network has no parameters".to_string()
                } else {
                    format!("parameters are {}", names(&network.params))
                };
                let message = if network.inputs.iter().any(|(n, _)| n == name) {
                    format!("`{name}` is an input, not a parameter (give it with --at; {hint})")
                } else if network.consts.iter().any(|(n, _)| n == name) {
                    format!("`{name}` is a constant, not a parameter ({hint})")
                } else {
                    format!("unknown parameter `{name}` ({hint})")
                };
                return Err(values_error("--set", message));
            };
            network.graph.set_param(*node, &Tensor::scalar(*value))?;
        }

        let inputs = network
            .inputs
            .iter()
            .map(|(name, node)| {
                let value = at
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|&(_, v)| v)
                    .expect("every input was checked to be given");
                (name.clone(), *node, value)
            })
            .collect();
        let params = network
            .params
            .iter()
            .map(|(name, node)| {
                let value = network.graph.value(*node)?;
                let value = value
                    .flat(0)
                    .filter(|_| value.numel() == 1)
                    .ok_or_else(|| {
                        values_error(
                            "--set",
                            format!("parameter {name} is not a scalar (shape {})", value.shape()),
                        )
                    })?;
                Ok((name.clone(), *node, value))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Point { inputs, params })
    }

    /// The nodes derivatives are taken against: the inputs, then the parameters.
    pub fn wrt(&self) -> impl Iterator<Item = (&str, NodeId)> + '_ {
        self.inputs
            .iter()
            .chain(&self.params)
            .map(|(name, node, _)| (name.as_str(), *node))
    }

    /// `x=-3, y=0.5`: the inputs' values, for messages (`the network has no inputs` when
    /// there are none).
    pub fn describe(&self) -> String {
        if self.inputs.is_empty() {
            return "with no inputs".to_string();
        }
        let items: Vec<String> = self
            .inputs
            .iter()
            .map(|(name, _, value)| format!("{name}={value}"))
            .collect();
        format!("at {}", items.join(", "))
    }
}

fn values_error(flag: &'static str, message: String) -> CliError {
    CliError::Values { flag, message }
}

/// Parses the arguments of one flag, each a comma-separated list of `NAME=NUMBER` (the flag
/// may be repeated), into pairs in the order given.
///
/// # Errors
/// [`CliError::Values`] naming the item that is not `NAME=NUMBER`, whose number is not
/// finite, or whose name was already given.
pub fn parse_items(flag: &'static str, args: &[String]) -> Result<Vec<(String, f64)>> {
    let mut items: Vec<(String, f64)> = Vec::new();
    for item in args.iter().flat_map(|arg| arg.split(',')) {
        let item = item.trim();
        let malformed = || values_error(flag, format!("`{item}` is not NAME=NUMBER"));
        let (name, number) = item.split_once('=').ok_or_else(malformed)?;
        let (name, number) = (name.trim(), number.trim());
        let mut chars = name.chars();
        let is_name = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let value: f64 = number.parse().map_err(|_| malformed())?;
        if !is_name {
            return Err(malformed());
        }
        if !value.is_finite() {
            return Err(values_error(
                flag,
                format!("`{item}`: the value must be a finite number"),
            ));
        }
        if items.iter().any(|(n, _)| n == name) {
            return Err(values_error(flag, format!("{name} is given twice")));
        }
        items.push((name.to_string(), value));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn message(result: Result<Vec<(String, f64)>>) -> String {
        result.expect_err("an error").to_string()
    }

    #[test]
    fn parses_comma_lists_and_repeated_flags_in_order() -> Result<()> {
        let items = parse_items("--at", &strings(&["x=1,y=-0.5", " z = 2e-3 "]))?;
        assert_eq!(
            items,
            vec![
                ("x".to_string(), 1.0),
                ("y".to_string(), -0.5),
                ("z".to_string(), 2e-3)
            ]
        );
        assert!(parse_items("--at", &[])?.is_empty());
        Ok(())
    }

    #[test]
    fn malformed_items_are_named() {
        for bad in ["x=abc", "x", "=1", "x=", "1x=2", "x=1=2", ""] {
            assert_eq!(
                message(parse_items("--at", &strings(&[bad]))),
                format!("--at: `{bad}` is not NAME=NUMBER"),
            );
        }
        assert_eq!(
            message(parse_items("--set", &strings(&["a=1,b"]))),
            "--set: `b` is not NAME=NUMBER"
        );
    }

    #[test]
    fn non_finite_and_duplicate_values_are_rejected() {
        assert_eq!(
            message(parse_items("--at", &strings(&["x=nan"]))),
            "--at: `x=nan`: the value must be a finite number"
        );
        assert!(message(parse_items("--at", &strings(&["x=inf"]))).contains("finite"));
        assert_eq!(
            message(parse_items("--at", &strings(&["x=1", "x=2"]))),
            "--at: x is given twice"
        );
    }
}
