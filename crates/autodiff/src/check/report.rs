//! The report of a gradient check: [`CheckEntry`] per compared derivative, [`GradCheck`] for
//! the whole check, and the table its `Display` prints.

use std::fmt;

/// One compared derivative: an element of the gradient (order 1) or of the Hessian (order 2).
///
/// In fast mode, the order-1 entry is `⟨∇y, u⟩` for the random direction `u` (its `wrt` is
/// `⟨∇y, u⟩` and its `index` empty), and the order-2 entries are the elements of `H·u`, with
/// `wrt2` set to `u` and `index2` empty.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckEntry {
    /// 1 for a first derivative, 2 for a second.
    pub order: usize,
    /// The node differentiated against: its name, or its id (`%3`) when it has none.
    pub wrt: String,
    /// The element of `wrt` (a multi-index; empty for a scalar).
    pub index: Vec<usize>,
    /// For order 2, the second node of `∂²y/∂wrt∂wrt2`.
    pub wrt2: Option<String>,
    /// For order 2, the element of `wrt2`.
    pub index2: Option<Vec<usize>>,
    /// The derivative the graph computes.
    pub analytic: f64,
    /// The central-difference estimate.
    pub numeric: f64,
    /// `|analytic − numeric|`.
    pub abs_error: f64,
    /// `|analytic − numeric| / |numeric|` (0 when they are equal, infinite when only
    /// `numeric` is 0).
    pub rel_error: f64,
    /// The error allowed, `atol + rtol·|numeric|`.
    pub tolerance: f64,
    /// Whether `abs_error <= tolerance` (false for a NaN on either side).
    pub passed: bool,
}

impl CheckEntry {
    /// Compares one analytic value with its numeric estimate.
    pub(super) fn compare(
        label: Label,
        analytic: f64,
        numeric: f64,
        atol: f64,
        rtol: f64,
    ) -> CheckEntry {
        let abs_error = (analytic - numeric).abs();
        let tolerance = atol + rtol * numeric.abs();
        let rel_error = if abs_error == 0.0 {
            0.0
        } else {
            abs_error / numeric.abs()
        };
        CheckEntry {
            order: label.order,
            wrt: label.wrt,
            index: label.index,
            wrt2: label.wrt2,
            index2: label.index2,
            analytic,
            numeric,
            abs_error,
            rel_error,
            tolerance,
            passed: abs_error <= tolerance,
        }
    }

    /// How many times the allowed error this entry's error is: above 1 fails. NaN counts as
    /// infinitely bad, so it sorts first.
    pub fn excess(&self) -> f64 {
        if self.abs_error.is_nan() {
            f64::INFINITY
        } else if self.tolerance > 0.0 {
            self.abs_error / self.tolerance
        } else if self.abs_error == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    }

    /// `alpha`, `w1[0, 2]`, or `x × w1[1, 0]` for a second derivative.
    fn label(&self) -> String {
        let mut text = element(&self.wrt, &self.index);
        if let Some(wrt2) = &self.wrt2 {
            text.push_str(" × ");
            text.push_str(&element(wrt2, self.index2.as_deref().unwrap_or(&[])));
        }
        text
    }
}

/// `name` for a scalar, `name[i, j]` otherwise.
fn element(name: &str, index: &[usize]) -> String {
    if index.is_empty() {
        name.to_string()
    } else {
        let parts: Vec<String> = index.iter().map(usize::to_string).collect();
        format!("{name}[{}]", parts.join(", "))
    }
}

/// What an entry is about, before its values are known.
pub(super) struct Label {
    pub(super) order: usize,
    pub(super) wrt: String,
    pub(super) index: Vec<usize>,
    pub(super) wrt2: Option<String>,
    pub(super) index2: Option<Vec<usize>>,
}

/// The result of [`check_grad`](crate::check_grad): pass or fail, the error statistics, and the worst entries.
///
/// Its `Display` is a table of the worst entries followed by a `PASS` or `FAIL` line.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheck {
    /// Whether every entry passed.
    pub passed: bool,
    /// How many entries were compared.
    pub checked: usize,
    /// How many of them failed.
    pub failed: usize,
    /// The largest `abs_error` (NaN when some entry is NaN).
    pub max_abs_error: f64,
    /// The largest `rel_error` (NaN when some entry is NaN).
    pub max_rel_error: f64,
    /// The worst entries (at most [`CheckOptions::worst`](crate::CheckOptions::worst)), ordered by
    /// [`CheckEntry::excess`], the error over the allowed error, worst first: failures first,
    /// then the entries closest to failing.
    pub worst: Vec<CheckEntry>,
}

impl GradCheck {
    pub(super) fn from_entries(mut entries: Vec<CheckEntry>, keep: usize) -> GradCheck {
        let checked = entries.len();
        let failed = entries.iter().filter(|e| !e.passed).count();
        let max = |values: &mut dyn Iterator<Item = f64>| {
            values.fold(0.0f64, |m, e| if e.is_nan() || e > m { e } else { m })
        };
        let max_abs_error = max(&mut entries.iter().map(|e| e.abs_error));
        let max_rel_error = max(&mut entries.iter().map(|e| e.rel_error));
        entries.sort_by(|a, b| {
            b.excess()
                .total_cmp(&a.excess())
                .then(b.abs_error.total_cmp(&a.abs_error))
        });
        entries.truncate(keep);
        GradCheck {
            passed: failed == 0,
            checked,
            failed,
            max_abs_error,
            max_rel_error,
            worst: entries,
        }
    }
}

