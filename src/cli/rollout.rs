//! `hamsim rollout`: long rollouts of a trained model or of the exact Hamiltonian, compared
//! with a dataset, with conservation figures, files and plots.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use candle_core::DType;
use clap::builder::PossibleValuesParser;
use clap::{ArgGroup, Args};
use serde::Serialize;

use hamsim::analysis::summarize;
use hamsim::dataset::{resolve_system, write_atomically, Dataset, Metadata, OutputFile, SystemSource};
use hamsim::learn::rollout::{roll_out_model, RolloutSettings};
use hamsim::learn::run::{check_fits, describe, load_dynamics, read_config, Checkpoint, RunConfig};
use hamsim::nn::ModelKind;
use hamsim::physics::{Integrator, IntegratorKind, SystemSpec};
use hamsim::plot::{self, Figure};
use hamsim::rollout::metrics::{csv, measure, RolloutMetrics, RolloutSummary};
use hamsim::rollout::physics::roll_out_physics;
use hamsim::rollout::{figures, Prediction, TimeGrid};

use super::progress::Progress;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("dynamics").required(true).args(["run", "physics"])))]
pub struct RolloutArgs {
    /// Run directory written by `hamsim train`, whose model is rolled out; required unless
    /// --physics is given.
    #[arg(long, value_name = "DIR")]
    run: Option<PathBuf>,

    /// Roll out the exact Hamiltonian of the dataset's system instead of a trained model.
    #[arg(long)]
    physics: bool,

    /// Dataset whose systems start the rollouts and provide the true trajectories: a hamsim
    /// .safetensors file or an .npz with ts, zs, masses (and k).
    #[arg(long, value_name = "FILE")]
    data: PathBuf,

    /// Integrator: rk4 or leapfrog for a model (leapfrog needs a separable learned H, so not
    /// node); rk4, leapfrog or dop853 with --physics.
    #[arg(long, default_value = "rk4", value_parser = PossibleValuesParser::new(["rk4", "leapfrog", "dop853"]))]
    integrator: String,

    /// Steps of rk4 or leapfrog per saved interval, 1 or more.
    #[arg(long, default_value_t = 1)]
    substeps: usize,

    /// Relative tolerance of dop853, in [1e-14, 1) [default: 1e-10].
    #[arg(long, allow_negative_numbers = true)]
    rtol: Option<f64>,

    /// Absolute tolerance of dop853, > 0 [default: 1e-12].
    #[arg(long, allow_negative_numbers = true)]
    atol: Option<f64>,

    /// End time of the rollout, in the units of the dataset's ts [default: the dataset's last
    /// time]. Past that time the grid continues with the dataset's mean interval, and only
    /// conservation is measured.
    #[arg(long, value_name = "TIME", allow_negative_numbers = true)]
    horizon: Option<f64>,

    /// Roll out the first N systems of the dataset [default: all].
    #[arg(long, value_name = "N")]
    count: Option<usize>,

    /// System file naming the Hamiltonian, for datasets without hamsim metadata
    /// [default: the system stored in the file; springs for an .npz that contains k].
    #[arg(long, value_name = "FILE.toml")]
    system: Option<PathBuf>,

    /// Directory for metrics.json and rollout.csv [default: the directory of --plot; without
    /// --plot the files are not written].
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,

    /// Write the relative energy error against time (.png or .svg).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,

    /// Write |P(t) - P(0)| and |L(t) - L(0)| against time (.png or .svg).
    #[arg(long, value_name = "FILE")]
    plot_momentum: Option<PathBuf>,

    /// Write the relative state error e(t) against time (.png or .svg).
    #[arg(long, value_name = "FILE")]
    plot_error: Option<PathBuf>,

    /// Write the particle paths of one system, true and predicted side by side (.png or .svg).
    #[arg(long, value_name = "FILE")]
    plot_trajectories: Option<PathBuf>,

    /// System drawn by --plot-trajectories, from 0.
    #[arg(long, default_value_t = 0, value_name = "I")]
    system_index: usize,

