//! Activation functions as modules without parameters.

use adnet_graph::{Graph, NodeId, Var};

use super::Module;
use crate::Result;

/// SELU's `α` (PyTorch's `torch.nn.SELU`, from Klambauer et al. 2017).
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// SELU's `λ` (PyTorch's `torch.nn.SELU`).
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
/// `√(2/π)`, of GELU's tanh approximation.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of GELU's tanh approximation.
const GELU_CUBIC: f64 = 0.044_715;

/// An elementwise (or, for the softmaxes, per-axis) nonlinearity.
///
/// Each is a primitive op or a composition of primitive ops, so its derivatives of every order
/// are exact (no hand-written derivative here). The formulas and defaults are PyTorch's:
///
/// | variant | `y` | built from |
/// | --- | --- | --- |
/// | `Sigmoid` | `1 / (1 + e^−x)` | `sigmoid` |
/// | `Tanh` | `tanh x` | `tanh` |
/// | `Softsign` | `x / (1 + |x|)` | `softsign` |
/// | `Relu` | `max(0, x)` | `relu` (`relu'(0) = 0`) |
/// | `LeakyRelu(slope)` | `x` if `x > 0` else `slope·x` (PyTorch's default slope is 0.01) | `leaky_relu` |
/// | `Softplus` | `ln(1 + eˣ)` (PyTorch's `beta = 1`; computed stably, no threshold switch) | `softplus` |
/// | `Elu(alpha)` | `x` if `x > 0` else `α(eˣ − 1)` (PyTorch's default `α` is 1) | `elu` |
/// | `Selu` | `λ·elu(x, α)`, `α ≈ 1.6733`, `λ ≈ 1.0507` | `elu`, `mul` |
/// | `Gelu` | `x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))` | `tanh`, `mul`, `add` |
/// | `Silu` | `x · sigmoid(x)` (also called Swish) | `sigmoid`, `mul` |
/// | `Identity` | `x` | nothing: the input node itself |
/// | `Softmax(axis)` | `eˣⁱ / Σⱼ eˣʲ` along `axis` | `softmax` |
/// | `LogSoftmax(axis)` | `xᵢ − logsumexp(x)` along `axis` | `log_softmax` |
///
/// `Gelu` is PyTorch's `GELU(approximate='tanh')` (the form GPT-2 and BERT use), not the
/// default exact `x·Φ(x)`: the exact form needs `erf`, which is not a primitive, and a rational
/// approximation of `erf` would only approximate its derivatives too. The two differ by less
/// than `1e-3` everywhere.
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// use adnet_nn::layers::Activation;
/// let g = Graph::new();
/// let x = g.scalar_input("x")?;
/// let y = Activation::Silu.apply(x)?;
/// assert!((g.eval(y, &[("x", 1.0)])? - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// The logistic function.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// `x / (1 + |x|)`.
    Softsign,
    /// The rectified linear unit.
    Relu,
    /// ReLU with the given slope for negative inputs.
    LeakyRelu(f64),
    /// `ln(1 + eˣ)`.
    Softplus,
    /// The exponential linear unit with the given `α`.
    Elu(f64),
    /// The scaled ELU, with PyTorch's constants.
    Selu,
    /// GELU, tanh approximation.
    Gelu,
    /// `x · sigmoid(x)`, also called Swish.
    Silu,
    /// `x` unchanged.
    Identity,
    /// Softmax along the axis (negative counts from the end).
    Softmax(isize),
    /// Log-softmax along the axis (negative counts from the end).
    LogSoftmax(isize),
}

