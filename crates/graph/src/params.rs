//! Reading and updating parameter values: what optimizers and checkpoints use.

use adnet_tensor::Tensor;
use smallvec::SmallVec;

use crate::graph::{GraphData, NodeKind};
use crate::{Graph, GraphError, IntoNode, NodeId, Result};

impl Graph {
    /// A copy of a parameter's or constant's current value.
    ///
    /// # Errors
    /// [`GraphError::UnknownNode`], or [`GraphError::WrongKind`] for an input or op node.
    pub fn value(&self, node: impl IntoNode) -> Result<Tensor> {
        let id = node.node_in(self)?;
        let data = self.data();
        data.leaf_value(id).cloned().ok_or(GraphError::WrongKind {
            node: id,
            expected: "a parameter or constant",
            actual: data.node(id)?.kind.describe(),
        })
    }

    /// Overwrites a parameter's value (copying into its storage: no allocation). Plans see the
    /// new value at their next run, without recompiling.
    ///
    /// # Errors
    /// [`GraphError::WrongKind`] when the node is not a parameter, and
    /// [`GraphError::ValueMismatch`] when the shape or dtype differs from the declared one.
    pub fn set_param(&self, node: impl IntoNode, value: &Tensor) -> Result<()> {
        let id = node.node_in(self)?;
        let mut data = self.data_mut();
        let slot = param_slot(&data, id)?;
        check_value(&data, id, value)?;
        data.leaf_values[slot].assign(value);
        Ok(())
    }

    /// Gives `f` mutable access to the values of the parameters `ids` (in that order), for an
    /// optimizer to update them in place with no copy. `f` must keep every shape and dtype.
    ///
    /// # Errors
    /// [`GraphError::WrongKind`] when a node is not a parameter, [`GraphError::InvalidArgument`]
    /// when a parameter is listed twice, and [`GraphError::ValueMismatch`] when `f` changed a
    /// shape or dtype (the values stay as `f` left them).
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// use adnet_tensor::{DType, Tensor};
    /// let g = Graph::new();
    /// let w = g.param("w", Tensor::ones([2], DType::F32))?;
    /// g.with_params_mut(&[w.id()], |values| {
    ///     for v in values[0].as_mut_slice::<f32>().expect("f32") {
    ///         *v *= 3.0;
    ///     }
    /// })?;
    /// assert_eq!(g.value(w)?.to_f64_vec(), vec![3.0, 3.0]);
    /// # Ok::<(), adnet_graph::GraphError>(())
    /// ```
    pub fn with_params_mut<R>(
        &self,
        ids: &[NodeId],
        f: impl FnOnce(&mut [&mut Tensor]) -> R,
    ) -> Result<R> {
        let mut data = self.data_mut();
        // small inline lists: an optimizer calls this every step, and models have few tensors
        let mut slots: SmallVec<[(usize, usize); 8]> = SmallVec::new();
        for &id in ids {
            let slot = param_slot(&data, id)?;
            if slots.iter().any(|&(s, _)| s == slot) {
                return Err(GraphError::InvalidArgument {
                    op: "with_params_mut".to_string(),
                    reason: format!("parameter {id} is listed twice"),
                });
            }
            slots.push((slot, slots.len()));
        }
        let result = {
            // hand out disjoint `&mut` borrows of the chosen slots, in `ids` order
            slots.sort_unstable();
            let mut chosen: SmallVec<[Option<&mut Tensor>; 8]> =
                (0..ids.len()).map(|_| None).collect();
            let mut wanted = slots.iter().peekable();
            for (slot, value) in data.leaf_values.iter_mut().enumerate() {
                let Some(&&(s, position)) = wanted.peek() else {
                    break; // every chosen slot found: skip the rest of the leaves
                };
                if s == slot {
                    chosen[position] = Some(value);
                    wanted.next();
                }
            }
            let mut values: SmallVec<[&mut Tensor; 8]> = chosen
                .into_iter()
                .map(|v| v.expect("every parameter slot exists"))
                .collect();
            f(&mut values)
        };
        // the closure may have replaced a value wholesale: check it still fits its node
        for &id in ids {
            let value = data.leaf_value(id).expect("checked to be a parameter");
            let spec = &data.node(id)?.spec;
            if value.shape() != &spec.shape || value.dtype() != spec.dtype {
                return Err(GraphError::ValueMismatch {
                    node: id,
                    name: data.display_name(id),
                    expected: spec.shape.clone(),
                    expected_dtype: spec.dtype,
                    actual: value.shape().clone(),
                    actual_dtype: value.dtype(),
                });
            }
        }
        Ok(result)
    }
}

/// Checks a value against an input's or parameter's declared spec.
/// The slot of parameter `id`'s value in the graph's leaf values.
///
/// # Errors
/// [`GraphError::WrongKind`] for a node that is not a parameter.
fn param_slot(data: &GraphData, id: NodeId) -> Result<usize> {
    let node = data.node(id)?;
    match node.kind {
        NodeKind::Param { slot } => Ok(slot),
        _ => Err(GraphError::WrongKind {
            node: id,
            expected: "a parameter",
            actual: node.kind.describe(),
        }),
    }
}

pub(crate) fn check_value(data: &GraphData, id: NodeId, value: &Tensor) -> Result<()> {
    let spec = &data.node(id)?.spec;
    if value.shape() == &spec.shape && value.dtype() == spec.dtype {
        Ok(())
    } else {
        Err(GraphError::ValueMismatch {
            node: id,
            name: data.display_name(id),
            expected: spec.shape.clone(),
            expected_dtype: spec.dtype,
            actual: value.shape().clone(),
            actual_dtype: value.dtype(),
        })
    }
}
