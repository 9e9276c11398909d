//! Radial basis function networks: a layer of Gaussian units and a linear output layer,
//! `y = W ᵀφ(x) + b`, with
//!
//! ```text
//! φ_j(x) = exp(−‖x − c_j‖² / (2 σ_j²)),   j = 1..k
//! ```
//!
//! where the centres `c_j` (`[k, d]`), the widths `σ_j` (`[k]`), the output weights `W`
//! (`[k, out]`) and the bias `b` (`[out]`) are all parameters. [`Rbf`] is built from adnet's
//! ordinary graph operators, so it is an adaptive network like any other: its gradients,
//! Hessians and DOT picture come from the graph, and the ordinary [`Trainer`] trains it.
//!
//! # Parameters and their names
//! An `Rbf` called `rbf` owns `rbf.centres` (`[k, d]`), `rbf.log_widths` (`[k]`, holding
//! `ln σ_j`), `rbf.out.weight` (`[k, out]`) and `rbf.out.bias` (`[out]`). The widths are
//! trained as logarithms so that a gradient step, of any size, keeps `σ_j = exp(ln σ_j)`
//! positive; the gradient is then `∂L/∂ln σ_j = σ_j · ∂L/∂σ_j`, which also makes the step
//! relative to the width. The factor in the exponent is `1/(2σ_j²) = ½·exp(−2 ln σ_j)`.
//!
//! # How the distances are computed
//! The squared distances of a batch `X` (`[n, d]`) to the centres are expanded as
//! `‖x_i − c_j‖² = ‖x_i‖² − 2 x_i·c_j + ‖c_j‖²`, with the cross terms `X Cᵀ` as one matmul
//! (`[n, k]`, through the `gemm` crate) and the two norms broadcast against it, then clamped
//! at 0 with `relu`. Broadcasting `X[:, None, :] − C[None, :, :]` instead would build an
//! `[n, k, d]` tensor in the forward pass and again in the backward pass: `d` times the memory
//! and elementwise work, where the matmul form needs only `[n, k]` tensors and runs at GEMM
//! speed, which matters once `d` is more than a handful (images, embeddings). The price is
//! cancellation: the expansion's rounding error is about `ε·(‖x‖² + ‖c‖²)` (ε the dtype's
//! epsilon), which can make a distance slightly negative when `x` sits on a centre; the clamp
//! puts it back at 0. The error is far below `σ²` for data of a sensible scale (standardise
//! features that are far from the origin, or use `f64`). At the clamp's kink, `relu` passes no
//! gradient, which is the exact gradient of `‖x − c‖²` at `x = c`.
//!
//! # Initialisation and training
//! [`Rbf::new`] places the centres by [`kmeans`] on the training features (k-means++ seeding,
//! then Lloyd's iterations) and sets the widths by a [`Widths`] rule (by default one width for
//! all, `d_max/√(2k)`); [`Rbf::with_centres`] takes given centres and widths.
//! The output layer starts at [`RbfOptions::weight_init`] (zeros by default). Then either
//!
//! - **two-stage training** (the classic RBF recipe): keep centres and widths and solve the
//!   output layer by linear least squares, [`Rbf::fit_output`], one Cholesky solve; for
//!   classification, fit one-hot targets and predict the largest output;
//! - **full gradient training**: give [`Module::parameters`] to a [`Trainer`] and train
//!   everything on any loss, for classification softmax cross-entropy on the outputs as logits
//!   ([`cross_entropy`](crate::loss::cross_entropy)); the two-stage fit makes a good start.
//!
//! # Examples
//! Two-stage training on `sin x`, then a gradient step through the ordinary [`Trainer`]:
//! ```
//! use adnet_graph::Graph;
//! use adnet_nn::layers::Module;
//! use adnet_nn::optim::Adam;
//! use adnet_nn::rbf::{Rbf, RbfOptions};
//! use adnet_nn::train::{Step, Trainer};
//! use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
//!
//! let xs: Vec<f64> = (0..40).map(|i| -3.0 + 6.0 * i as f64 / 39.0).collect();
//! let ys: Vec<f64> = xs.iter().map(|x| x.sin()).collect();
//! let (features, targets) = (Tensor::from_vec(xs, [40, 1])?, Tensor::from_vec(ys, [40, 1])?);
//!
//! let g = Graph::new();
//! let mut rng = StdRng::seed_from_u64(0);
//! let options = RbfOptions::default().with_dtype(DType::F64);
//! let rbf = Rbf::new(&g, "rbf", &features, 8, 1, options, &mut rng)?;
//! let names: Vec<String> = rbf.parameters().into_iter().map(|(name, _)| name).collect();
//! assert_eq!(names, ["rbf.centres", "rbf.log_widths", "rbf.out.weight", "rbf.out.bias"]);
//!
//! let fit = rbf.fit_output(&g, &features, &targets, 1e-9)?;
//! assert!(fit.rmse < 0.01, "{fit:?}");
//! let x = g.input("x", [40, 1], DType::F64)?;
//! let y = rbf.forward(&g, x)?;
//! let predicted = g.eval_tensor(y, &[("x", &features)])?;
//! assert!((predicted.get(&[5, 0])? - targets.get(&[5, 0])?).abs() < 0.03);
//!
//! // then train everything by gradient descent
//! let params = rbf.parameters();
//! let step = Step::mse(rbf, 1, 1, DType::F64);
//! let mut trainer = Trainer::new(&g, params, Box::new(Adam::new(1e-3)?), step)?;
//! let step = trainer.train_batch(&features, &targets)?;
//! assert!(step.loss < 1e-4);
//! # Ok::<(), adnet_nn::NnError>(())
//! ```
//!
//! [`Trainer`]: crate::train::Trainer

