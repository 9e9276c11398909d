//! [`DecisionLine`]: where a two-feature unit's net input changes sign, to print and to plot.

use super::unit::invalid;
use crate::Result;

/// The line `w₁x₁ + w₂x₂ + b = 0` of a two-feature unit, where its net input changes sign: a
/// form to print and to plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DecisionLine {
    /// `x₂ = slope · x₁ + intercept` (when `w₂ ≠ 0`).
    Sloped {
        /// `−w₁ / w₂`.
        slope: f64,
        /// `−b / w₂`.
        intercept: f64,
    },
    /// `x₁ = x1` (when `w₂ = 0`).
    Vertical {
        /// `−b / w₁`.
        x1: f64,
    },
}

impl DecisionLine {
    /// The line `w₁x₁ + w₂x₂ + b = 0`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`weights`) unless there are exactly two weights, all
    /// finite with the bias, and not both zero (then there is no line: every point is in the
    /// class of `sgn(b)`).
    ///
    /// [`NnError::InvalidSetting`]: crate::NnError::InvalidSetting
    pub fn from_weights(weights: &[f64], bias: f64) -> Result<DecisionLine> {
        let &[w1, w2] = weights else {
            return Err(invalid(
                "weights",
                format!(
                    "a decision line needs exactly 2 features, the unit has {}",
                    weights.len()
                ),
            ));
        };
        if !(w1.is_finite() && w2.is_finite() && bias.is_finite()) {
            return Err(invalid(
                "weights",
                format!("must be finite, got w = ({w1}, {w2}), b = {bias}"),
            ));
        }
        if w2 != 0.0 {
            Ok(DecisionLine::Sloped {
                slope: -w1 / w2,
                intercept: -bias / w2,
            })
        } else if w1 != 0.0 {
            Ok(DecisionLine::Vertical { x1: -bias / w1 })
        } else {
            Err(invalid(
                "weights",
                format!("both are zero, so there is no line: every point has net input {bias}"),
            ))
        }
    }

    /// `x₂` on the line at `x₁`; `None` for a vertical line.
    pub fn x2_at(&self, x1: f64) -> Option<f64> {
        match *self {
            DecisionLine::Sloped { slope, intercept } => Some(slope * x1 + intercept),
            DecisionLine::Vertical { .. } => None,
        }
    }

    /// The segment of the line inside the rectangle `x1_range × x2_range` (each `(low, high)`),
    /// as its two end points; `None` when the line misses the rectangle or only touches a
    /// corner, or when a range is not finite and increasing.
    pub fn clip(&self, x1_range: (f64, f64), x2_range: (f64, f64)) -> Option<[(f64, f64); 2]> {
        let ((x_lo, x_hi), (y_lo, y_hi)) = (x1_range, x2_range);
        let valid = |lo: f64, hi: f64| lo.is_finite() && hi.is_finite() && lo < hi;
        if !(valid(x_lo, x_hi) && valid(y_lo, y_hi)) {
            return None;
        }
        // a rounding tolerance, so a line through a corner is not lost on both edges
        let slack = 1e-12 * (x_hi - x_lo).max(y_hi - y_lo);
        let inside = |v: f64, lo: f64, hi: f64| v >= lo - slack && v <= hi + slack;
        let mut ends: Vec<(f64, f64)> = match *self {
            DecisionLine::Vertical { x1 } => {
                if !inside(x1, x_lo, x_hi) {
                    return None;
                }
                vec![(x1, y_lo), (x1, y_hi)]
            }
            DecisionLine::Sloped { slope, intercept } => {
                let mut ends = Vec::with_capacity(4);
                for x in [x_lo, x_hi] {
                    let y = slope * x + intercept;
                    if inside(y, y_lo, y_hi) {
                        ends.push((x, y.clamp(y_lo, y_hi)));
                    }
                }
                if slope != 0.0 {
                    for y in [y_lo, y_hi] {
                        let x = (y - intercept) / slope;
                        if inside(x, x_lo, x_hi) {
                            ends.push((x.clamp(x_lo, x_hi), y));
                        }
                    }
                }
                ends
            }
        };
        ends.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let (first, last) = (*ends.first()?, *ends.last()?);
        let apart = (last.0 - first.0).abs().max((last.1 - first.1).abs());
        (apart > slack).then_some([first, last])
    }
}

