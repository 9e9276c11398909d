//! [`Sequential`]: modules applied one after another.

use adnet_graph::{Graph, NodeId, Var};

use super::Module;
use crate::Result;

/// Modules applied in order, each to the previous one's output (PyTorch's `nn.Sequential`).
///
/// Its parameters are its modules' parameters, concatenated in order. A `Sequential` is itself a
/// [`Module`], so they nest.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::layers::{Activation, Linear, LinearOptions, Module, Sequential};
/// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType};
/// let g = Graph::new();
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut net = Sequential::new();
/// net.push(Linear::new(&g, "net.0", 2, 4, LinearOptions::default(), &mut rng)?)
///     .push(Activation::Tanh)
///     .push(Linear::new(&g, "net.2", 4, 1, LinearOptions::default(), &mut rng)?);
/// assert_eq!((net.len(), net.parameters().len()), (3, 4));
/// let x = g.input("x", [8, 2], DType::F32)?;
/// assert_eq!(net.forward(&g, x)?.shape().dims(), &[8, 1]);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
#[derive(Debug, Default)]
pub struct Sequential {
    modules: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty sequence (its `forward` returns the input).
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a module, returning `self` for chaining.
    pub fn push(&mut self, module: impl Module + 'static) -> &mut Self {
        self.modules.push(Box::new(module));
        self
    }

    /// Appends a boxed module.
    pub fn push_boxed(&mut self, module: Box<dyn Module>) -> &mut Self {
        self.modules.push(module);
        self
    }

    /// The modules, in order.
    pub fn modules(&self) -> &[Box<dyn Module>] {
        &self.modules
    }

    /// How many modules there are.
    pub fn len(&self) -> usize {
        self.modules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }
}

impl Module for Sequential {
    /// Chains the modules' `forward`s.
    ///
    /// # Errors
    /// The first module's error, if any.
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        let x = g.var(x)?;
        self.modules
            .iter()
            .try_fold(x, |x, module| module.forward(g, x))
    }

    fn parameters(&self) -> Vec<(String, NodeId)> {
        self.modules.iter().flat_map(|m| m.parameters()).collect()
    }
}