use adnet_graph::ops::Axes;
use adnet_graph::{Graph, GraphError, NodeId, Var};
use adnet_tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::layers::{ensure_free, named_node, Fans, Init, Linear, LinearOptions, Module};
use crate::{NnError, Result};

mod kmeans;
mod options;
mod output;
mod widths;

use kmeans::Rows;
pub use kmeans::{kmeans, KMeans};
pub use options::RbfOptions;
pub use output::OutputFit;
pub use widths::Widths;

/// A radial basis function network: `k` Gaussian units
/// `φ_j(x) = exp(−‖x − c_j‖² / (2 σ_j²))` and a linear output layer, `y = W ᵀφ(x) + b`.
///
/// The input is `[n, d]`, the hidden activations `[n, k]` ([`Rbf::activations`]), the output
/// `[n, out]`. See the [module documentation](self) for the parameters, how distances are
/// computed, and how to train it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rbf {
    name: String,
    in_features: usize,
    units: usize,
    centres: (String, NodeId),
    log_widths: (String, NodeId),
    out: Linear,
}

impl Rbf {
    /// Creates a network of `units` Gaussian units and `out_features` outputs in `g`, its
    /// centres placed by [`kmeans`] on `features` (`[n, d]`, `d` becoming the input width) and
    /// its widths set by [`RbfOptions::widths`].
    ///
    /// `rng` gives the k-means seed (one `u64`), then the output weights.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: (`units`) for 0 units or more units than samples;
    /// (`out_features`) for 0 outputs; (`features`) for a tensor that is not `[n, d]` or
    /// holds a NaN or infinity; (`widths`) for a width rule's bad setting ([`Widths::compute`]);
    /// an initializer's errors ([`Init::tensor`]); [`GraphError::InvalidName`] or
    /// [`GraphError::DuplicateName`] for a bad or used name. Everything is checked before
    /// anything is created: a rejected call leaves `g` unchanged.
    ///
    /// # Cost
    /// The k-means run, `O(n·k·d)` per Lloyd iteration.
    pub fn new(
        g: &Graph,
        name: &str,
        features: &Tensor,
        units: usize,
        out_features: usize,
        options: RbfOptions,
        rng: &mut impl Rng,
    ) -> Result<Rbf> {
        let rows = Rows::of(features)?;
        if units == 0 || units > rows.n {
            return Err(NnError::InvalidSetting {
                what: "units",
                reason: format!(
                    "network `{name}` needs between 1 and {} units (one per sample at most), \
                     got {units}",
                    rows.n
                ),
            });
        }
        check_outputs(name, out_features)?;
        let seed = rng.random::<u64>();
        let clusters = kmeans(features, units, seed, options.max_iter)?;
        let centres = clusters.centres.to_f64_vec();
        let widths = options
            .widths
            .widths(&rows, &centres, units, &clusters.assignments)?;
        Self::create(
            g,
            name,
            (&centres, units, rows.d),
            &widths,
            out_features,
            options,
            rng,
        )
    }