impl std::fmt::Display for DecisionLine {
    /// `x2 = 0.5 x1 + 3` or `x1 = 2`, numbers with the formatter's precision when one is given.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `+ 0.0` turns −0 into 0, which prints without a sign
        let number = |v: f64| match f.precision() {
            Some(p) => format!("{:.p$}", v + 0.0),
            None => format!("{}", v + 0.0),
        };
        match *self {
            DecisionLine::Sloped { slope, intercept } => {
                let sign = if intercept < 0.0 { '-' } else { '+' };
                write!(
                    f,
                    "x2 = {} x1 {sign} {}",
                    number(slope),
                    number(intercept.abs())
                )
            }
            DecisionLine::Vertical { x1 } => write!(f, "x1 = {}", number(x1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::perceptron::unit::tests::reason;
    use crate::classic::perceptron::{Adaline, Perceptron};

    #[test]
    fn decision_line_sloped_vertical_and_none() -> Result<()> {
        // 1 x1 + 2 x2 − 4 = 0  ⇔  x2 = −0.5 x1 + 2
        let line = Perceptron::from_weights(vec![1.0, 2.0], -4.0)?.decision_line()?;
        assert_eq!(
            line,
            DecisionLine::Sloped {
                slope: -0.5,
                intercept: 2.0
            }
        );
        assert_eq!(line.x2_at(2.0), Some(1.0));
        assert_eq!(line.to_string(), "x2 = -0.5 x1 + 2");
        assert_eq!(format!("{line:.2}"), "x2 = -0.50 x1 + 2.00");
        let vertical = Adaline::from_weights(vec![2.0, 0.0], 3.0)?.decision_line()?;
        assert_eq!(vertical, DecisionLine::Vertical { x1: -1.5 });
        assert_eq!(vertical.x2_at(0.0), None);
        assert_eq!(vertical.to_string(), "x1 = -1.5");
        let r = reason(Perceptron::new(2).decision_line(), "weights");
        assert!(r.contains("both are zero"), "{r}");
        reason(Perceptron::new(3).decision_line(), "weights");
        Ok(())
    }

    #[test]
    fn clip_gives_the_segment_inside_the_rectangle() {
        let line = DecisionLine::Sloped {
            slope: -0.5,
            intercept: 2.0,
        };
        // crosses the edge x1 = 0 at x2 = 2 and the edge x2 = 0 at x1 = 4
        assert_eq!(
            line.clip((0.0, 10.0), (0.0, 10.0)),
            Some([(0.0, 2.0), (4.0, 0.0)])
        );
        assert_eq!(line.clip((0.0, 1.0), (5.0, 6.0)), None);
        let flat = DecisionLine::Sloped {
            slope: 0.0,
            intercept: 1.0,
        };
        assert_eq!(
            flat.clip((-1.0, 1.0), (0.0, 2.0)),
            Some([(-1.0, 1.0), (1.0, 1.0)])
        );
        let vertical = DecisionLine::Vertical { x1: 0.5 };
        assert_eq!(
            vertical.clip((0.0, 1.0), (-2.0, 2.0)),
            Some([(0.5, -2.0), (0.5, 2.0)])
        );
        assert_eq!(vertical.clip((1.0, 2.0), (0.0, 1.0)), None);
        // through a corner only
        let corner = DecisionLine::Sloped {
            slope: 1.0,
            intercept: -1.0,
        };
        assert_eq!(corner.clip((0.0, 1.0), (0.0, 1.0)), None);
        assert_eq!(line.clip((1.0, 0.0), (0.0, 1.0)), None);
        assert_eq!(line.clip((0.0, f64::NAN), (0.0, 1.0)), None);
    }
}
