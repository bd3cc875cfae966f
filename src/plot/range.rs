//! Plot coordinates, with the log transform, the splitting of series at points that cannot be
//! drawn, and axis ranges.
//!
//! Panels are drawn on linear plotters coordinates. A log axis stores log10 of the data, so a
//! plot coordinate of -12 on a log axis is the data value 1e-12.

use super::Scale;

/// Magnitude above which a value on a linear axis is treated as not drawable, so that range
/// arithmetic (span, padding) stays finite.
const MAX_LINEAR_MAGNITUDE: f64 = 1e300;

/// Fraction of the data span added on each side of a linear axis.
const LINEAR_PADDING: f64 = 0.05;

/// Range of an axis in plot coordinates (log10 of the data on a log axis), with `low < high`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct AxisRange {
    /// Lower end in plot coordinates.
    pub low: f64,
    /// Upper end in plot coordinates.
    pub high: f64,
}

impl AxisRange {
    /// Fits a range around `values` (plot coordinates) for an axis of the given scale.
    ///
    /// Linear axes get [`LINEAR_PADDING`] on both sides, and log axes are rounded out to whole
    /// decades. An empty iterator gives 0 to 1 on a linear axis and 1 to 10 on a log axis, and
    /// equal values get a range centred on them.
    pub fn fit(values: impl IntoIterator<Item = f64>, scale: Scale) -> AxisRange {
        let mut extent: Option<(f64, f64)> = None;
        for value in values {
            extent = Some(match extent {
                None => (value, value),
                Some((low, high)) => (low.min(value), high.max(value)),
            });
        }

        match (scale, extent) {
            (_, None) => AxisRange {
                low: 0.0,
                high: 1.0,
            },
            (Scale::Linear, Some((low, high))) => fit_linear(low, high),
            (Scale::Log, Some((low, high))) => fit_log(low, high),
        }
    }

    /// Length of the range in plot coordinates.
    pub fn span(&self) -> f64 {
        self.high - self.low
    }

    /// Midpoint of the range in plot coordinates.
    pub fn center(&self) -> f64 {
        self.low / 2.0 + self.high / 2.0
    }

    /// Returns a range of length `span` centred where this one is.
    fn with_span(&self, span: f64) -> AxisRange {
        let center = self.center();
        AxisRange {
            low: center - span / 2.0,
            high: center + span / 2.0,
        }
    }
}

/// Pads a linear range, first widening a range of equal values.
fn fit_linear(low: f64, high: f64) -> AxisRange {
    let magnitude = low.abs().max(high.abs());
    let (low, high) = if high - low <= 1e-12 * magnitude {
        // Equal values, up to rounding, get a range of ±5 % around the value, or ±1 around 0.
        let half_width = if magnitude > 0.0 {
            0.05 * magnitude
        } else {
            1.0
        };
        (low - half_width, high + half_width)
    } else {
        (low, high)
    };

    let padding = LINEAR_PADDING * (high - low);
    AxisRange {
        low: low - padding,
        high: high + padding,
    }
}

/// Rounds a log10 range out to whole decades, at least one decade long.
fn fit_log(low: f64, high: f64) -> AxisRange {
    let low = low.floor();
    let mut high = high.ceil();
    if high <= low {
        high = low + 1.0;
    }
    AxisRange { low, high }
}

/// Maps a data value to plot coordinates. Returns `None` when the value cannot be drawn on this
/// scale, which covers non-finite values, values beyond ±1e300 on a linear axis, and values
/// that are not positive on a log axis.
pub(super) fn to_plot(value: f64, scale: Scale) -> Option<f64> {
    match scale {
        Scale::Linear if value.is_finite() && value.abs() <= MAX_LINEAR_MAGNITUDE => Some(value),
        Scale::Log if value.is_finite() && value > 0.0 => Some(value.log10()),
        _ => None,
    }
}

/// Maps the points of a line to plot coordinates and splits it wherever a point cannot be
/// drawn, so that no line crosses the gap. Segments are returned in order and are never empty.
pub(super) fn split_line(points: &[(f64, f64)], x: Scale, y: Scale) -> Vec<Vec<(f64, f64)>> {
    split_at_gaps(
        points
            .iter()
            .map(|&(px, py)| Some((to_plot(px, x)?, to_plot(py, y)?))),
    )
}

