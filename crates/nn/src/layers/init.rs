//! Weight initializers with PyTorch's formulas, seeded.

use adnet_tensor::{DType, Shape, Tensor};
use rand::Rng;

use crate::{NnError, Result};

/// The fan-in and fan-out of a weight, which scale the variance-preserving initializers.
///
/// adnet stores a dense weight as `[in, out]` (so a layer computes `x @ w`), the transpose of
/// PyTorch's `[out, in]`: the last axis is the output axis and the one before it the input axis.
/// Leading axes, if any, count as a receptive field that multiplies both fans, as PyTorch's
/// `_calculate_fan_in_and_fan_out` does for convolution kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fans {
    /// Inputs feeding each output: `in · receptive field`.
    pub fan_in: usize,
    /// Outputs each input feeds: `out · receptive field`.
    pub fan_out: usize,
}

impl Fans {
    /// The fans of a weight of the given shape (`[.., in, out]`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] for a shape of rank below 2, as in PyTorch (a bias has no
    /// fans of its own; [`Linear`](super::Linear) gives its bias the weight's fans).
    ///
    /// # Examples
    /// ```
    /// use adnet_nn::layers::Fans;
    /// assert_eq!(Fans::of(&[784, 128].into())?, Fans { fan_in: 784, fan_out: 128 });
    /// assert_eq!(Fans::of(&[3, 2, 5].into())?, Fans { fan_in: 6, fan_out: 15 });
    /// assert!(Fans::of(&[5].into()).is_err());
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn of(shape: &Shape) -> Result<Fans> {
        let dims = shape.dims();
        let rank = dims.len();
        if rank < 2 {
            return Err(NnError::InvalidSetting {
                what: "init",
                reason: format!("fan in and fan out need a shape of rank >= 2, got {shape}"),
            });
        }
        let receptive: usize = dims[..rank - 2].iter().product();
        Ok(Fans {
            fan_in: dims[rank - 2] * receptive,
            fan_out: dims[rank - 1] * receptive,
        })
    }
}

/// How to draw a parameter's initial value.
///
/// The fan-based initializers follow PyTorch's `torch.nn.init` (fans from [`Fans`]):
///
/// | variant | distribution | PyTorch |
/// | --- | --- | --- |
/// | `GlorotUniform` | `U(−a, a)`, `a = √(6 / (fan_in + fan_out))` | `xavier_uniform_(gain=1)` |
/// | `GlorotNormal` | `N(0, σ²)`, `σ = √(2 / (fan_in + fan_out))` | `xavier_normal_(gain=1)` |
/// | `HeUniform` | `U(−a, a)`, `a = √2 · √(3 / fan_in) = √(6 / fan_in)` | `kaiming_uniform_(mode='fan_in', nonlinearity='relu')` |
/// | `HeNormal` | `N(0, σ²)`, `σ = √2 / √fan_in` | `kaiming_normal_(mode='fan_in', nonlinearity='relu')` |
/// | `LecunUniform` | `U(−a, a)`, `a = √(3 / fan_in)` | `kaiming_uniform_(mode='fan_in', nonlinearity='linear')` |
/// | `LecunNormal` | `N(0, σ²)`, `σ = 1 / √fan_in` | `kaiming_normal_(mode='fan_in', nonlinearity='linear')` |
///
/// He uses the gain `√2` of ReLU and fan-in mode (variance preserved in the forward pass);
/// Glorot uses gain 1 and the mean of the fans; LeCun is He with gain 1 (the initializer SELU
/// networks want). The normal variants are plain normals, as PyTorch's (JAX's and Keras'
/// `lecun_normal`/`he_normal` truncate at two standard deviations instead). For another gain
/// or mode, use `Uniform(−a, a)` or `Normal(0, σ)` with your own bound. PyTorch's default
/// `nn.Linear` weight init is `Uniform(−1/√in, 1/√in)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Xavier/Glorot uniform.
    GlorotUniform,
    /// Xavier/Glorot normal.
    GlorotNormal,
    /// Kaiming/He uniform, for ReLU.
    HeUniform,
    /// Kaiming/He normal, for ReLU.
    HeNormal,
    /// LeCun uniform.
    LecunUniform,
    /// LeCun normal.
    LecunNormal,
    /// Every element 0.
    Zeros,
    /// Every element the given value.
    Constant(f64),
    /// `U(lo, hi)`: uniform on `[lo, hi)`.
    Uniform(f64, f64),
    /// `N(mean, std²)`.
    Normal(f64, f64),
}

