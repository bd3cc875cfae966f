//! Dataset generation: sample systems from a system file and integrate them in parallel.

use rayon::prelude::*;

use crate::analysis::{trajectory_drift, ConservationSummary, Drift};
use crate::dataset::{Dataset, Metadata};
use crate::physics::{Integrator, Sample, SystemSpec};
use crate::{Error, Result};

/// Settings of one generation run.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// The system family, with its time grid.
    pub spec: SystemSpec,
    /// Number of systems, at least 1.
    pub count: usize,
    /// Seed; system i draws from the generator stream (seed, i).
    pub seed: u64,
    /// Solver and settings.
    pub integrator: Integrator,
}

/// Allocates the zeroed state array of `count` trajectories of `trajectory_len` values, or
/// explains how large it would be when that is impossible.
fn allocate_states(count: usize, trajectory_len: usize) -> Result<Vec<f64>> {
    let too_large = |bytes: f64| {
        Error::invalid(
            "--count",
            format!(
                "{count} systems of {trajectory_len} values each need {:.1} GB of memory, which \
                 could not be allocated; lower --count or --states",
                bytes / 1e9
            ),
        )
    };
    let bytes = count as f64 * trajectory_len as f64 * 8.0;
    let len = count.checked_mul(trajectory_len).ok_or_else(|| too_large(bytes))?;
    let mut zs = Vec::new();
    zs.try_reserve_exact(len).map_err(|_| too_large(bytes))?;
    zs.resize(len, 0.0);
    Ok(zs)
}

/// Samples and integrates `config.count` systems on the current rayon pool, calling
/// `on_system_done` once per finished system.
///
/// The result does not depend on the number of threads: every system has its own generator
/// stream and writes its own rows, and the summary is computed in system order.
pub fn generate(config: &GenerateConfig, on_system_done: &(dyn Fn() + Sync)) -> Result<Dataset> {
    let spec = &config.spec;
    if config.count == 0 {
        return Err(Error::invalid(
            "--count",
            "0 systems requested; the allowed range is 1 or more",
        ));
    }
    config
        .integrator
        .check()
        .map_err(|m| Error::invalid("integrator", m))?;

    let ts = spec.times();
    let (n, d, states) = (spec.n_particles(), spec.dim(), spec.states());
    let trajectory_len = states * 2 * n * d;
    let mut zs = allocate_states(config.count, trajectory_len)?;

    let results: Vec<(Sample, Drift)> = zs
        .par_chunks_mut(trajectory_len)
        .enumerate()
        .map(|(index, out)| {
            let sample = spec.sample(config.seed, index as u64);
            let system = spec.hamiltonian(&sample.masses, sample.spring_constants.as_deref())?;
            config
                .integrator
                .integrate(system.as_ref(), &sample.z0, &ts, out)
                .map_err(|message| Error::Integration { index, message })?;
            let drift = trajectory_drift(system.as_ref(), out);
            on_system_done();
            Ok((sample, drift))
        })
        .collect::<Result<_>>()?;

    let mut masses = Vec::with_capacity(config.count * n);
    let mut spring_constants = Vec::with_capacity(config.count * n);
    let mut drifts = Vec::with_capacity(config.count);
    for (sample, drift) in results {
        masses.extend(sample.masses);
        spring_constants.extend(sample.spring_constants.unwrap_or_default());
        drifts.push(drift);
    }

    let conservation = ConservationSummary::from_drifts(&drifts, states, n, d);
    Ok(Dataset {
        systems: config.count,
        states,
        n_particles: n,
        dim: d,
        ts: ts.repeat(config.count),
        zs,
        masses,
        spring_constants: (!spring_constants.is_empty()).then_some(spring_constants),
        metadata: Some(Metadata {
            hamsim_version: env!("CARGO_PKG_VERSION").to_string(),
            system_kind: spec.kind_name().to_string(),
            system_toml: spec.text.clone(),
            seed: config.seed,
            integrator: config.integrator,
            dt: spec.dt(),
            states,
            conservation: Some(conservation),
            rollout: None,
        }),
    })
}
