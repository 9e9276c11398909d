//! SVG plots: training curves, decision boundaries and contour plots with optimizer paths.
//!
//! Everything is drawn with [`plotters`]' SVG backend and written atomically (as checkpoints
//! are). Text goes into the SVG as `<text>` elements, sized by plotters' built-in estimate, so
//! no font file, fontconfig or freetype is needed: the plots build and render on a bare
//! machine, and the viewer picks a sans-serif font.
//!
//! The functions take plain data (series of `(x, y)` points, a prediction closure), so they do
//! not depend on how the numbers were produced.
//!
//! # Examples
//! ```
//! use adnet_nn::plot::plot_curves;
//! let path = std::env::temp_dir().join(format!("adnet-doc-curves-{}.svg", std::process::id()));
//! let train: Vec<(f64, f64)> = (1..=20).map(|e| (e as f64, 1.0 / e as f64)).collect();
//! let valid: Vec<(f64, f64)> = (1..=20).map(|e| (e as f64, 1.2 / e as f64 + 0.02)).collect();
//! plot_curves(&path, "loss", &[("train", &train), ("validation", &valid)], "epoch", "loss", true)?;
//! assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

use std::io::Write;
use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::checkpoint::write_atomic;
use crate::{NnError, Result};

/// Series colors (Tableau 10), cycled.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// Anchors of the viridis colormap, low to high, for contour bands.
const VIRIDIS: [RGBColor; 5] = [
    RGBColor(0x44, 0x01, 0x54),
    RGBColor(0x3b, 0x52, 0x8b),
    RGBColor(0x21, 0x91, 0x8c),
    RGBColor(0x5e, 0xc9, 0x62),
    RGBColor(0xfd, 0xe7, 0x25),
];

/// The most cells a decision-boundary or contour grid may have per side.
pub const MAX_RESOLUTION: usize = 1000;

/// Cells per side of the grid a contour plot evaluates its function on.
const CONTOUR_RESOLUTION: usize = 160;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Plots curves (loss or accuracy against epoch, loss against learning rate) as lines with a
/// legend, to an 800×500 SVG file at `path`.
///
/// `series` holds `(label, points)` pairs, drawn in order in distinct colors; a series of one
/// point is drawn as a dot. With `log_y` the y axis is logarithmic (base 10). Points with a
/// non-finite coordinate, or with `log_y` a non-positive `y`, are skipped, so a run that
/// diverged still plots up to where it did.
///
/// # Errors
/// [`NnError::InvalidSetting`] (`what = "series"`) when no point is left to plot,
/// [`NnError::Plot`] when drawing fails, and [`NnError::Io`] when the file cannot be written.
pub fn plot_curves(
    path: impl AsRef<Path>,
    title: &str,
    series: &[(&str, &[(f64, f64)])],
    x_label: &str,
    y_label: &str,
    log_y: bool,
) -> Result<()> {
    plot_curves_scaled(path, title, series, x_label, y_label, false, log_y)
}

/// Plots curves as [`plot_curves`] does, with a choice of logarithmic axes for both `x` and
/// `y` (loss against a learning rate swept over decades: `log_x = true`). Points with a
/// non-positive coordinate on a log axis are skipped.
///
/// # Errors
/// As [`plot_curves`].
pub fn plot_curves_scaled(
    path: impl AsRef<Path>,
    title: &str,
    series: &[(&str, &[(f64, f64)])],
    x_label: &str,
    y_label: &str,
    log_x: bool,
    log_y: bool,
) -> Result<()> {
    let path = path.as_ref();
    let kept: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|&(label, points)| {
            let points = points
                .iter()
                .filter(|(x, y)| {
                    x.is_finite() && y.is_finite() && (!log_x || *x > 0.0) && (!log_y || *y > 0.0)
                })
                .map(|&(x, y)| {
                    // a log axis is a linear axis over log₁₀ of the value, labelled 10ˣ
                    (
                        if log_x { x.log10() } else { x },
                        if log_y { y.log10() } else { y },
                    )
                })
                .collect();
            (label, points)
        })
        .collect();
    let (x_range, y_range) = bounds(kept.iter().flat_map(|(_, points)| points.iter().copied()))
        .ok_or_else(|| NnError::InvalidSetting {
            what: "series",
            reason: format!(
                "no point to plot (every coordinate must be finite{})",
                if log_x || log_y {
                    ", and positive on a log axis"
                } else {
                    ""
                }
            ),
        })?;
    render(path, (800, 500), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range, y_range)?;
        let log_label = |v: &f64| power_of_ten(*v);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .light_line_style(WHITE.mix(0.0));
        if log_x {
            mesh.x_label_formatter(&log_label);
        }
        if log_y {
            mesh.y_label_formatter(&log_label);
        }
        mesh.draw()?;
        for (k, (label, points)) in kept.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let drawn = if points.len() == 1 {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?
            } else {
                chart.draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
            };
            drawn.label(*label).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// One panel of a decision-boundary plot: a classifier's prediction over a rectangle, and the
