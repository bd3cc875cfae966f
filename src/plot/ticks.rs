//! Tick positions and tick label text.

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;

use super::range::AxisRange;
use super::Scale;

/// Smallest decade length in pixels that gets grid lines at 2 to 9 times each power of ten.
/// The lines for 9 and 10 are then about 2 px apart.
const MIN_PX_PER_DECADE_FOR_FACTORS: f64 = 40.0;

/// Smallest decade length in pixels that gets a grid line at each power of ten.
const MIN_PX_PER_DECADE: f64 = 6.0;

/// Ticks of one axis, with positions in plot coordinates and their label format.
#[derive(Debug, Clone)]
pub(super) struct Ticks {
    /// Maximum number of ticks, passed to plotters' mesh so that it picks the same positions.
    pub max_count: usize,
    /// Tick positions in plot coordinates.
    pub positions: Vec<f64>,
    format: TickFormat,
    /// Values closer to zero than this print as zero. Plotters adds tick steps in f64, so a
    /// tick meant to be at zero can come out as a tiny negative number.
    zero_tolerance: f64,
}

/// Label format of tick values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TickFormat {
    /// A log axis: the plot coordinate is a power of ten.
    Decade,
    /// Fixed point with this many decimals.
    Fixed(usize),
    /// Scientific notation with this many decimals in the mantissa.
    Scientific(usize),
}

impl Ticks {
    /// Picks at most `max_count` ticks (at least 2) for `range`, the way plotters' mesh does, and
    /// a label format that distinguishes neighbouring ticks.
    ///
    /// On a log axis whose range is whole decades, as [`AxisRange::fit`] makes it, the ticks fall
    /// on whole decades. The count is capped at one tick per decade, so the step is at least 1,
    /// and plotters steps by 1, 2 or 5 times a power of ten.
    pub fn new(range: AxisRange, scale: Scale, max_count: usize) -> Ticks {
        let max_count = match scale {
            Scale::Linear => max_count.max(2),
            Scale::Log => max_count.min(range.span().round() as usize + 1).max(2),
        };
        let positions = key_points(range, max_count);
        let step = match positions.as_slice() {
            [first, second, ..] => second - first,
            _ => range.span(),
        };
        let format = match scale {
            Scale::Log => TickFormat::Decade,
            Scale::Linear => linear_format(range, step),
        };
        Ticks {
            max_count,
            positions,
            format,
            zero_tolerance: 1e-6 * step.abs(),
        }
    }

    /// Formats a tick at plot coordinate `value`.
    pub fn label(&self, value: f64) -> String {
        match self.format {
            TickFormat::Decade => format_decade(value),
            TickFormat::Fixed(decimals) => format!("{:.*}", decimals, self.snap_zero(value)),
            TickFormat::Scientific(_) if self.snap_zero(value) == 0.0 => "0".to_string(),
            TickFormat::Scientific(decimals) => format!("{:.*e}", decimals, value),
        }
    }

    /// Maps values within the zero tolerance, and -0.0, to 0.0 so that they print as zero.
    fn snap_zero(&self, value: f64) -> f64 {
        if value.abs() <= self.zero_tolerance {
            0.0
        } else {
            value
        }
    }

    /// Returns the labels of all ticks, in order.
    pub fn labels(&self) -> Vec<String> {
        self.positions
            .iter()
            .map(|&value| self.label(value))
            .collect()
    }
}

/// Tick positions that plotters' mesh draws for an f64 axis when given `max_count` labels.
fn key_points(range: AxisRange, max_count: usize) -> Vec<f64> {
    RangedCoordf64::from(range.low..range.high).key_points(max_count)
}

/// Chooses fixed or scientific notation with enough decimals to resolve the tick step.
fn linear_format(range: AxisRange, step: f64) -> TickFormat {
    let magnitude = range.low.abs().max(range.high.abs());
    let step_exponent = step.abs().log10().floor();

    if !(1e-3..1e5).contains(&magnitude) {
        let magnitude_exponent = magnitude.log10().floor();
        let decimals = (magnitude_exponent - step_exponent).clamp(0.0, 15.0);
        TickFormat::Scientific(decimals as usize)
    } else {
        let decimals = (-step_exponent).clamp(0.0, 15.0);
        TickFormat::Fixed(decimals as usize)
    }
}

/// Returns the positions of minor grid lines on a log axis `pixels` long.
///
/// Decades at least [`MIN_PX_PER_DECADE_FOR_FACTORS`] long get lines at 1 to 9 times each
/// power of ten. Shorter decades get lines only at the powers of ten, and none when they are
/// shorter than [`MIN_PX_PER_DECADE`]. Positions at a tick or at either end of the range are
/// left out.
pub(super) fn minor_decades(range: AxisRange, ticks: &[f64], pixels: u32) -> Vec<f64> {
    let px_per_decade = f64::from(pixels) / range.span();
    let factors: &[f64] = if px_per_decade >= MIN_PX_PER_DECADE_FOR_FACTORS {
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    } else if px_per_decade >= MIN_PX_PER_DECADE {
        &[1.0]
    } else {
        &[]
    };

    let mut positions = Vec::new();
    let mut decade = range.low.floor();
    while decade < range.high && !factors.is_empty() {
        for factor in factors {
            let position = decade + factor.log10();
            // Tick positions come from repeated f64 additions, so compare with a tolerance.
            let on_tick = ticks.iter().any(|tick| (tick - position).abs() < 1e-9);
            if position > range.low && position < range.high && !on_tick {
                positions.push(position);
            }
        }
        decade += 1.0;
    }
    positions
}

