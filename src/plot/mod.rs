//! Figures of time series and particle paths, saved as PNG or SVG.
//!
//! A [`Figure`] is a row of [`Panel`]s. Each panel draws [`Line`]s and shaded [`Band`]s on
//! linear or log axes. Points that an axis cannot show are left out, namely NaN, infinities,
//! values beyond ±1e300 on a linear axis and values that are not positive on a log axis. Lines and
//! bands break at such points instead of bridging the gap. Text uses an embedded copy of
//! DejaVu Sans, so rendering needs no system fonts and no display.
//!
//! Call [`check_output`] (and [`parse_size`] for a size option) before a long computation and
//! [`save`] after it.

mod draw;
mod font;
mod layout;
mod legend;
mod output;
mod range;
mod series;
mod style;
mod ticks;

use std::path::Path;

pub use output::{check_output, parse_size, Format, MAX_SIZE_PX, MIN_SIZE_PX};

use crate::Result;

/// Mapping from data values to positions along an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced powers of ten, for positive values.
    Log,
}

/// One axis of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Axis label with units, for example `time t (model time units)`.
    pub label: String,
    /// Linear or log scale.
    pub scale: Scale,
}

/// Line width and opacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stroke {
    /// Opaque, 2 px wide in a 500 px high figure and wider in larger ones, for summaries such
    /// as a median.
    Thick,
    /// Faint and 1 px wide at any size, for many individual systems.
    Thin,
}

/// A polyline through data points, connected in the given order.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend entry, or `None` to leave the line out of the legend.
    pub label: Option<String>,
    /// Points `(x, y)` in data units.
    pub points: Vec<(f64, f64)>,
    /// Index into the colour palette of 8 colour-blind-safe colours, wrapping around.
    pub color: usize,
    /// Line width and opacity.
    pub stroke: Stroke,
    /// Whether to mark the first drawable point with a filled dot, for example the start of
    /// a particle path.
    pub mark_start: bool,
}

/// A shaded region between a lower and an upper curve, such as a 10–90 % quantile band.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Legend entry, or `None` to leave the band out of the legend.
    pub label: Option<String>,
    /// Points `(x, low, high)` in data units.
    pub points: Vec<(f64, f64, f64)>,
    /// Index into the colour palette, as for [`Line::color`]. The fill is that colour at 20 %
    /// opacity.
    pub color: usize,
}

/// One plot: axes, bands drawn first, then lines, and a legend for labelled series.
///
/// The axis ranges fit all drawable points of the panel's lines and bands. Linear axes get 5 %
/// padding on each side, and log axes are rounded out to whole decades. The legend goes in the
/// corner of the plot with the fewest data points.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Lines. Thin lines are drawn first and thick lines over them, each group in this order.
    pub lines: Vec<Line>,
    /// Bands, drawn in this order below all lines.
    pub bands: Vec<Band>,
    /// Whether one data unit has the same length on both axes, for paths in space. The range
    /// of one axis is widened to achieve it. Ignored unless both axes are linear.
    pub equal_aspect: bool,
    /// Points `(x, y)` that the axis ranges must contain without being drawn, for example to
    /// give side-by-side panels the same ranges.
    pub include: Vec<(f64, f64)>,
}

/// A titled row of panels, left to right, sharing the width equally.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Title across the top.
    pub title: String,
    /// Panels from left to right.
    pub panels: Vec<Panel>,
    /// Width and height in pixels, each from [`MIN_SIZE_PX`] to [`MAX_SIZE_PX`]. SVG files get
    /// the same size in user units. Text and line widths scale with the height, and shrink
    /// when panels are narrower than 400 px per 500 px of height.
    pub size: (u32, u32),
}

