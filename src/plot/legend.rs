//! The legend box, placed where it covers the least data.

use plotters::chart::SeriesLabelPosition;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, BLACK, WHITE};
use plotters::style::Color;

use super::draw::{drawing_failed, Chart};
use super::layout::PanelLayout;
use super::series::PanelSeries;
use super::style::{text, Sizes};
use crate::Result;

/// Distance in pixels that plotters keeps between the legend box and the plot's edges.
const EDGE_PX: f64 = 5.0;

/// Line spacing of plotters' legend as a multiple of the font size.
const LINE_SPACING: f64 = 1.25;

/// Legend positions to try, in order of preference when they cover equally much data.
const POSITIONS: [SeriesLabelPosition; 6] = [
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::LowerLeft,
    SeriesLabelPosition::MiddleRight,
    SeriesLabelPosition::MiddleLeft,
];

/// A rectangle in plot coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x_low: f64,
    x_high: f64,
    y_low: f64,
    y_high: f64,
}

/// Draws the legend for the labelled lines and bands drawn on `chart`, if there are any.
pub(super) fn draw<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    series: &PanelSeries,
    layout: &PanelLayout,
    sizes: &Sizes,
) -> Result<()> {
    let line_labels = series
        .lines
        .iter()
        .filter_map(|line| line.line.label.as_deref());
    let band_labels = series
        .bands
        .iter()
        .filter_map(|band| band.band.label.as_deref());
    let labels: Vec<&str> = line_labels.chain(band_labels).collect();
    if labels.is_empty() {
        return Ok(());
    }

    let margin = sizes.px(8.0);
    let glyph_width = sizes.px(30.0);
    let plot = chart.plotting_area().strip_coord_spec();
    let size = legend_size(&plot, &labels, sizes.tick_label(), margin, glyph_width)?;
    let position = least_covering_position(series, layout, size);

    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .label_font(text(sizes.tick_label()))
        .legend_area_size(glyph_width)
        .margin(margin)
        .draw()
        .map_err(drawing_failed)
}

/// Estimates the legend box's width and height in pixels as plotters lays it out, with one
/// line per label at [`LINE_SPACING`], a glyph area before the text and `margin` all round.
fn legend_size<DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    labels: &[&str],
    font_size: f64,
    margin: u32,
    glyph_width: u32,
) -> Result<(f64, f64)> {
    let style = text(font_size);
    let mut text_width = 0;
    for label in labels {
        let (width, _) = plot
            .estimate_text_size(label, &style)
            .map_err(drawing_failed)?;
        text_width = text_width.max(width);
    }

    let margin = f64::from(margin);
    let width = f64::from(text_width) + f64::from(glyph_width) + 2.0 * margin;
    let line_count = labels.len() as f64;
    let height = (line_count - 1.0) * LINE_SPACING * font_size + font_size + 2.0 * margin;
    Ok((width, height))
}

/// Picks the legend position whose box covers the fewest line segments and band points,
/// preferring earlier entries of [`POSITIONS`] on ties.
fn least_covering_position(
    series: &PanelSeries,
    layout: &PanelLayout,
    size: (f64, f64),
) -> SeriesLabelPosition {
    let mut best: Option<(SeriesLabelPosition, usize)> = None;
    for position in POSITIONS {
        let covered = covered_count(series, legend_rect(&position, layout, size));
        let better = match &best {
            None => true,
            Some((_, least)) => covered < *least,
        };
        if better {
            best = Some((position, covered));
        }
    }
    best.map_or(SeriesLabelPosition::UpperRight, |(position, _)| position)
}

/// Returns the area in plot coordinates that a legend box of `size` pixels covers at
/// `position`.
fn legend_rect(
    position: &SeriesLabelPosition,
    layout: &PanelLayout,
    (width, height): (f64, f64),
) -> Rect {
    use SeriesLabelPosition::*;

    let (plot_width, plot_height) = (f64::from(layout.plot_width), f64::from(layout.plot_height));
    let left = match position {
        UpperRight | MiddleRight | LowerRight => plot_width - width - EDGE_PX,
        _ => EDGE_PX,
    };
    let top = match position {
        LowerLeft | LowerMiddle | LowerRight => plot_height - height - EDGE_PX,
        MiddleLeft | MiddleMiddle | MiddleRight => (plot_height - height) / 2.0,
        _ => EDGE_PX,
    };

    // Pixel rows count down from the top, plot coordinates up from the bottom.
    let x_per_px = layout.x.span() / plot_width;
    let y_per_px = layout.y.span() / plot_height;
    Rect {
        x_low: layout.x.low + left * x_per_px,
        x_high: layout.x.low + (left + width) * x_per_px,
        y_low: layout.y.high - (top + height) * y_per_px,
        y_high: layout.y.high - top * y_per_px,
    }
}

/// Counts the line segments that cross `rect`, the isolated line points inside it, and the
/// band points whose low-to-high interval overlaps it.
fn covered_count(series: &PanelSeries, rect: Rect) -> usize {
    let mut count = 0;
    for segment in series.lines.iter().flat_map(|line| &line.segments) {
        if let [point] = segment.as_slice() {
            count += usize::from(rect.contains(*point));
        }
        for pair in segment.windows(2) {
            count += usize::from(rect.intersects_segment(pair[0], pair[1]));
        }
    }

    for &(x, low, high) in series
        .bands
        .iter()
        .flat_map(|band| band.segments.iter().flatten())
    {
        let inside_x = rect.x_low <= x && x <= rect.x_high;
        let overlaps_y = low.min(high) <= rect.y_high && low.max(high) >= rect.y_low;
        count += usize::from(inside_x && overlaps_y);
    }
    count
}

