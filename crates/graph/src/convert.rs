//! [`Graph::with_dtype`]: the same network with every value in another dtype.

use adnet_tensor::DType;

use crate::{Graph, NodeId, NodeKind, Result};

impl Graph {
    /// A copy of the graph with every input, parameter and constant converted to `dtype` and
    /// every op applied again to the converted operands.
    ///
    /// The copy is built node by node in the original's order, so every [`NodeId`] and every
    /// name means the same node in both graphs (ids can be used across them; [`Var`](crate::Var)s
    /// cannot, since they are tied to their graph). Ops are dtype-generic, so the same op is
    /// shared by both graphs. Converting an `f32` network to `f64` is how
    /// `adnet_autodiff::check_grad` checks `f32` graphs in `f64`; parameter values are rounded
    /// the other way when converting to `f32`. The original is not changed.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`](crate::GraphError::UnknownNode) when an op reads a node newer
    /// than itself, which only [`Graph::replace_operand`] can make (such a graph cannot be
    /// rebuilt in creation order); an op's own shape error, which would be a bug in that op.
    ///
    /// # Cost
    /// Linear in the number of nodes; copies every parameter and constant once.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// use adnet_tensor::{DType, Tensor};
    /// let g = Graph::new();
    /// let x = g.input("x", [2], DType::F32)?;
    /// let w = g.param("w", Tensor::full([2], 0.5, DType::F32))?;
    /// let y = (x * w).sum_all();
    /// let g64 = g.with_dtype(DType::F64)?;
    /// assert_eq!(g64.spec(y.id())?.dtype, DType::F64);
    /// assert_eq!(g64.node("w")?.id(), w.id());
    /// let at = Tensor::from_vec(vec![2.0, 4.0], [2])?;
    /// assert_eq!(g64.eval_tensor(y.id(), &[("x", &at)])?.to_scalar()?, 3.0);
    /// # Ok::<(), adnet_graph::GraphError>(())
    /// ```
    pub fn with_dtype(&self, dtype: DType) -> Result<Graph> {
        let copy = Graph::new();
        for index in 0..self.len() {
            let id = NodeId::from_index(index);
            let name = self.name_of(id);
            let new = match self.kind(id)? {
                NodeKind::Input => {
                    let name = name.as_deref().expect("every input is named");
                    copy.input(name, self.spec(id)?.shape, dtype)?.id()
                }
                NodeKind::Param { .. } => {
                    let name = name.as_deref().expect("every parameter is named");
                    copy.param(name, self.value(id)?.to_dtype(dtype))?.id()
                }
                NodeKind::Const { .. } => {
                    let node = copy.constant(self.value(id)?.to_dtype(dtype)).id();
                    if let Some(name) = &name {
                        copy.set_name(node, name)?;
                    }
                    node
                }
                NodeKind::Op { op, inputs } => {
                    let node = copy.apply_arc(op, inputs)?.id();
                    if let Some(name) = &name {
                        copy.set_name(node, name)?;
                    }
                    node
                }
            };
            debug_assert_eq!(new, id, "the copy numbers its nodes as the original does");
        }
        Ok(copy)
    }
}

#[cfg(test)]
mod tests {
    use adnet_tensor::Tensor;

    use super::*;

    #[test]
    fn with_dtype_keeps_ids_and_names_and_converts_values() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [3], DType::F32)?;
        let w = g.param("w", Tensor::from_vec(vec![0.25f32, -1.5, 2.0], [3])?)?;
        let c = g.constant(Tensor::full([3], 0.5, DType::F32));
        g.set_name(c, "half")?;
        let y = (x * w + c).tanh().named("act")?;
        let z = y.sum_all();

        let h = g.with_dtype(DType::F64)?;
        assert_eq!(h.len(), g.len());
        assert_eq!(h.inputs(), g.inputs());
        assert_eq!(h.params(), g.params());
        for index in 0..g.len() {
            let id = NodeId::from_index(index);
            assert_eq!(h.name_of(id), g.name_of(id), "name of {id}");
            assert_eq!(h.spec(id)?.shape, g.spec(id)?.shape, "shape of {id}");
            assert_eq!(h.spec(id)?.dtype, DType::F64, "dtype of {id}");
            assert_eq!(
                h.kind(id)?.describe(),
                g.kind(id)?.describe(),
                "kind of {id}"
            );
            assert_eq!(h.operands(id)?, g.operands(id)?, "operands of {id}");
        }
        assert_eq!(h.node("act")?.id(), y.id());
        assert_eq!(h.node("half")?.id(), c.id());
        assert_eq!(h.value(w.id())?.dtype(), DType::F64);
        assert_eq!(h.value(w.id())?.to_f64_vec(), vec![0.25, -1.5, 2.0]);
        // the original is untouched
        assert_eq!(g.spec(z)?.dtype, DType::F32);
        assert_eq!(g.value(w)?.dtype(), DType::F32);
        Ok(())
    }

    #[test]
    fn converted_mlp_evaluates_the_same() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [4, 2], DType::F32)?;
        let w1 = g.param(
            "w1",
            Tensor::from_vec(vec![0.3f32, -0.7, 1.1, 0.2, -0.4, 0.9], [2, 3])?,
        )?;
        let b1 = g.param("b1", Tensor::from_vec(vec![0.1f32, -0.2, 0.05], [3])?)?;
        let w2 = g.param("w2", Tensor::from_vec(vec![0.5f32, -1.2, 0.8], [3, 1])?)?;
        let b2 = g.param("b2", Tensor::from_vec(vec![0.3f32], [1])?)?;
        let out = (x.matmul(w1) + b1).tanh().matmul(w2) + b2;
        let loss = out.square().mean_all();

        let data: Vec<f32> = vec![0.5, -1.0, 1.5, 2.0, -0.25, 0.75, 0.0, 1.0];
        let x32 = Tensor::from_vec(data, [4, 2])?;
        let x64 = x32.to_dtype(DType::F64);
        let h = g.with_dtype(DType::F64)?;
        let expected = g.eval_tensor(out, &[("x", &x32)])?.to_f64_vec();
        let got = h.eval_tensor(out.id(), &[("x", &x64)])?.to_f64_vec();
        for (e, a) in expected.iter().zip(&got) {
            assert!((e - a).abs() < 1e-5 * a.abs().max(1.0), "{e} vs {a}");
        }
        let expected = g.eval_tensor(loss, &[("x", &x32)])?.to_scalar()?;
        let got = h.eval_tensor(loss.id(), &[("x", &x64)])?.to_scalar()?;
        assert!((expected - got).abs() < 1e-5 * got.abs().max(1.0));

        // and back: an f64 graph converted to f32 matches the original f32 graph exactly
        let back = h.with_dtype(DType::F32)?;
        let again = back.eval_tensor(loss.id(), &[("x", &x32)])?.to_scalar()?;
        assert_eq!(again, expected);
        Ok(())
    }

    #[test]
    fn rewritten_graph_that_reads_a_newer_node_is_rejected() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        let a = x.exp();
        let b = x.sin();
        g.replace_operand(a, 0, b)?; // a now reads b, which is newer
        assert!(matches!(
            g.with_dtype(DType::F32),
            Err(crate::GraphError::UnknownNode(node)) if node == b.id()
        ));
        Ok(())
    }
}
