//! `hamsim train`: train a learned Hamiltonian on a dataset's trajectory chunks.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use candle_core::{DType, Device};
use clap::builder::PossibleValuesParser;
use clap::Args;

use hamsim::dataset::{write_atomically, Dataset};
use hamsim::learn::adam::Adam;
use hamsim::learn::data::{rng, shuffled_systems, ChunkSet, Stream};
use hamsim::learn::run::{check_fits, describe, fingerprint, DataRecord, RunConfig, RunState, RUN_FILES};
use hamsim::learn::train::{EpochMetrics, Outcome, Position, TrainHooks, TrainRun, TrainSettings};
use hamsim::nn::{Model, ModelConfig};

use super::progress::Progress;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training dataset: a hamsim .safetensors file or an .npz with ts, zs, masses (and k).
    #[arg(long, value_name = "FILE")]
    data: PathBuf,

    /// Run directory for config.json, checkpoints and metrics.csv.
    #[arg(long, value_name = "DIR")]
    output: PathBuf,

    /// Model family.
    #[arg(long, default_value = "lieconv", value_parser = PossibleValuesParser::new(["lieconv", "hnn", "node"]))]
    model: String,

    /// Symmetry group of a lieconv model [default: T2].
    #[arg(long, value_parser = PossibleValuesParser::new(["trivial", "T1", "T2", "T3", "SO2"]))]
    group: Option<String>,

    /// Channels k of a LieResNet, or hidden width of an MLP [default: 384 lieconv, 150 hnn, 300 node].
    #[arg(long)]
    width: Option<usize>,

    /// Bottleneck blocks of a LieResNet, or linear layers of an MLP [default: 4].
    #[arg(long)]
    layers: Option<usize>,

    /// Passes over the training systems, 1 or more.
    #[arg(long, default_value_t = 100)]
    epochs: usize,

    /// Training systems, taken from a seeded shuffle of the file.
    #[arg(long, default_value_t = 3000)]
    n_train: usize,

    /// Validation systems, from the same shuffle after the training ones (or from --val).
    #[arg(long, default_value_t = 200)]
    n_val: usize,

    /// Separate validation dataset [default: systems of --data not used for training].
    #[arg(long, value_name = "FILE")]
    val: Option<PathBuf>,

    /// Chunks per optimiser step, 1 or more.
    #[arg(long, default_value_t = 200)]
    batch_size: usize,

    /// Peak learning rate of Adam, > 0; a cosine schedule decays it to 0 over the epochs.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    lr: f64,

    /// Consecutive saved states per chunk, 2 or more.
    #[arg(long, default_value_t = 5)]
    chunk_len: usize,

    /// Draw a fresh chunk of every training system each epoch instead of once.
    #[arg(long)]
    resample_chunks: bool,

    /// Seed of initialisation, splits, chunks and batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Floating-point precision of the model and its training.
    #[arg(long, default_value = "f32", value_parser = PossibleValuesParser::new(["f32", "f64"]))]
    dtype: String,

    /// Worker threads, 1 to 1024 [default: one per core]. The weights do not depend on it.
    #[arg(long)]
    threads: Option<usize>,

    /// Continue the run in --output from its last checkpoint; other flags are taken from it.
    #[arg(long, conflicts_with = "force")]
    resume: bool,

    /// Replace the run files in an existing --output directory.
    #[arg(long)]
    force: bool,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    super::check_threads(Some(threads))?;
    let run_dir = args.output.clone();

    // Each dataset is read once: by the fresh config, or here when resuming.
    let (config, state, data, val_data) = if args.resume {
        let (config, state) = resume_config(&run_dir)?;
        let data = load_recorded(&config.data)?;
        let val_data = config.val.as_ref().map(load_recorded).transpose()?;
        (config, Some(state), data, val_data)
    } else {
        let (config, data, val_data) = fresh_config(&args)?;
        (config, None, data, val_data)
    };
    check_fits(&data, &config.data.path, &config.model)?;
    if let (Some(val), Some(record)) = (&val_data, &config.val) {
        check_fits(val, &record.path, &config.model)?;
    }
    let dtype = if config.dtype == "f64" { DType::F64 } else { DType::F32 };
    let (train_systems, val_systems) = split(&config, &data, val_data.as_ref())?;
    let validation_source = val_data.as_ref().unwrap_or(&data);
    let validation = ChunkSet::new(
        validation_source,
        val_systems,
        config.training.chunk_len,
        &mut rng(config.training.seed, Stream::Chunks { epoch: u64::MAX }),
    );

    let model = Model::new(config.model.clone(), dtype, &Device::Cpu, config.training.seed)?;
    let mut adam = Adam::new(named_vars(&model))?;
    let start = match &state {
        Some(state) => {
            let mut varmap = model.varmap.clone();
            varmap.load(run_dir.join("last.safetensors")).context("cannot load last.safetensors")?;
            let moments = candle_core::safetensors::load(run_dir.join("optimizer.safetensors"), &Device::Cpu)
                .context("cannot load optimizer.safetensors")?;
            adam.restore(&moments, state.adam_steps)?;
            super::log!("resuming {} at epoch {}, batch {}", run_dir.display(), state.next.epoch + 1, state.next.batch + 1);
            state.next
        }
        None => {
            prepare_run_dir(&run_dir, args.force)?;
            let json = serde_json::to_string_pretty(&config)?;
            write_atomically(&run_dir.join("config.json"), |tmp| {
                std::fs::write(tmp, &json).map_err(|e| hamsim::Error::io("cannot write config.json", e))
            })?;
            write_text(&run_dir.join("metrics.csv"), "epoch,train_mse,val_mse,lr,seconds,chunks_per_second\n")?;
            Position::epoch_start(0)
        }
    };

    super::log!(
        "training {} ({} parameters) on {} systems, validating on {}, for {} epoch{}",
        describe(&config.model),
        model.parameter_count(),
        train_systems.len(),
        validation.len(),
        config.training.epochs,
        if config.training.epochs == 1 { "" } else { "s" }
    );
    super::interrupt::stop_gracefully();
    let run = TrainRun {
        model: &model,
        train_data: &data,
        train_systems,
        validation,
        settings: config.training.clone(),
        dtype,
        threads,
    };
    let mut hooks = Hooks::new(&run_dir, &config, state.as_ref())?;
    let outcome = hamsim::learn::with_large_stack(|| run.run(&mut adam, start, &mut hooks))?;
    hooks.progress_finish();
    report(outcome, &run_dir, &config.data.path, &hooks)
}

