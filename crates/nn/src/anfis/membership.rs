//! Membership functions: the adaptive nodes of an ANFIS's first layer.

use std::fmt;

use adnet_graph::Var;

use crate::{NnError, Result};

/// The family of membership functions an [`Anfis`](super::Anfis) uses on every input.
///
/// Each family has its own premise parameters (one vector of length `#MFs` per parameter and
/// input) and its own initialisation over an input's range `[lo, hi]` with `M` functions,
/// spacing `Δ = (hi − lo)/(M − 1)` (`Δ = hi − lo` when `M = 1`) and centres
/// `c_k = lo + k·Δ` (the midpoint when `M = 1`), so that neighbours overlap as in Jang 1993's
/// figures and MATLAB's `genfis1`.
///
/// Kinks follow the graph's conventions for `relu`, `abs` and `min` (`relu'(0) = 0`,
/// `abs'(0) = 0`, a tie of `min` splits the cotangent equally), so a derivative at a kink is
/// a one-sided derivative or the mean of the two, never NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MembershipKind {
    /// The generalised bell of Jang 1993, `μ(x) = 1 / (1 + |(x − c)/a|^(2b))`, parameters
    /// `a` (half width at `μ = ½`), `b` (slope at the crossover points, `−b/(2a)`) and `c`
    /// (centre); the default, as in the paper.
    ///
    /// Computed as `1 / (1 + (u²)^b)` with `u = (x − c)/a`, where the power is taken only
    /// where `u² > 0` and is 0 elsewhere (two `where` nodes around the `pow`): at `x = c`
    /// the value is exactly 1 and every derivative (with respect to `x`, `a`, `b`, `c`) is
    /// exactly 0, finite whatever `b` is, although `∂/∂b (u²)^b = ln(u²)·(u²)^b` involves
    /// `ln 0`. For `b > ½` these zeros are the true derivatives; for `b ≤ ½` the bell has a
    /// cusp or kink at `c` and 0 is the convention, as `abs'(0) = 0`.
    ///
    /// Initialised as `genfis1` does: `a = Δ/2`, `b = 2`, `c = c_k` (neighbours cross at
    /// `μ = ½`).
    #[default]
    Bell,
    /// The Gaussian `μ(x) = exp(−(x − c)² / (2σ²))`, parameters `c` (centre) and `sigma`
    /// (width), as MATLAB's `gaussmf`. Smooth everywhere.
    ///
    /// Initialised with `c = c_k` and `σ = Δ / (2√(2 ln 2))`: half width at half maximum
    /// `Δ/2`, so neighbours cross at `μ = ½`.
    Gaussian,
    /// The triangle `μ(x) = max(min((x − a)/(b − a), (c − x)/(c − b)), 0)` with feet `a`, `c`
    /// and peak `b` (`a < b < c`), as MATLAB's `trimf`, computed as
    /// `relu(min(left, right))`.
    ///
    /// Kinks: at the feet (and outside them) the derivative is that of the flat side, 0
    /// (`relu'(0) = 0`); at the peak `x = b` it is the mean of the two one-sided derivatives
    /// (the graph's `min` splits a tie equally between its operands), which is 0 for a
    /// symmetric triangle, as `abs'(0) = 0` gives for `1 − |x − b|/w`. Derivatives with
    /// respect to `a`, `b`, `c` follow by the chain rule through the same nodes.
    ///
    /// Initialised with `(a, b, c) = (c_k − Δ, c_k, c_k + Δ)`: the functions sum to 1 over
    /// the range.
    Triangular,
    /// The trapezoid
    /// `μ(x) = max(min((x − a)/(b − a), 1, (d − x)/(d − c)), 0)` with feet `a`, `d` and
    /// shoulders `b`, `c` (`a < b ≤ c < d`), as MATLAB's `trapmf`, computed as
    /// `1 − relu(1 − relu(min(left, right)))`.
    ///
    /// Kinks: at the feet and at the shoulders the derivative is that of the flat side, 0
    /// (both clips are `relu`s, `relu'(0) = 0`); between the shoulders both slopes are at
    /// least 1 and the upper clip makes the derivative 0, so the tie of `min` where they meet
    /// never shows.
    ///
    /// Initialised with `(a, b, c, d) = (c_k − ¾Δ, c_k − ¼Δ, c_k + ¼Δ, c_k + ¾Δ)`: neighbours
    /// cross at `μ = ½` and the functions sum to 1 over the range.
    Trapezoidal,
}

