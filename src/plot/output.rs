//! Plot files: choosing the format, checking the path and size before work starts, and writing
//! PNG and SVG files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder, ImageError};
use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};

use super::draw::{draw_figure, drawing_failed, Target};
use super::Figure;
use crate::dataset::write_atomically;
use crate::{Error, Result};

/// Smallest figure width or height in pixels.
pub const MIN_SIZE_PX: u32 = 200;

/// Largest figure width or height in pixels. An RGB buffer of 8000x8000 pixels takes 192 MB.
pub const MAX_SIZE_PX: u32 = 8000;

/// Image format of a plot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG raster image.
    Png,
    /// SVG vector image. Its text is drawn in the viewer's sans-serif font.
    Svg,
}

impl Format {
    /// Chooses the format from the file extension, `.png` or `.svg` in any letter case.
    pub fn from_path(path: &Path) -> Result<Format> {
        format_of(path).ok_or_else(|| Error::invalid("plot file", extension_message(path)))
    }
}

/// Returns the format for `path`'s extension, or `None` when it is not supported.
fn format_of(path: &Path) -> Option<Format> {
    let extension = path.extension()?.to_str()?;
    if extension.eq_ignore_ascii_case("png") {
        Some(Format::Png)
    } else if extension.eq_ignore_ascii_case("svg") {
        Some(Format::Svg)
    } else {
        None
    }
}

/// Explains an unsupported extension and how to fix it.
fn extension_message(path: &Path) -> String {
    match path.extension() {
        Some(extension) => format!(
            "{} has extension .{}, which is not supported; use .png or .svg",
            path.display(),
            extension.to_string_lossy()
        ),
        None => format!(
            "{} has no file extension; use .png or .svg, for example {}.png",
            path.display(),
            path.display()
        ),
    }
}

/// Checks, before any long computation, that a plot can be written to `path`, and returns
/// its format. `flag` names the option in error messages, for example `--plot`.
///
/// Fails when `path` is a directory, when its extension is not `.png` or `.svg`, or when its
/// directory does not exist or does not accept new files. To test the last, the check creates
/// and removes a hidden file `.hamsim-plot-check.*.partial` there. A path without a directory
/// is in the current directory. An existing file at `path` is allowed, and
/// [`save`](super::save) replaces it.
pub fn check_output(path: &Path, flag: &str) -> Result<Format> {
    if path.is_dir() {
        return Err(Error::invalid(
            flag,
            format!(
                "{} is a directory; give a file name ending in .png or .svg, for example {}",
                path.display(),
                path.join("plot.png").display()
            ),
        ));
    }

    let format = format_of(path).ok_or_else(|| Error::invalid(flag, extension_message(path)))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    check_directory(directory, path, flag)?;
    Ok(format)
}

/// Checks that `directory` exists and accepts new files.
fn check_directory(directory: &Path, path: &Path, flag: &str) -> Result<()> {
    if !directory.exists() {
        return Err(Error::invalid(
            flag,
            format!(
                "the directory {} for {} does not exist; create it first",
                directory.display(),
                path.display()
            ),
        ));
    }
    if !directory.is_dir() {
        return Err(Error::invalid(
            flag,
            format!(
                "{} is not a directory, so {} cannot be created; choose another path",
                directory.display(),
                path.display()
            ),
        ));
    }

    tempfile::Builder::new()
        .prefix(".hamsim-plot-check.")
        .suffix(".partial")
        .tempfile_in(directory)
        .map(drop)
        .map_err(|e| {
            let context = format!(
                "cannot create files in {} for {flag} {}",
                directory.display(),
                path.display()
            );
            Error::io(context, e)
        })
}

/// Parses a figure size `WIDTHxHEIGHT` in pixels, such as `1200x700`, for the `--plot-size`
/// option. Each dimension must be from [`MIN_SIZE_PX`] to [`MAX_SIZE_PX`].
pub fn parse_size(text: &str) -> Result<(u32, u32)> {
    let invalid_form = || {
        Error::invalid(
            "--plot-size",
            format!("\"{text}\" is not WIDTHxHEIGHT in pixels; use for example 1200x700"),
        )
    };

    let (width, height) = text
        .trim()
        .split_once(['x', 'X'])
        .ok_or_else(invalid_form)?;
    let width: u32 = width.trim().parse().map_err(|_| invalid_form())?;
    let height: u32 = height.trim().parse().map_err(|_| invalid_form())?;

    check_size((width, height), "--plot-size")?;
    Ok((width, height))
}

/// Rejects a width or height outside [`MIN_SIZE_PX`] to [`MAX_SIZE_PX`].
pub(super) fn check_size((width, height): (u32, u32), name: &str) -> Result<()> {
    for (dimension, value) in [("width", width), ("height", height)] {
        if !(MIN_SIZE_PX..=MAX_SIZE_PX).contains(&value) {
            return Err(Error::invalid(
                name,
                format!(
                    "{dimension} {value} px is out of range; use {MIN_SIZE_PX} to {MAX_SIZE_PX} pixels, \
                     for example 1200x700"
                ),
            ));
        }
    }
    Ok(())
}

