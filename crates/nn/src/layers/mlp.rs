//! [`Mlp`]: a builder for multilayer perceptrons.

use adnet_graph::Graph;
use adnet_tensor::DType;
use rand::Rng;

use super::{ensure_free, Activation, Init, Linear, LinearOptions, Sequential};
use crate::{NnError, Result};

/// Builds a multilayer perceptron as a [`Sequential`] of [`Linear`] layers and activations.
///
/// `Mlp::new(&[784, 128, 10])` gives `Linear(784→128)`, the hidden activation,
/// `Linear(128→10)`, then the output activation. Defaults: ReLU hidden activation, identity
/// output, He-uniform weights, zero biases, a bias in every layer, `f32`.
///
/// Modules are numbered as PyTorch's `nn.Sequential` numbers them, activations included, so
/// parameter names match a PyTorch state dict of the same network (`mlp.0.weight`,
/// `mlp.0.bias`, `mlp.2.weight`, ...; adnet's weights are `[in, out]`, PyTorch's `[out, in]`).
/// An [`Activation::Identity`] is not added and takes no number, so an MLP with an identity
/// output ends with its last `Linear`, as the PyTorch network would.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::layers::{Activation, Init, Mlp, Module};
/// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType};
/// let g = Graph::new();
/// let mut rng = StdRng::seed_from_u64(0);
/// let mlp = Mlp::new(&[784, 128, 10])
///     .activation(Activation::Relu)
///     .output_activation(Activation::LogSoftmax(-1))
///     .init(Init::HeUniform)
///     .bias(true)
///     .dtype(DType::F32)
///     .build(&g, "mlp", &mut rng)?;
/// assert_eq!(mlp.len(), 4); // linear, relu, linear, log-softmax
/// assert_eq!(mlp.parameters()[2].0, "mlp.2.weight");
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    activation: Activation,
    output_activation: Activation,
    weight_init: Init,
    bias_init: Init,
    bias: bool,
    dtype: DType,
}

impl Mlp {
    /// An MLP with the given layer widths, input first, output last.
    pub fn new(sizes: &[usize]) -> Mlp {
        Mlp {
            sizes: sizes.to_vec(),
            activation: Activation::Relu,
            output_activation: Activation::Identity,
            weight_init: Init::HeUniform,
            bias_init: Init::Zeros,
            bias: true,
            dtype: DType::F32,
        }
    }

    /// The activation after every hidden layer (default ReLU).
    pub fn activation(mut self, activation: Activation) -> Mlp {
        self.activation = activation;
        self
    }

    /// The activation after the last layer (default identity).
    pub fn output_activation(mut self, activation: Activation) -> Mlp {
        self.output_activation = activation;
        self
    }

    /// The weights' initializer (default He uniform).
    pub fn init(mut self, init: Init) -> Mlp {
        self.weight_init = init;
        self
    }

    /// The biases' initializer (default zeros).
    pub fn bias_init(mut self, init: Init) -> Mlp {
        self.bias_init = init;
        self
    }

    /// Whether the layers have biases (default `true`).
    pub fn bias(mut self, bias: bool) -> Mlp {
        self.bias = bias;
        self
    }

    /// The parameters' dtype (default `f32`).
    pub fn dtype(mut self, dtype: DType) -> Mlp {
        self.dtype = dtype;
        self
    }

    /// Creates the parameters in `g`, named `{name}.{index}.weight` and `{name}.{index}.bias`,
    /// drawn from `rng` layer by layer, and returns the network.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`sizes`) for fewer than two sizes or a zero width; a bad or
    /// used name ([`adnet_graph::GraphError`]; every name is checked before anything is
    /// created); an initializer's errors (a fan-free initializer with bad settings fails on the
    /// first layer, before later layers exist).
    pub fn build(&self, g: &Graph, name: &str, rng: &mut impl Rng) -> Result<Sequential> {
        if self.sizes.len() < 2 {
            return Err(NnError::InvalidSetting {
                what: "sizes",
                reason: format!(
                    "an MLP needs an input and an output width, got {:?}",
                    self.sizes
                ),
            });
        }
        if self.sizes.contains(&0) {
            return Err(NnError::InvalidSetting {
                what: "sizes",
                reason: format!("every width must be positive, got {:?}", self.sizes),
            });
        }
        let layers = self.sizes.len() - 1;
        // (module, PyTorch-style index) for every module, activations included
        let mut plan = Vec::new();
        let mut index = 0;
        for k in 0..layers {
            plan.push((None, index));
            index += 1;
            let activation = if k + 1 < layers {
                self.activation
            } else {
                self.output_activation
            };
            if activation != Activation::Identity {
                plan.push((Some(activation), index));
                index += 1;
            }
        }
        for (module, index) in &plan {
            if module.is_none() {
                ensure_free(g, &format!("{name}.{index}.weight"))?;
                if self.bias {
                    ensure_free(g, &format!("{name}.{index}.bias"))?;
                }
            }
        }
        let options = LinearOptions {
            bias: self.bias,
            weight_init: self.weight_init,
            bias_init: self.bias_init,
            dtype: self.dtype,
        };
        let mut net = Sequential::new();
        let mut k = 0;
        for (module, index) in plan {
            match module {
                Some(activation) => {
                    net.push(activation);
                }
                None => {
                    let (fan_in, fan_out) = (self.sizes[k], self.sizes[k + 1]);
                    let layer_name = format!("{name}.{index}");
                    net.push(Linear::new(g, &layer_name, fan_in, fan_out, options, rng)?);
                    k += 1;
                }
            }
        }
        Ok(net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Module;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn names(net: &Sequential) -> Vec<String> {
        net.parameters().into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn numbering_counts_activations_but_not_identities() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        let net = Mlp::new(&[2, 3, 3, 1])
            .output_activation(Activation::Sigmoid)
            .build(&g, "m", &mut rng)?;
        assert_eq!(net.len(), 6);
        assert_eq!(
            names(&net),
            [
                "m.0.weight",
                "m.0.bias",
                "m.2.weight",
                "m.2.bias",
                "m.4.weight",
                "m.4.bias"
            ]
        );
        let plain = Mlp::new(&[2, 3, 1])
            .activation(Activation::Identity)
            .bias(false)
            .build(&g, "lin", &mut rng)?;
        assert_eq!(plain.len(), 2);
        assert_eq!(names(&plain), ["lin.0.weight", "lin.1.weight"]);
        Ok(())
    }

    #[test]
    fn bad_sizes_and_used_names_leave_the_graph_unchanged() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        g.scalar_param("m.2.bias", 0.0)?;
        let before = g.len();
        assert!(matches!(
            Mlp::new(&[3]).build(&g, "m", &mut rng),
            Err(NnError::InvalidSetting { what: "sizes", .. })
        ));
        assert!(matches!(
            Mlp::new(&[3, 0, 2]).build(&g, "m", &mut rng),
            Err(NnError::InvalidSetting { what: "sizes", .. })
        ));
        assert!(Mlp::new(&[3, 4, 2]).build(&g, "m", &mut rng).is_err());
        assert_eq!(g.len(), before);
        Ok(())
    }
}