    /// Size of the plots in pixels, WIDTHxHEIGHT, each 200 to 8000.
    #[arg(long, default_value = "1000x600", value_name = "WxH")]
    plot_size: String,

    /// Write the predicted trajectories as a hamsim dataset (.safetensors).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,

    /// Overwrite an existing --save file.
    #[arg(long)]
    force: bool,

    /// Weights of the run to load: best (model.safetensors) or last (last.safetensors).
    #[arg(long, default_value = "best", value_parser = PossibleValuesParser::new(["best", "last"]))]
    checkpoint: String,

    /// Precision of the model's rollout; f64 casts f32 weights, for conservation at round-off
    /// [default: the precision the run was trained in].
    #[arg(long, value_parser = PossibleValuesParser::new(["f32", "f64"]))]
    dtype: Option<String>,

    /// Systems per batch of a model rollout, 1 or more. Batches run in parallel; the result
    /// depends on this size, not on --threads.
    #[arg(long, default_value_t = 50)]
    batch_size: usize,

    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    json: bool,

    /// Worker threads, 1 to 1024 [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
}

/// The setting of a rollout, stored in `metrics.json` beside the summary.
#[derive(Debug, Clone, Serialize)]
struct Setup {
    dynamics: String,
    run: Option<PathBuf>,
    data: PathBuf,
    integrator: String,
    substeps: Option<usize>,
    rtol: Option<f64>,
    atol: Option<f64>,
    dtype: String,
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    summary: &'a RolloutSummary,
    setup: &'a Setup,
}