    /// Creates a network with the given centres (`[k, d]`) and widths `σ_j` (`[k]`), for
    /// example from a [`kmeans`] run and [`Widths::compute`] of your own, or set by hand.
    /// [`RbfOptions::widths`] and [`RbfOptions::max_iter`] are not used.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: (`centres`) for a tensor that is not `[k, d]` with
    /// `k, d ≥ 1` or holds a value that is not finite; (`widths`) for widths that are not `[k]`
    /// or not all positive and finite; (`out_features`) for 0 outputs; an initializer's errors;
    /// a bad or used name. A rejected call leaves `g` unchanged.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// use adnet_nn::rbf::{Rbf, RbfOptions};
    /// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
    /// let g = Graph::new();
    /// let centres = Tensor::from_vec(vec![0.0, 0.0, 1.0, 1.0], [2, 2])?;
    /// let widths = Tensor::from_vec(vec![0.5, 2.0], [2])?;
    /// let options = RbfOptions::default().with_dtype(DType::F64);
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let rbf = Rbf::with_centres(&g, "rbf", &centres, &widths, 3, options, &mut rng)?;
    /// assert_eq!((rbf.in_features(), rbf.units(), rbf.out_features()), (2, 2, 3));
    /// assert_eq!(rbf.widths(&g)?, vec![0.5, 2.0]);
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn with_centres(
        g: &Graph,
        name: &str,
        centres: &Tensor,
        widths: &Tensor,
        out_features: usize,
        options: RbfOptions,
        rng: &mut impl Rng,
    ) -> Result<Rbf> {
        let centre_rows = Rows::named(centres, "centres", "centre")?;
        let k = centre_rows.n;
        let values = widths.to_f64_vec();
        if widths.dims() != [k] {
            return Err(NnError::InvalidSetting {
                what: "widths",
                reason: format!(
                    "expected [{k}], one per centre, got shape {}",
                    widths.shape()
                ),
            });
        }
        if let Some(bad) = values.iter().position(|w| !(w.is_finite() && *w > 0.0)) {
            return Err(NnError::InvalidSetting {
                what: "widths",
                reason: format!(
                    "width {bad} is {}, every width must be positive and finite",
                    values[bad]
                ),
            });
        }
        check_outputs(name, out_features)?;
        Self::create(
            g,
            name,
            (&centre_rows.values, k, centre_rows.d),
            &values,
            out_features,
            options,
            rng,
        )
    }

