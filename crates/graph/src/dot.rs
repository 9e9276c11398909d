//! Graphviz (DOT) export, drawn as adaptive-network diagrams are: nodes that carry parameters
//! (the adaptive ones) are squares, fixed nodes are circles.

use std::fmt::Write;

use crate::graph::NodeKind;
use crate::{Graph, NodeId};

impl Graph {
    /// The graph in Graphviz's DOT language: one node per graph node labelled with its name or
    /// op and its shape; parameters and the op nodes that read a parameter directly (adaptive
    /// nodes) are squares, everything else circles; inputs are shaded. Edges run from operand
    /// to user, labelled with the operand position when an op has several.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// let g = Graph::new();
    /// let x = g.scalar_input("x")?;
    /// let a = g.scalar_param("a", 2.0)?;
    /// let y = (a * x).exp().named("y")?;
    /// let dot = g.to_dot();
    /// assert!(dot.starts_with("digraph adnet {"));
    /// assert!(dot.contains("shape=box")); // the adaptive node a*x
    /// assert!(dot.contains("label=\"y = exp\\n[]\""));
    /// # Ok::<(), adnet_graph::GraphError>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let data = self.data();
        let mut out =
            String::from("digraph adnet {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for index in data.dag.node_indices() {
            let id = NodeId::from_index(index.index());
            let node = &data.dag[index];
            let name = data.names.get(&id);
            let (what, adaptive, style) = match &node.kind {
                NodeKind::Input => (
                    "input".to_string(),
                    false,
                    ", style=filled, fillcolor=\"#dde8f5\"",
                ),
                NodeKind::Param { .. } => ("param".to_string(), true, ""),
                NodeKind::Const { slot } => {
                    let value = &data.leaf_values[*slot];
                    let text = if value.numel() == 1 {
                        constant_label(value.flat(0).unwrap_or(f64::NAN))
                    } else {
                        "const".to_string()
                    };
                    (text, false, ", style=dashed")
                }
                NodeKind::Op { op, inputs } => {
                    let reads_param = inputs.iter().any(|i| {
                        matches!(
                            data.dag[petgraph::graph::NodeIndex::new(i.index())].kind,
                            NodeKind::Param { .. }
                        )
                    });
                    (op.label(), reads_param, "")
                }
            };
            let label = match name {
                Some(name) if !matches!(node.kind, NodeKind::Op { .. }) => {
                    format!("{name}\\n{}", node.spec.shape)
                }
                Some(name) => format!("{name} = {what}\\n{}", node.spec.shape),
                None => format!("{what}\\n{}", node.spec.shape),
            };
            let shape = if adaptive { "box" } else { "circle" };
            let _ = writeln!(
                out,
                "  n{} [label=\"{}\", shape={shape}{style}];",
                id.index(),
                escape(&label)
            );
        }
        for index in data.dag.node_indices() {
            if let NodeKind::Op { inputs, .. } = &data.dag[index].kind {
                for (position, operand) in inputs.iter().enumerate() {
                    let label = if inputs.len() > 1 {
                        format!(" [label=\"{position}\"]")
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "  n{} -> n{}{label};", operand.index(), index.index());
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Escapes a label for a double-quoted DOT string (keeping `\n` line breaks).
fn escape(label: &str) -> String {
    label.replace('"', "\\\"")
}

/// A scalar constant as a short label: plain notation for ordinary magnitudes, scientific
/// notation for very small or very large ones (`{}` would spell `f64::MIN_POSITIVE` out in
/// over 300 characters).
fn constant_label(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || !value.is_finite() || (1e-4..1e6).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::constant_label;
    use crate::{Graph, Result};
    use adnet_tensor::{DType, Tensor};

    fn line_of(dot: &str, node: usize) -> &str {
        let prefix = format!("  n{node} [");
        dot.lines()
            .find(|l| l.starts_with(&prefix))
            .expect("node line")
    }

    #[test]
    fn adaptive_nodes_are_squares_and_fixed_nodes_circles() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let y = g.scalar_input("y")?;
        let alpha = g.scalar_param("alpha", 0.8)?;
        let p = (alpha * x + y.exp()).named("p")?;
        let dot = g.to_dot();
        assert!(line_of(&dot, x.id().index()).contains("shape=circle"));
        assert!(line_of(&dot, x.id().index()).contains("label=\"x\\n[]\""));
        assert!(line_of(&dot, alpha.id().index()).contains("shape=box"));
        // alpha*x reads a parameter: adaptive, a square; exp(y) and the sum are fixed
        assert!(line_of(&dot, alpha.id().index() + 1).contains("label=\"mul\\n[]\", shape=box"));
        assert!(line_of(&dot, alpha.id().index() + 2).contains("label=\"exp\\n[]\", shape=circle"));
        assert!(line_of(&dot, p.id().index()).contains("label=\"p = add\\n[]\", shape=circle"));
        // edges carry operand positions for binary ops, none for unary ones
        assert!(dot.contains(&format!(
            "  n{} -> n{} [label=\"1\"];",
            x.id().index(),
            alpha.id().index() + 1
        )));
        assert!(dot.contains(&format!(
            "  n{} -> n{};",
            y.id().index(),
            alpha.id().index() + 2
        )));
        assert!(dot.trim_end().ends_with('}'));
        Ok(())
    }

    #[test]
    fn extreme_constants_get_short_labels() {
        assert_eq!(constant_label(0.5), "0.5");
        assert_eq!(constant_label(-2.0), "-2");
        assert_eq!(constant_label(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(constant_label(1e300), "1e300");
        assert_eq!(constant_label(f64::NAN), "NaN");
    }

    #[test]
    fn shapes_and_constants_are_shown() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [4, 3], DType::F32)?;
        let w = g.param("w", Tensor::zeros([3, 2], DType::F32))?;
        let _ = x.matmul(w) * 2.0;
        let dot = g.to_dot();
        assert!(
            dot.contains("label=\"matmul\\n[4, 2]\", shape=box"),
            "{dot}"
        );
        assert!(
            dot.contains("label=\"2\\n[]\", shape=circle, style=dashed"),
            "{dot}"
        );
        Ok(())
    }
}