impl Init {
    /// Whether the initializer depends on the fans.
    pub fn needs_fans(&self) -> bool {
        matches!(
            self,
            Init::GlorotUniform
                | Init::GlorotNormal
                | Init::HeUniform
                | Init::HeNormal
                | Init::LecunUniform
                | Init::LecunNormal
        )
    }

    /// A tensor of the given shape and dtype, drawn from `rng`, with fans from the shape (see
    /// [`Fans`]).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] for a fan-based initializer on a shape of rank below 2;
    /// [`NnError::Tensor`] for `Uniform` with `lo >= hi`, or `Normal` with a negative `std`
    /// (or any non-finite setting).
    ///
    /// # Examples
    /// ```
    /// use adnet_nn::layers::Init;
    /// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType};
    /// let mut rng = StdRng::seed_from_u64(1);
    /// let w = Init::GlorotUniform.tensor([3, 5], DType::F32, &mut rng)?;
    /// let bound = (6.0f64 / 8.0).sqrt();
    /// assert!(w.to_f64_vec().iter().all(|v| v.abs() <= bound));
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn tensor(
        &self,
        shape: impl Into<Shape>,
        dtype: DType,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let fans = if self.needs_fans() {
            Some(Fans::of(&shape)?)
        } else {
            None
        };
        self.tensor_with_fans(shape, fans, dtype, rng)
    }