impl MembershipKind {
    /// The names of the family's premise parameters, in the order the parameters are created
    /// (`{name}.premise.{input}.{parameter}`): `[a, b, c]` for the bell and the triangle,
    /// `[c, sigma]` for the Gaussian, `[a, b, c, d]` for the trapezoid.
    pub fn parameter_names(self) -> &'static [&'static str] {
        match self {
            MembershipKind::Bell | MembershipKind::Triangular => &["a", "b", "c"],
            MembershipKind::Gaussian => &["c", "sigma"],
            MembershipKind::Trapezoidal => &["a", "b", "c", "d"],
        }
    }

    /// The initial parameters of `count` functions spread over `[lo, hi]`, one vector per
    /// parameter in [`MembershipKind::parameter_names`] order (see each variant).
    pub(crate) fn initial_parameters(self, lo: f64, hi: f64, count: usize) -> Vec<Vec<f64>> {
        let (spacing, centres): (f64, Vec<f64>) = if count == 1 {
            (hi - lo, vec![0.5 * (lo + hi)])
        } else {
            let spacing = (hi - lo) / (count - 1) as f64;
            let centres = (0..count)
                .map(|k| {
                    // pin the last centre to `hi` exactly (no rounding drift)
                    if k + 1 == count {
                        hi
                    } else {
                        lo + k as f64 * spacing
                    }
                })
                .collect();
            (spacing, centres)
        };
        let shifted = |offset: f64| centres.iter().map(|c| c + offset).collect::<Vec<f64>>();
        match self {
            MembershipKind::Bell => vec![
                vec![0.5 * spacing; count],
                vec![2.0; count],
                centres.clone(),
            ],
            MembershipKind::Gaussian => {
                let sigma = spacing / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt());
                vec![centres.clone(), vec![sigma; count]]
            }
            MembershipKind::Triangular => {
                vec![shifted(-spacing), centres.clone(), shifted(spacing)]
            }
            MembershipKind::Trapezoidal => vec![
                shifted(-0.75 * spacing),
                shifted(-0.25 * spacing),
                shifted(0.25 * spacing),
                shifted(0.75 * spacing),
            ],
        }
    }

    /// Checks the parameters of one function (`values` in [`MembershipKind::parameter_names`]
    /// order): finite, a nonzero bell width, a positive Gaussian width, ordered triangle and
    /// trapezoid corners. Returns what is wrong.
    pub(crate) fn check(self, values: &[f64]) -> std::result::Result<(), String> {
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!("parameters must be finite, got {v}"));
        }
        match (self, values) {
            (MembershipKind::Bell, [a, _, _]) if *a == 0.0 => {
                Err("a bell's width a must be nonzero".to_string())
            }
            (MembershipKind::Gaussian, [_, sigma]) if *sigma <= 0.0 => {
                Err(format!("a Gaussian's sigma must be positive, got {sigma}"))
            }
            (MembershipKind::Triangular, [a, b, c]) if !(a < b && b < c) => Err(format!(
                "a triangle needs a < b < c, got a = {a}, b = {b}, c = {c}"
            )),
            (MembershipKind::Trapezoidal, [a, b, c, d]) if !(a < b && b <= c && c < d) => Err(
                format!("a trapezoid needs a < b <= c < d, got a = {a}, b = {b}, c = {c}, d = {d}"),
            ),
            _ => Ok(()),
        }
    }

    /// Adds the nodes of `μ(x)` for a column `x` (`[N, 1]`) and this family's parameters (each
    /// `[M]`, in [`MembershipKind::parameter_names`] order): the result is `[N, M]`.
    pub(crate) fn graph_value<'g>(self, x: Var<'g>, params: &[Var<'g>]) -> Result<Var<'g>> {
        let one = x.constant_like(1.0);
        let zero = x.constant_like(0.0);
        match (self, params) {
            (MembershipKind::Bell, &[a, b, c]) => {
                let u = x.try_sub(c)?.try_div(a)?;
                let squared = u.square();
                // (u²)^b only where u² > 0: `pow`'s derivative in b is ln(u²)·(u²)^b, and
                // in u² it is b·(u²)^(b−1), both non-finite at u = 0 for some b; the inner
                // `where` keeps the `pow` away from 0, the outer one puts the limit 0 back
                let positive = squared.try_gt(zero)?;
                let g = x.graph();
                let base = g.where_(positive, squared, one)?;
                let power = g.where_(positive, base.try_pow(b)?, zero)?;
                Ok(power.try_add(one)?.recip())
            }
            (MembershipKind::Gaussian, &[c, sigma]) => {
                let u = x.try_sub(c)?.try_div(sigma)?;
                Ok(u.square().try_mul(x.constant_like(-0.5))?.exp())
            }
            (MembershipKind::Triangular, &[a, b, c]) => {
                let left = x.try_sub(a)?.try_div(b.try_sub(a)?)?;
                let right = c.try_sub(x)?.try_div(c.try_sub(b)?)?;
                Ok(left.try_minimum(right)?.relu())
            }
            (MembershipKind::Trapezoidal, &[a, b, c, d]) => {
                let left = x.try_sub(a)?.try_div(b.try_sub(a)?)?;
                let right = d.try_sub(x)?.try_div(d.try_sub(c)?)?;
                let rising = left.try_minimum(right)?.relu();
                // min(·, 1) as 1 − relu(1 − ·): the shoulder takes the flat side's slope
                Ok(one.try_sub(one.try_sub(rising)?.relu())?)
            }
            _ => Err(NnError::InvalidSetting {
                what: "premise",
                reason: format!(
                    "{self} membership functions take {} parameters, got {}",
                    self.parameter_names().len(),
                    params.len()
                ),
            }),
        }
    }
}

