//! [`Linear`]: the dense layer `y = x @ w + b`.

use adnet_graph::{Graph, GraphError, NodeId, Var};
use adnet_tensor::DType;
use rand::Rng;

use super::{ensure_free, named_node, Fans, Init, Module};
use crate::{NnError, Result};

/// How [`Linear::new`] creates its parameters.
///
/// The defaults: a bias, He-uniform weights (for ReLU networks; PyTorch's own `nn.Linear`
/// default corresponds to `Init::Uniform(−1/√in, 1/√in)`), zero biases, `f32`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearOptions {
    /// Whether the layer adds a bias (default `true`).
    pub bias: bool,
    /// The weight's initializer (default [`Init::HeUniform`]).
    pub weight_init: Init,
    /// The bias' initializer (default [`Init::Zeros`]); a fan-based one uses the weight's fans.
    pub bias_init: Init,
    /// The parameters' dtype (default `f32`).
    pub dtype: DType,
}

impl Default for LinearOptions {
    fn default() -> Self {
        LinearOptions {
            bias: true,
            weight_init: Init::HeUniform,
            bias_init: Init::Zeros,
            dtype: DType::F32,
        }
    }
}

impl LinearOptions {
    /// Whether to add a bias.
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// The weight's initializer.
    pub fn with_weight_init(mut self, init: Init) -> Self {
        self.weight_init = init;
        self
    }

    /// The bias' initializer.
    pub fn with_bias_init(mut self, init: Init) -> Self {
        self.bias_init = init;
        self
    }

    /// The parameters' dtype.
    pub fn with_dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self
    }
}

/// A dense layer, `y = x @ w + b` (PyTorch's `nn.Linear`).
///
/// The weight `{name}.weight` is stored as `[in_features, out_features]` (the transpose of
/// PyTorch's `[out, in]`), so the forward pass is one matmul with no transpose; the bias
/// `{name}.bias` has shape `[out_features]` and broadcasts over the leading axes. The input is
/// `[.., in_features]` of rank at least 2 (`[batch, in]`, or with more leading axes, which the
/// matmul broadcasts over); the output is `[.., out_features]`. A single sample is a
/// `[1, in_features]` batch.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::layers::{Linear, LinearOptions, Module};
/// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType};
/// let g = Graph::new();
/// let mut rng = StdRng::seed_from_u64(0);
/// let layer = Linear::new(&g, "fc", 3, 2, LinearOptions::default(), &mut rng)?;
/// let x = g.input("x", [5, 3], DType::F32)?;
/// assert_eq!(layer.forward(&g, x)?.shape().dims(), &[5, 2]);
/// let wide = g.input("wide", [5, 4], DType::F32)?;
/// let err = layer.forward(&g, wide).unwrap_err();
/// assert_eq!(err.to_string(), "linear `fc`: incompatible shapes [5, 4] and [3, 2]");
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    name: String,
    in_features: usize,
    out_features: usize,
    weight: (String, NodeId),
    bias: Option<(String, NodeId)>,
}

impl Linear {
    /// Creates the layer's parameters in `g`, drawn from `rng`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] for a zero `in_features` or `out_features`;
    /// [`GraphError::InvalidName`] or [`GraphError::DuplicateName`] for a bad or used name
    /// (checked before anything is created: a rejected call leaves `g` unchanged); an
    /// initializer's errors ([`Init::tensor`]).
    pub fn new(
        g: &Graph,
        name: &str,
        in_features: usize,
        out_features: usize,
        options: LinearOptions,
        rng: &mut impl Rng,
    ) -> Result<Linear> {
        for (what, n) in [("in_features", in_features), ("out_features", out_features)] {
            if n == 0 {
                return Err(NnError::InvalidSetting {
                    what,
                    reason: format!("layer `{name}` needs at least one feature, got 0"),
                });
            }
        }
        let weight_name = format!("{name}.weight");
        let bias_name = format!("{name}.bias");
        ensure_free(g, &weight_name)?;
        if options.bias {
            ensure_free(g, &bias_name)?;
        }
        let shape = [in_features, out_features];
        let fans = Fans {
            fan_in: in_features,
            fan_out: out_features,
        };
        let weight_value =
            options
                .weight_init
                .tensor_with_fans(shape, Some(fans), options.dtype, rng)?;
        let bias_value = if options.bias {
            Some(options.bias_init.tensor_with_fans(
                [out_features],
                Some(fans),
                options.dtype,
                rng,
            )?)
        } else {
            None
        };
        // the weight is created first: an invalid name fails here, before anything exists
        let weight = g.param(&weight_name, weight_value)?.id();
        let bias = match bias_value {
            Some(value) => Some((bias_name.clone(), g.param(&bias_name, value)?.id())),
            None => None,
        };
        Ok(Linear {
            name: name.to_string(),
            in_features,
            out_features,
            weight: (weight_name, weight),
            bias,
        })
    }

