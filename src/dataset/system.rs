//! Finding the Hamiltonian that produced a dataset.

use std::path::Path;

use super::Dataset;
use crate::physics::spec::{SpringsSpec, SystemKind};
use crate::physics::{Distribution, Integrator, SystemSpec};
use crate::{Error, Result};

/// The origin of a dataset's Hamiltonian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemSource {
    /// A system file named on the command line.
    File,
    /// The system file stored in the dataset's metadata.
    Metadata,
    /// A file without metadata that contains spring constants, read as springs.
    SpringConstants,
}

/// Picks the system of `dataset`: the file given with `--system`, else the one stored in the
/// dataset's metadata, else springs when the file contains spring constants.
///
/// The chosen system must match the dataset's particle count and dimension.
pub fn resolve_system(
    dataset: &Dataset,
    dataset_path: &Path,
    system_file: Option<&Path>,
) -> Result<(SystemSpec, SystemSource)> {
    let (spec, source) = if let Some(file) = system_file {
        let spec = SystemSpec::from_file(file)?;
        if let Some(metadata) = &dataset.metadata {
            if metadata.system_kind != spec.kind_name() {
                return Err(Error::invalid(
                    "--system",
                    format!(
                        "{} was generated from a {} system, but {} describes {}; omit --system \
                         to use the system stored in the dataset",
                        dataset_path.display(),
                        metadata.system_kind,
                        file.display(),
                        spec.kind_name()
                    ),
                ));
            }
        }
        (spec, SystemSource::File)
    } else if let Some(metadata) = &dataset.metadata {
        let spec = SystemSpec::from_toml(Path::new("<system stored in the dataset>"), &metadata.system_toml)?;
        (spec, SystemSource::Metadata)
    } else if dataset.spring_constants.is_some() {
        (springs_for(dataset), SystemSource::SpringConstants)
    } else {
        return Err(Error::Dataset {
            path: dataset_path.to_path_buf(),
            message: "it has no hamsim metadata and no spring constants, so the Hamiltonian \
                      that produced it is unknown; pass --system FILE.toml to name it"
                .to_string(),
        });
    };

    if spec.n_particles() != dataset.n_particles || spec.dim() != dataset.dim {
        return Err(Error::invalid(
            "--system",
            format!(
                "{} describes {} particles in {}D, but {} holds {} particles in {}D; \
                 name the system file that produced this dataset",
                spec.path.display(),
                spec.n_particles(),
                spec.dim(),
                dataset_path.display(),
                dataset.n_particles,
                dataset.dim
            ),
        ));
    }
    if spec.kind_name() != "springs" && dataset.spring_constants.is_some() {
        return Err(Error::invalid(
            "--system",
            format!(
                "{} describes a {} system, but {} holds spring constants, so it contains spring \
                 networks; pass a springs system file",
                spec.path.display(),
                spec.kind_name(),
                dataset_path.display()
            ),
        ));
    }
    if spec.kind_name() == "springs" && dataset.spring_constants.is_none() {
        return Err(Error::invalid(
            "--system",
            format!(
                "{} is a springs system, but {} has no spring constants ('spring_constants' or 'k')",
                spec.path.display(),
                dataset_path.display()
            ),
        ));
    }
    Ok((spec, source))
}

/// Builds a springs system of the dataset's shape. Only its kind, n and d matter, because
/// masses and spring constants come from the file.
fn springs_for(dataset: &Dataset) -> SystemSpec {
    let placeholder = Distribution::Constant { value: 1.0 };
    let dt = if dataset.states > 1 {
        dataset.ts[1] - dataset.ts[0]
    } else {
        1.0
    };
    SystemSpec {
        path: "<springs, inferred from the spring constants in the file>".into(),
        text: String::new(),
        kind: SystemKind::Springs(SpringsSpec {
            n_particles: dataset.n_particles,
            dim: dataset.dim,
            dt,
            states: dataset.states,
            masses: placeholder,
            spring_constants: placeholder,
            q0: placeholder,
            p0: placeholder,
            integrator: Integrator::default(),
        }),
    }
}