/// Every output path, checked before the rollout starts.
struct Outputs {
    dir: Option<PathBuf>,
    plots: Vec<(PlotKind, PathBuf)>,
    save: Option<OutputFile>,
    size: (u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlotKind {
    Energy,
    Momentum,
    Error,
    Trajectories,
}

pub fn run(args: RolloutArgs) -> anyhow::Result<()> {
    let pool = super::thread_pool(args.threads)?;
    let method: IntegratorKind = args.integrator.parse().map_err(anyhow::Error::msg)?;
    check_numbers(&args)?;
    let run_config = args.run.as_deref().map(read_config).transpose()?;
    if let (Some(run_dir), Some(config)) = (&args.run, &run_config) {
        check_integrator(run_dir, config, method)?;
    }
    let outputs = check_outputs(&args)?;

    let data = Dataset::load(&args.data)?;
    let (spec, source) = resolve_system(&data, &args.data, args.system.as_deref())?;
    if source == SystemSource::SpringConstants {
        super::log!(
            "note: {} has no hamsim metadata; reading it as springs because it holds spring constants",
            args.data.display()
        );
    }
    let grid = TimeGrid::new(&data, args.count, args.horizon)?;
    if args.plot_trajectories.is_some() && args.system_index >= grid.systems {
        bail!(
            "invalid --system-index: {} is out of range; the rollout has systems 0 to {}",
            args.system_index,
            grid.systems - 1
        );
    }

    let started = Instant::now();
    let (prediction, mut setup) = pool.install(|| match (&args.run, &run_config) {
        (Some(run_dir), Some(config)) => roll_out_run(&args, run_dir, config, method, &data, &grid),
        _ => roll_out_exact(&args, method, &data, &spec, &grid),
    })?;
    setup.seconds = started.elapsed().as_secs_f64();
    report_divergence(&prediction, &grid);

    let metrics = pool.install(|| measure(&data, &spec, &grid, &prediction))?;
    write_outputs(&args, outputs, &metrics, &setup, &data, &spec, &grid, prediction)?;
    if args.json {
        super::emit!("{}\n", serde_json::to_string_pretty(&Report { summary: &metrics.summary, setup: &setup })?);
    } else {
        super::emit!("{} on {} ({})\n{}", setup.dynamics, args.data.display(), setup.integrator, metrics.summary.table());
    }
    Ok(())
}

fn check_numbers(args: &RolloutArgs) -> anyhow::Result<()> {
    if args.substeps == 0 {
        bail!("invalid --substeps: 0 is out of range; use 1 or more steps per saved interval");
    }
    if args.batch_size == 0 {
        bail!("invalid --batch-size: 0 is out of range; use 1 or more systems per batch");
    }
    if args.physics && args.dtype.is_some() {
        bail!("invalid --dtype: it sets the precision of a model, and --physics always integrates in f64; omit it");
    }
    if !args.physics && args.integrator == "dop853" {
        bail!("invalid --integrator: dop853 integrates the exact Hamiltonian only; use rk4 or leapfrog with --run, or add --physics");
    }
    let integrator = Integrator {
        method: IntegratorKind::Dop853,
        substeps: args.substeps,
        ..solver(args)
    };
    integrator.check().map_err(|m| {
        let flag = ["rtol", "atol", "substeps"].into_iter().fold(m, |m, key| m.replace(&format!("integrator.{key} = "), &format!("--{key}: ")));
        anyhow::anyhow!("invalid {flag}")
    })?;

    if (args.rtol.is_some() || args.atol.is_some()) && args.integrator != "dop853" {
        super::log!("note: --rtol and --atol have no effect with --integrator {}", args.integrator);
    }
    if args.substeps != 1 && args.integrator == "dop853" {
        super::log!("note: --substeps has no effect with --integrator dop853, which chooses its own steps");
    }
    Ok(())
}

/// Checks every output path and creates the --save temporary file, so that a bad path fails
/// before the rollout.
fn check_outputs(args: &RolloutArgs) -> anyhow::Result<Outputs> {
    let size = plot::parse_size(&args.plot_size)?;
    let requested = [
        (PlotKind::Energy, &args.plot, "--plot"),
        (PlotKind::Momentum, &args.plot_momentum, "--plot-momentum"),
        (PlotKind::Error, &args.plot_error, "--plot-error"),
        (PlotKind::Trajectories, &args.plot_trajectories, "--plot-trajectories"),
    ];
    let mut plots = Vec::new();
    for (kind, path, flag) in requested {
        if let Some(path) = path {
            // A plot inside a --output directory that does not exist yet is checked by name
            // only, because that directory is created before the plots are written.
            let in_new_output = args.output.as_deref().is_some_and(|dir| !dir.exists() && path.parent() == Some(dir));
            if !(in_new_output && plot::Format::from_path(path).is_ok()) {
                plot::check_output(path, flag)?;
            }
            plots.push((kind, path.clone()));
        }
    }
    let dir = match (&args.output, &args.plot) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(plot)) => Some(plot.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()),
        (None, None) => None,
    };
    if let Some(dir) = &dir {
        if dir.exists() && !dir.is_dir() {
            bail!("invalid --output: {} exists and is not a directory", dir.display());
        }
    }
    let mut seen: Vec<&Path> = Vec::new();
    for (_, path) in &plots {
        if seen.contains(&path.as_path()) {
            bail!("invalid plot paths: {} is named twice; give each plot its own file", path.display());
        }
        seen.push(path);
    }
    if args.system_index != 0 && args.plot_trajectories.is_none() {
        super::log!("note: --system-index has no effect without --plot-trajectories");
    }
    let save = args.save.as_deref().map(|path| OutputFile::create_for(path, args.force, "--save")).transpose()?;
    Ok(Outputs { dir, plots, save, size })
}

/// Builds the solver settings of the flags, with the defaults of a system file's `[integrator]`.
fn solver(args: &RolloutArgs) -> Integrator {
    let defaults = Integrator::default();
    Integrator {
        method: defaults.method,
        rtol: args.rtol.unwrap_or(defaults.rtol),
        atol: args.atol.unwrap_or(defaults.atol),
        substeps: args.substeps,
    }
}

/// Rejects leapfrog for a model without a separable Hamiltonian.
fn check_integrator(run_dir: &Path, config: &RunConfig, method: IntegratorKind) -> anyhow::Result<()> {
    if method == IntegratorKind::Leapfrog && config.model.model == ModelKind::Node {
        bail!(
            "invalid --integrator: leapfrog needs a separable Hamiltonian H = T(p) + V(q), but {} \
             holds a node model, which has no Hamiltonian; use --integrator rk4",
            run_dir.display()
        );
    }
    Ok(())
}