impl Activation {
    /// Adds the activation of `x` to `x`'s graph.
    ///
    /// # Errors
    /// Only `Softmax` and `LogSoftmax`: an axis out of range, or a scalar `x`.
    pub fn apply<'g>(&self, x: Var<'g>) -> Result<Var<'g>> {
        let c = |value: f64| x.constant_like(value);
        let y = match *self {
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Softsign => x.softsign(),
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(slope) => x.leaky_relu(slope),
            Activation::Softplus => x.softplus(),
            Activation::Elu(alpha) => x.elu(alpha),
            Activation::Selu => x.elu(SELU_ALPHA).try_mul(c(SELU_SCALE))?,
            Activation::Gelu => {
                // x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))
                let cube = x.square().try_mul(x)?;
                let inner = x.try_add(cube.try_mul(c(GELU_CUBIC))?)?;
                let t = inner.try_mul(c(SQRT_2_OVER_PI))?.tanh();
                x.try_mul(c(0.5))?.try_mul(t.try_add(c(1.0))?)?
            }
            Activation::Silu => x.try_mul(x.sigmoid())?,
            Activation::Identity => x,
            Activation::Softmax(axis) => x.try_softmax(axis)?,
            Activation::LogSoftmax(axis) => x.try_log_softmax(axis)?,
        };
        Ok(y)
    }
}

impl Module for Activation {
    /// [`Activation::apply`], after checking that `x` belongs to `g`.
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        self.apply(g.var(x)?)
    }

    /// None: activations have no parameters.
    fn parameters(&self) -> Vec<(String, NodeId)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_tensor::{assert_close, DType, Tensor};

    fn eval(activation: Activation, points: &[f64], dtype: DType) -> Result<Vec<f64>> {
        let g = Graph::new();
        let x = g.input("x", [points.len()], dtype)?;
        let y = activation.apply(x)?;
        let at = Tensor::from_f64s(points, [points.len()], dtype)?;
        Ok(g.eval_tensor(y, &[("x", &at)])?.to_f64_vec())
    }

    #[test]
    fn gelu_tanh_form_is_within_1e_3_of_the_exact_form() -> Result<()> {
        // exact GELU x·Φ(x) from a Maclaurin series of erf, accurate to 1e-15 for |x| <= 4
        fn erf(x: f64) -> f64 {
            let (mut term, mut sum) = (x, x);
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        }
        let points: Vec<f64> = (-400..=400).map(|i| i as f64 / 100.0).collect();
        let approx = eval(Activation::Gelu, &points, DType::F64)?;
        for (&x, &y) in points.iter().zip(&approx) {
            let exact = 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2));
            assert!((y - exact).abs() < 1e-3, "x = {x}: {y} vs {exact}");
        }
        Ok(())
    }

    #[test]
    fn selu_uses_pytorch_constants() -> Result<()> {
        let y = eval(Activation::Selu, &[-1.0, 2.0], DType::F64)?;
        // torch.nn.functional.selu(torch.tensor([-1., 2.], dtype=torch.float64))
        assert_close!(y[0], -1.111_330_737_812_562_4, 1e-14);
        assert_close!(y[1], 2.101_401_974_710_961, 1e-14);
        Ok(())
    }

    #[test]
    fn identity_adds_no_node() -> Result<()> {
        let g = Graph::new();
        let x = g.input("x", [3], DType::F32)?;
        let before = g.len();
        let y = Activation::Identity.forward(&g, x)?;
        assert_eq!((y.id(), g.len()), (x.id(), before));
        assert!(Activation::Relu.parameters().is_empty());
        Ok(())
    }

    #[test]
    fn kinks_take_the_primitive_values() -> Result<()> {
        assert_eq!(eval(Activation::Relu, &[0.0], DType::F64)?, vec![0.0]);
        assert_eq!(
            eval(Activation::LeakyRelu(0.1), &[0.0], DType::F64)?,
            vec![0.0]
        );
        assert_eq!(eval(Activation::Elu(1.0), &[0.0], DType::F64)?, vec![0.0]);
        Ok(())
    }

    #[test]
    fn softmax_on_a_scalar_is_an_error() -> Result<()> {
        let g = Graph::new();
        let x = g.scalar_input("x")?;
        assert!(Activation::Softmax(0).apply(x).is_err());
        let v = g.input("v", [2, 3], DType::F64)?;
        assert!(Activation::LogSoftmax(2).apply(v).is_err());
        Ok(())
    }
}
