//! Command-line interface: one module per subcommand.

/// Writes one line to stderr, ignoring a closed pipe: a reader that stops early (`| head`)
/// must not abort a run whose real output is a file.
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// Writes text to stdout, ignoring a closed pipe.
macro_rules! emit {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub(crate) use {emit, log};

mod analyze;
mod demo;
mod generate;
mod interrupt;
mod progress;
mod rollout;
mod train;

use clap::{Parser, Subcommand};

/// Simulate, learn and check Hamiltonian dynamics: generate spring and gravity trajectory
/// datasets, train learned Hamiltonians on them, roll them out, and analyze energy and momentum
/// along any trajectory.
#[derive(Debug, Parser)]
#[command(name = "hamsim", version, long_about = None)]
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
    /// Train a learned Hamiltonian (LieConv, HNN) or a neural ODE on a dataset's trajectory chunks.
    Train(train::TrainArgs),
    /// Roll out a trained model or the exact Hamiltonian from a dataset's initial states, and
    /// measure state error, energy and momentum conservation, with plots.
    Rollout(rollout::RolloutArgs),
    /// Run the whole pipeline on embedded defaults: generate springs, train a small LieConv
    /// model, roll it out and plot energy, momentum and paths (about 4 minutes on 2 cores).
    Demo(demo::DemoArgs),
}


/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<()> {
    dispatch(Cli::parse().command)
}

/// Runs the subcommand given by `words` (without the program name), as if typed.
fn run_from(words: &[String]) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(std::iter::once("hamsim".to_string()).chain(words.iter().cloned()))?;
    dispatch(cli.command)
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Generate(args) => generate::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Train(args) => train::run(args),
        Command::Rollout(args) => rollout::run(args),
        Command::Demo(args) => demo::run(args),
    }
}

/// The largest `--threads` accepted; beyond it thread stacks alone exhaust memory.
const MAX_THREADS: usize = 1024;

/// Checks a `--threads` value against its allowed range.
fn check_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(count) = threads.filter(|&t| t == 0 || t > MAX_THREADS) {
        anyhow::bail!(
            "invalid --threads: {count} is out of range; use 1 to {MAX_THREADS}, or omit the flag to use every core"
        );
    }
    Ok(())
}

/// Builds the rayon pool for `--threads`: all cores when `None`.
fn thread_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    check_threads(threads)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    Ok(pool)
}