/// Renders `figure` into an RGB buffer and writes it to `path` as PNG.
pub(super) fn save_png(figure: &Figure, path: &Path) -> Result<()> {
    let (width, height) = figure.size;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, figure.size).into_drawing_area();
        draw_figure(&root, figure, Target::Bitmap)?;
        root.present().map_err(drawing_failed)?;
    }

    write_atomically(path, |temp_path| {
        write_png(temp_path, path, &pixels, figure.size)
    })
}

/// Encodes RGB `pixels` as PNG into `temp_path`. Errors name the final `path` instead.
fn write_png(
    temp_path: &Path,
    path: &Path,
    pixels: &[u8],
    (width, height): (u32, u32),
) -> Result<()> {
    let write_failed = |e| Error::io(format!("cannot write the plot {}", path.display()), e);
    let mut writer = BufWriter::new(File::create(temp_path).map_err(write_failed)?);

    // The format is given explicitly because the temporary file name ends in `.partial`.
    PngEncoder::new(&mut writer)
        .write_image(pixels, width, height, ColorType::Rgb8)
        .map_err(|e| match e {
            ImageError::IoError(e) => write_failed(e),
            other => Error::invalid(
                "plot",
                format!("encoding {} as PNG failed: {other}", path.display()),
            ),
        })?;
    writer.flush().map_err(write_failed)
}

/// Renders `figure` as SVG text and writes it to `path`.
pub(super) fn save_svg(figure: &Figure, path: &Path) -> Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size).into_drawing_area();
        draw_figure(&root, figure, Target::Svg)?;
        root.present().map_err(drawing_failed)?;
    }

    write_atomically(path, |temp_path| {
        std::fs::write(temp_path, svg.as_bytes())
            .map_err(|e| Error::io(format!("cannot write the plot {}", path.display()), e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            Format::from_path(Path::new("a/energy.png")).unwrap(),
            Format::Png
        );
        assert_eq!(
            Format::from_path(Path::new("energy.SVG")).unwrap(),
            Format::Svg
        );
        assert_eq!(
            Format::from_path(Path::new("energy.Png")).unwrap(),
            Format::Png
        );

        let error = message(Format::from_path(Path::new("energy.jpg")));
        assert!(error.contains("energy.jpg"), "{error}");
        assert!(error.contains("use .png or .svg"), "{error}");
    }

    #[test]
    fn check_output_accepts_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let format = check_output(&dir.path().join("energy.svg"), "--plot").unwrap();
        assert_eq!(format, Format::Svg);

        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(
            leftovers.is_empty(),
            "the check left files behind: {leftovers:?}"
        );
    }

    #[test]
    fn check_output_accepts_bare_file_name() {
        assert_eq!(
            check_output(Path::new("energy.png"), "--plot").unwrap(),
            Format::Png
        );
    }

    #[test]
    fn check_output_rejects_bad_extension() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["energy.jpg", "energy"] {
            let error = message(check_output(&dir.path().join(name), "--plot"));
            assert!(error.starts_with("invalid --plot:"), "{error}");
            assert!(error.contains(name), "{error}");
            assert!(error.contains("use .png or .svg"), "{error}");
        }
    }

    #[test]
    fn check_output_rejects_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("plots");
        let error = message(check_output(&missing.join("energy.png"), "--plot"));
        assert!(error.contains(&missing.display().to_string()), "{error}");
        assert!(error.contains("create it first"), "{error}");
    }

    #[test]
    fn check_output_rejects_file_as_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "x").unwrap();
        let error = message(check_output(&file.join("energy.png"), "--plot"));
        assert!(error.contains("is not a directory"), "{error}");
    }

    #[test]
    fn check_output_rejects_directory() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("plot.png");
        std::fs::create_dir(&target).unwrap();
        let error = message(check_output(&target, "--plot"));
        assert!(error.contains("is a directory"), "{error}");
        assert!(error.contains(&target.display().to_string()), "{error}");
    }

    #[test]
    fn parse_size_reads_dimensions() {
        assert_eq!(parse_size("1200x700").unwrap(), (1200, 700));
        assert_eq!(parse_size(" 800X500 ").unwrap(), (800, 500));
        assert_eq!(parse_size("200x8000").unwrap(), (200, 8000));
    }

    #[test]
    fn parse_size_rejects_bad_form() {
        for text in [
            "1200",
            "1200x",
            "x700",
            "12.5x700",
            "-5x700",
            "axb",
            "",
            "1200x700x3",
        ] {
            let error = message(parse_size(text));
            assert!(error.starts_with("invalid --plot-size:"), "{text}: {error}");
            assert!(error.contains("WIDTHxHEIGHT"), "{text}: {error}");
        }
    }

    #[test]
    fn parse_size_rejects_out_of_range() {
        let error = message(parse_size("199x700"));
        assert!(error.contains("width 199"), "{error}");
        assert!(error.contains("200 to 8000"), "{error}");

        let error = message(parse_size("1200x8001"));
        assert!(error.contains("height 8001"), "{error}");
        assert!(error.contains("200 to 8000"), "{error}");
    }
}
