//! Plots: each function writes a well-formed SVG with its title, its series and its points, and
//! rejects settings it cannot draw.

use std::fs;
use std::path::PathBuf;

use adnet_nn::plot::{
    plot_contours_with_paths, plot_curves, plot_curves_scaled, plot_decision_boundary,
    plot_decision_grid, DecisionPanel,
};
use adnet_nn::{NnError, Result};

fn temp_svg(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("adnet-plot-{}-{tag}.svg", std::process::id()))
}

/// Reads an SVG written by the plot functions and checks its outline: one `<svg>` root,
/// closed, with balanced `<text>` elements.
fn read_svg(path: &PathBuf) -> String {
    let svg = fs::read_to_string(path).expect("svg written");
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    svg
}

fn count(svg: &str, tag: &str) -> usize {
    svg.matches(&format!("<{tag} ")).count() + svg.matches(&format!("<{tag}>")).count()
}

/// The contents of the `<text>` elements, trimmed, in document order.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').expect("tag closed") + 1;
            let end = rest.find("</text>").expect("text closed");
            rest[start..end].trim().to_string()
        })
        .collect()
}

/// Lines drawn with the series stroke (axes and ticks are 1 pixel wide).
fn series_lines(svg: &str) -> usize {
    svg.split("<polyline")
        .skip(1)
        .filter(|rest| rest[..rest.find('>').expect("closed")].contains("stroke-width=\"2\""))
        .count()
}

#[test]
fn curves_have_title_labels_and_one_line_per_series() -> Result<()> {
    let path = temp_svg("curves");
    let train: Vec<(f64, f64)> = (1..=30).map(|e| (e as f64, 2.0 / e as f64)).collect();
    let valid: Vec<(f64, f64)> = (1..=30)
        .map(|e| (e as f64, 2.5 / e as f64 + 0.05))
        .collect();
    let accuracy: Vec<(f64, f64)> = (1..=30).map(|e| (e as f64, 1.0 - 1.0 / e as f64)).collect();
    plot_curves(
        &path,
        "Loss & accuracy <per epoch>",
        &[
            ("train loss", &train),
            ("validation loss", &valid),
            ("accuracy", &accuracy),
        ],
        "epoch",
        "value",
        false,
    )?;
    let svg = read_svg(&path);
    let texts = texts(&svg);
    // text is escaped
    assert_eq!(texts[0], "Loss &amp; accuracy &lt;per epoch&gt;");
    for text in [
        "epoch",
        "value",
        "train loss",
        "validation loss",
        "accuracy",
    ] {
        assert!(texts.iter().any(|t| t == text), "`{text}` missing");
    }
    // each series: its line, and its sample in the legend
    assert_eq!(series_lines(&svg), 6);
    fs::remove_file(&path).ok();
    Ok(())
}

#[test]
fn log_scale_skips_points_it_cannot_draw() -> Result<()> {
    let path = temp_svg("loss-vs-lr");
    // a learning-rate sweep that diverges: inf and NaN at the end are skipped
    let sweep: Vec<(f64, f64)> = vec![
        (1e-4, 2.3),
        (1e-3, 1.1),
        (1e-2, 0.3),
        (1e-1, 5.0),
        (1.0, f64::INFINITY),
        (10.0, f64::NAN),
    ];
    let single = [(1e-2, 0.25)];
    plot_curves_scaled(
        &path,
        "loss vs lr",
        &[("sweep", &sweep), ("best", &single)],
        "lr",
        "loss",
        true,
        true,
    )?;
    let svg = read_svg(&path);
    let texts = texts(&svg);
    assert_eq!(texts[0], "loss vs lr");
    // the lr axis is labelled with powers of ten over the four decades swept
    for tick in ["1e-4", "1e-3", "1e-2", "1e-1"] {
        assert!(
            texts.iter().any(|t| t == tick),
            "tick `{tick}` missing: {texts:?}"
        );
    }
    // the one-point series is a dot, with a line sample in the legend
    assert_eq!(series_lines(&svg), 3);
    assert_eq!(count(&svg, "circle"), 1);

    // nothing left to draw is an error, not an empty plot
    let negative = [(1.0, -1.0), (2.0, 0.0)];
    assert!(matches!(
        plot_curves(&path, "t", &[("neg", &negative)], "x", "y", true),
        Err(NnError::InvalidSetting { what: "series", .. })
    ));
    fs::remove_file(&path).ok();
    Ok(())
}