    /// Creates the parameters from validated centres (`[k, d]`, row-major) and widths.
    fn create(
        g: &Graph,
        name: &str,
        (centres, k, d): (&[f64], usize, usize),
        widths: &[f64],
        out_features: usize,
        options: RbfOptions,
        rng: &mut impl Rng,
    ) -> Result<Rbf> {
        let centres_name = format!("{name}.centres");
        let widths_name = format!("{name}.log_widths");
        let out_name = format!("{name}.out");
        for used in [
            &centres_name,
            &widths_name,
            &format!("{out_name}.weight"),
            &format!("{out_name}.bias"),
        ] {
            ensure_free(g, used)?;
        }
        // draw once from a throwaway generator, so that a bad initializer fails before
        // anything is created (drawing cannot fail after that) and `rng` is not advanced
        let fans = Fans {
            fan_in: k,
            fan_out: out_features,
        };
        options.weight_init.tensor_with_fans(
            [1, 1],
            Some(fans),
            options.dtype,
            &mut StdRng::seed_from_u64(0),
        )?;
        let centres_value = Tensor::from_f64s(centres, [k, d], options.dtype)?;
        let log_widths: Vec<f64> = widths.iter().map(|w| w.ln()).collect();
        let widths_value = Tensor::from_f64s(&log_widths, [k], options.dtype)?;
        // an invalid name fails here, before anything exists; the other names share its prefix
        let centres_id = g.param(&centres_name, centres_value)?.id();
        let widths_id = g.param(&widths_name, widths_value)?.id();
        let linear = LinearOptions {
            bias: true,
            weight_init: options.weight_init,
            bias_init: Init::Zeros,
            dtype: options.dtype,
        };
        let out = Linear::new(g, &out_name, k, out_features, linear, rng)?;
        Ok(Rbf {
            name: name.to_string(),
            in_features: d,
            units: k,
            centres: (centres_name, centres_id),
            log_widths: (widths_name, widths_id),
            out,
        })
    }

    /// The network's name (its parameters are `{name}.centres`, `{name}.log_widths`,
    /// `{name}.out.weight` and `{name}.out.bias`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input width `d`.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// The number of Gaussian units `k`.
    pub fn units(&self) -> usize {
        self.units
    }

    /// The output width.
    pub fn out_features(&self) -> usize {
        self.out.out_features()
    }

    /// The centres node, `[k, d]`.
    pub fn centres(&self) -> NodeId {
        self.centres.1
    }

    /// The log-widths node, `[k]`, holding `ln σ_j`.
    pub fn log_widths(&self) -> NodeId {
        self.log_widths.1
    }

    /// The output layer, `y = φ W + b` with `W` of shape `[k, out]`.
    pub fn output(&self) -> &Linear {
        &self.out
    }

    /// The current widths `σ_j = exp(ln σ_j)`, read from `g`.
    ///
    /// # Errors
    /// `g` not the graph the network was built in.
    pub fn widths(&self, g: &Graph) -> Result<Vec<f64>> {
        let node = named_node(g, &self.log_widths.0, self.log_widths.1)?;
        Ok(g.value(node)?
            .to_f64_vec()
            .into_iter()
            .map(f64::exp)
            .collect())
    }

    /// The number of trainable scalars, `k·d + k + k·out + out`.
    pub fn num_parameters(&self) -> usize {
        let (k, d, out) = (self.units, self.in_features, self.out_features());
        k * d + k + k * out + out
    }

