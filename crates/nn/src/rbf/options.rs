//! [`RbfOptions`]: how an RBF network is created.

use adnet_tensor::DType;

use super::Widths;
use crate::layers::Init;

/// How [`Rbf::new`](super::Rbf::new) and [`Rbf::with_centres`](super::Rbf::with_centres)
/// create a network.
///
/// The defaults: [`Widths::MaxDistance`], 100 Lloyd iterations, a zero output layer, `f32`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RbfOptions {
    /// How [`Rbf::new`](super::Rbf::new) sets the widths from the k-means clusters (default
    /// [`Widths::MaxDistance`]; unused by
    /// [`Rbf::with_centres`](super::Rbf::with_centres)).
    pub widths: Widths,
    /// The most Lloyd iterations [`Rbf::new`](super::Rbf::new)'s [`kmeans`](super::kmeans)
    /// runs (default 100; unused by [`Rbf::with_centres`](super::Rbf::with_centres)).
    pub max_iter: usize,
    /// The output weights' initializer, with fans `(k, out)` (default [`Init::Zeros`]: the
    /// output is linear in these weights, so zeros are a fine start for a least-squares fit
    /// or a gradient method; with zero weights the first gradient step moves only the output
    /// layer, and the centres and widths follow from the second). The bias starts at 0.
    pub weight_init: Init,
    /// The parameters' dtype (default `f32`).
    pub dtype: DType,
}

impl Default for RbfOptions {
    fn default() -> Self {
        RbfOptions {
            widths: Widths::MaxDistance,
            max_iter: 100,
            weight_init: Init::Zeros,
            dtype: DType::F32,
        }
    }
}

impl RbfOptions {
    /// The width rule.
    pub fn with_widths(mut self, widths: Widths) -> Self {
        self.widths = widths;
        self
    }

    /// The most Lloyd iterations of the k-means initialisation.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// The output weights' initializer.
    pub fn with_weight_init(mut self, init: Init) -> Self {
        self.weight_init = init;
        self
    }

    /// The parameters' dtype.
    pub fn with_dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self
    }
}
