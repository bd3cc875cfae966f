//! `hamsim generate`: simulate systems and write a dataset.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::builder::PossibleValuesParser;
use clap::Args;

use hamsim::dataset::{self, OutputFile};
use hamsim::generate::{generate, GenerateConfig};
use hamsim::physics::{Integrator, IntegratorKind, SystemSpec};

use super::progress::Progress;

/// Relative energy errors above this get a warning with advice: they are far above what the
/// default DOP853 settings reach (about 1e-10) and mean the data are not exact trajectories.
const ENERGY_WARNING: f64 = 1e-6;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// System file (TOML) with the system's parameters, time grid and default solver.
    #[arg(long, value_name = "FILE.toml")]
    system: PathBuf,

    /// Number of systems to simulate, 1 or more.
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true)]
    count: usize,

    /// Random seed; system i draws from its own generator stream derived from (seed, i).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    seed: u64,

    /// Dataset file to write (safetensors); missing directories are created.
    #[arg(long, value_name = "FILE.safetensors")]
    output: PathBuf,

    /// Integration method [default: the system file's integrator.method, else dop853].
    #[arg(long, value_parser = PossibleValuesParser::new(["dop853", "rk4", "leapfrog"]))]
    integrator: Option<String>,

    /// Time between saved states, in the system's time unit, > 0 [default: the system file's dt].
    #[arg(long, allow_negative_numbers = true)]
    dt: Option<f64>,

    /// Saved states per trajectory including the initial one, 2 or more [default: the system file's states].
    #[arg(long)]
    states: Option<usize>,

    /// Relative tolerance of dop853, in [1e-14, 1) [default: the system file's, else 1e-10].
    /// With the default dt the saved interval, not rtol, usually limits the step size.
    #[arg(long, allow_negative_numbers = true)]
    rtol: Option<f64>,

    /// Absolute tolerance of dop853, > 0 [default: the system file's, else 1e-12].
    #[arg(long, allow_negative_numbers = true)]
    atol: Option<f64>,

    /// Fixed rk4 or leapfrog steps per saved interval, 1 or more [default: the system file's, else 1].
    #[arg(long)]
    substeps: Option<usize>,

    /// Worker threads, 1 to 1024 [default: one per core]. The output does not depend on it.
    #[arg(long)]
    threads: Option<usize>,

    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let spec = SystemSpec::from_file(&args.system)?.with_grid(args.dt, args.states)?;
    let integrator = integrator_from(&args, spec.integrator())?;
    if args.count == 0 {
        anyhow::bail!("invalid --count: 0 systems requested; the allowed range is 1 or more");
    }
    let pool = super::thread_pool(args.threads)?;
    let output = OutputFile::create(&args.output, args.force)?;
    super::interrupt::remove_on_interrupt(output.temp_path());

    super::log!(
        "generating {} {} systems ({} particles in {}D, {} states, dt = {}) with {}",
        args.count,
        spec.kind_name(),
        spec.n_particles(),
        spec.dim(),
        spec.states(),
        spec.dt(),
        describe(&integrator)
    );
    let config = GenerateConfig {
        spec,
        count: args.count,
        seed: args.seed,
        integrator,
    };
    let progress = Progress::new(args.count, "systems");
    let start = Instant::now();
    let data = pool.install(|| generate(&config, &|| progress.inc()))?;
    progress.finish();
    let seconds = start.elapsed().as_secs_f64();

    dataset::write(&data, output.temp_path())?;
    output.commit()?;
    super::interrupt::clear();

    let summary = data
        .metadata
        .as_ref()
        .and_then(|m| m.conservation.clone())
        .context("generation always measures conservation")?;
    super::log!(
        "wrote {} in {:.2} s ({:.3} ms per system)",
        args.output.display(),
        seconds,
        1e3 * seconds / args.count as f64
    );
    super::emit!("{}", summary.table());
    if summary.energy_rel_drift.max > ENERGY_WARNING {
        let advice = match config.integrator.method {
            IntegratorKind::Dop853 => {
                "lower --rtol, or add softening to the system file if point masses meet closely"
            }
            _ => "use --integrator dop853, or raise --substeps",
        };
        super::log!(
            "warning: the worst relative energy error is {:.2e}; for exact trajectories {advice}",
            summary.energy_rel_drift.max
        );
    }
    Ok(())
}

/// The system file's solver settings with the command-line overrides applied and checked.
fn integrator_from(args: &GenerateArgs, defaults: &Integrator) -> anyhow::Result<Integrator> {
    let mut integrator = *defaults;
    if let Some(name) = &args.integrator {
        integrator.method = name.parse::<IntegratorKind>().map_err(anyhow::Error::msg)?;
    }
    integrator.rtol = args.rtol.unwrap_or(integrator.rtol);
    integrator.atol = args.atol.unwrap_or(integrator.atol);
    integrator.substeps = args.substeps.unwrap_or(integrator.substeps);
    integrator.check().map_err(|message| {
        // Name the flag when the bad value came from the command line.
        let flags = [
            ("integrator.rtol", "--rtol", args.rtol.is_some()),
            ("integrator.atol", "--atol", args.atol.is_some()),
            ("integrator.substeps", "--substeps", args.substeps.is_some()),
        ];
        let message = flags
            .iter()
            .filter(|(_, _, given)| *given)
            .fold(message, |m, (key, flag, _)| m.replace(key, flag));
        anyhow::anyhow!("invalid solver option: {message}")
    })?;

    let unused = match integrator.method {
        IntegratorKind::Dop853 => args.substeps.map(|_| "--substeps"),
        _ => args.rtol.or(args.atol).map(|_| "--rtol and --atol"),
    };
    if let Some(flags) = unused {
        super::log!("note: {flags} have no effect with --integrator {}", integrator.method);
    }
    Ok(integrator)
}

fn describe(integrator: &Integrator) -> String {
    match integrator.method {
        IntegratorKind::Dop853 => format!(
            "dop853 (rtol {:e}, atol {:e})",
            integrator.rtol, integrator.atol
        ),
        method => format!("{method} ({} substeps per saved interval)", integrator.substeps),
    }
}
