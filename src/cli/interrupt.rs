//! Ctrl-C and SIGTERM: one handler for the whole process, so that commands run one after the
//! other (as `hamsim demo` does) share it.
//!
//! By default an interrupt deletes the partly written output file, if any, and exits. A command
//! that can stop cleanly (training) requests a graceful stop instead: the first interrupt sets
//! a flag that the command polls, and a second one exits at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

/// The temporary file to delete on an interrupt, if any.
static PENDING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Set while a command polls [`stop_requested`].
static GRACEFUL: AtomicBool = AtomicBool::new(false);

/// Set by the first interrupt in graceful mode.
static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

static INSTALL: Once = Once::new();

/// 128 + SIGINT, the shell convention for a run stopped by Ctrl-C.
const INTERRUPTED: i32 = 130;

fn install() {
    INSTALL.call_once(|| {
        if let Err(error) = ctrlc::set_handler(on_interrupt) {
            super::log!("warning: cannot catch Ctrl-C ({error}); an interrupted run may leave a .partial file");
        }
    });
}

fn on_interrupt() {
    if GRACEFUL.load(Ordering::SeqCst) && !STOP_REQUESTED.swap(true, Ordering::SeqCst) {
        eprintln!("stopping after the current batch (press Ctrl-C again to stop at once)");
        return;
    }
    if let Some(path) = PENDING.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = std::fs::remove_file(path);
        eprintln!("interrupted; no output file was written");
    }
    std::process::exit(INTERRUPTED);
}

/// Deletes `path` if the process receives SIGINT or SIGTERM before [`clear`] is called.
pub fn remove_on_interrupt(path: &Path) {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.to_path_buf());
    install();
}

/// Forgets the pending file once it has been renamed into place.
pub fn clear() {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Turns the next interrupt into a request that [`stop_requested`] reports.
pub fn stop_gracefully() {
    GRACEFUL.store(true, Ordering::SeqCst);
    install();
}

/// Returns whether an interrupt requested the running command to stop.
pub fn stop_requested() -> bool {
    STOP_REQUESTED.load(Ordering::SeqCst)
}