/// Maps the points `(x, low, high)` of a band to plot coordinates and splits it wherever `x`,
/// `low` or `high` cannot be drawn. Segments are returned in order and are never empty.
pub(super) fn split_band(
    points: &[(f64, f64, f64)],
    x: Scale,
    y: Scale,
) -> Vec<Vec<(f64, f64, f64)>> {
    split_at_gaps(
        points
            .iter()
            .map(|&(px, low, high)| Some((to_plot(px, x)?, to_plot(low, y)?, to_plot(high, y)?))),
    )
}

/// Collects runs of `Some` items into segments, starting a new segment after each `None`.
fn split_at_gaps<T>(items: impl Iterator<Item = Option<T>>) -> Vec<Vec<T>> {
    let mut segments = Vec::new();
    let mut current = Vec::new();
    for item in items {
        match item {
            Some(point) => current.push(point),
            None if !current.is_empty() => segments.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// Widens one of two linear ranges so that one plot unit has the same pixel length on both
/// axes, given the plotting area's size in pixels. The other range is returned unchanged, and
/// both stay centred where they were.
pub(super) fn equalize_aspect(
    x: AxisRange,
    y: AxisRange,
    width_px: u32,
    height_px: u32,
) -> (AxisRange, AxisRange) {
    let width = f64::from(width_px.max(1));
    let height = f64::from(height_px.max(1));
    let x_units_per_px = x.span() / width;
    let y_units_per_px = y.span() / height;

    if x_units_per_px > y_units_per_px {
        (x, y.with_span(x_units_per_px * height))
    } else {
        (x.with_span(y_units_per_px * width), y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tolerance for plot coordinates that come out of a few additions and divisions of values
    /// of order 1 to 10.
    const TOLERANCE: f64 = 1e-12;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= TOLERANCE * expected.abs().max(1.0),
            "expected {expected}, got {actual}"
        );
    }

    #[test]
    fn log_range_rounds_out_to_decades() {
        let values = [3e-12, 5e-7, 2e-3].map(|v| to_plot(v, Scale::Log).unwrap());
        let range = AxisRange::fit(values, Scale::Log);
        assert_eq!(
            range,
            AxisRange {
                low: -12.0,
                high: -2.0
            }
        );
    }

    #[test]
    fn log_range_keeps_exact_decades() {
        let values = [1e-3, 1e2].map(|v| to_plot(v, Scale::Log).unwrap());
        let range = AxisRange::fit(values, Scale::Log);
        assert_eq!(
            range,
            AxisRange {
                low: -3.0,
                high: 2.0
            }
        );
    }

    #[test]
    fn log_range_of_one_value_spans_a_decade() {
        let exact = AxisRange::fit([to_plot(1e-4, Scale::Log).unwrap()], Scale::Log);
        assert_eq!(
            exact,
            AxisRange {
                low: -4.0,
                high: -3.0
            }
        );

        let inside = AxisRange::fit([to_plot(3e-4, Scale::Log).unwrap()], Scale::Log);
        assert_eq!(
            inside,
            AxisRange {
                low: -4.0,
                high: -3.0
            }
        );
    }

    #[test]
    fn linear_range_is_padded() {
        let range = AxisRange::fit([0.0, 10.0, 4.0], Scale::Linear);
        assert_close(range.low, -0.5);
        assert_close(range.high, 10.5);
    }

    #[test]
    fn linear_range_of_equal_values_is_widened() {
        let range = AxisRange::fit([2.0, 2.0], Scale::Linear);
        assert!(range.low < 2.0, "{range:?}");
        assert!(range.high > 2.0, "{range:?}");
        assert_close(range.center(), 2.0);

        let zero = AxisRange::fit([0.0], Scale::Linear);
        assert!(zero.low < 0.0, "{zero:?}");
        assert!(zero.high > 0.0, "{zero:?}");
        assert_close(zero.center(), 0.0);
    }

    #[test]
    fn empty_ranges_get_defaults() {
        assert_eq!(
            AxisRange::fit([], Scale::Linear),
            AxisRange {
                low: 0.0,
                high: 1.0
            }
        );
        assert_eq!(
            AxisRange::fit([], Scale::Log),
            AxisRange {
                low: 0.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn extreme_linear_values_give_finite_range() {
        let values = [-1e300, 1e300, 1e308]
            .into_iter()
            .filter_map(|v| to_plot(v, Scale::Linear));
        let range = AxisRange::fit(values, Scale::Linear);
        assert!(range.low.is_finite(), "{range:?}");
        assert!(range.high.is_finite(), "{range:?}");
        assert!(range.span().is_finite(), "{range:?}");
        assert!(range.span() > 0.0, "{range:?}");
    }

    #[test]
    fn to_plot_rejects_undrawable_values() {
        assert_eq!(to_plot(f64::NAN, Scale::Linear), None);
        assert_eq!(to_plot(f64::INFINITY, Scale::Linear), None);
        assert_eq!(to_plot(0.0, Scale::Log), None);
        assert_eq!(to_plot(-1.0, Scale::Log), None);
        assert_eq!(to_plot(f64::INFINITY, Scale::Log), None);
        assert_eq!(to_plot(-1.0, Scale::Linear), Some(-1.0));
        assert_close(to_plot(1e-12, Scale::Log).unwrap(), -12.0);
    }

    #[test]
    fn equal_aspect_widens_y() {
        // 10 units over 500 px on x is 0.02 units/px, so y needs 0.02 * 250 px = 5 units.
        let x = AxisRange {
            low: 0.0,
            high: 10.0,
        };
        let y = AxisRange {
            low: -1.0,
            high: 1.0,
        };
        let (x2, y2) = equalize_aspect(x, y, 500, 250);
        assert_eq!(x2, x);
        assert_close(y2.low, -2.5);
        assert_close(y2.high, 2.5);
    }

    #[test]
    fn equal_aspect_widens_x() {
        // 8 units over 400 px on y is 0.02 units/px, so x needs 0.02 * 600 px = 12 units
        // around its centre 1.
        let x = AxisRange {
            low: 0.0,
            high: 2.0,
        };
        let y = AxisRange {
            low: 0.0,
            high: 8.0,
        };
        let (x2, y2) = equalize_aspect(x, y, 600, 400);
        assert_eq!(y2, y);
        assert_close(x2.low, -5.0);
        assert_close(x2.high, 7.0);
        assert_close(x2.span() / 600.0, y2.span() / 400.0);
    }

    #[test]
    fn line_splits_at_gaps() {
        let points = [
            (1.0, 1.0),
            (2.0, 10.0),
            (3.0, 0.0),
            (4.0, f64::NAN),
            (5.0, 100.0),
            (6.0, -1.0),
            (7.0, 1000.0),
            (8.0, 1e4),
        ];
        let segments = split_line(&points, Scale::Linear, Scale::Log);
        assert_eq!(segments.len(), 3, "{segments:?}");
        assert_eq!(segments[0].len(), 2);
        assert_eq!(segments[1].len(), 1);
        assert_eq!(segments[2].len(), 2);
        assert_close(segments[1][0].0, 5.0);
        assert_close(segments[1][0].1, 2.0);
        assert_close(segments[2][1].1, 4.0);
    }

    #[test]
    fn line_without_gaps_stays_whole() {
        let points = [(0.0, -1.0), (1.0, 0.0), (2.0, 1.0)];
        let segments = split_line(&points, Scale::Linear, Scale::Linear);
        assert_eq!(segments, vec![points.to_vec()]);
    }

    #[test]
    fn line_with_no_drawable_points_is_empty() {
        let points = [(0.0, 0.0), (1.0, f64::NAN)];
        assert!(split_line(&points, Scale::Linear, Scale::Log).is_empty());
        assert!(split_line(&[], Scale::Linear, Scale::Linear).is_empty());
    }

    #[test]
    fn band_splits_where_either_bound_is_undrawable() {
        let points = [
            (0.0, 0.0, 1.0),
            (1.0, 1e-3, 1e-1),
            (2.0, 1e-3, f64::INFINITY),
            (3.0, 1e-2, 1.0),
        ];
        let segments = split_band(&points, Scale::Linear, Scale::Log);
        assert_eq!(segments.len(), 2, "{segments:?}");
        assert_eq!(segments[0].len(), 1);
        assert_eq!(segments[1].len(), 1);
        assert_close(segments[0][0].1, -3.0);
        assert_close(segments[0][0].2, -1.0);
        assert_close(segments[1][0].0, 3.0);
    }
}
