//! Progress reporting: an indicatif bar on a terminal, plain log lines otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Counts finished work items from any thread.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Whether to print log lines when there is no bar.
    log_lines: bool,
    label: &'static str,
    total: usize,
    done: AtomicUsize,
    start: Instant,
}

/// Log lines appear at every tenth of the work when stderr is not a terminal, once the work
/// has run for a second.
const LOG_STEPS: usize = 10;

impl Progress {
    /// Starts reporting on `total` items named `label` (for example "systems").
    pub fn new(total: usize, label: &'static str) -> Self {
        Self::with_log_lines(total, label, true)
    }

    /// Like [`Progress::new`], but silent when stderr is not a terminal.
    pub fn bar_only(total: usize, label: &'static str) -> Self {
        Self::with_log_lines(total, label, false)
    }

    fn with_log_lines(total: usize, label: &'static str, log_lines: bool) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg} (eta {eta})",
                )
                .expect("the template is valid"),
            );
            bar.set_message(label);
            bar
        });
        Progress {
            bar,
            log_lines,
            label,
            total,
            done: AtomicUsize::new(0),
            start: Instant::now(),
        }
    }

    /// Records one finished item.
    pub fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            return;
        }
        if !self.log_lines {
            return;
        }
        // Work that finishes within a second gets only the final line.
        let step = self.total.div_ceil(LOG_STEPS).max(1);
        let tenth = done % step == 0 && self.start.elapsed().as_secs_f64() >= 1.0;
        if tenth || done == self.total {
            super::log!(
                "{done}/{} {} done ({:.0}%), {:.1} s elapsed",
                self.total,
                self.label,
                100.0 * done as f64 / self.total as f64,
                self.start.elapsed().as_secs_f64()
            );
        }
    }

    /// Sets the text shown after the bar's counter.
    pub fn set_message(&self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