impl Rect {
    fn contains(&self, (x, y): (f64, f64)) -> bool {
        self.x_low <= x && x <= self.x_high && self.y_low <= y && y <= self.y_high
    }

    /// Returns whether the segment from `start` to `end` passes through the rectangle. It clips
    /// the segment's parameter range to each pair of parallel edges (the Liang–Barsky method).
    fn intersects_segment(&self, start: (f64, f64), end: (f64, f64)) -> bool {
        let (dx, dy) = (end.0 - start.0, end.1 - start.1);
        let bounds = [
            (-dx, start.0 - self.x_low),
            (dx, self.x_high - start.0),
            (-dy, start.1 - self.y_low),
            (dy, self.y_high - start.1),
        ];

        let (mut entry, mut exit) = (0.0f64, 1.0f64);
        for (direction, distance) in bounds {
            if direction == 0.0 {
                // A segment parallel to these edges is between them everywhere or nowhere.
                if distance < 0.0 {
                    return false;
                }
                continue;
            }
            let t = distance / direction;
            if direction < 0.0 {
                entry = entry.max(t);
            } else {
                exit = exit.min(t);
            }
        }
        entry <= exit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::range::AxisRange;
    use crate::plot::ticks::Ticks;
    use crate::plot::{Axis, Line, Panel, Scale, Stroke};

    fn unit_square() -> Rect {
        Rect {
            x_low: 0.0,
            x_high: 1.0,
            y_low: 0.0,
            y_high: 1.0,
        }
    }

    #[test]
    fn segment_through_rect_intersects() {
        let rect = unit_square();
        assert!(rect.intersects_segment((-1.0, 0.5), (2.0, 0.5)));
        assert!(rect.intersects_segment((-1.0, -1.0), (2.0, 2.0)));
        assert!(rect.intersects_segment((0.5, 0.5), (0.6, 0.6)));
        assert!(rect.intersects_segment((0.5, 2.0), (0.5, -2.0)));
    }

    #[test]
    fn segment_beside_rect_misses() {
        let rect = unit_square();
        assert!(!rect.intersects_segment((-1.0, 2.0), (2.0, 2.0)));
        assert!(!rect.intersects_segment((2.0, 0.0), (3.0, 1.0)));
        assert!(!rect.intersects_segment((-1.0, 0.5), (-0.5, 0.5)));
        assert!(!rect.intersects_segment((1.5, -1.0), (3.0, 0.5)));
    }

    /// Lays out a 400x300 px plot over 0..10 on both axes.
    fn layout() -> PanelLayout {
        let range = AxisRange {
            low: 0.0,
            high: 10.0,
        };
        let ticks = Ticks::new(range, Scale::Linear, 5);
        PanelLayout {
            x: range,
            y: range,
            x_ticks: ticks.clone(),
            y_ticks: ticks,
            x_label_area: 40,
            y_label_area: 40,
            margins: [10, 10, 10, 10],
            plot_width: 400,
            plot_height: 300,
            x_label_size: 15.0,
            y_label_size: 15.0,
        }
    }

    fn panel(lines: Vec<Vec<(f64, f64)>>) -> Panel {
        let axis = || Axis {
            label: String::new(),
            scale: Scale::Linear,
        };
        let lines = lines
            .into_iter()
            .map(|points| Line {
                label: Some("line".to_string()),
                points,
                color: 0,
                stroke: Stroke::Thick,
                mark_start: false,
            })
            .collect();
        Panel {
            title: String::new(),
            x: axis(),
            y: axis(),
            lines,
            bands: Vec::new(),
            equal_aspect: false,
            include: Vec::new(),
        }
    }

    #[test]
    fn legend_rect_at_upper_right() {
        // 100x60 px at 5 px from the top right of a 400x300 px plot over 0..10.
        let rect = legend_rect(&SeriesLabelPosition::UpperRight, &layout(), (100.0, 60.0));
        let expected = [
            (rect.x_low, 7.375),
            (rect.x_high, 9.875),
            (rect.y_low, 7.8333),
            (rect.y_high, 9.8333),
        ];
        for (actual, value) in expected {
            // Values are quarter and third fractions of 10, compared to 4 decimals.
            assert!((actual - value).abs() < 1e-4, "{rect:?}");
        }
    }

    #[test]
    fn legend_avoids_lines() {
        // A line along the top and one down the right side leave the lower left free.
        let panel = panel(vec![
            vec![(0.0, 9.5), (10.0, 9.5)],
            vec![(9.5, 0.0), (9.5, 10.0)],
        ]);
        let series = PanelSeries::new(&panel);
        let position = least_covering_position(&series, &layout(), (100.0, 60.0));
        assert!(
            matches!(position, SeriesLabelPosition::LowerLeft),
            "{position:?}"
        );
    }

    #[test]
    fn legend_between_two_curves_goes_to_middle() {
        let panel = panel(vec![
            vec![(0.0, 9.0), (10.0, 9.5)],
            vec![(0.0, 0.5), (10.0, 1.0)],
        ]);
        let series = PanelSeries::new(&panel);
        let position = least_covering_position(&series, &layout(), (100.0, 60.0));
        assert!(
            matches!(position, SeriesLabelPosition::MiddleRight),
            "{position:?}"
        );
    }

    #[test]
    fn legend_without_data_goes_upper_right() {
        let panel = panel(Vec::new());
        let series = PanelSeries::new(&panel);
        let position = least_covering_position(&series, &layout(), (100.0, 60.0));
        assert!(
            matches!(position, SeriesLabelPosition::UpperRight),
            "{position:?}"
        );
    }

    #[test]
    fn contains_edges() {
        let rect = unit_square();
        assert!(rect.contains((0.0, 1.0)));
        assert!(!rect.contains((1.1, 0.5)));
    }
}
