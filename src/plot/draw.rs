//! Drawing a figure with plotters on any backend.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font;
use super::layout::{fit_font_size, PanelLayout};
use super::legend;
use super::series::{BandSegments, LineSegments, PanelSeries};
use super::style::{palette_color, text, Sizes, BAND_OPACITY};
use super::ticks::minor_decades;
use super::{Figure, Panel, Scale, Stroke};
use crate::{Error, Result};

/// A panel's chart in plot coordinates, which are log10 of the data on log axes.
pub(super) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The kind of image being drawn, which decides how lines are drawn.
///
/// Two bitmap artifacts of plotters 0.3.7 are worked around here. A wide path is filled as
/// one polygon, which leaves gaps where the path crosses itself, as closed orbits do. A 1 px
/// path is drawn segment by segment, so a translucent line gets a darker dot at every point.
/// Bitmaps therefore draw wide lines as overlapping 1 px paths and faint lines in an opaque
/// tint. The tint looks the same on white, but it hides the lines and bands below it instead
/// of letting them show through. SVG viewers draw both kinds of line correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// PNG through plotters' bitmap backend.
    Bitmap,
    /// SVG, drawn by the viewer.
    Svg,
}

/// Converts a plotters drawing error.
pub(super) fn drawing_failed<E>(error: DrawingAreaErrorKind<E>) -> Error
where
    E: std::error::Error + Send + Sync,
{
    Error::invalid("plot", format!("drawing the figure failed: {error}"))
}

/// Draws the figure title and its panels side by side, left to right, on `root`.
pub(super) fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &Figure,
    target: Target,
) -> Result<()> {
    font::register()?;
    let sizes = Sizes::new(figure.size, figure.panels.len());
    root.fill(&WHITE).map_err(drawing_failed)?;

    let body = draw_title(root, &figure.title, sizes.figure_title())?;
    if figure.panels.is_empty() {
        return Ok(());
    }

    let areas = body.split_evenly((1, figure.panels.len()));
    for (panel, area) in figure.panels.iter().zip(&areas) {
        draw_panel(area, panel, &sizes, target)?;
    }
    Ok(())
}

/// Draws `title` centred at the top of `area`, shrunk to fit its width, and returns the area
/// below it. An empty title takes no space.
fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    size: f64,
) -> Result<DrawingArea<DB, Shift>> {
    if title.trim().is_empty() {
        return Ok(area.clone());
    }

    let (width, _) = area.dim_in_pixel();
    let size = fit_font_size(area, title, size, 0.95 * f64::from(width))?;
    let height = (1.6 * size).round() as u32;
    let (title_area, rest) = area.split_vertically(height);

    let style = text(size).pos(Pos::new(HPos::Center, VPos::Center));
    let center = ((width / 2) as i32, (height / 2) as i32);
    title_area
        .draw_text(title, &style, center)
        .map_err(drawing_failed)?;
    Ok(rest)
}

/// Draws one panel with its title, axes, grid, bands, lines and legend.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    sizes: &Sizes,
    target: Target,
) -> Result<()> {
    let series = PanelSeries::new(panel);
    let area = draw_title(area, &panel.title, sizes.panel_title())?;

    let (x, y) = series.ranges(panel);
    let layout = PanelLayout::fit(&area, panel, x, y, sizes)?;
    let mut chart = build_chart(&area, &layout)?;

    draw_mesh(&mut chart, &layout, sizes)?;
    draw_axis_labels(&area, panel, &layout)?;
    draw_decade_grid(&mut chart, panel, &layout)?;
    for band in &series.bands {
        draw_band(&mut chart, band, sizes)?;
    }

    // Thin lines (single systems) go below thick ones (summaries).
    let thin = series
        .lines
        .iter()
        .filter(|line| line.line.stroke == Stroke::Thin);
    let thick = series
        .lines
        .iter()
        .filter(|line| line.line.stroke == Stroke::Thick);
    for line in thin.chain(thick) {
        draw_line(&mut chart, line, sizes, target)?;
    }

    legend::draw(&mut chart, &series, &layout, sizes)
}

/// Builds the chart with the layout's margins, label areas and ranges.
fn build_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    layout: &PanelLayout,
) -> Result<Chart<'a, DB>> {
    let [top, right, bottom, left] = layout.margins;
    ChartBuilder::on(area)
        .margin_top(top)
        .margin_right(right)
        .margin_bottom(bottom)
        .margin_left(left)
        .x_label_area_size(layout.x_label_area)
        .y_label_area_size(layout.y_label_area)
        .build_cartesian_2d(layout.x.low..layout.x.high, layout.y.low..layout.y.high)
        .map_err(drawing_failed)
}