fn roll_out_run(
    args: &RolloutArgs,
    run_dir: &Path,
    config: &RunConfig,
    method: IntegratorKind,
    data: &Dataset,
    grid: &TimeGrid,
) -> anyhow::Result<(Prediction, Setup)> {
    check_fits(data, &args.data, &config.model)?;
    let dtype_name = args.dtype.clone().unwrap_or_else(|| config.dtype.clone());
    let dtype = if dtype_name == "f64" { DType::F64 } else { DType::F32 };
    let checkpoint = if args.checkpoint == "last" { Checkpoint::Last } else { Checkpoint::Best };
    let dynamics = load_dynamics(run_dir, config, checkpoint, dtype)?;

    let batches = grid.systems.div_ceil(args.batch_size);
    super::log!(
        "rolling out {} ({}) on {} systems x {} steps with {method}",
        describe(&config.model),
        dtype_name,
        grid.systems,
        grid.states - 1
    );
    let progress = Progress::new(batches * (grid.states - 1), "steps");
    let settings = RolloutSettings {
        method,
        substeps: args.substeps,
        batch_size: args.batch_size,
        dtype,
    };
    let prediction = roll_out_model(dynamics.as_ref(), data, grid, settings, &|| progress.inc())?;
    progress.finish();
    let setup = Setup {
        dynamics: describe(&config.model),
        run: Some(run_dir.to_path_buf()),
        data: args.data.clone(),
        integrator: method.to_string(),
        substeps: Some(args.substeps),
        rtol: None,
        atol: None,
        dtype: dtype_name,
        seconds: 0.0,
    };
    Ok((prediction, setup))
}

fn roll_out_exact(
    args: &RolloutArgs,
    method: IntegratorKind,
    data: &Dataset,
    spec: &SystemSpec,
    grid: &TimeGrid,
) -> anyhow::Result<(Prediction, Setup)> {
    let integrator = Integrator { method, ..solver(args) };
    super::log!(
        "integrating the exact {} Hamiltonian on {} systems x {} steps with {method}",
        spec.kind_name(),
        grid.systems,
        grid.states - 1
    );
    let progress = Progress::new(grid.systems, "systems");
    let (prediction, failures) = roll_out_physics(data, spec, grid, &integrator, &|| progress.inc())?;
    progress.finish();
    for failure in failures.iter().take(3) {
        super::log!("warning: system {}: {}", failure.system, failure.message);
    }
    let dop853 = method == IntegratorKind::Dop853;
    let setup = Setup {
        dynamics: format!("exact {} Hamiltonian", spec.kind_name()),
        run: None,
        data: args.data.clone(),
        integrator: method.to_string(),
        substeps: (!dop853).then_some(args.substeps),
        rtol: dop853.then_some(integrator.rtol),
        atol: dop853.then_some(integrator.atol),
        dtype: "f64".to_string(),
        seconds: 0.0,
    };
    Ok((prediction, setup))
}