/// labelled points drawn over it.
pub struct DecisionPanel<'a> {
    /// The panel's title (`"XOR, 2 layers"`).
    pub title: String,
    /// The predicted class at a point.
    pub predict: &'a dyn Fn(f64, f64) -> usize,
    /// The `x` interval shown, `(low, high)`.
    pub x_range: (f64, f64),
    /// The `y` interval shown, `(low, high)`.
    pub y_range: (f64, f64),
    /// Grid cells per side: `predict` is called `resolution²` times, at the cell centres.
    pub resolution: usize,
    /// The data, `(x, y, class)`.
    pub points: &'a [(f64, f64, usize)],
}

impl std::fmt::Debug for DecisionPanel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionPanel")
            .field("title", &self.title)
            .field("x_range", &self.x_range)
            .field("y_range", &self.y_range)
            .field("resolution", &self.resolution)
            .field("points", &self.points.len())
            .finish_non_exhaustive()
    }
}

/// Plots a classifier's decision regions (each grid cell filled with a light shade of its
/// predicted class's color) and the data points (in the full color of their class), to a
/// 600×600 SVG file at `path`.
///
/// `predict` is called at the centre of each of the `resolution × resolution` cells of
/// `x_range × y_range`.
///
/// # Errors
/// [`NnError::InvalidSetting`] for a range that is not finite and increasing or a resolution
/// outside `1..=`[`MAX_RESOLUTION`], [`NnError::Plot`] when drawing fails, and
/// [`NnError::Io`] when the file cannot be written.
pub fn plot_decision_boundary(
    path: impl AsRef<Path>,
    title: &str,
    predict: impl Fn(f64, f64) -> usize,
    x_range: (f64, f64),
    y_range: (f64, f64),
    resolution: usize,
    points: &[(f64, f64, usize)],
) -> Result<()> {
    let panel = DecisionPanel {
        title: title.to_string(),
        predict: &predict,
        x_range,
        y_range,
        resolution,
        points,
    };
    check_panel(&panel)?;
    render(path.as_ref(), (600, 600), |root| draw_panel(root, &panel))
}

