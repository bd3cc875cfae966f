//! Output files that appear under their final name only when complete.

use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::{Error, Result};

/// A file being written: the data go to a hidden temporary file in the target directory, which
/// [`OutputFile::commit`] renames to the final name. An interrupted run leaves at most a
/// `.NAME.*.partial` file behind, never a truncated file under the final name.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    temp: NamedTempFile,
    overwrite: bool,
}

impl OutputFile {
    /// Checks that `path` can be written and creates the temporary file, before any long
    /// computation starts. An existing `path` is an error unless `overwrite`. Missing parent
    /// directories are created.
    pub fn create(path: &Path, overwrite: bool) -> Result<Self> {
        Self::create_for(path, overwrite, "--output")
    }

    /// Like [`OutputFile::create`], with errors naming the command-line flag `flag`.
    pub fn create_for(path: &Path, overwrite: bool, flag: &str) -> Result<Self> {
        if path.is_dir() {
            return Err(Error::invalid(
                flag,
                format!("{} is a directory; give a file name", path.display()),
            ));
        }
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz")) {
            return Err(Error::invalid(
                flag,
                format!(
                    "{} ends in .npz, but hamsim writes safetensors files; name it FILE.safetensors",
                    path.display()
                ),
            ));
        }
        if path.exists() && !overwrite {
            return Err(Error::invalid(
                flag,
                format!(
                    "{} already exists; pass --force to overwrite it or choose another path",
                    path.display()
                ),
            ));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create the output directory {}", dir.display()), e))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| Error::io(format!("cannot write to the output directory {}", dir.display()), e))?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            temp,
            overwrite,
        })
    }

    /// The temporary file to write the data to.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temporary file to the final name, readable by everyone (mode 0644 on Unix,
    /// where the temporary file starts private).
    pub fn commit(self) -> Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let readable = std::fs::Permissions::from_mode(0o644);
            std::fs::set_permissions(self.temp.path(), readable)
                .map_err(|e| Error::io(format!("cannot set permissions of {}", self.temp.path().display()), e))?;
        }
        let persisted = if self.overwrite {
            self.temp.persist(&self.path)
        } else {
            self.temp.persist_noclobber(&self.path)
        };
        persisted.map(|_| ()).map_err(|e| {
            Error::io(format!("cannot move the finished file to {}", self.path.display()), e.error)
        })
    }
}

/// Writes a file through a temporary file in the same directory, renamed into place when
/// `write` succeeds, replacing any existing file; a crash leaves the old file intact.
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let output = OutputFile::create(path, true)?;
    write(output.temp_path())?;
    output.commit()
}
