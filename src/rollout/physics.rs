//! Rollouts of the exact Hamiltonian with a classical integrator: the baseline that a learned
//! integrator is compared with on the same initial states.

use rayon::prelude::*;

use super::{first_non_finite, Prediction, TimeGrid};
use crate::dataset::Dataset;
use crate::physics::{Integrator, SystemSpec};
use crate::Result;

/// A system whose integration failed, with the solver's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Index of the system.
    pub system: usize,
    /// The solver's message.
    pub message: String,
}

/// Integrates the first `grid.systems` systems of `data` under the Hamiltonian family `spec`
/// from their first stored state, on the current rayon pool, calling `on_system_done` once per
/// system.
///
/// A system whose solver fails, or whose state stops being finite, keeps NaN from that state on
/// and is marked diverged. The result does not depend on the number of threads.
pub fn roll_out_physics(
    data: &Dataset,
    spec: &SystemSpec,
    grid: &TimeGrid,
    integrator: &Integrator,
    on_system_done: &(dyn Fn() + Sync),
) -> Result<(Prediction, Vec<Failure>)> {
    let len = data.state_len();
    let mut prediction = Prediction::empty(grid.systems, grid.states, len);

    let outcomes: Vec<(Option<usize>, Option<String>)> = prediction
        .zs
        .par_chunks_mut(grid.states * len)
        .enumerate()
        .map(|(s, out)| {
            let system = spec.hamiltonian(data.system_masses(s), data.system_spring_constants(s))?;
            let z0 = &data.trajectory(s)[..len];
            let failure = integrator.integrate(system.as_ref(), z0, grid.times(s), out).err();
            let diverged = first_non_finite(out, len);
            if let Some(state) = diverged {
                out[state * len..].fill(f64::NAN);
            }
            on_system_done();
            Ok((diverged, failure))
        })
        .collect::<Result<_>>()?;

    let mut failures = Vec::new();
    for (s, (diverged, failure)) in outcomes.into_iter().enumerate() {
        prediction.diverged[s] = diverged;
        if let Some(message) = failure {
            failures.push(Failure { system: s, message });
        }
    }
    Ok((prediction, failures))
}
