//! Removal of a partly written output file when the user interrupts a run.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// The temporary file to delete on Ctrl-C or SIGTERM, if any.
static PENDING: Mutex<Option<PathBuf>> = Mutex::new(None);

static INSTALL: Once = Once::new();

/// Deletes `path` if the process receives SIGINT or SIGTERM before [`clear`] is called.
pub fn remove_on_interrupt(path: &Path) {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.to_path_buf());
    INSTALL.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if let Some(path) = PENDING.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = std::fs::remove_file(path);
            }
            eprintln!("interrupted; no output file was written");
            // 128 + SIGINT, the shell convention for a run stopped by Ctrl-C.
            std::process::exit(130);
        });
        if let Err(error) = installed {
            super::log!("warning: cannot catch Ctrl-C ({error}); an interrupted run may leave a .partial file");
        }
    });
}

/// Forgets the pending file once it has been renamed into place.
pub fn clear() {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = None;
}
