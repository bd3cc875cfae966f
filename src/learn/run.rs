//! Run directories: the files `hamsim train` writes, and loading a trained model back.
//!
//! | file | contents |
//! | --- | --- |
//! | `config.json` | [`RunConfig`]: the model, the recipe and the datasets' fingerprints |
//! | `model.safetensors` | weights of the epoch with the lowest validation MSE |
//! | `last.safetensors` | weights after the last finished batch, for `--resume` |
//! | `optimizer.safetensors` | Adam's moments, for `--resume` |
//! | `state.json` | [`RunState`]: where training stopped |
//! | `metrics.csv` | one row per epoch |

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};

use super::train::{Position, TrainSettings};
use crate::dataset::Dataset;
use crate::nn::{Dynamics, Model, ModelConfig, ModelKind};
use crate::{Error, Result};

/// The files of a run directory.
pub const RUN_FILES: [&str; 6] = [
    "config.json",
    "model.safetensors",
    "last.safetensors",
    "optimizer.safetensors",
    "state.json",
    "metrics.csv",
];

/// Everything needed to rebuild and continue a run, stored as `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    /// Version of hamsim that started the run.
    pub hamsim_version: String,
    /// The architecture.
    pub model: ModelConfig,
    /// The training recipe.
    pub training: TrainSettings,
    /// Training systems.
    pub n_train: usize,
    /// Validation systems.
    pub n_val: usize,
    /// Precision of training, `f32` or `f64`.
    pub dtype: String,
    /// The training dataset.
    pub data: DataRecord,
    /// The separate validation dataset, if one was given.
    pub val: Option<DataRecord>,
}

/// Identity of a dataset used by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// Path as given on the command line.
    pub path: PathBuf,
    /// [`fingerprint`] of the contents.
    pub fingerprint: String,
    /// `springs` or `gravity`, for hamsim datasets.
    pub system_kind: Option<String>,
    /// The system file the dataset was generated from, for hamsim datasets.
    pub system_toml: Option<String>,
}

impl DataRecord {
    /// Records `data`, read from `path`.
    pub fn new(path: &Path, data: &Dataset) -> Self {
        DataRecord {
            path: path.to_path_buf(),
            fingerprint: fingerprint(data),
            system_kind: data.metadata.as_ref().map(|m| m.system_kind.clone()),
            system_toml: data.metadata.as_ref().map(|m| m.system_toml.clone()),
        }
    }
}

/// Training progress saved with `last.safetensors`, stored as `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    /// The next batch to train.
    pub next: Position,
    /// Adam steps taken so far.
    pub adam_steps: u64,
    /// Lowest validation MSE of a finished epoch.
    pub best_val_mse: Option<f64>,
    /// The epoch (from 1) that reached it.
    pub best_epoch: Option<usize>,
}

/// The weights file of a run to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// `model.safetensors`, the epoch with the lowest validation MSE.
    Best,
    /// `last.safetensors`, the weights after the last finished batch.
    Last,
}

impl Checkpoint {
    /// Returns the weights file name inside a run directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Checkpoint::Best => "model.safetensors",
            Checkpoint::Last => "last.safetensors",
        }
    }
}