/// Draws the axes, tick labels and the grid at the ticks.
fn draw_mesh<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    layout: &PanelLayout,
    sizes: &Sizes,
) -> Result<()> {
    let x_label = |value: &f64| layout.x_ticks.label(*value);
    let y_label = |value: &f64| layout.y_ticks.label(*value);

    chart
        .configure_mesh()
        .x_labels(layout.x_ticks.max_count)
        .y_labels(layout.y_ticks.max_count)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(text(sizes.tick_label()))
        .set_all_tick_mark_size(sizes.tick_length())
        .axis_style(BLACK.mix(0.8))
        .bold_line_style(BLACK.mix(0.12))
        // Plotters' light lines split a log axis evenly in log10, which falls between decades
        // at no meaningful value, so minor grid lines come from draw_decade_grid instead.
        .max_light_lines(0)
        .draw()
        .map_err(drawing_failed)
}

/// Draws the axis labels at the outer edges of the label areas, each in its own font size.
///
/// Plotters' mesh can draw them too, but only in one size for both axes, so a long y label
/// shrunk to fit would shrink the x label with it.
fn draw_axis_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    layout: &PanelLayout,
) -> Result<()> {
    let [top, _, bottom, left] = layout.margins;
    let (_, height) = area.dim_in_pixel();

    let x_center = left + layout.y_label_area + layout.plot_width / 2;
    let x_style = text(layout.x_label_size).pos(Pos::new(HPos::Center, VPos::Bottom));
    let x_position = (x_center as i32, (height - bottom) as i32);
    area.draw_text(&panel.x.label, &x_style, x_position)
        .map_err(drawing_failed)?;

    let y_center = top + layout.plot_height / 2;
    let y_style = text(layout.y_label_size)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(&panel.y.label, &y_style, (left as i32, y_center as i32))
        .map_err(drawing_failed)
}

/// Draws faint minor grid lines on log axes, as many as [`minor_decades`] gives for the length.
fn draw_decade_grid<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    panel: &Panel,
    layout: &PanelLayout,
) -> Result<()> {
    let style = BLACK.mix(0.06);
    let mut grid_lines = Vec::new();

    if panel.x.scale == Scale::Log {
        for x in minor_decades(layout.x, &layout.x_ticks.positions, layout.plot_width) {
            grid_lines.push(vec![(x, layout.y.low), (x, layout.y.high)]);
        }
    }
    if panel.y.scale == Scale::Log {
        for y in minor_decades(layout.y, &layout.y_ticks.positions, layout.plot_height) {
            grid_lines.push(vec![(layout.x.low, y), (layout.x.high, y)]);
        }
    }

    let elements = grid_lines
        .into_iter()
        .map(|points| PathElement::new(points, style));
    chart.draw_series(elements).map_err(drawing_failed)?;
    Ok(())
}

/// Fills a band between its low and high bounds, one polygon per drawable segment.
fn draw_band<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    band: &BandSegments,
    sizes: &Sizes,
) -> Result<()> {
    let fill = palette_color(band.band.color).mix(BAND_OPACITY).filled();

    let polygons = band
        .segments
        .iter()
        .filter(|segment| segment.len() > 1)
        .map(|segment| {
            let upper = segment.iter().map(|&(x, _, high)| (x, high));
            let lower = segment.iter().rev().map(|&(x, low, _)| (x, low));
            Polygon::new(upper.chain(lower).collect::<Vec<_>>(), fill)
        });
    let annotation = chart.draw_series(polygons).map_err(drawing_failed)?;

    if let Some(label) = &band.band.label {
        let (length, half_height) = (sizes.px(22.0) as i32, sizes.px(5.0) as i32);
        annotation.label(label.as_str()).legend(move |(x, y)| {
            Rectangle::new([(x, y - half_height), (x + length, y + half_height)], fill)
        });
    }

    // A segment of one point has no area, so it is drawn as a vertical bar.
    let bar = fill.stroke_width(sizes.px(2.0));
    let bars = band
        .segments
        .iter()
        .filter(|segment| segment.len() == 1)
        .map(|segment| {
            PathElement::new(
                vec![(segment[0].0, segment[0].1), (segment[0].0, segment[0].2)],
                bar,
            )
        });
    chart.draw_series(bars).map_err(drawing_failed)?;
    Ok(())
}

/// Draws a line's segments, a dot for each segment of one point, and the start marker.
fn draw_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    line: &LineSegments,
    sizes: &Sizes,
    target: Target,
) -> Result<()> {
    let style = sizes.line(line.line.color, line.line.stroke, target);

    let annotation = if target == Target::Bitmap && style.stroke_width > 1 {
        for segment in &line.segments {
            draw_brush_path(chart, segment, style)?;
        }
        // An empty series carries the legend entry.
        chart.draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
    } else {
        let paths = line
            .segments
            .iter()
            .map(|segment| PathElement::new(segment.clone(), style));
        chart.draw_series(paths)
    }
    .map_err(drawing_failed)?;

    if let Some(label) = &line.line.label {
        let length = sizes.px(22.0) as i32;
        annotation
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + length, y)], style));
    }

    let dot = style.color.filled();
    let dot_radius = style.stroke_width.max(1);
    let dots = line
        .segments
        .iter()
        .filter(|segment| segment.len() == 1)
        .map(|segment| Circle::new(segment[0], dot_radius, dot));
    chart.draw_series(dots).map_err(drawing_failed)?;

    if line.line.mark_start {
        let start = line.segments.first().and_then(|segment| segment.first());
        let marker = palette_color(line.line.color).filled();
        let radius = sizes.marker_radius(line.line.stroke);
        let markers = start.map(|&point| Circle::new(point, radius, marker));
        chart.draw_series(markers).map_err(drawing_failed)?;
    }
    Ok(())
}