    /// Adds the hidden layer's nodes: `φ_ij = exp(−‖x_i − c_j‖² / (2 σ_j²))`, `[n, k]`, for
    /// `x` of shape `[n, d]`, with the distances expanded around one matmul and clamped at 0
    /// (see the [module documentation](self)).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming the network, the input's shape and the centres'
    /// when `x` is not `[n, d]`; [`GraphError::DTypeMismatch`] for an input of another dtype;
    /// `x` or the parameters not in `g`. A rejected call adds nothing to `g`.
    pub fn activations<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        let x = g.var(x)?;
        let centres = named_node(g, &self.centres.0, self.centres.1)?;
        let log_widths = named_node(g, &self.log_widths.0, self.log_widths.1)?;
        let op = || format!("rbf `{}`", self.name);
        let shape = x.shape();
        if shape.rank() != 2 || shape.dims()[1] != self.in_features {
            return Err(GraphError::ShapeMismatch {
                op: op(),
                lhs: shape,
                rhs: centres.shape(),
            }
            .into());
        }
        if x.dtype() != centres.dtype() {
            return Err(GraphError::DTypeMismatch {
                op: op(),
                lhs: x.dtype(),
                rhs: centres.dtype(),
            }
            .into());
        }
        // ‖x_i‖², [n, 1]; ‖c_j‖², [k]; x_i·c_j, [n, k]
        let x_norms = g.sum(x.square(), Axes::List(vec![-1]), true)?;
        let c_norms = centres.square().try_sum(&[-1])?;
        let cross = g.matmul_t(x, centres, false, true)?;
        let twice_cross = cross.try_mul(x.constant_like(2.0))?;
        // rounding can leave a distance slightly below 0 where x sits on a centre
        let distances = x_norms.try_sub(twice_cross)?.try_add(c_norms)?.relu();
        // −1/(2σ²) = −½·exp(−2 ln σ), [k], broadcast over the batch
        let coefficients = log_widths
            .try_mul(x.constant_like(-2.0))?
            .exp()
            .try_mul(x.constant_like(-0.5))?;
        Ok(distances.try_mul(coefficients)?.exp())
    }
}

/// Checks the output width before anything is created.
fn check_outputs(name: &str, out_features: usize) -> Result<()> {
    if out_features == 0 {
        return Err(NnError::InvalidSetting {
            what: "out_features",
            reason: format!("network `{name}` needs at least one output, got 0"),
        });
    }
    Ok(())
}

