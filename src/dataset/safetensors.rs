//! hamsim's dataset format: a safetensors file with f64 arrays and string metadata.
//!
//! Metadata keys: `format` (`hamsim-dataset`), `format_version`, `hamsim_version`,
//! `system_kind`, `system_toml` (the system file's text), `seed`, `integrator`, `rtol` and
//! `atol` (dop853 only), `substeps` (rk4 and leapfrog only), `dt`, `states`, and
//! `conservation` (the JSON conservation summary). `dt`, `states` and the solver keys record
//! what was run, command-line overrides included, and take precedence over `system_toml`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::{dataset_error, Dataset, RawArrays};
use crate::analysis::ConservationSummary;
use crate::physics::{Integrator, IntegratorKind};
use crate::{Error, Result};

/// The value of the `format` metadata key in hamsim datasets.
pub const FORMAT: &str = "hamsim-dataset";

/// The version of the layout described in this module.
pub const FORMAT_VERSION: &str = "1";

/// The record of how a dataset was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// hamsim version that wrote the file.
    pub hamsim_version: String,
    /// `springs` or `gravity`.
    pub system_kind: String,
    /// The system file's text, verbatim.
    pub system_toml: String,
    /// Seed of the run.
    pub seed: u64,
    /// Solver and its settings.
    pub integrator: Integrator,
    /// Time between saved states.
    pub dt: f64,
    /// Saved states per system.
    pub states: usize,
    /// Conservation summary measured at generation, or over the predicted states of a rollout.
    pub conservation: Option<ConservationSummary>,
    /// For states predicted by `hamsim rollout --save`: a JSON object naming the dynamics, the
    /// run, the source dataset and the integrator. `integrator` and `seed` then describe the
    /// rollout and the source dataset respectively.
    pub rollout: Option<String>,
}

impl Metadata {
    fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        let mut put = |key: &str, value: String| map.insert(key.to_string(), value);
        put("format", FORMAT.to_string());
        put("format_version", FORMAT_VERSION.to_string());
        put("hamsim_version", self.hamsim_version.clone());
        put("system_kind", self.system_kind.clone());
        put("system_toml", self.system_toml.clone());
        put("seed", self.seed.to_string());
        put("integrator", self.integrator.method.to_string());
        // Only the settings the method uses are recorded.
        if self.integrator.method == IntegratorKind::Dop853 {
            put("rtol", format!("{:?}", self.integrator.rtol));
            put("atol", format!("{:?}", self.integrator.atol));
        } else {
            put("substeps", self.integrator.substeps.to_string());
        }
        put("dt", format!("{:?}", self.dt));
        put("states", self.states.to_string());
        if let Some(summary) = &self.conservation {
            put(
                "conservation",
                serde_json::to_string(summary).expect("the summary is plain data"),
            );
        }
        if let Some(rollout) = &self.rollout {
            put("rollout", rollout.clone());
        }
        map
    }

    /// Parses hamsim metadata; `Ok(None)` when the file was not written by hamsim.
    fn from_map(map: &HashMap<String, String>) -> Result<Option<Self>, String> {
        if map.get("format").map(String::as_str) != Some(FORMAT) {
            return Ok(None);
        }
        let version = map.get("format_version").map(String::as_str).unwrap_or("missing");
        if version != FORMAT_VERSION {
            return Err(format!(
                "format_version {version} is not supported by hamsim {} (it reads version \
                 {FORMAT_VERSION}); use the hamsim version that wrote the file",
                env!("CARGO_PKG_VERSION")
            ));
        }
        let get = |key: &str| {
            map.get(key)
                .ok_or_else(|| format!("metadata key '{key}' is missing"))
        };
        let parse = |key: &str| -> Result<f64, String> {
            get(key)?
                .parse()
                .map_err(|e| format!("metadata key '{key}': {e}"))
        };
        let method: IntegratorKind = get("integrator")?.parse()?;
        let defaults = Integrator::default();
        let optional = |key: &str, default: f64| -> Result<f64, String> {
            if map.contains_key(key) {
                parse(key)
            } else {
                Ok(default)
            }
        };
        let conservation = match map.get("conservation") {
            Some(json) => Some(
                serde_json::from_str(json).map_err(|e| format!("metadata key 'conservation': {e}"))?,
            ),
            None => None,
        };
        Ok(Some(Metadata {
            hamsim_version: get("hamsim_version")?.clone(),
            system_kind: get("system_kind")?.clone(),
            system_toml: get("system_toml")?.clone(),
            seed: parse("seed")? as u64,
            integrator: Integrator {
                method,
                rtol: optional("rtol", defaults.rtol)?,
                atol: optional("atol", defaults.atol)?,
                substeps: optional("substeps", defaults.substeps as f64)? as usize,
            },
            dt: parse("dt")?,
            states: parse("states")? as usize,
            conservation,
            rollout: map.get("rollout").cloned(),
        }))
    }
}

