//! The embedded font, so that text renders on machines without system fonts.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::{Error, Result};

/// Family name under which the embedded font is registered with plotters and which all text
/// uses. SVG files name this family in their `font-family` attributes, and `sans-serif` lets
/// any SVG viewer fall back to its own sans-serif font.
pub(super) const FAMILY: &str = "sans-serif";

/// DejaVu Sans, licensed as described in `assets/fonts/LICENSE-DejaVu.txt`.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters under [`FAMILY`]. Only the first call registers
/// it, and later calls return the first call's result.
pub(super) fn register() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
    });

    if registered {
        Ok(())
    } else {
        Err(Error::invalid(
            "plot",
            "the embedded DejaVu Sans font could not be parsed; the build is broken",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_registers() {
        register().unwrap();
        register().unwrap();
    }
}