    /// The layer's name (its parameters are `{name}.weight` and `{name}.bias`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input width.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// The output width.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// The weight node, `[in_features, out_features]`.
    pub fn weight(&self) -> NodeId {
        self.weight.1
    }

    /// The bias node, `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<NodeId> {
        self.bias.as_ref().map(|(_, id)| *id)
    }
}

impl Module for Linear {
    /// Adds `x @ w (+ b)`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming the layer, the input's shape and the weight's when
    /// `x` is not `[.., in_features]` of rank >= 2; [`GraphError::DTypeMismatch`] for an input
    /// of another dtype; `x` or the parameters not in `g`.
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        let x = g.var(x)?;
        let weight = named_node(g, &self.weight.0, self.weight.1)?;
        let dims = x.shape();
        if dims.rank() < 2 || dims.dims()[dims.rank() - 1] != self.in_features {
            return Err(GraphError::ShapeMismatch {
                op: format!("linear `{}`", self.name),
                lhs: dims,
                rhs: weight.shape(),
            }
            .into());
        }
        let y = x.try_matmul(weight)?;
        match &self.bias {
            Some((name, id)) => Ok(y.try_add(named_node(g, name, *id)?)?),
            None => Ok(y),
        }
    }

    fn parameters(&self) -> Vec<(String, NodeId)> {
        std::iter::once(self.weight.clone())
            .chain(self.bias.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn rejected_construction_leaves_the_graph_unchanged() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        g.scalar_param("fc.bias", 0.0)?;
        let before = g.len();
        let err = Linear::new(&g, "fc", 2, 3, LinearOptions::default(), &mut rng).unwrap_err();
        assert!(matches!(
            err,
            NnError::Graph(GraphError::DuplicateName { ref name, .. }) if name == "fc.bias"
        ));
        assert!(matches!(
            Linear::new(&g, "2fc", 2, 3, LinearOptions::default(), &mut rng),
            Err(NnError::Graph(GraphError::InvalidName(_)))
        ));
        assert!(matches!(
            Linear::new(&g, "z", 0, 3, LinearOptions::default(), &mut rng),
            Err(NnError::InvalidSetting {
                what: "in_features",
                ..
            })
        ));
        assert_eq!(g.len(), before);
        // without a bias the used name does not matter
        let options = LinearOptions::default().with_bias(false);
        let layer = Linear::new(&g, "fc", 2, 3, options, &mut rng)?;
        assert_eq!(layer.bias(), None);
        assert_eq!(layer.parameters().len(), 1);
        Ok(())
    }

    #[test]
    fn forward_checks_width_rank_and_graph() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        let layer = Linear::new(&g, "fc", 3, 2, LinearOptions::default(), &mut rng)?;
        let v = g.input("v", [3], DType::F32)?;
        assert_eq!(
            layer.forward(&g, v).unwrap_err().to_string(),
            "linear `fc`: incompatible shapes [3] and [3, 2]"
        );
        let d = g.input("d", [4, 3], DType::F64)?;
        assert!(matches!(
            layer.forward(&g, d),
            Err(NnError::Graph(GraphError::DTypeMismatch { .. }))
        ));
        let batched = g.input("b", [2, 4, 3], DType::F32)?;
        assert_eq!(layer.forward(&g, batched)?.shape().dims(), &[2, 4, 2]);
        let other = Graph::new();
        let x = other.input("x", [4, 3], DType::F32)?;
        assert!(matches!(
            layer.forward(&other, x),
            Err(NnError::Graph(GraphError::UnknownName(_)))
        ));
        Ok(())
    }
}