fn report(outcome: Outcome, run_dir: &Path, data: &Path, hooks: &Hooks) -> anyhow::Result<()> {
    match outcome {
        Outcome::Finished => {
            let best = hooks.best.map(|(mse, epoch)| format!("best val_mse {mse:.3e} at epoch {epoch}")).unwrap_or_default();
            super::log!("finished: {best}; files in {}", run_dir.display());
            Ok(())
        }
        Outcome::Interrupted { next } => {
            super::log!(
                "interrupted before epoch {}, batch {}; last.safetensors is saved. Continue with: \
                 hamsim train --output {} --data {} --resume",
                next.epoch + 1,
                next.batch + 1,
                run_dir.display(),
                data.display()
            );
            std::process::exit(130);
        }
        Outcome::Diverged { epoch, batch, loss } => {
            let kept = match hooks.best {
                Some((_, best_epoch)) => format!("model.safetensors keeps the best checkpoint (epoch {best_epoch})"),
                None => "no epoch finished, so no checkpoint was written".to_string(),
            };
            bail!(
                "training diverged: the loss of epoch {epoch}, batch {batch} is {loss}; {kept}. \
                 Lower --lr or use --dtype f64"
            )
        }
    }
}

/// Builds the run config from the flags, checking every value before anything is written, and
/// returns it with the training and validation datasets it read.
fn fresh_config(args: &TrainArgs) -> anyhow::Result<(RunConfig, Dataset, Option<Dataset>)> {
    if args.epochs == 0 {
        bail!("invalid --epochs: 0 is out of range; use 1 or more");
    }
    if args.batch_size == 0 {
        bail!("invalid --batch-size: 0 is out of range; use 1 or more");
    }
    if args.chunk_len < 2 {
        bail!("invalid --chunk-len: {} is out of range; a chunk needs at least 2 states", args.chunk_len);
    }
    if !(args.lr > 0.0) || !args.lr.is_finite() {
        bail!("invalid --lr: {:?} is out of range; the learning rate must be a finite number > 0", args.lr);
    }
    if args.n_train == 0 {
        bail!("invalid --n-train: 0 is out of range; use 1 or more");
    }
    if args.n_val == 0 {
        bail!("invalid --n-val: 0 is out of range; use 1 or more");
    }

    if args.group.is_some() && args.model != "lieconv" {
        super::log!("note: --group applies to lieconv models only; {} has no group", args.model);
    }
    let data = Dataset::load(&args.data)?;
    let features = if data.spring_constants.is_some() { 2 } else { 1 };
    let (n, d) = (data.n_particles, data.dim);
    let mut model = match args.model.as_str() {
        "lieconv" => ModelConfig::lieconv(args.group.as_deref().unwrap_or("T2"), n, d, features),
        "hnn" => ModelConfig::hnn(n, d, features),
        _ => ModelConfig::node(n, d, features),
    };
    model.width = args.width.unwrap_or(model.width);
    model.layers = args.layers.unwrap_or(model.layers);
    model
        .check()
        .map_err(|m| anyhow::anyhow!("invalid model for {} ({n} particles in {d}D): {m}", args.data.display()))?;
    if args.chunk_len > data.states {
        bail!(
            "invalid --chunk-len: {} is longer than the {} saved states of {}",
            args.chunk_len,
            data.states,
            args.data.display()
        );
    }

    let val_data = args.val.as_deref().map(Dataset::load).transpose()?;
    let config = RunConfig {
        hamsim_version: env!("CARGO_PKG_VERSION").to_string(),
        model,
        training: TrainSettings {
            epochs: args.epochs,
            batch_size: args.batch_size,
            lr: args.lr,
            chunk_len: args.chunk_len,
            seed: args.seed,
            resample_chunks: args.resample_chunks,
        },
        n_train: args.n_train,
        n_val: args.n_val,
        dtype: args.dtype.clone(),
        data: DataRecord::new(&args.data, &data),
        val: args.val.as_deref().zip(val_data.as_ref()).map(|(path, val)| DataRecord::new(path, val)),
    };
    Ok((config, data, val_data))
}