/// Plots several decision-boundary panels in a grid, row by row with `columns` panels a row,
/// 400×400 pixels each, under an overall `title`.
///
/// # Errors
/// As [`plot_decision_boundary`] for each panel, and [`NnError::InvalidSetting`] when
/// `panels` is empty or `columns` is zero.
pub fn plot_decision_grid(
    path: impl AsRef<Path>,
    title: &str,
    panels: &[DecisionPanel<'_>],
    columns: usize,
) -> Result<()> {
    if panels.is_empty() || columns == 0 {
        return Err(NnError::InvalidSetting {
            what: "panels",
            reason: format!(
                "need at least one panel and one column, got {} panels in {columns} columns",
                panels.len()
            ),
        });
    }
    panels.iter().try_for_each(check_panel)?;
    let columns = columns.min(panels.len());
    let rows = panels.len().div_ceil(columns);
    let size = (400 * columns as u32, 400 * rows as u32 + 40);
    render(path.as_ref(), size, |root| {
        let body = root.titled(title, ("sans-serif", 26))?;
        for (area, panel) in body.split_evenly((rows, columns)).iter().zip(panels) {
            draw_panel(area, panel)?;
        }
        Ok(())
    })
}

/// Plots a function of two variables as filled contour bands with log-spaced levels (so the
/// floor of a narrow valley stays visible), and optimizer paths over it, to a 700×600 SVG file.
///
/// `f` is evaluated on a 160×160 grid over `x_range × y_range`; each cell is colored by the
/// band its value falls in, `levels` bands spaced evenly in `ln(f − min f + δ)` with `δ` a
/// ten-thousandth of the range of `f`. Each path in `paths`, `(label, points)`, is drawn as a
/// line with a dot at its start and a larger one at its end; points outside the ranges are
/// drawn on the border, and non-finite points are skipped.
///
/// # Errors
/// [`NnError::InvalidSetting`] for a range that is not finite and increasing, `levels` zero or
/// above 256, or `f` not finite anywhere on the grid; [`NnError::Plot`] and [`NnError::Io`] as
/// [`plot_curves`].
pub fn plot_contours_with_paths(
    path: impl AsRef<Path>,
    title: &str,
    f: impl Fn(f64, f64) -> f64,
    x_range: (f64, f64),
    y_range: (f64, f64),
    levels: usize,
    paths: &[(&str, &[(f64, f64)])],
) -> Result<()> {
    check_range("x_range", x_range)?;
    check_range("y_range", y_range)?;
    if levels == 0 || levels > 256 {
        return Err(NnError::InvalidSetting {
            what: "levels",
            reason: format!("must be in 1..=256, got {levels}"),
        });
    }
    let n = CONTOUR_RESOLUTION;
    let (dx, dy) = (
        (x_range.1 - x_range.0) / n as f64,
        (y_range.1 - y_range.0) / n as f64,
    );
    let values: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k % n, k / n);
            f(
                x_range.0 + (i as f64 + 0.5) * dx,
                y_range.0 + (j as f64 + 0.5) * dy,
            )
        })
        .collect();
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if low > high {
        return Err(NnError::InvalidSetting {
            what: "f",
            reason: "is not finite anywhere on the grid".to_string(),
        });
    }
    let delta = ((high - low) * 1e-4).max(f64::MIN_POSITIVE);
    let top = ((high - low + delta) / delta).ln();
    let band = |v: f64| -> usize {
        if !v.is_finite() {
            return levels - 1;
        }
        let t = ((v - low + delta) / delta).ln() / top;
        ((t * levels as f64) as usize).min(levels - 1)
    };
    let mut cells = Vec::new();
    for j in 0..n {
        let row: Vec<usize> = (0..n).map(|i| band(values[j * n + i])).collect();
        for (start, end, level) in runs(&row) {
            cells.push((
                (x_range.0 + start as f64 * dx, y_range.0 + j as f64 * dy),
                (x_range.0 + end as f64 * dx, y_range.0 + (j + 1) as f64 * dy),
                level,
            ));
        }
    }
    let clamp = |(x, y): (f64, f64)| (x.clamp(x_range.0, x_range.1), y.clamp(y_range.0, y_range.1));
    let paths: Vec<(&str, Vec<(f64, f64)>)> = paths
        .iter()
        .map(|&(label, points)| {
            let points = points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|&p| clamp(p))
                .collect();
            (label, points)
        })
        .collect();
    render(path.as_ref(), (700, 600), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .label_style(("sans-serif", 15))
            .draw()?;
        chart.draw_series(cells.iter().map(|&(a, b, level)| {
            Rectangle::new(
                [a, b],
                colormap(level as f64 / (levels - 1).max(1) as f64).filled(),
            )
        }))?;
        for (k, (label, points)) in paths.iter().enumerate() {
            // the bands are dark to light: white and the bright palette colors both show
            let color = if k == 0 {
                WHITE
            } else {
                PALETTE[(k + 2) % PALETTE.len()]
            };
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(*label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            let ends = points.first().into_iter().map(|&p| (p, 3));
            let ends = ends.chain(points.last().map(|&p| (p, 5)));
            chart.draw_series(ends.map(|(p, r)| Circle::new(p, r, color.filled())))?;
        }
        if !paths.is_empty() {
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 15))
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
        Ok(())
    })
}

/// Draws one decision panel into `area`.
fn draw_panel(area: &Area<'_>, panel: &DecisionPanel<'_>) -> Drawn {
    let ((x0, x1), (y0, y1), n) = (panel.x_range, panel.y_range, panel.resolution);
    let (dx, dy) = ((x1 - x0) / n as f64, (y1 - y0) / n as f64);
    let mut cells = Vec::new();
    for j in 0..n {
        let y = y0 + (j as f64 + 0.5) * dy;
        let row: Vec<usize> = (0..n)
            .map(|i| (panel.predict)(x0 + (i as f64 + 0.5) * dx, y))
            .collect();
        // one rectangle per run of equal predictions keeps the file small
        for (start, end, class) in runs(&row) {
            cells.push((
                (x0 + start as f64 * dx, y0 + j as f64 * dy),
                (x0 + end as f64 * dx, y0 + (j + 1) as f64 * dy),
                class,
            ));
        }
    }
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(40)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(5)
        .y_labels(5)
        .label_style(("sans-serif", 13))
        .draw()?;
    chart.draw_series(
        cells
            .iter()
            .map(|&(a, b, class)| Rectangle::new([a, b], light(class_color(class)).filled())),
    )?;
    chart.draw_series(
        panel
            .points
            .iter()
            .filter(|(x, y, _)| x.is_finite() && y.is_finite())
            .map(|&(x, y, class)| Circle::new((x, y), 3, class_color(class).filled())),
    )?;
    Ok(())
}

