//! `adnet dot`: the network as a Graphviz picture.

use std::io::Write;

use crate::Result;
use adnet_graph::Network;

/// Prints the network in Graphviz's DOT language (adaptive nodes, those reading a parameter,
/// are squares; the rest circles).
///
/// # Errors
/// When writing fails.
pub fn dot(network: &Network, out: &mut dyn Write) -> Result<()> {
    out.write_all(network.graph.to_dot().as_bytes())?;
    Ok(())
}