fn resume_config(run_dir: &Path) -> anyhow::Result<(RunConfig, RunState)> {
    let read = |name: &str| {
        std::fs::read_to_string(run_dir.join(name))
            .with_context(|| format!("cannot resume: {} has no readable {name}", run_dir.display()))
    };
    let config: RunConfig = serde_json::from_str(&read("config.json")?).context("config.json is invalid")?;
    let state: RunState = serde_json::from_str(&read("state.json")?).context("state.json is invalid")?;
    if state.next.epoch >= config.training.epochs {
        bail!(
            "cannot resume: {} already finished all {} epochs; to train longer, start a new run \
             with a larger --epochs (--resume takes every setting from config.json)",
            run_dir.display(),
            config.training.epochs
        );
    }
    Ok((config, state))
}

/// Loads a dataset recorded in a run's config and checks that it has not changed since.
fn load_recorded(record: &DataRecord) -> anyhow::Result<Dataset> {
    let data = Dataset::load(&record.path)?;
    if fingerprint(&data) != record.fingerprint {
        bail!(
            "cannot resume: {} changed since the run started (its fingerprint differs)",
            record.path.display()
        );
    }
    Ok(data)
}

/// Picks the training and validation systems from a seeded shuffle.
fn split(config: &RunConfig, data: &Dataset, val: Option<&Dataset>) -> anyhow::Result<(Vec<usize>, Vec<usize>)> {
    let seed = config.training.seed;
    let order = shuffled_systems(data.systems, seed);
    match val {
        None => {
            let wanted = config.n_train + config.n_val;
            if wanted > data.systems {
                bail!(
                    "--n-train {} and --n-val {} ask for {wanted} systems, but {} contains {}; lower them or pass --val FILE",
                    config.n_train,
                    config.n_val,
                    config.data.path.display(),
                    data.systems
                );
            }
            Ok((order[..config.n_train].to_vec(), order[config.n_train..wanted].to_vec()))
        }
        Some(val) => {
            if config.n_train > data.systems || config.n_val > val.systems {
                bail!(
                    "--n-train {} and --n-val {} ask for more systems than the files contain ({} and {})",
                    config.n_train,
                    config.n_val,
                    data.systems,
                    val.systems
                );
            }
            let val_order = shuffled_systems(val.systems, seed);
            Ok((order[..config.n_train].to_vec(), val_order[..config.n_val].to_vec()))
        }
    }
}