/// Reads `config.json` of the run in `run_dir`.
pub fn read_config(run_dir: &Path) -> Result<RunConfig> {
    let path = run_dir.join("config.json");
    if !run_dir.is_dir() {
        return Err(Error::invalid(
            "--run",
            format!("{} is not a directory; give the --output directory of hamsim train", run_dir.display()),
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::invalid(
            "--run",
            format!(
                "{} is not a complete run directory: cannot read config.json ({e}); give the --output \
                 directory of hamsim train",
                run_dir.display()
            ),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::invalid("--run", format!("{} is not a valid run config: {e}", path.display()))
    })
}

/// Loads the weights `checkpoint` of the run in `run_dir` into a model of `config` in `dtype`,
/// casting them when they were saved in another precision.
pub fn load_model(run_dir: &Path, config: &RunConfig, checkpoint: Checkpoint, dtype: DType) -> Result<Model> {
    let weights = checkpoint_path(run_dir, checkpoint)?;
    Model::load(config.model.clone(), &weights, dtype, &Device::Cpu).map_err(|e| load_error(&weights, e))
}

/// Loads the dynamics of checkpoint `checkpoint` of the run in `run_dir` for inference, with
/// constant weights cast to `dtype`.
pub fn load_dynamics(run_dir: &Path, config: &RunConfig, checkpoint: Checkpoint, dtype: DType) -> Result<Box<dyn Dynamics>> {
    let weights = checkpoint_path(run_dir, checkpoint)?;
    Model::load_dynamics(&config.model, &weights, dtype, &Device::Cpu).map_err(|e| load_error(&weights, e))
}

fn load_error(weights: &Path, error: candle_core::Error) -> Error {
    Error::invalid(
        "--run",
        format!("cannot load {} into the model of config.json: {error}", weights.display()),
    )
}

/// Returns the weights file of `checkpoint`, or an error naming what is missing.
fn checkpoint_path(run_dir: &Path, checkpoint: Checkpoint) -> Result<PathBuf> {
    let weights = run_dir.join(checkpoint.file_name());
    if !weights.is_file() {
        let epochs = std::fs::read_to_string(run_dir.join("metrics.csv"))
            .map_or(0, |text| text.lines().skip(1).filter(|l| !l.is_empty()).count());
        let hint = match checkpoint {
            Checkpoint::Best if epochs > 0 => "metrics.csv records finished epochs, so the weights were \
                 removed or never copied with the run; train again or copy the file",
            Checkpoint::Best => "no training epoch has finished yet; let hamsim train finish an epoch",
            Checkpoint::Last => "it is written after the first batch; use the best checkpoint instead",
        };
        return Err(Error::invalid(
            "--run",
            format!("{} is incomplete: {} is missing ({hint})", run_dir.display(), checkpoint.file_name()),
        ));
    }
    Ok(weights)
}

/// Checks that a dataset's particle count, dimension and per-particle features fit `model`.
pub fn check_fits(data: &Dataset, path: &Path, model: &ModelConfig) -> Result<()> {
    let features = if data.spring_constants.is_some() { 2 } else { 1 };
    if data.n_particles != model.n_particles || data.dim != model.dim || features != model.features {
        return Err(Error::Dataset {
            path: path.to_path_buf(),
            message: format!(
                "it contains {} particles in {}D with {} feature(s) each ({}), but the model \
                 expects {} particles in {}D with {} feature(s); use a dataset of the system the \
                 model was trained on",
                data.n_particles,
                data.dim,
                features,
                feature_names(features),
                model.n_particles,
                model.dim,
                model.features
            ),
        });
    }
    Ok(())
}

fn feature_names(features: usize) -> &'static str {
    if features == 2 {
        "mass and spring constant"
    } else {
        "mass"
    }
}

/// Describes a model in a few words, for logs and plot titles.
pub fn describe(model: &ModelConfig) -> String {
    let plural = |count: usize, noun: &str| format!("{count} {noun}{}", if count == 1 { "" } else { "s" });
    match model.model {
        ModelKind::Lieconv => format!(
            "lieconv {} (k = {}, {})",
            model.group.as_deref().unwrap_or("?"),
            model.width,
            plural(model.layers, "block")
        ),
        ModelKind::Hnn => format!("hnn ({} of width {})", plural(model.layers, "layer"), model.width),
        ModelKind::Node => format!("node ({} of width {})", plural(model.layers, "layer"), model.width),
    }
}

/// FNV-1a over the bits of every state, mass and spring constant: it changes when the data do.
pub fn fingerprint(data: &Dataset) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let arrays = [Some(&data.zs), Some(&data.masses), data.spring_constants.as_ref()];
    for value in arrays.into_iter().flatten().flat_map(|a| a.iter()) {
        for byte in value.to_bits().to_le_bytes() {
            hash ^= byte as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
