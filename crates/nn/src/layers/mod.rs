//! Layers: initializers, activations, [`Linear`], [`Sequential`], the [`Mlp`] builder and
//! [`Dropout`].
//!
//! # Design: parameters live in the graph, `forward` only adds computation
//!
//! A module creates its parameters as graph nodes ([`Graph::param`]) when it is constructed,
//! under hierarchical names (`mlp.0.weight`, `mlp.0.bias`, ...), and keeps only their
//! [`NodeId`]s. [`Module::forward`] then adds the nodes that compute the output from an input
//! and those parameters, and nothing else, so:
//!
//! - `forward` can be called more than once, on different inputs, and every call shares the same
//!   parameters (weight sharing, a siamese network, the same MLP on a training and a validation
//!   input);
//! - [`Module::parameters`] lists exactly the nodes an optimizer updates and a checkpoint saves,
//!   with their names, before any `forward`;
//! - parameter values stay in the graph, so a [`Plan`](adnet_graph::Plan) compiled once reads
//!   their current values at every run while an optimizer updates them in place.
//!
//! Constructors are seeded: each takes a `&mut impl rand::Rng` (a
//! [`StdRng`](rand::rngs::StdRng) from `seed_from_u64`), so the same seed builds the same
//! network. A constructor checks its names are free before creating anything, so a rejected
//! construction leaves the graph as it was.
//!
//! # Examples
//! ```
//! use adnet_graph::Graph;
//! use adnet_nn::layers::{Activation, Mlp, Module};
//! use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
//!
//! let g = Graph::new();
//! let mut rng = StdRng::seed_from_u64(0);
//! let mlp = Mlp::new(&[4, 8, 3]).activation(Activation::Tanh).dtype(DType::F64)
//!     .build(&g, "mlp", &mut rng)?;
//! let names: Vec<String> = mlp.parameters().into_iter().map(|(name, _)| name).collect();
//! assert_eq!(names, ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"]);
//! let x = g.input("x", [2, 4], DType::F64)?;
//! let y = mlp.forward(&g, x)?;
//! assert_eq!(y.shape().dims(), &[2, 3]);
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

use std::fmt;

use adnet_graph::{Graph, GraphError, NodeId, Var};

use crate::Result;

mod activation;
mod dropout;
mod init;
mod linear;
mod mlp;
mod sequential;

pub use activation::Activation;
pub use dropout::Dropout;
pub use init::{Fans, Init};
pub use linear::{Linear, LinearOptions};
pub use mlp::Mlp;
pub use sequential::Sequential;

/// A building block of a network: parameters created at construction, computation added by
/// [`Module::forward`].
///
/// See the [module documentation](self) for the design.
pub trait Module: fmt::Debug {
    /// Adds the nodes computing this module's output from `x` to `g` and returns the output.
    /// Adds no parameters, so it may be called any number of times (the calls share them).
    ///
    /// # Errors
    /// An input of the wrong shape or dtype (naming both shapes), `x` from another graph, or
    /// `g` not the graph the module was built in ([`GraphError::UnknownName`] for its first
    /// parameter).
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>>;

    /// The module's parameters with their full names, in creation order.
    fn parameters(&self) -> Vec<(String, NodeId)>;
}

/// The node `id` called `name` in `g`, checked to be that node: a module used with a graph
/// other than the one it was built in is an error, not a silent use of some other node.
pub(crate) fn named_node<'g>(g: &'g Graph, name: &str, id: NodeId) -> Result<Var<'g>> {
    let var = g.node(name)?;
    if var.id() != id {
        return Err(GraphError::UnknownNode(id).into());
    }
    Ok(var)
}

/// Checks that no node of `g` is called `name` yet, so that a constructor can create all of
/// its parameters or none.
pub(crate) fn ensure_free(g: &Graph, name: &str) -> Result<()> {
    match g.node(name) {
        Ok(existing) => Err(GraphError::DuplicateName {
            name: name.to_string(),
            existing: existing.id(),
        }
        .into()),
        Err(_) => Ok(()),
    }
}