impl fmt::Display for GradCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.worst.is_empty() {
            let labels: Vec<String> = self.worst.iter().map(CheckEntry::label).collect();
            let width = labels
                .iter()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0)
                .max("derivative".len());
            writeln!(
                f,
                "order  {:<width$}  {:>14}  {:>14}  {:>9}  {:>9}  {:>9}  status",
                "derivative", "analytic", "numeric", "abs error", "rel error", "allowed"
            )?;
            for (entry, label) in self.worst.iter().zip(&labels) {
                writeln!(
                    f,
                    "{:>5}  {label:<width$}  {:>14.6e}  {:>14.6e}  {:>9.2e}  {:>9.2e}  {:>9.2e}  {}",
                    entry.order,
                    entry.analytic,
                    entry.numeric,
                    entry.abs_error,
                    entry.rel_error,
                    entry.tolerance,
                    if entry.passed { "ok" } else { "FAIL" }
                )?;
            }
            if self.worst.len() < self.checked {
                writeln!(
                    f,
                    "(the {} worst of {} entries)",
                    self.worst.len(),
                    self.checked
                )?;
            }
        }
        if self.passed {
            write!(
                f,
                "PASS: all {} entries within atol + rtol·|numeric|",
                self.checked
            )?;
        } else {
            write!(
                f,
                "FAIL: {} of {} entries outside atol + rtol·|numeric|",
                self.failed, self.checked
            )?;
        }
        write!(
            f,
            "; max abs error {:.2e}, max rel error {:.2e}",
            self.max_abs_error, self.max_rel_error
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str) -> Label {
        Label {
            order: 1,
            wrt: name.to_string(),
            index: Vec::new(),
            wrt2: None,
            index2: None,
        }
    }

    #[test]
    fn tolerance_is_atol_plus_rtol_times_numeric() {
        // allowed: 1e-5 + 1e-3·2 = 2.01e-3
        let inside = CheckEntry::compare(label("x"), 2.0 + 2.0e-3, 2.0, 1e-5, 1e-3);
        let outside = CheckEntry::compare(label("x"), 2.0 + 2.02e-3, 2.0, 1e-5, 1e-3);
        assert!(inside.passed && !outside.passed);
        assert!((inside.tolerance - 2.01e-3).abs() < 1e-15);
        // relative to the numeric value, not the analytic one
        let below = CheckEntry::compare(label("x"), 1.0, 2.0, 0.0, 0.5);
        let above = CheckEntry::compare(label("x"), 2.0, 1.0, 0.0, 0.5);
        assert!(below.passed && !above.passed);
        assert_eq!((below.rel_error, above.rel_error), (0.5, 1.0));
    }

    #[test]
    fn nan_fails_and_zero_numeric_has_infinite_relative_error() {
        let nan = CheckEntry::compare(label("x"), f64::NAN, 1.0, 1e-5, 1e-3);
        assert!(!nan.passed);
        assert_eq!(nan.excess(), f64::INFINITY);
        let zero = CheckEntry::compare(label("x"), 1e-7, 0.0, 1e-5, 1e-3);
        assert!(zero.passed);
        assert_eq!(zero.rel_error, f64::INFINITY);
        let exact = CheckEntry::compare(label("x"), 0.0, 0.0, 0.0, 0.0);
        assert!(exact.passed);
        assert_eq!((exact.rel_error, exact.excess()), (0.0, 0.0));
    }

    #[test]
    fn report_puts_failures_first_and_keeps_the_worst() {
        let entries = vec![
            CheckEntry::compare(label("a"), 1.0, 1.0, 1e-5, 1e-3),
            CheckEntry::compare(label("b"), 1.5, 1.0, 1e-5, 1e-3),
            CheckEntry::compare(label("c"), 1.0005, 1.0, 1e-5, 1e-3),
            CheckEntry::compare(label("d"), f64::NAN, 1.0, 1e-5, 1e-3),
        ];
        let report = GradCheck::from_entries(entries, 3);
        assert!(!report.passed);
        assert_eq!((report.checked, report.failed), (4, 2));
        assert!(report.max_abs_error.is_nan());
        let order: Vec<&str> = report.worst.iter().map(|e| e.wrt.as_str()).collect();
        assert_eq!(order, ["d", "b", "c"]);
        let text = report.to_string();
        assert!(text.contains("FAIL: 2 of 4 entries"), "{text}");
        assert!(text.contains("(the 3 worst of 4 entries)"), "{text}");
    }

    #[test]
    fn display_is_an_aligned_table_with_a_verdict() {
        let mut second = label("w");
        second.order = 2;
        second.index = vec![0, 1];
        second.wrt2 = Some("b".to_string());
        second.index2 = Some(vec![2]);
        let entries = vec![
            CheckEntry::compare(label("alpha"), 0.25, 0.25 + 1e-9, 1e-5, 1e-3),
            CheckEntry::compare(second, -3.0, -3.0, 1e-5, 1e-3),
        ];
        let text = GradCheck::from_entries(entries, 5).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("order  derivative"), "{text}");
        assert!(lines.iter().any(|l| l.contains("w[0, 1] × b[2]")), "{text}");
        // the columns line up: every row of the table has the same width up to the status
        let widths: Vec<usize> = lines[..3]
            .iter()
            .map(|l| {
                l.rsplit_once("  ")
                    .map_or(0, |(table, _)| table.chars().count())
            })
            .collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{text}");
        assert!(lines[3].starts_with("PASS: all 2 entries within"), "{text}");
    }
}
