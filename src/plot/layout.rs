//! Pixel layout of one panel, with label areas sized to their text, margins and the plotting
//! area.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};

use super::draw::drawing_failed;
use super::range::{equalize_aspect, AxisRange};
use super::style::{text, Sizes};
use super::ticks::Ticks;
use super::{Panel, Scale};
use crate::{Error, Result};

/// Smallest plotting area, in pixels along each axis, that still shows the data.
const MIN_PLOT_PX: i64 = 40;

/// Smallest font size in pixels that labels are shrunk to when they are too long.
const MIN_FONT_PX: f64 = 6.0;

/// Ranges, ticks and pixel sizes of one panel's chart.
#[derive(Debug, Clone)]
pub(super) struct PanelLayout {
    /// x range in plot coordinates.
    pub x: AxisRange,
    /// y range in plot coordinates.
    pub y: AxisRange,
    /// Ticks along x.
    pub x_ticks: Ticks,
    /// Ticks along y.
    pub y_ticks: Ticks,
    /// Height of the area below the plot for x tick labels and the x axis label.
    pub x_label_area: u32,
    /// Width of the area left of the plot for y tick labels and the y axis label.
    pub y_label_area: u32,
    /// Margins around the chart in pixels: top, right, bottom, left.
    pub margins: [u32; 4],
    /// Width of the plotting area in pixels.
    pub plot_width: u32,
    /// Height of the plotting area in pixels.
    pub plot_height: u32,
    /// Font size of the x axis label, shrunk from the default when the label is too long.
    pub x_label_size: f64,
    /// Font size of the y axis label, shrunk from the default when the label is too long.
    pub y_label_size: f64,
}

impl PanelLayout {
    /// Lays out a panel's chart in `area` around the data ranges `x` and `y`.
    ///
    /// With `panel.equal_aspect` on two linear axes, one range is widened until a unit has
    /// the same length in pixels on both axes. Label widths depend on the ranges and the
    /// plotting area depends on label widths, so this is repeated twice.
    ///
    /// NOTE: the last pass can change the width of the widest tick label after the ranges were
    /// fixed. The plotting area then changes by those pixels, and the two axes' units differ in
    /// length by that fraction of the plot width (for example 3 px in 300 px, 1 %).
    pub fn fit<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        x: AxisRange,
        y: AxisRange,
        sizes: &Sizes,
    ) -> Result<PanelLayout> {
        let mut layout = Self::measure(area, panel, x, y, sizes)?;

        let linear = panel.x.scale == Scale::Linear && panel.y.scale == Scale::Linear;
        if panel.equal_aspect && linear {
            for _ in 0..2 {
                let (x_equal, y_equal) =
                    equalize_aspect(x, y, layout.plot_width, layout.plot_height);
                layout = Self::measure(area, panel, x_equal, y_equal, sizes)?;
            }
        }
        Ok(layout)
    }

    /// Sizes the label areas and margins for fixed ranges.
    fn measure<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        x: AxisRange,
        y: AxisRange,
        sizes: &Sizes,
    ) -> Result<PanelLayout> {
        let (width, height) = area.dim_in_pixel();
        let tick_size = sizes.tick_label();
        let y_ticks = Ticks::new(y, panel.y.scale, tick_count(height, 3.0 * tick_size));

        // Plotters puts tick labels twice the tick length from the axis and the axis label at
        // the outer edge of the label area.
        let gap = sizes.px(4.0);
        let label_distance = 2 * sizes.tick_length();
        let tick_label_height = tick_size.ceil() as u32;
        let axis_label_height = axis_label_height(panel, sizes);

        let widest_y_label = widest(area, &y_ticks.labels(), tick_size)?;
        let x_label_area = label_distance + tick_label_height + gap + axis_label_height + gap;
        let y_label_area = label_distance + widest_y_label + gap + axis_label_height + gap;

        let approximate_plot_width = f64::from(width) - f64::from(y_label_area + 3 * gap);
        let x_ticks = fit_x_ticks(area, panel.x.scale, x, approximate_plot_width, tick_size)?;
        let last_x_label = x_ticks
            .labels()
            .last()
            .map_or(Ok(0), |label| width_of(area, label, tick_size))?;

        // The top y tick label and the last x tick label are centred on the plot's edge.
        let top = tick_label_height / 2 + gap;
        let right = (last_x_label / 2 + gap).max(2 * gap);
        let margins = [top, right, gap, gap];

        let plot_width = i64::from(width) - i64::from(right + gap + y_label_area);
        let plot_height = i64::from(height) - i64::from(top + gap + x_label_area);
        check_plot_size(panel, plot_width, plot_height)?;

        let x_label_size =
            fit_font_size(area, &panel.x.label, sizes.axis_label(), plot_width as f64)?;
        let y_label_size =
            fit_font_size(area, &panel.y.label, sizes.axis_label(), plot_height as f64)?;

        Ok(PanelLayout {
            x,
            y,
            x_ticks,
            y_ticks,
            x_label_area,
            y_label_area,
            margins,
            plot_width: plot_width as u32,
            plot_height: plot_height as u32,
            x_label_size,
            y_label_size,
        })
    }
}