fn named_vars(model: &Model) -> Vec<(String, candle_core::Var)> {
    let data = model.varmap.data().lock().expect("the variable map is not poisoned");
    let mut vars: Vec<(String, candle_core::Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Creates the run directory, or clears hamsim's files from it with `--force`.
fn prepare_run_dir(run_dir: &Path, force: bool) -> anyhow::Result<()> {
    let existing: Vec<&str> = RUN_FILES.iter().copied().filter(|f| run_dir.join(f).exists()).collect();
    if !existing.is_empty() && !force {
        bail!(
            "invalid --output: {} already contains a run ({}); pass --resume to continue it or --force to replace it",
            run_dir.display(),
            existing.join(", ")
        );
    }
    std::fs::create_dir_all(run_dir).with_context(|| format!("cannot create the run directory {}", run_dir.display()))?;
    for file in existing {
        std::fs::remove_file(run_dir.join(file)).with_context(|| format!("cannot remove {file}"))?;
    }
    Ok(())
}

fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomically(path, |tmp| {
        std::fs::write(tmp, text).map_err(|e| hamsim::Error::io(format!("cannot write {}", path.display()), e))
    })?;
    Ok(())
}

/// Checkpoints, metrics and progress of a run.
struct Hooks {
    run_dir: PathBuf,
    progress: Option<Progress>,
    best: Option<(f64, usize)>,
    /// Test hook: stop as if Ctrl-C came after this many batches.
    stop_after_batches: Option<usize>,
    batches_done: usize,
    epochs: usize,
}

impl Hooks {
    fn new(run_dir: &Path, config: &RunConfig, state: Option<&RunState>) -> anyhow::Result<Self> {
        let stop_after_batches = std::env::var("HAMSIM_STOP_AFTER_BATCHES").ok().and_then(|v| v.parse().ok());
        Ok(Hooks {
            run_dir: run_dir.to_path_buf(),
            progress: None,
            best: state.and_then(|s| s.best_val_mse.zip(s.best_epoch)),
            stop_after_batches,
            batches_done: 0,
            epochs: config.training.epochs,
        })
    }

    fn progress_finish(&self) {
        if let Some(progress) = &self.progress {
            progress.finish();
        }
    }

    fn save_last(&self, model: &Model, adam: &Adam, next: Position) -> candle_core::Result<()> {
        let dir = &self.run_dir;
        let io = |e: hamsim::Error| candle_core::Error::msg(e.to_string());
        write_atomically(&dir.join("last.safetensors"), |tmp| {
            model.varmap.save(tmp).map_err(|e| hamsim::Error::invalid("checkpoint", e.to_string()))
        })
        .map_err(io)?;
        write_atomically(&dir.join("optimizer.safetensors"), |tmp| {
            candle_core::safetensors::save(&adam.state(), tmp).map_err(|e| hamsim::Error::invalid("checkpoint", e.to_string()))
        })
        .map_err(io)?;
        let state = RunState {
            next,
            adam_steps: adam.steps,
            best_val_mse: self.best.map(|b| b.0),
            best_epoch: self.best.map(|b| b.1),
        };
        let json = serde_json::to_string_pretty(&state).map_err(candle_core::Error::wrap)?;
        write_atomically(&dir.join("state.json"), |tmp| {
            std::fs::write(tmp, &json).map_err(|e| hamsim::Error::io("cannot write state.json", e))
        })
        .map_err(io)
    }
}

impl TrainHooks for Hooks {
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) {
        self.batches_done += 1;
        let progress = self.progress.get_or_insert_with(|| Progress::bar_only(batches, "batches"));
        progress.set_message(format!("epoch {epoch}/{}, loss {loss:.3e}", self.epochs));
        progress.inc();
        if batch == batches {
            progress.finish();
            self.progress = None;
        }
    }

    fn on_epoch(&mut self, m: &EpochMetrics, model: &Model, adam: &Adam, next: Position) -> candle_core::Result<()> {
        let io = |e: anyhow::Error| candle_core::Error::msg(e.to_string());
        let mut row = String::new();
        let _ = writeln!(
            row,
            "{},{:e},{:e},{:e},{:.3},{:.1}",
            m.epoch, m.train_mse, m.val_mse, m.lr, m.seconds, m.chunks_per_second
        );
        let path = self.run_dir.join("metrics.csv");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&row);
        write_text(&path, &text).map_err(io)?;

        if self.best.is_none_or(|(best, _)| m.val_mse < best) && m.val_mse.is_finite() {
            self.best = Some((m.val_mse, m.epoch));
            write_atomically(&self.run_dir.join("model.safetensors"), |tmp| {
                model.varmap.save(tmp).map_err(|e| hamsim::Error::invalid("checkpoint", e.to_string()))
            })
            .map_err(|e| candle_core::Error::msg(e.to_string()))?;
        }
        self.save_last(model, adam, next)?;
        super::log!(
            "epoch {}/{}: train_mse {:.3e}, val_mse {:.3e}, lr {:.2e}, {:.1} s, {:.0} chunks/s",
            m.epoch,
            self.epochs,
            m.train_mse,
            m.val_mse,
            m.lr,
            m.seconds,
            m.chunks_per_second
        );
        Ok(())
    }

    fn should_stop(&mut self) -> bool {
        let simulated = self.stop_after_batches.is_some_and(|n| self.batches_done >= n);
        simulated || super::interrupt::stop_requested()
    }

    fn on_interrupt(&mut self, model: &Model, adam: &Adam, next: Position) -> candle_core::Result<()> {
        self.save_last(model, adam, next)
    }
}
