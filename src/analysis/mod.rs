//! Conservation analysis: energy, linear and angular momentum along trajectories.

pub mod conservation;

pub use conservation::{
    angular_momentum, conservation_series, linear_momentum, trajectory_drift, ConservationSeries,
    ConservationSummary, Drift, Statistic,
};

use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::physics::SystemSpec;
use crate::Result;

/// Measures the drift of every system of `dataset` under the Hamiltonian family `spec`, in
/// parallel; the result is in system order.
pub fn dataset_drifts(dataset: &Dataset, spec: &SystemSpec) -> Result<Vec<Drift>> {
    (0..dataset.systems)
        .into_par_iter()
        .map(|s| {
            let system =
                spec.hamiltonian(dataset.system_masses(s), dataset.system_spring_constants(s))?;
            Ok(trajectory_drift(system.as_ref(), dataset.trajectory(s)))
        })
        .collect()
}

/// Computes the conservation table of `dataset` under `spec`.
pub fn summarize(dataset: &Dataset, spec: &SystemSpec) -> Result<ConservationSummary> {
    let drifts = dataset_drifts(dataset, spec)?;
    Ok(ConservationSummary::from_drifts(
        &drifts,
        dataset.states,
        dataset.n_particles,
        dataset.dim,
    ))
}