/// Draws `figure` and writes it to `path` as PNG or SVG, chosen by the extension.
///
/// The file appears under its final name only when complete, replacing any existing file.
/// Fails when the extension is not `.png` or `.svg`, when the size is out of range, when a
/// panel is too small for its labels, or when writing fails.
pub fn save(figure: &Figure, path: &Path) -> Result<()> {
    let format = Format::from_path(path)?;
    output::check_size(figure.size, "plot size")?;

    match format {
        Format::Png => output::save_png(figure, path),
        Format::Svg => output::save_svg(figure, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(label: &str, scale: Scale) -> Axis {
        Axis {
            label: label.to_string(),
            scale,
        }
    }

    fn line(label: Option<&str>, points: Vec<(f64, f64)>, color: usize, stroke: Stroke) -> Line {
        Line {
            label: label.map(str::to_string),
            points,
            color,
            stroke,
            mark_start: false,
        }
    }

    /// Builds a log-scale energy error panel with a median, a 10–90 % band, three thin lines and
    /// undrawable points (zeros, NaN, infinity), next to an equal-aspect path panel.
    fn two_panel_figure(size: (u32, u32)) -> Figure {
        let times: Vec<f64> = (0..200).map(|i| f64::from(i) * 0.05).collect();
        let thin_lines = (0..3).map(|k| {
            let points = times
                .iter()
                .map(|&t| {
                    (
                        t,
                        1e-10 * (1.0 + f64::from(k)) * t * t * (1.5 + (3.0 * t).sin()),
                    )
                })
                .collect();
            line(None, points, k as usize + 1, Stroke::Thin)
        });
        let mut median = line(
            Some("median"),
            times.iter().map(|&t| (t, 2e-10 * t * t)).collect(),
            0,
            Stroke::Thick,
        );
        median.points[100].1 = f64::NAN;
        let band = Band {
            label: Some("10–90 %".to_string()),
            points: times
                .iter()
                .map(|&t| (t, 5e-11 * t * t, 1e-9 * t * t))
                .collect(),
            color: 0,
        };
        let energy = Panel {
            title: "Relative energy error".to_string(),
            x: axis("time t (model time units)", Scale::Linear),
            y: axis("|E(t) − E(0)| / |E(0)|", Scale::Log),
            lines: thin_lines.chain([median]).collect(),
            bands: vec![band],
            equal_aspect: false,
            include: Vec::new(),
        };

        let mut path = line(
            Some("particle 1"),
            times.iter().map(|&t| (3.0 * t.cos(), t.sin())).collect(),
            1,
            Stroke::Thick,
        );
        path.mark_start = true;
        path.points.push((f64::INFINITY, 0.0));
        let paths = Panel {
            title: "Particle paths".to_string(),
            x: axis("x (length units)", Scale::Linear),
            y: axis("y (length units)", Scale::Linear),
            lines: vec![path],
            bands: Vec::new(),
            equal_aspect: true,
            include: Vec::new(),
        };

        Figure {
            title: "Plot test figure".to_string(),
            panels: vec![energy, paths],
            size,
        }
    }

    fn decode_png(path: &Path) -> image::RgbImage {
        image::open(path).unwrap().to_rgb8()
    }

    fn distinct_colors(image: &image::RgbImage) -> usize {
        let mut colors: Vec<[u8; 3]> = image.pixels().map(|pixel| pixel.0).collect();
        colors.sort_unstable();
        colors.dedup();
        colors.len()
    }

    #[test]
    fn png_has_requested_size_and_content() {
        let dir = tempfile::tempdir().unwrap();
        for size in [(800, 500), (1200, 700), (1600, 1000)] {
            let path = dir.path().join(format!("figure_{}x{}.png", size.0, size.1));
            save(&two_panel_figure(size), &path).unwrap();

            let image = decode_png(&path);
            assert_eq!(image.dimensions(), size);
            // Anti-aliased text, lines and the translucent band give many colours, while a
            // blank image has one.
            assert!(
                distinct_colors(&image) > 50,
                "{size:?}: {} colours",
                distinct_colors(&image)
            );
        }
    }

    #[test]
    fn png_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        save(
            &two_panel_figure((800, 500)),
            &dir.path().join("figure.png"),
        )
        .unwrap();

        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["figure.png"]);
    }

    #[test]
    fn svg_contains_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figure.SVG");
        save(&two_panel_figure((900, 500)), &path).unwrap();

        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        assert!(svg.contains("width=\"900\""), "missing width");
        assert!(svg.contains("Plot test figure"), "missing figure title");
        assert!(svg.contains("Relative energy error"), "missing panel title");
        assert!(
            svg.contains("time t (model time units)"),
            "missing x axis label"
        );
        assert!(svg.contains("median"), "missing legend entry");
        assert!(svg.contains("1e-10"), "missing log tick label");
        assert!(svg.trim_end().ends_with("</svg>"), "unterminated SVG");
    }

    #[test]
    fn degenerate_panels_render() {
        let empty = Panel {
            title: String::new(),
            x: axis("", Scale::Log),
            y: axis("", Scale::Log),
            lines: Vec::new(),
            bands: Vec::new(),
            equal_aspect: true,
            include: Vec::new(),
        };
        let undrawable = Panel {
            title: "nothing to draw".to_string(),
            x: axis("x", Scale::Linear),
            y: axis("y", Scale::Log),
            lines: vec![
                line(
                    Some("zeros"),
                    vec![(0.0, 0.0), (1.0, -1.0)],
                    2,
                    Stroke::Thick,
                ),
                line(
                    None,
                    vec![(f64::NAN, f64::NAN), (f64::INFINITY, 1.0)],
                    3,
                    Stroke::Thin,
                ),
            ],
            bands: vec![Band {
                label: Some("band".to_string()),
                points: vec![(0.0, f64::NAN, 1.0)],
                color: 4,
            }],
            equal_aspect: false,
            include: Vec::new(),
        };
        let constant = Panel {
            title: "one point and a constant".to_string(),
            x: axis("x", Scale::Linear),
            y: axis("y", Scale::Linear),
            lines: vec![
                line(Some("point"), vec![(3.0, 3.0)], 0, Stroke::Thick),
                line(None, vec![(3.0, 3.0), (3.0, 3.0)], 1, Stroke::Thin),
            ],
            bands: vec![Band {
                label: None,
                points: vec![(3.0, 2.0, 4.0)],
                color: 12,
            }],
            equal_aspect: true,
            include: Vec::new(),
        };
        let extreme = Panel {
            title: "extreme values".to_string(),
            x: axis("x", Scale::Linear),
            y: axis("y", Scale::Linear),
            lines: vec![
                line(
                    None,
                    vec![(1e-310, 1e-310), (2e-310, 1e-310)],
                    0,
                    Stroke::Thick,
                ),
                line(
                    None,
                    vec![(-1e300, 1e300), (1e300, -1e300), (1e308, 0.0)],
                    1,
                    Stroke::Thin,
                ),
            ],
            bands: Vec::new(),
            equal_aspect: true,
            include: Vec::new(),
        };
        let figure = Figure {
            title: String::new(),
            panels: vec![empty, undrawable, constant, extreme],
            size: (1600, 400),
        };

        let dir = tempfile::tempdir().unwrap();
        for name in ["degenerate.png", "degenerate.svg"] {
            save(&figure, &dir.path().join(name)).unwrap();
        }
        assert_eq!(
            decode_png(&dir.path().join("degenerate.png")).dimensions(),
            (1600, 400)
        );
    }

    #[test]
    fn figure_without_panels_renders() {
        let figure = Figure {
            title: "only a title".to_string(),
            panels: Vec::new(),
            size: (300, 200),
        };
        let dir = tempfile::tempdir().unwrap();
        save(&figure, &dir.path().join("title.png")).unwrap();
        assert_eq!(
            decode_png(&dir.path().join("title.png")).dimensions(),
            (300, 200)
        );
    }

    #[test]
    fn smallest_figure_renders() {
        let mut figure = two_panel_figure((MIN_SIZE_PX, MIN_SIZE_PX));
        figure.panels.truncate(1);
        let dir = tempfile::tempdir().unwrap();
        save(&figure, &dir.path().join("small.png")).unwrap();
        assert_eq!(
            decode_png(&dir.path().join("small.png")).dimensions(),
            (200, 200)
        );
    }

    #[test]
    fn too_many_panels_is_an_error() {
        let mut figure = two_panel_figure((400, 300));
        let panel = figure.panels[0].clone();
        figure.panels = vec![panel; 8];
        let dir = tempfile::tempdir().unwrap();
        let error = save(&figure, &dir.path().join("crowded.png"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("make the figure larger or use fewer panels"),
            "{error}"
        );
    }

    #[test]
    fn save_rejects_bad_size_and_extension() {
        let dir = tempfile::tempdir().unwrap();
        let error = save(&two_panel_figure((100, 500)), &dir.path().join("a.png"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("width 100"), "{error}");

        let error = save(&two_panel_figure((800, 500)), &dir.path().join("a.pdf"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("use .png or .svg"), "{error}");
    }
}