impl Module for Rbf {
    /// Adds `φ(x) W + b`: the Gaussian units ([`Rbf::activations`]), then the output layer.
    ///
    /// # Errors
    /// As [`Rbf::activations`].
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        let hidden = self.activations(g, x)?;
        self.out.forward(g, hidden)
    }

    fn parameters(&self) -> Vec<(String, NodeId)> {
        [self.centres.clone(), self.log_widths.clone()]
            .into_iter()
            .chain(self.out.parameters())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_tensor::DType;

    fn square_corners() -> Tensor {
        Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2]).expect("4×2")
    }

    #[test]
    fn rejected_construction_leaves_the_graph_unchanged() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        let x = square_corners();
        g.scalar_param("taken.out.bias", 0.0)?;
        let before = g.len();
        let options = RbfOptions::default();
        assert!(matches!(
            Rbf::new(&g, "taken", &x, 2, 1, options, &mut rng),
            Err(NnError::Graph(GraphError::DuplicateName { .. }))
        ));
        assert!(matches!(
            Rbf::new(&g, "2bad", &x, 2, 1, options, &mut rng),
            Err(NnError::Graph(GraphError::InvalidName(_)))
        ));
        let bad_init = options.with_weight_init(Init::Uniform(1.0, 1.0));
        assert!(matches!(
            Rbf::new(&g, "net", &x, 2, 1, bad_init, &mut rng),
            Err(NnError::Tensor(_))
        ));
        let bad_rule = options.with_widths(Widths::NearestCentres(5));
        assert!(matches!(
            Rbf::new(&g, "net", &x, 2, 1, bad_rule, &mut rng),
            Err(NnError::InvalidSetting { what: "widths", .. })
        ));
        assert!(matches!(
            Rbf::new(&g, "net", &x, 2, 0, options, &mut rng),
            Err(NnError::InvalidSetting {
                what: "out_features",
                ..
            })
        ));
        assert_eq!(g.len(), before);
        Ok(())
    }

    #[test]
    fn with_centres_checks_its_tensors() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        let options = RbfOptions::default();
        let centres = square_corners();
        let bad_widths = [
            Tensor::from_vec(vec![1.0; 3], [3])?,
            Tensor::from_vec(vec![1.0, 1.0, 0.0, 1.0], [4])?,
            Tensor::from_vec(vec![1.0, 1.0, f64::INFINITY, 1.0], [4])?,
        ];
        for widths in &bad_widths {
            assert!(matches!(
                Rbf::with_centres(&g, "rbf", &centres, widths, 1, options, &mut rng),
                Err(NnError::InvalidSetting { what: "widths", .. })
            ));
        }
        let nan_centres = Tensor::from_vec(vec![0.0, f64::NAN], [1, 2])?;
        let one = Tensor::from_vec(vec![1.0], [1])?;
        let err = Rbf::with_centres(&g, "rbf", &nan_centres, &one, 1, options, &mut rng)
            .expect_err("a NaN centre");
        assert_eq!(
            err.to_string(),
            "centres: centre 0 feature 1 is NaN (every value must be finite)"
        );
        assert_eq!(g.len(), 0);
        Ok(())
    }

    #[test]
    fn forward_checks_width_rank_dtype_and_graph() -> Result<()> {
        let g = Graph::new();
        let mut rng = StdRng::seed_from_u64(0);
        let rbf = Rbf::new(
            &g,
            "rbf",
            &square_corners(),
            2,
            1,
            RbfOptions::default(),
            &mut rng,
        )?;
        let wide = g.input("wide", [5, 3], DType::F32)?;
        let before = g.len();
        assert_eq!(
            rbf.forward(&g, wide).expect_err("3 features").to_string(),
            "rbf `rbf`: incompatible shapes [5, 3] and [2, 2]"
        );
        let batched = g.input("batched", [2, 5, 2], DType::F32)?;
        assert!(rbf.forward(&g, batched).is_err());
        let doubles = g.input("doubles", [5, 2], DType::F64)?;
        assert!(matches!(
            rbf.forward(&g, doubles),
            Err(NnError::Graph(GraphError::DTypeMismatch { .. }))
        ));
        assert_eq!(g.len(), before + 2);
        let other = Graph::new();
        let x = other.input("x", [4, 2], DType::F32)?;
        assert!(matches!(
            rbf.forward(&other, x),
            Err(NnError::Graph(GraphError::UnknownName(_)))
        ));
        Ok(())
    }

    #[test]
    fn a_sample_on_its_centre_activates_it_fully() -> Result<()> {
        // in f32 the expansion's rounding can make a distance slightly negative where a
        // sample sits on a centre: the clamp keeps every activation at most 1
        let g = Graph::new();
        let centres = Tensor::from_vec(vec![0.3f32, -1.7, 2.9, 0.11], [2, 2])?;
        let widths = Tensor::from_vec(vec![0.1f32, 1.0], [2])?;
        let rbf = Rbf::with_centres(
            &g,
            "rbf",
            &centres,
            &widths,
            1,
            RbfOptions::default(),
            &mut StdRng::seed_from_u64(0),
        )?;
        let x = g.input("x", [2, 2], DType::F32)?;
        let phi = rbf.activations(&g, x)?;
        let values = g.eval_tensor(phi, &[("x", &centres)])?.to_f64_vec();
        assert!(values.iter().all(|v| (0.0..=1.0).contains(v)), "{values:?}");
        assert!(
            values[0] > 1.0 - 1e-4 && values[3] > 1.0 - 1e-5,
            "{values:?}"
        );
        Ok(())
    }

    #[test]
    fn parameter_count_matches_the_tensors() -> Result<()> {
        let g = Graph::new();
        let x = Tensor::from_vec((0..30).map(f64::from).collect::<Vec<_>>(), [10, 3])?;
        let mut rng = StdRng::seed_from_u64(0);
        let rbf = Rbf::new(&g, "rbf", &x, 4, 2, RbfOptions::default(), &mut rng)?;
        let total: usize = rbf
            .parameters()
            .iter()
            .map(|(_, id)| g.spec(*id).map(|s| s.shape.numel()))
            .sum::<adnet_graph::Result<usize>>()?;
        assert_eq!(rbf.num_parameters(), total);
        assert_eq!(total, 4 * 3 + 4 + 4 * 2 + 2);
        Ok(())
    }
}