fn xor_points() -> Vec<(f64, f64, usize)> {
    let mut points = Vec::new();
    for (k, (x, y)) in [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
        .into_iter()
        .enumerate()
    {
        for d in [-0.2, 0.0, 0.2] {
            points.push((x + d, y - d, usize::from(k == 1 || k == 2)));
        }
    }
    points
}

#[test]
fn decision_boundary_draws_regions_and_every_point() -> Result<()> {
    let path = temp_svg("boundary");
    let points = xor_points();
    let predict = |x: f64, y: f64| usize::from(x * y < 0.0);
    plot_decision_boundary(&path, "XOR", predict, (-2.0, 2.0), (-2.0, 2.0), 50, &points)?;
    let svg = read_svg(&path);
    assert_eq!(texts(&svg)[0], "XOR");
    assert_eq!(count(&svg, "circle"), points.len());
    // four quadrants: runs of equal class merge into one rectangle per row and region (two a
    // row), plus the background
    let rects = count(&svg, "rect");
    assert!((100..=110).contains(&rects), "{rects} rectangles");
    // both class shades appear
    assert!(
        svg.contains("#BCD6E9") && svg.contains("#FFD9B7"),
        "class shades missing"
    );

    let bad = plot_decision_boundary(&path, "t", predict, (1.0, 1.0), (0.0, 1.0), 10, &points);
    assert!(matches!(
        bad,
        Err(NnError::InvalidSetting {
            what: "x_range",
            ..
        })
    ));
    let bad = plot_decision_boundary(&path, "t", predict, (0.0, 1.0), (0.0, 1.0), 0, &points);
    assert!(matches!(
        bad,
        Err(NnError::InvalidSetting {
            what: "resolution",
            ..
        })
    ));
    fs::remove_file(&path).ok();
    Ok(())
}

#[test]
fn decision_grid_draws_every_panel() -> Result<()> {
    let path = temp_svg("grid");
    let points = xor_points();
    let predictors: Vec<Box<dyn Fn(f64, f64) -> usize>> = vec![
        Box::new(|x, _| usize::from(x > 0.0)),
        Box::new(|x, y| usize::from(x * y < 0.0)),
        Box::new(|x, y| usize::from(x * x + y * y < 1.0) + usize::from(x > 1.0)),
    ];
    let mut panels = Vec::new();
    for layers in 1..=3 {
        for (data, predict) in ["XOR", "spirals", "meshed"].iter().zip(&predictors) {
            panels.push(DecisionPanel {
                title: format!("{data}, {layers} layers"),
                predict: predict.as_ref(),
                x_range: (-2.0, 2.0),
                y_range: (-2.0, 2.0),
                resolution: 40,
                points: &points,
            });
        }
    }
    plot_decision_grid(&path, "decision boundaries", &panels, 3)?;
    let svg = read_svg(&path);
    let texts = texts(&svg);
    assert_eq!(texts[0], "decision boundaries");
    for panel in &panels {
        assert!(texts.contains(&panel.title), "`{}` missing", panel.title);
    }
    assert_eq!(count(&svg, "circle"), 9 * points.len());
    assert!(svg.contains("width=\"1200\"") && svg.contains("height=\"1240\""));

    assert!(matches!(
        plot_decision_grid(&path, "t", &panels, 0),
        Err(NnError::InvalidSetting { what: "panels", .. })
    ));
    fs::remove_file(&path).ok();
    Ok(())
}

fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[test]
fn contours_draw_bands_and_paths() -> Result<()> {
    let path = temp_svg("contours");
    let gd: Vec<(f64, f64)> = (0..50)
        .map(|k| {
            let t = k as f64 / 49.0;
            (-1.5 + 2.5 * t, 2.0 - t)
        })
        .collect();
    let adam: Vec<(f64, f64)> = vec![(-1.5, 2.0), (0.0, 0.0), (0.9, 0.8), (1.0, 1.0), (9.0, 9.0)];
    plot_contours_with_paths(
        &path,
        "Rosenbrock",
        rosenbrock,
        (-2.0, 2.0),
        (-1.0, 3.0),
        12,
        &[("gradient descent", &gd), ("adam", &adam)],
    )?;
    let svg = read_svg(&path);
    for text in ["Rosenbrock", "gradient descent", "adam"] {
        assert!(texts(&svg).iter().any(|t| t == text), "`{text}` missing");
    }
    // two paths and their legend samples; a start and an end dot each
    assert_eq!(series_lines(&svg), 4);
    assert_eq!(count(&svg, "circle"), 4);
    // the bands use the first and last colors of the map
    assert!(
        svg.contains("#440154") && svg.contains("#FDE725"),
        "bands missing"
    );

    assert!(matches!(
        plot_contours_with_paths(&path, "t", rosenbrock, (0.0, 1.0), (0.0, 1.0), 0, &[]),
        Err(NnError::InvalidSetting { what: "levels", .. })
    ));
    assert!(matches!(
        plot_contours_with_paths(&path, "t", |_, _| f64::NAN, (0.0, 1.0), (0.0, 1.0), 5, &[]),
        Err(NnError::InvalidSetting { what: "f", .. })
    ));
    fs::remove_file(&path).ok();
    Ok(())
}

#[test]
fn unwritable_path_is_an_io_error() {
    let path = std::env::temp_dir().join("adnet-no-such-dir/x/plot.svg");
    let points = [(0.0, 1.0), (1.0, 2.0)];
    assert!(matches!(
        plot_curves(&path, "t", &[("a", &points)], "x", "y", false),
        Err(NnError::Io { .. })
    ));
}