    /// [`Init::tensor`] with the fans given (`None` for an initializer that needs none): how a
    /// bias is drawn with its weight's fans.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] for a fan-based initializer given no fans; otherwise as
    /// [`Init::tensor`].
    pub fn tensor_with_fans(
        &self,
        shape: impl Into<Shape>,
        fans: Option<Fans>,
        dtype: DType,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        if shape.numel() == 0 {
            return Ok(Tensor::zeros(shape, dtype));
        }
        let fans = || {
            fans.ok_or_else(|| NnError::InvalidSetting {
                what: "init",
                reason: format!("{self:?} needs fans, none given"),
            })
        };
        let tensor = match *self {
            Init::Zeros => Tensor::zeros(shape, dtype),
            Init::Constant(value) => Tensor::full(shape, value, dtype),
            Init::Uniform(lo, hi) => Tensor::uniform(shape, lo, hi, dtype, rng)?,
            Init::Normal(mean, std) => Tensor::normal(shape, mean, std, dtype, rng)?,
            Init::GlorotUniform => {
                let f = fans()?;
                let bound = (6.0 / (f.fan_in + f.fan_out) as f64).sqrt();
                Tensor::uniform(shape, -bound, bound, dtype, rng)?
            }
            Init::GlorotNormal => {
                let f = fans()?;
                let std = (2.0 / (f.fan_in + f.fan_out) as f64).sqrt();
                Tensor::normal(shape, 0.0, std, dtype, rng)?
            }
            Init::HeUniform => {
                let bound = (6.0 / fans()?.fan_in as f64).sqrt();
                Tensor::uniform(shape, -bound, bound, dtype, rng)?
            }
            Init::HeNormal => {
                let std = (2.0 / fans()?.fan_in as f64).sqrt();
                Tensor::normal(shape, 0.0, std, dtype, rng)?
            }
            Init::LecunUniform => {
                let bound = (3.0 / fans()?.fan_in as f64).sqrt();
                Tensor::uniform(shape, -bound, bound, dtype, rng)?
            }
            Init::LecunNormal => {
                let std = (1.0 / fans()?.fan_in as f64).sqrt();
                Tensor::normal(shape, 0.0, std, dtype, rng)?
            }
        };
        Ok(tensor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adnet_tensor::assert_close;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const FAN_IN: usize = 400;
    const FAN_OUT: usize = 300;

    /// Sample mean and (population) variance.
    fn moments(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    /// Draws a [FAN_IN, FAN_OUT] sample and checks its mean is 0 and its variance `variance`
    /// (120 000 draws: the standard error of the variance is under 1%, so 4% is 4σ and more).
    fn check_moments(init: Init, variance: f64, bound: Option<f64>) -> Result<()> {
        let mut rng = StdRng::seed_from_u64(42);
        let values = init
            .tensor([FAN_IN, FAN_OUT], DType::F64, &mut rng)?
            .to_f64_vec();
        let (mean, var) = moments(&values);
        let n = values.len() as f64;
        assert!(
            mean.abs() < 5.0 * (variance / n).sqrt(),
            "{init:?}: mean {mean}"
        );
        assert_close!(var / variance, 1.0, 0.04);
        if let Some(bound) = bound {
            assert!(
                values.iter().all(|v| (-bound..bound).contains(v)),
                "{init:?}"
            );
            let max = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(
                max > 0.99 * bound,
                "{init:?}: the sample should reach the bound"
            );
        }
        Ok(())
    }

    #[test]
    fn glorot_moments_and_bounds_match_pytorch() -> Result<()> {
        let sum = (FAN_IN + FAN_OUT) as f64;
        let a = (6.0 / sum).sqrt();
        check_moments(Init::GlorotUniform, a * a / 3.0, Some(a))?;
        check_moments(Init::GlorotNormal, 2.0 / sum, None)
    }

    #[test]
    fn he_moments_use_relu_gain_and_fan_in() -> Result<()> {
        let a = (6.0 / FAN_IN as f64).sqrt();
        check_moments(Init::HeUniform, 2.0 / FAN_IN as f64, Some(a))?;
        check_moments(Init::HeNormal, 2.0 / FAN_IN as f64, None)
    }

    #[test]
    fn lecun_moments_use_gain_one_and_fan_in() -> Result<()> {
        let a = (3.0 / FAN_IN as f64).sqrt();
        check_moments(Init::LecunUniform, 1.0 / FAN_IN as f64, Some(a))?;
        check_moments(Init::LecunNormal, 1.0 / FAN_IN as f64, None)
    }

    #[test]
    fn explicit_distributions_have_their_moments() -> Result<()> {
        let mut rng = StdRng::seed_from_u64(3);
        let u = Init::Uniform(-1.0, 3.0)
            .tensor([200, 500], DType::F64, &mut rng)?
            .to_f64_vec();
        let (mean, var) = moments(&u);
        assert_close!(mean, 1.0, 0.02);
        assert_close!(var, 16.0 / 12.0, 0.03);
        assert!(u.iter().all(|v| (-1.0..3.0).contains(v)));
        let n = Init::Normal(2.0, 0.5)
            .tensor([200, 500], DType::F32, &mut rng)?
            .to_f64_vec();
        let (mean, var) = moments(&n);
        assert_close!(mean, 2.0, 0.01);
        assert_close!(var, 0.25, 0.01);
        let c = Init::Constant(0.25).tensor([7], DType::F32, &mut rng)?;
        assert_eq!(c.to_f64_vec(), vec![0.25; 7]);
        let z = Init::Zeros.tensor([2, 3], DType::F64, &mut rng)?;
        assert_eq!(z.to_f64_vec(), vec![0.0; 6]);
        Ok(())
    }

    #[test]
    fn same_seed_same_tensor_other_seed_other_tensor() -> Result<()> {
        for init in [Init::GlorotUniform, Init::HeNormal, Init::Normal(0.0, 1.0)] {
            let draw = |seed| init.tensor([5, 4], DType::F32, &mut StdRng::seed_from_u64(seed));
            assert_eq!(draw(9)?, draw(9)?);
            assert_ne!(draw(9)?, draw(10)?);
        }
        Ok(())
    }

    #[test]
    fn fans_follow_the_in_out_layout() -> Result<()> {
        assert_eq!(
            Fans::of(&Shape::from([784, 128]))?,
            Fans {
                fan_in: 784,
                fan_out: 128
            }
        );
        assert_eq!(
            Fans::of(&Shape::from([3, 2, 5]))?,
            Fans {
                fan_in: 6,
                fan_out: 15
            }
        );
        assert!(matches!(
            Fans::of(&Shape::from([5])),
            Err(NnError::InvalidSetting { what: "init", .. })
        ));
        let mut rng = StdRng::seed_from_u64(0);
        assert!(Init::HeUniform.tensor([5], DType::F32, &mut rng).is_err());
        // non-fan initializers accept any rank
        assert_eq!(Init::Zeros.tensor([5], DType::F32, &mut rng)?.numel(), 5);
        Ok(())
    }

    #[test]
    fn bad_settings_are_errors() {
        let mut rng = StdRng::seed_from_u64(0);
        assert!(matches!(
            Init::Uniform(1.0, 1.0).tensor([2, 2], DType::F32, &mut rng),
            Err(NnError::Tensor(_))
        ));
        assert!(matches!(
            Init::Normal(0.0, -1.0).tensor([2, 2], DType::F32, &mut rng),
            Err(NnError::Tensor(_))
        ));
        assert!(matches!(
            Init::GlorotNormal.tensor_with_fans([2], None, DType::F32, &mut rng),
            Err(NnError::InvalidSetting { .. })
        ));
    }
}