/// Checks a panel's ranges and resolution.
fn check_panel(panel: &DecisionPanel<'_>) -> Result<()> {
    check_range("x_range", panel.x_range)?;
    check_range("y_range", panel.y_range)?;
    if panel.resolution == 0 || panel.resolution > MAX_RESOLUTION {
        return Err(NnError::InvalidSetting {
            what: "resolution",
            reason: format!(
                "must be in 1..={MAX_RESOLUTION}, got {} (panel `{}`)",
                panel.resolution, panel.title
            ),
        });
    }
    Ok(())
}

/// Rejects a range that is not finite and increasing.
fn check_range(what: &'static str, (low, high): (f64, f64)) -> Result<()> {
    if !(low.is_finite() && high.is_finite() && low < high) {
        return Err(NnError::InvalidSetting {
            what,
            reason: format!("must be finite with low < high, got ({low}, {high})"),
        });
    }
    Ok(())
}

/// Runs of equal values in `row`, as `(start, end, value)` with `end` exclusive.
fn runs(row: &[usize]) -> Vec<(usize, usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=row.len() {
        if i == row.len() || row[i] != row[start] {
            runs.push((start, i, row[start]));
            start = i;
        }
    }
    runs
}

/// The padded bounding box of `points`, or `None` when there are none.
fn bounds(points: impl Iterator<Item = (f64, f64)>) -> Option<(Range<f64>, Range<f64>)> {
    let mut b = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for (x, y) in points {
        b = [b[0].min(x), b[1].max(x), b[2].min(y), b[3].max(y)];
    }
    (b[0] <= b[1]).then(|| (padded(b[0], b[1]), padded(b[2], b[3])))
}

/// `[low, high]` widened by 4% on each side (by 1, or 10% of the value, when it is a point).
fn padded(low: f64, high: f64) -> Range<f64> {
    let pad = if high > low {
        0.04 * (high - low)
    } else {
        (0.1 * low.abs()).max(1.0)
    };
    (low - pad)..(high + pad)
}

/// A tick label on a log₁₀ axis: `1e-3` at powers of ten, `2.5e-3` between them.
fn power_of_ten(exponent: f64) -> String {
    let rounded = exponent.round();
    if (exponent - rounded).abs() < 1e-9 {
        format!("1e{}", rounded as i64)
    } else {
        format!("{:.1e}", 10f64.powf(exponent))
    }
}

/// The color of class `class`.
fn class_color(class: usize) -> RGBColor {
    PALETTE[class % PALETTE.len()]
}

/// A pale version of `color` (70% white), opaque so adjacent cells show no seams.
fn light(color: RGBColor) -> RGBColor {
    let mix = |c: u8| (f64::from(c) * 0.3 + 255.0 * 0.7).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// Viridis at `t` in `[0, 1]`, interpolated linearly between its anchors.
fn colormap(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let k = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let (a, b, s) = (VIRIDIS[k], VIRIDIS[k + 1], t - k as f64);
    let mix = |a: u8, b: u8| (f64::from(a) * (1.0 - s) + f64::from(b) * s).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Draws into an in-memory SVG document and writes it to `path` atomically.
fn render(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<()> {
    let plot_error = |e: DrawingAreaErrorKind<std::io::Error>| NnError::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root).map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    write_atomic(path, |file| file.write_all(svg.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_the_row() {
        assert_eq!(
            runs(&[1, 1, 2, 2, 2, 1]),
            vec![(0, 2, 1), (2, 5, 2), (5, 6, 1)]
        );
        assert_eq!(runs(&[3]), vec![(0, 1, 3)]);
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn log_labels_name_powers_of_ten() {
        assert_eq!(power_of_ten(-3.0), "1e-3");
        assert_eq!(power_of_ten(2.0), "1e2");
        assert_eq!(power_of_ten(-0.0), "1e0");
        assert_eq!(power_of_ten(0.5), "3.2e0");
    }

    #[test]
    fn bounds_pad_and_handle_a_single_point() {
        let (x, y) = bounds([(0.0, 1.0), (10.0, 3.0)].into_iter()).expect("points");
        assert!((x.start + 0.4).abs() < 1e-12 && (x.end - 10.4).abs() < 1e-12);
        assert!((y.start - 0.92).abs() < 1e-12 && (y.end - 3.08).abs() < 1e-12);
        let (x, _) = bounds([(5.0, 5.0)].into_iter()).expect("point");
        assert_eq!(x, 4.0..6.0);
        assert!(bounds(std::iter::empty()).is_none());
    }

    #[test]
    fn colormap_ends_at_its_anchors() {
        assert_eq!(colormap(0.0), VIRIDIS[0]);
        assert_eq!(colormap(1.0), VIRIDIS[4]);
    }
}