impl fmt::Display for MembershipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MembershipKind::Bell => "bell",
            MembershipKind::Gaussian => "gaussian",
            MembershipKind::Triangular => "triangular",
            MembershipKind::Trapezoidal => "trapezoidal",
        })
    }
}

/// One membership function with its current parameters: what
/// [`Anfis::membership_functions`](super::Anfis::membership_functions) reads back from the
/// graph, to print or plot the learned fuzzy sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MembershipFunction {
    /// `1 / (1 + |(x − c)/a|^(2b))` (see [`MembershipKind::Bell`]).
    Bell {
        /// The half width at `μ = ½`.
        a: f64,
        /// The slope parameter.
        b: f64,
        /// The centre.
        c: f64,
    },
    /// `exp(−(x − c)² / (2σ²))` (see [`MembershipKind::Gaussian`]).
    Gaussian {
        /// The centre.
        c: f64,
        /// The width.
        sigma: f64,
    },
    /// `max(min((x − a)/(b − a), (c − x)/(c − b)), 0)` (see [`MembershipKind::Triangular`]).
    Triangular {
        /// The left foot.
        a: f64,
        /// The peak.
        b: f64,
        /// The right foot.
        c: f64,
    },
    /// `max(min((x − a)/(b − a), 1, (d − x)/(d − c)), 0)` (see
    /// [`MembershipKind::Trapezoidal`]).
    Trapezoidal {
        /// The left foot.
        a: f64,
        /// The left shoulder.
        b: f64,
        /// The right shoulder.
        c: f64,
        /// The right foot.
        d: f64,
    },
}

impl MembershipFunction {
    /// The function of `kind` with `values` in [`MembershipKind::parameter_names`] order.
    pub(crate) fn from_values(kind: MembershipKind, values: &[f64]) -> Option<Self> {
        Some(match (kind, values) {
            (MembershipKind::Bell, &[a, b, c]) => MembershipFunction::Bell { a, b, c },
            (MembershipKind::Gaussian, &[c, sigma]) => MembershipFunction::Gaussian { c, sigma },
            (MembershipKind::Triangular, &[a, b, c]) => MembershipFunction::Triangular { a, b, c },
            (MembershipKind::Trapezoidal, &[a, b, c, d]) => {
                MembershipFunction::Trapezoidal { a, b, c, d }
            }
            _ => return None,
        })
    }

    /// The family.
    pub fn kind(&self) -> MembershipKind {
        match self {
            MembershipFunction::Bell { .. } => MembershipKind::Bell,
            MembershipFunction::Gaussian { .. } => MembershipKind::Gaussian,
            MembershipFunction::Triangular { .. } => MembershipKind::Triangular,
            MembershipFunction::Trapezoidal { .. } => MembershipKind::Trapezoidal,
        }
    }

    /// The membership grade `μ(x)`, computed directly from the formula (in `f64`, for
    /// plotting: the network's values are the graph's).
    ///
    /// # Examples
    /// ```
    /// use adnet_nn::anfis::MembershipFunction;
    /// let bell = MembershipFunction::Bell { a: 2.0, b: 2.0, c: 1.0 };
    /// assert_eq!(bell.value(1.0), 1.0);
    /// assert_eq!(bell.value(3.0), 0.5); // x = c + a
    /// ```
    pub fn value(&self, x: f64) -> f64 {
        match *self {
            MembershipFunction::Bell { a, b, c } => {
                let u2 = ((x - c) / a).powi(2);
                if u2 > 0.0 {
                    1.0 / (1.0 + u2.powf(b))
                } else {
                    1.0
                }
            }
            MembershipFunction::Gaussian { c, sigma } => (-0.5 * ((x - c) / sigma).powi(2)).exp(),
            MembershipFunction::Triangular { a, b, c } => {
                ((x - a) / (b - a)).min((c - x) / (c - b)).max(0.0)
            }
            MembershipFunction::Trapezoidal { a, b, c, d } => {
                ((x - a) / (b - a)).min((d - x) / (d - c)).clamp(0.0, 1.0)
            }
        }
    }
}