/// Maximum tick count, from 2 to 10, for an axis `pixels` long with at least `spacing_px`
/// between ticks.
fn tick_count(pixels: u32, spacing_px: f64) -> usize {
    (f64::from(pixels) / spacing_px).floor().clamp(2.0, 10.0) as usize
}

/// Picks x ticks whose labels fit side by side in `plot_width` pixels, with gaps of at least
/// 1.5 times the font size `size`. Fewer ticks are tried until the labels fit or only 2 are
/// left.
fn fit_x_ticks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: Scale,
    range: AxisRange,
    plot_width: f64,
    size: f64,
) -> Result<Ticks> {
    let mut max_count = tick_count(plot_width.max(0.0) as u32, 4.0 * size);
    loop {
        let ticks = Ticks::new(range, scale, max_count);
        let label_width = f64::from(widest(area, &ticks.labels(), size)?) + 1.5 * size;
        if ticks.positions.len() as f64 * label_width <= plot_width || max_count <= 2 {
            return Ok(ticks);
        }
        max_count -= 1;
    }
}

/// Height in pixels reserved for an axis label, or 0 when both labels are empty.
fn axis_label_height(panel: &Panel, sizes: &Sizes) -> u32 {
    if panel.x.label.trim().is_empty() && panel.y.label.trim().is_empty() {
        0
    } else {
        sizes.axis_label().ceil() as u32
    }
}

/// Rejects a plotting area too small to show data.
fn check_plot_size(panel: &Panel, width: i64, height: i64) -> Result<()> {
    if width >= MIN_PLOT_PX && height >= MIN_PLOT_PX {
        return Ok(());
    }
    Err(Error::invalid(
        "plot size",
        format!(
            "the panel \"{}\" leaves a plotting area of {width}x{height} px after its labels, \
             below the minimum of {MIN_PLOT_PX} px; make the figure larger or use fewer panels",
            panel.title
        ),
    ))
}

/// Width in pixels of `text_value` at font size `size`.
fn width_of<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text_value: &str,
    size: f64,
) -> Result<u32> {
    let (width, _) = area
        .estimate_text_size(text_value, &text(size))
        .map_err(drawing_failed)?;
    Ok(width)
}

/// Width in pixels of the widest of `labels`.
fn widest<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[String],
    size: f64,
) -> Result<u32> {
    let mut widest = 0;
    for label in labels {
        widest = widest.max(width_of(area, label, size)?);
    }
    Ok(widest)
}

/// Shrinks font size `size` until `text_value` fits in `max_width` pixels, but not below
/// [`MIN_FONT_PX`], so a very long text can still overflow.
pub(super) fn fit_font_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text_value: &str,
    size: f64,
    max_width: f64,
) -> Result<f64> {
    let width = f64::from(width_of(area, text_value, size)?);
    if width <= max_width {
        return Ok(size);
    }
    Ok((size * max_width / width).max(MIN_FONT_PX))
}
