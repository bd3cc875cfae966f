//! Command-line interface: one module per subcommand.

mod analyze;
mod generate;
mod progress;

use clap::{Parser, Subcommand};

/// Simulate, learn and check Hamiltonian dynamics.
#[derive(Debug, Parser)]
#[command(name = "hamsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate spring or gravity systems and write a trajectory dataset.
    Generate(generate::GenerateArgs),
    /// Print the energy and momentum conservation table of a dataset.
    Analyze(analyze::AnalyzeArgs),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate(args) => generate::run(args),
        Command::Analyze(args) => analyze::run(args),
    }
}

/// Builds the rayon pool for `--threads`: all cores when `None`.
fn thread_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    if threads == Some(0) {
        anyhow::bail!("invalid --threads: 0 threads requested; use 1 or more, or omit the flag to use every core");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    Ok(pool)
}