/// Writes `dataset` as safetensors to `path`, which should be a fresh temporary file: the
/// caller renames it into place.
///
/// The header is written here rather than by `safetensors::serialize_to_file`. That function
/// takes the metadata as a `HashMap`, so it writes the keys in a different order on every run,
/// and hamsim promises identical bytes for identical inputs. The layout follows the
/// safetensors specification: the header's length as a little-endian u64, the JSON header
/// padded with spaces to a multiple of 8 bytes, then the arrays' bytes back to back.
pub fn write(dataset: &Dataset, path: &Path) -> Result<()> {
    let (s, t, n) = (dataset.systems, dataset.states, dataset.n_particles);
    let mut arrays: Vec<(&str, Vec<usize>, Cow<[u8]>)> = vec![
        ("masses", vec![s, n], le_bytes(&dataset.masses)),
        ("ts", vec![s, t], le_bytes(&dataset.ts)),
        ("zs", vec![s, t, dataset.state_len()], le_bytes(&dataset.zs)),
    ];
    if let Some(k) = &dataset.spring_constants {
        arrays.push(("spring_constants", vec![s, n], le_bytes(k)));
    }

    let mut header = serde_json::Map::new();
    if let Some(metadata) = &dataset.metadata {
        header.insert("__metadata__".into(), serde_json::to_value(metadata.to_map()).expect("strings"));
    }
    let mut offset = 0;
    for (name, shape, bytes) in &arrays {
        let info = serde_json::json!({
            "dtype": "F64",
            "shape": shape,
            "data_offsets": [offset, offset + bytes.len()],
        });
        header.insert(name.to_string(), info);
        offset += bytes.len();
    }
    let mut header = serde_json::to_vec(&header).expect("the header is plain JSON");
    header.resize(header.len().next_multiple_of(8), b' ');

    let io_error = |e| Error::io(format!("cannot write {}", path.display()), e);
    let file = std::fs::File::create(path).map_err(io_error)?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    writer.write_all(&(header.len() as u64).to_le_bytes()).map_err(io_error)?;
    writer.write_all(&header).map_err(io_error)?;
    for (_, _, bytes) in &arrays {
        writer.write_all(bytes).map_err(io_error)?;
    }
    let file = writer.into_inner().map_err(|e| io_error(e.into_error()))?;
    file.sync_all().map_err(io_error)
}

/// Parses a safetensors dataset already read into memory.
pub(super) fn read(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let error = |message: String| dataset_error(path, message);
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| {
        error(format!(
            "not a safetensors or .npz dataset, or the file is truncated ({e})"
        ))
    })?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| error(format!("unreadable safetensors header ({e})")))?;
    let metadata = match header.metadata() {
        Some(map) => Metadata::from_map(map).map_err(error)?,
        None => None,
    };

    let array = |name: &str| -> Result<Option<(Vec<usize>, Vec<f64>)>> {
        match tensors.tensor(name) {
            Ok(view) => to_f64(&view).map(Some).map_err(|m| error(format!("array '{name}': {m}"))),
            Err(_) => Ok(None),
        }
    };
    let missing = |name: &str| error(format!("the file has no array '{name}'"));

    let raw = RawArrays {
        ts: array("ts")?.ok_or_else(|| missing("ts"))?,
        zs: array("zs")?.ok_or_else(|| missing("zs"))?,
        masses: array("masses")?.ok_or_else(|| missing("masses"))?,
        spring_constants: match array("spring_constants")? {
            Some(k) => Some(k),
            None => array("k")?,
        },
    };
    raw.into_dataset(path, metadata)
}

fn to_f64(view: &TensorView<'_>) -> Result<(Vec<usize>, Vec<f64>), String> {
    let data = view.data();
    let values = match view.dtype() {
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8 bytes")))
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes(b.try_into().expect("chunks of 4 bytes"))))
            .collect(),
        other => return Err(format!("dtype {other:?} is not supported; use F64 or F32")),
    };
    Ok((view.shape().to_vec(), values))
}

/// The little-endian bytes of `values`, borrowed where the machine is little-endian.
fn le_bytes(values: &[f64]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytemuck::cast_slice(values))
    } else {
        Cow::Owned(values.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}