/// Formats the power of ten at log10 value `exponent`, as a plain number from 0.01 to 1000 and
/// as `1e-12` style otherwise.
fn format_decade(exponent: f64) -> String {
    let whole = exponent.round();
    if (exponent - whole).abs() > 1e-6 {
        return format!("{:.1e}", 10f64.powf(exponent));
    }

    match whole as i32 {
        -2 => "0.01".to_string(),
        -1 => "0.1".to_string(),
        power @ 0..=3 => 10i32.pow(power as u32).to_string(),
        power => format!("1e{power}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_fall_on_decades() {
        for (low, high, max_count) in [
            (-12.0, -2.0, 8),
            (-3.0, -2.0, 2),
            (-300.0, 10.0, 6),
            (0.0, 1.0, 9),
        ] {
            let ticks = Ticks::new(AxisRange { low, high }, Scale::Log, max_count);
            assert!(
                ticks.positions.len() >= 2,
                "{low}..{high}: {:?}",
                ticks.positions
            );
            assert!(
                ticks.positions.len() <= max_count,
                "{low}..{high}: {:?}",
                ticks.positions
            );
            for position in &ticks.positions {
                // Plotters adds steps in f64, so whole decades may be off by rounding error.
                assert!(
                    (position - position.round()).abs() < 1e-9,
                    "{low}..{high}: {position}"
                );
            }
        }
    }

    #[test]
    fn minor_decades_skip_ticks() {
        let range = AxisRange {
            low: -2.0,
            high: 0.0,
        };
        let positions = minor_decades(range, &[-2.0, -1.0, 0.0], 100);
        assert_eq!(positions.len(), 16, "{positions:?}");
        assert!(
            (positions[0] - 2f64.log10() + 2.0).abs() < 1e-12,
            "{positions:?}"
        );
    }

    #[test]
    fn wide_log_range_gets_decade_lines() {
        let range = AxisRange {
            low: -20.0,
            high: 0.0,
        };
        let positions = minor_decades(range, &[-20.0, -15.0, -10.0, -5.0, 0.0], 400);
        assert_eq!(positions.len(), 16, "{positions:?}");
        assert!(positions.iter().all(|p| p.fract() == 0.0), "{positions:?}");
    }

    #[test]
    fn crowded_log_range_gets_no_lines() {
        let range = AxisRange {
            low: -300.0,
            high: 0.0,
        };
        assert!(minor_decades(range, &[-300.0, 0.0], 400).is_empty());
    }

    #[test]
    fn decade_labels_are_short() {
        let ticks = Ticks::new(
            AxisRange {
                low: -12.0,
                high: 4.0,
            },
            Scale::Log,
            20,
        );
        let labels = ticks.labels();
        assert_eq!(labels.first().map(String::as_str), Some("1e-12"));
        assert!(labels.contains(&"0.01".to_string()), "{labels:?}");
        assert!(labels.contains(&"1".to_string()), "{labels:?}");
        assert!(labels.contains(&"1000".to_string()), "{labels:?}");
        assert_eq!(labels.last().map(String::as_str), Some("1e4"));
    }

    #[test]
    fn decade_label_between_decades() {
        assert_eq!(format_decade(0.5), "3.2e0");
    }

    #[test]
    fn fixed_labels_resolve_step() {
        let ticks = Ticks::new(
            AxisRange {
                low: -0.55,
                high: 1.05,
            },
            Scale::Linear,
            10,
        );
        let labels = ticks.labels();
        assert!(labels.contains(&"0.0".to_string()), "{labels:?}");
        assert!(labels.contains(&"0.2".to_string()), "{labels:?}");
        assert!(!labels.iter().any(|l| l.starts_with("-0.0")), "{labels:?}");
    }

    #[test]
    fn integer_labels_have_no_decimals() {
        let ticks = Ticks::new(
            AxisRange {
                low: 0.0,
                high: 100.0,
            },
            Scale::Linear,
            6,
        );
        assert_eq!(ticks.labels(), ["0", "20", "40", "60", "80", "100"]);
    }

    #[test]
    fn large_values_use_scientific() {
        let ticks = Ticks::new(
            AxisRange {
                low: 0.0,
                high: 3e6,
            },
            Scale::Linear,
            4,
        );
        let labels = ticks.labels();
        assert!(labels.contains(&"1e6".to_string()), "{labels:?}");
        assert_eq!(labels.first().map(String::as_str), Some("0"));
    }

    #[test]
    fn small_values_use_scientific() {
        let ticks = Ticks::new(
            AxisRange {
                low: 1e-5,
                high: 5e-5,
            },
            Scale::Linear,
            5,
        );
        let labels = ticks.labels();
        assert!(labels.contains(&"2e-5".to_string()), "{labels:?}");
    }

    #[test]
    fn neighbouring_labels_differ() {
        let ranges = [(0.999, 1.001), (-1e-4, 1e-4), (1e5, 1.0001e5), (-7.3, 12.9)];
        for (low, high) in ranges {
            let labels = Ticks::new(AxisRange { low, high }, Scale::Linear, 8).labels();
            for pair in labels.windows(2) {
                assert_ne!(pair[0], pair[1], "{low}..{high}: {labels:?}");
            }
        }
    }
}
