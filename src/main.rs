//! The `hamsim` command-line tool.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // candle's own per-operation threads spin at barriers on small tensors; hamsim splits work
    // across threads itself. Set before the first tensor operation, while only this thread runs.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }

    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain on one line.
            eprintln!("Error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
