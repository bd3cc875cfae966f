//! Colours, line widths and text sizes.

use plotters::style::{Color, IntoFont};
use plotters::style::{RGBColor, ShapeStyle, TextStyle, BLACK};

use super::draw::Target;
use super::font::FAMILY;
use super::Stroke;

/// The Okabe–Ito palette, which stays distinguishable under the common forms of colour
/// blindness. The order starts with blue, vermillion and bluish green, so that the first few
/// series get clearly different hues, and ends with yellow because thin yellow lines are hard
/// to see on white.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Opacity of [`Stroke::Thin`] lines.
const THIN_OPACITY: f64 = 0.45;

/// Opacity of band fills.
pub(super) const BAND_OPACITY: f64 = 0.2;

/// Palette colour `index`, wrapping around after the last one.
pub(super) fn palette_color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Sizes in pixels of text, lines and markers, proportional to the figure.
///
/// At scale 1 (a 500 px high figure with at least 400 px per panel) tick labels are 13 px and
/// thick lines 2 px.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sizes {
    scale: f64,
}

impl Sizes {
    /// Sizes for a figure of `(width, height)` pixels with `panels` panels side by side.
    ///
    /// The scale follows the height, and narrow panels lower it so that their labels still fit.
    /// It stays at least 0.6 so that text remains readable in small figures.
    pub fn new((width, height): (u32, u32), panels: usize) -> Sizes {
        let by_height = f64::from(height) / 500.0;
        let by_width = f64::from(width) / (400.0 * panels.max(1) as f64);
        Sizes {
            scale: by_height.min(by_width).max(0.6),
        }
    }

    /// Scales a length given in pixels at scale 1, rounding to at least one pixel.
    pub fn px(&self, base: f64) -> u32 {
        (base * self.scale).round().max(1.0) as u32
    }

    /// Figure title font size in pixels.
    pub fn figure_title(&self) -> f64 {
        22.0 * self.scale
    }

    /// Panel title font size in pixels.
    pub fn panel_title(&self) -> f64 {
        17.0 * self.scale
    }

    /// Axis label font size in pixels.
    pub fn axis_label(&self) -> f64 {
        15.0 * self.scale
    }

    /// Tick label and legend font size in pixels.
    pub fn tick_label(&self) -> f64 {
        13.0 * self.scale
    }

    /// Line style for a series of palette colour `color`.
    ///
    /// Thin lines are 1 px at any scale, translucent in SVG and an opaque tint of the same
    /// look on white in bitmaps (see [`Target`]).
    pub fn line(&self, color: usize, stroke: Stroke, target: Target) -> ShapeStyle {
        let color = palette_color(color);
        match (stroke, target) {
            (Stroke::Thick, _) => color.stroke_width(self.px(2.0)),
            (Stroke::Thin, Target::Svg) => color.mix(THIN_OPACITY).stroke_width(1),
            (Stroke::Thin, Target::Bitmap) => tint(color, THIN_OPACITY).stroke_width(1),
        }
    }

    /// Radius in pixels of the dot at the start of a path, or of a line's isolated point.
    pub fn marker_radius(&self, stroke: Stroke) -> u32 {
        match stroke {
            Stroke::Thick => self.px(4.0),
            Stroke::Thin => self.px(2.5),
        }
    }

    /// Length in pixels of tick marks.
    pub fn tick_length(&self) -> u32 {
        self.px(5.0)
    }
}

/// Returns the opaque colour that `color` at `opacity` shows on white.
fn tint(color: RGBColor, opacity: f64) -> RGBColor {
    let blend =
        |channel: u8| (opacity * f64::from(channel) + (1.0 - opacity) * 255.0).round() as u8;
    RGBColor(blend(color.0), blend(color.1), blend(color.2))
}

/// Black text in the embedded font at `size` pixels.
pub(super) fn text(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_wraps_around() {
        assert_eq!(palette_color(0), palette_color(PALETTE.len()));
        assert_ne!(palette_color(0), palette_color(1));
    }

    #[test]
    fn tint_blends_with_white() {
        assert_eq!(tint(RGBColor(0, 100, 255), 0.5), RGBColor(128, 178, 255));
        assert_eq!(tint(RGBColor(10, 20, 30), 1.0), RGBColor(10, 20, 30));
    }

    #[test]
    fn sizes_follow_height() {
        let small = Sizes::new((800, 500), 2);
        let large = Sizes::new((1600, 1000), 2);
        // Both are products of f64 constants with exact scales 1 and 2.
        assert_eq!(small.tick_label(), 13.0);
        assert_eq!(large.tick_label(), 26.0);
        assert_eq!(large.px(2.0), 4);
    }

    #[test]
    fn narrow_panels_shrink_text() {
        let wide = Sizes::new((1600, 500), 2);
        let narrow = Sizes::new((800, 500), 4);
        assert!(narrow.tick_label() < wide.tick_label());
        assert!(narrow.tick_label() >= 0.6 * 13.0);
    }
}
