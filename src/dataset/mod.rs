//! Trajectory datasets: hamsim's safetensors format, `.npz` import, and the Hamiltonian that
//! produced a dataset.
//!
//! A dataset of S systems of n particles in d dimensions, each saved at T times, contains
//!
//! | array | shape | meaning |
//! | --- | --- | --- |
//! | `ts` | (S, T) | saved times |
//! | `zs` | (S, T, 2·n·d) | states z = [q, p], particle-major within each half |
//! | `masses` | (S, n) | particle masses |
//! | `spring_constants` | (S, n) | spring constants, spring networks only (`k` in `.npz`) |

mod npz;
mod output;
mod safetensors;
mod system;

use std::path::{Path, PathBuf};

pub use self::safetensors::{write, Metadata, FORMAT, FORMAT_VERSION};
pub use output::{write_atomically, OutputFile};
pub use system::{resolve_system, SystemSource};

use crate::{Error, Result};

/// Trajectories of many systems with their parameters, all in f64 and row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Number of systems S.
    pub systems: usize,
    /// Saved states per system T.
    pub states: usize,
    /// Particles per system n.
    pub n_particles: usize,
    /// Spatial dimension d.
    pub dim: usize,
    /// Saved times, shape (S, T).
    pub ts: Vec<f64>,
    /// States, shape (S, T, 2·n·d).
    pub zs: Vec<f64>,
    /// Masses, shape (S, n).
    pub masses: Vec<f64>,
    /// Spring constants, shape (S, n), for spring networks.
    pub spring_constants: Option<Vec<f64>>,
    /// hamsim's metadata; `None` for files made by other tools.
    pub metadata: Option<Metadata>,
}

impl Dataset {
    /// Length of one state vector, 2·n·d.
    pub fn state_len(&self) -> usize {
        2 * self.n_particles * self.dim
    }

    /// Saved times of system `s`, shape (T).
    pub fn times(&self, s: usize) -> &[f64] {
        &self.ts[s * self.states..(s + 1) * self.states]
    }

    /// Trajectory of system `s`, shape (T, 2·n·d).
    pub fn trajectory(&self, s: usize) -> &[f64] {
        let len = self.states * self.state_len();
        &self.zs[s * len..(s + 1) * len]
    }

    /// Masses of system `s`, shape (n).
    pub fn system_masses(&self, s: usize) -> &[f64] {
        &self.masses[s * self.n_particles..(s + 1) * self.n_particles]
    }

    /// Spring constants of system `s`, shape (n), if the dataset has them.
    pub fn system_spring_constants(&self, s: usize) -> Option<&[f64]> {
        let n = self.n_particles;
        self.spring_constants.as_ref().map(|k| &k[s * n..(s + 1) * n])
    }

    /// Reads a dataset, telling hamsim's safetensors format from `.npz` by the file's content.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| dataset_error(path, format!("cannot read it: {e}")))?;
        let dataset = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            npz::read(path, &bytes)?
        } else {
            safetensors::read(path, &bytes)?
        };
        dataset.check(path)?;
        Ok(dataset)
    }

    /// Names the entry at flat index `i` of array `name` by system, state and component.
    fn describe_index(&self, name: &str, i: usize) -> String {
        match name {
            "zs" => {
                let len = self.state_len();
                let (system, rest) = (i / (self.states * len), i % (self.states * len));
                format!("system {system}, state {}, component {}", rest / len, rest % len)
            }
            "ts" => format!("system {}, state {}", i / self.states, i % self.states),
            _ => format!("system {}, particle {}", i / self.n_particles, i % self.n_particles),
        }
    }

    /// Checks that every value is finite and every mass positive.
    fn check(&self, path: &Path) -> Result<()> {
        let arrays: [(&str, Option<&[f64]>); 4] = [
            ("ts", Some(&self.ts)),
            ("zs", Some(&self.zs)),
            ("masses", Some(&self.masses)),
            ("spring_constants", self.spring_constants.as_deref()),
        ];
        for (name, values) in arrays {
            let Some(values) = values else { continue };
            if let Some(i) = values.iter().position(|x| !x.is_finite()) {
                return Err(dataset_error(
                    path,
                    format!(
                        "array '{name}' contains the non-finite value {} at {}; every value must be finite",
                        values[i],
                        self.describe_index(name, i)
                    ),
                ));
            }
        }
        if let Some(i) = self.masses.iter().position(|&m| m <= 0.0) {
            return Err(dataset_error(
                path,
                format!(
                    "mass {} of system {} is not positive; masses must be > 0",
                    self.masses[i],
                    i / self.n_particles
                ),
            ));
        }
        Ok(())
    }
}

/// The arrays of a dataset as read from a file, before their shapes are checked.
pub(crate) struct RawArrays {
    pub ts: (Vec<usize>, Vec<f64>),
    pub zs: (Vec<usize>, Vec<f64>),
    pub masses: (Vec<usize>, Vec<f64>),
    pub spring_constants: Option<(Vec<usize>, Vec<f64>)>,
}

impl RawArrays {
    /// Checks that the shapes agree and builds the dataset. A `ts` of shape (T) is shared by all
    /// systems.
    pub fn into_dataset(self, path: &Path, metadata: Option<Metadata>) -> Result<Dataset> {
        let error = |message: String| dataset_error(path, message);
        let (zs_shape, zs) = self.zs;
        let [systems, states, state_len] = zs_shape[..] else {
            return Err(error(format!(
                "array 'zs' has shape {zs_shape:?}, expected 3 axes (systems, states, 2·n·d)"
            )));
        };
        let (masses_shape, masses) = self.masses;
        if masses_shape.len() != 2 || masses_shape[0] != systems {
            return Err(error(format!(
                "array 'masses' has shape {masses_shape:?}, expected ({systems}, n_particles) to match 'zs' {zs_shape:?}"
            )));
        }
        let n_particles = masses_shape[1];
        if n_particles == 0 || state_len == 0 || state_len % (2 * n_particles) != 0 {
            return Err(error(format!(
                "'zs' has {state_len} values per state, which is not 2·n·d for the {n_particles} particles of 'masses'"
            )));
        }
        if systems == 0 || states == 0 {
            return Err(error(format!("array 'zs' of shape {zs_shape:?} holds no states")));
        }
        let ts = broadcast_times(self.ts, systems, states).map_err(error)?;

        let spring_constants = match self.spring_constants {
            Some((shape, _)) if shape != masses_shape => {
                return Err(error(format!(
                    "spring constants have shape {shape:?}, expected {masses_shape:?} like 'masses'"
                )))
            }
            Some((_, k)) => Some(k),
            None => None,
        };

        Ok(Dataset {
            systems,
            states,
            n_particles,
            dim: state_len / (2 * n_particles),
            ts,
            zs,
            masses,
            spring_constants,
            metadata,
        })
    }
}

/// Expands `ts` of shape (T) to (S, T); passes (S, T) through.
fn broadcast_times(
    (shape, ts): (Vec<usize>, Vec<f64>),
    systems: usize,
    states: usize,
) -> Result<Vec<f64>, String> {
    match shape[..] {
        [s, t] if s == systems && t == states => Ok(ts),
        [t] if t == states => Ok(ts.iter().copied().cycle().take(systems * states).collect()),
        _ => Err(format!(
            "array 'ts' has shape {shape:?}, expected ({systems}, {states}) or ({states}) to match 'zs'"
        )),
    }
}

pub(crate) fn dataset_error(path: &Path, message: String) -> Error {
    Error::Dataset {
        path: PathBuf::from(path),
        message,
    }
}