/// Draws a wide path as 1 px copies shifted by whole pixels across the stroke width.
fn draw_brush_path<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    segment: &[(f64, f64)],
    style: ShapeStyle,
) -> Result<()> {
    let plot = chart.plotting_area();
    let (base_x, base_y) = plot.get_base_pixel();
    let pixels: Vec<(i32, i32)> = segment
        .iter()
        .map(|point| {
            let (x, y) = plot.map_coordinate(point);
            (x - base_x, y - base_y)
        })
        .collect();

    let pixel_area = plot.strip_coord_spec();
    let thin = style.color.stroke_width(1);
    for (dx, dy) in brush_offsets(style.stroke_width) {
        let shifted: Vec<(i32, i32)> = pixels.iter().map(|&(x, y)| (x + dx, y + dy)).collect();
        pixel_area
            .draw(&PathElement::new(shifted, thin))
            .map_err(drawing_failed)?;
    }
    Ok(())
}

/// Pixel offsets that cover a round brush `width` pixels across.
fn brush_offsets(width: u32) -> Vec<(i32, i32)> {
    let width = width.max(1) as i32;
    let low = -(width - 1) / 2;
    let high = low + width - 1;
    let center = f64::from(low + high) / 2.0;
    let radius = f64::from(width) / 2.0;

    let mut offsets = Vec::new();
    for dx in low..=high {
        for dy in low..=high {
            let distance_squared =
                (f64::from(dx) - center).powi(2) + (f64::from(dy) - center).powi(2);
            // The 0.5 px² slack keeps the corners of 2 to 4 px brushes, which look rounder.
            if distance_squared <= radius * radius + 0.5 {
                offsets.push((dx, dy));
            }
        }
    }
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{Axis, Line};

    fn path_panel(points: Vec<(f64, f64)>) -> Panel {
        let axis = |label: &str| Axis {
            label: label.to_string(),
            scale: Scale::Linear,
        };
        Panel {
            title: "paths".to_string(),
            x: axis("x (length units)"),
            y: axis("y (length units)"),
            lines: vec![Line {
                label: None,
                points,
                color: 0,
                stroke: Stroke::Thick,
                mark_start: true,
            }],
            bands: Vec::new(),
            equal_aspect: true,
            include: Vec::new(),
        }
    }

    #[test]
    fn equal_aspect_layout_matches_chart() {
        font::register().unwrap();
        let cases = [
            ((500, 400), vec![(0.0, 0.0), (10.0, 1.0)]),
            ((500, 400), vec![(0.0, 0.0), (0.1, 30.0)]),
            ((300, 700), vec![(-2.0, -1.0), (2.0, 1.0)]),
        ];
        for (size, points) in cases {
            let mut svg = String::new();
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            let panel = path_panel(points);
            let sizes = Sizes::new(size, 1);
            let (x, y) = PanelSeries::new(&panel).ranges(&panel);
            let layout = PanelLayout::fit(&root, &panel, x, y, &sizes).unwrap();
            let chart = build_chart(&root, &layout).unwrap();

            // The layout's plotting area must be the one plotters builds.
            let (width, height) = chart.plotting_area().dim_in_pixel();
            assert_eq!(
                (width, height),
                (layout.plot_width, layout.plot_height),
                "{size:?}"
            );

            // Tick labels can change width between layout passes, so allow 2 %.
            let x_units_per_px = layout.x.span() / f64::from(width);
            let y_units_per_px = layout.y.span() / f64::from(height);
            let relative = (x_units_per_px / y_units_per_px - 1.0).abs();
            assert!(
                relative < 0.02,
                "{size:?}: x {x_units_per_px}, y {y_units_per_px} units/px"
            );
        }
    }

    #[test]
    fn brush_covers_width() {
        assert_eq!(brush_offsets(1), [(0, 0)]);
        assert_eq!(brush_offsets(2).len(), 4);
        assert_eq!(brush_offsets(3).len(), 9);

        let wide = brush_offsets(6);
        let xs: Vec<i32> = wide.iter().map(|&(dx, _)| dx).collect();
        assert_eq!(xs.iter().max().unwrap() - xs.iter().min().unwrap() + 1, 6);
        assert!(
            wide.len() < 36,
            "corners of a 6 px brush should be left out"
        );
    }
}