fn report_divergence(prediction: &Prediction, grid: &TimeGrid) {
    let diverged: Vec<(usize, usize)> = prediction
        .diverged
        .iter()
        .enumerate()
        .filter_map(|(s, d)| d.map(|step| (s, step)))
        .collect();
    for (s, step) in diverged.iter().take(5) {
        super::log!("warning: system {s} diverged at step {step} (t = {})", grid.times(*s)[*step]);
    }
    if diverged.len() > 5 {
        super::log!("warning: {} more systems diverged; metrics.json lists them all", diverged.len() - 5);
    }
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    args: &RolloutArgs,
    outputs: Outputs,
    metrics: &RolloutMetrics,
    setup: &Setup,
    data: &Dataset,
    spec: &SystemSpec,
    grid: &TimeGrid,
    prediction: Prediction,
) -> anyhow::Result<()> {
    if let Some(dir) = &outputs.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output directory {}", dir.display()))?;
        let json = serde_json::to_string_pretty(&Report { summary: &metrics.summary, setup })?;
        write_text(&dir.join("metrics.json"), &json)?;
        write_text(&dir.join("rollout.csv"), &csv(&metrics.rows))?;
    }

    let data_name = args.data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let title = format!("{} ({}, {}) on {data_name}", setup.dynamics, setup.integrator, setup.dtype);
    for (kind, path) in &outputs.plots {
        let figure: Figure = match kind {
            PlotKind::Energy => figures::energy(metrics, &title, outputs.size),
            PlotKind::Momentum => figures::momentum(metrics, &title, outputs.size),
            PlotKind::Error => figures::state_error(metrics, &title, outputs.size),
            PlotKind::Trajectories => figures::trajectories(data, grid, &prediction, args.system_index, &title, outputs.size),
        };
        plot::save(&figure, path)?;
    }

    if let Some(file) = outputs.save {
        save_prediction(file, data, spec, grid, setup, prediction)?;
    }
    let written: Vec<String> = outputs
        .dir
        .iter()
        .flat_map(|d| [d.join("metrics.json"), d.join("rollout.csv")])
        .chain(outputs.plots.iter().map(|(_, p)| p.clone()))
        .chain(args.save.clone())
        .map(|p| p.display().to_string())
        .collect();
    if written.is_empty() {
        super::log!("note: pass --output DIR or --plot FILE to write metrics.json and rollout.csv");
    } else {
        super::log!("wrote {}", written.join(", "));
    }
    Ok(())
}

/// Writes the predicted trajectories as a dataset with the system and parameters of `data`.
/// Its metadata records the rollout's integrator, the rollout itself (`setup`) and the
/// conservation of the predicted states; the seed is the source dataset's.
fn save_prediction(
    file: OutputFile,
    data: &Dataset,
    spec: &SystemSpec,
    grid: &TimeGrid,
    setup: &Setup,
    prediction: Prediction,
) -> anyhow::Result<()> {
    let n = data.n_particles;
    let mut predicted = Dataset {
        systems: grid.systems,
        states: grid.states,
        n_particles: n,
        dim: data.dim,
        ts: grid.ts.clone(),
        zs: prediction.zs,
        masses: data.masses[..grid.systems * n].to_vec(),
        spring_constants: data.spring_constants.as_ref().map(|k| k[..grid.systems * n].to_vec()),
        metadata: None,
    };
    let conservation = summarize(&predicted, spec)?;
    let method: IntegratorKind = setup.integrator.parse().map_err(anyhow::Error::msg)?;
    let integrator = Integrator {
        method,
        substeps: setup.substeps.unwrap_or(1),
        rtol: setup.rtol.unwrap_or(Integrator::default().rtol),
        atol: setup.atol.unwrap_or(Integrator::default().atol),
    };
    predicted.metadata = Some(Metadata {
        hamsim_version: env!("CARGO_PKG_VERSION").to_string(),
        system_kind: spec.kind_name().to_string(),
        system_toml: spec.text.clone(),
        seed: data.metadata.as_ref().map_or(0, |m| m.seed),
        integrator,
        dt: grid.times(0).get(1).map_or(0.0, |t1| t1 - grid.times(0)[0]),
        states: grid.states,
        conservation: Some(conservation),
        rollout: Some(rollout_record(setup)?),
    });
    hamsim::dataset::write(&predicted, file.temp_path())?;
    file.commit()?;
    Ok(())
}

/// Serialises the rollout's setup as JSON without its timing, so that the saved file's bytes depend on
/// the inputs alone.
fn rollout_record(setup: &Setup) -> anyhow::Result<String> {
    let mut record = serde_json::to_value(setup)?;
    if let Some(object) = record.as_object_mut() {
        object.remove("seconds");
    }
    Ok(serde_json::to_string(&record)?)
}

fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomically(path, |tmp| {
        std::fs::write(tmp, text).map_err(|e| hamsim::Error::io(format!("cannot write {}", path.display()), e))
    })?;
    Ok(())
}
