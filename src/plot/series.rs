//! A panel's lines and bands mapped to plot coordinates and split at undrawable points.

use super::range::{split_band, split_line, to_plot, AxisRange};
use super::{Band, Line, Panel};

/// A line with its drawable segments in plot coordinates.
pub(super) struct LineSegments<'a> {
    /// The line as given.
    pub line: &'a Line,
    /// Runs of drawable points `(x, y)`, in order.
    pub segments: Vec<Vec<(f64, f64)>>,
}

/// A band with its drawable segments in plot coordinates.
pub(super) struct BandSegments<'a> {
    /// The band as given.
    pub band: &'a Band,
    /// Runs of drawable points `(x, low, high)`, in order.
    pub segments: Vec<Vec<(f64, f64, f64)>>,
}

/// All series of one panel in plot coordinates.
pub(super) struct PanelSeries<'a> {
    /// Lines in the panel's order.
    pub lines: Vec<LineSegments<'a>>,
    /// Bands in the panel's order.
    pub bands: Vec<BandSegments<'a>>,
}

impl<'a> PanelSeries<'a> {
    /// Maps the panel's lines and bands to plot coordinates.
    pub fn new(panel: &'a Panel) -> PanelSeries<'a> {
        let (x, y) = (panel.x.scale, panel.y.scale);
        let lines = panel
            .lines
            .iter()
            .map(|line| LineSegments {
                line,
                segments: split_line(&line.points, x, y),
            })
            .collect();
        let bands = panel
            .bands
            .iter()
            .map(|band| BandSegments {
                band,
                segments: split_band(&band.points, x, y),
            })
            .collect();
        PanelSeries { lines, bands }
    }

    /// Returns every drawable point `(x, y)`, with both bounds of each band point.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let line_points = self
            .lines
            .iter()
            .flat_map(|line| line.segments.iter().flatten().copied());
        let band_points = self
            .bands
            .iter()
            .flat_map(|band| band.segments.iter().flatten())
            .flat_map(|&(x, low, high)| [(x, low), (x, high)]);
        line_points.chain(band_points)
    }

    /// Fits axis ranges that contain every drawable point, before any equal-aspect adjustment.
    pub fn ranges(&self, panel: &Panel) -> (AxisRange, AxisRange) {
        let included = || {
            panel.include.iter().filter_map(|&(x, y)| {
                Some((to_plot(x, panel.x.scale)?, to_plot(y, panel.y.scale)?))
            })
        };
        let x = AxisRange::fit(self.points().chain(included()).map(|(x, _)| x), panel.x.scale);
        let y = AxisRange::fit(self.points().chain(included()).map(|(_, y)| y), panel.y.scale);
        (x, y)
    }
}
