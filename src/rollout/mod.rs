//! Long rollouts from the first saved state of each system, by a learned model
//! ([`crate::learn::rollout`]) or by the exact Hamiltonian ([`physics`]), and their comparison
//! with the stored trajectories ([`metrics`]) in tables, files and plots ([`figures`]).

pub mod figures;
pub mod metrics;
pub mod physics;

use crate::dataset::Dataset;
use crate::{Error, Result};

/// The saved times of a rollout: the dataset's own times up to a horizon, continued past the
/// dataset's last time with its mean interval.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeGrid {
    /// Number of systems S, the first S of the dataset.
    pub systems: usize,
    /// Saved states per system, the initial one included.
    pub states: usize,
    /// Leading states that the dataset also stores, so that the state error can be measured.
    pub truth_states: usize,
    /// Saved times, shape (S, states).
    pub ts: Vec<f64>,
}

/// Maximum number of values a rollout may keep in memory (about 4 GB of f64 states).
const MAX_VALUES: usize = 500_000_000;

impl TimeGrid {
    /// Builds the grid of the first `count` systems of `data` (all when `None`), ending at `horizon`
    /// (the dataset's last time when `None`), in the dataset's time units.
    ///
    /// The number of states comes from system 0, so every system has the same count even when
    /// the files' times differ between systems.
    pub fn new(data: &Dataset, count: Option<usize>, horizon: Option<f64>) -> Result<Self> {
        let systems = check_count(data, count)?;
        let times0 = data.times(0);
        let (start, last) = (times0[0], times0[data.states - 1]);
        let (truth_states, extra) = match horizon {
            None => (data.states, 0),
            Some(end) => {
                check_horizon(data, end, start)?;
                let within = times0.iter().filter(|&&t| t <= end + 1e-9 * (end - start)).count();
                let extra = if end > last {
                    let dt = mean_interval(times0);
                    ((end - last) / dt + 1e-9).floor() as usize
                } else {
                    0
                };
                (within, extra)
            }
        };
        let states = truth_states + extra;
        if systems.saturating_mul(states).saturating_mul(data.state_len()) > MAX_VALUES {
            return Err(Error::invalid(
                "--horizon",
                format!(
                    "{systems} systems of {states} states need more than {:.0} GB of memory; \
                     lower --horizon or --count",
                    MAX_VALUES as f64 * 8.0 / 1e9
                ),
            ));
        }

        let mut ts = Vec::with_capacity(systems * states);
        for s in 0..systems {
            let times = data.times(s);
            ts.extend_from_slice(&times[..truth_states]);
            let t_last = times[data.states - 1];
            let dt = mean_interval(times);
            ts.extend((1..=extra).map(|k| t_last + k as f64 * dt));
        }
        Ok(TimeGrid {
            systems,
            states,
            truth_states,
            ts,
        })
    }

    /// Saved times of system `s`, shape (states).
    pub fn times(&self, s: usize) -> &[f64] {
        &self.ts[s * self.states..(s + 1) * self.states]
    }
}

/// Returns the mean saved interval (t_last − t_0) / (T − 1), which carries less round-off than one
/// difference of neighbouring times; 0 for a single state.
fn mean_interval(times: &[f64]) -> f64 {
    match times.len() {
        0 | 1 => 0.0,
        states => (times[states - 1] - times[0]) / (states - 1) as f64,
    }
}

fn check_count(data: &Dataset, count: Option<usize>) -> Result<usize> {
    match count {
        None => Ok(data.systems),
        Some(0) => Err(Error::invalid("--count", "0 systems requested; use 1 or more")),
        Some(n) if n > data.systems => Err(Error::invalid(
            "--count",
            format!(
                "{n} systems requested, but the dataset contains {}; use 1 to {}",
                data.systems, data.systems
            ),
        )),
        Some(n) => Ok(n),
    }
}

fn check_horizon(data: &Dataset, end: f64, start: f64) -> Result<()> {
    if data.states < 2 {
        return Err(Error::invalid(
            "--horizon",
            "the dataset stores one state per system, so it has no time step to continue with",
        ));
    }
    let first_step = data.times(0)[1];
    if !end.is_finite() || end < first_step {
        return Err(Error::invalid(
            "--horizon",
            format!(
                "{end:?} is out of range; the rollout ends at a time in the dataset's units, at \
                 least {first_step} (its first saved time after t = {start})"
            ),
        ));
    }
    Ok(())
}

/// Predicted trajectories of the systems of a [`TimeGrid`].
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Number of systems S.
    pub systems: usize,
    /// Saved states per system.
    pub states: usize,
    /// Length of a state, 2·n·d.
    pub state_len: usize,
    /// States, shape (S, states, 2·n·d); NaN from a system's divergence on.
    pub zs: Vec<f64>,
    /// First saved state of each system that is not finite, shape (S).
    pub diverged: Vec<Option<usize>>,
    /// The learned Hamiltonian along each rollout, shape (S, states), for Hamiltonian models.
    pub learned_energy: Option<Vec<f64>>,
}

impl Prediction {
    /// Creates a prediction of `systems` systems filled with NaN.
    pub fn empty(systems: usize, states: usize, state_len: usize) -> Self {
        Prediction {
            systems,
            states,
            state_len,
            zs: vec![f64::NAN; systems * states * state_len],
            diverged: vec![None; systems],
            learned_energy: None,
        }
    }

    /// Trajectory of system `s`, shape (states, 2·n·d).
    pub fn trajectory(&self, s: usize) -> &[f64] {
        let len = self.states * self.state_len;
        &self.zs[s * len..(s + 1) * len]
    }

    /// Learned energies of system `s`, shape (states).
    pub fn learned_energies(&self, s: usize) -> Option<&[f64]> {
        let states = self.states;
        self.learned_energy.as_ref().map(|e| &e[s * states..(s + 1) * states])
    }

    /// Number of systems that diverged.
    pub fn diverged_count(&self) -> usize {
        self.diverged.iter().filter(|d| d.is_some()).count()
    }
}

/// Returns the first state of `trajectory` (states, len) that contains a non-finite value.
pub fn first_non_finite(trajectory: &[f64], len: usize) -> Option<usize> {
    trajectory.chunks_exact(len).position(|z| z.iter().any(|x| !x.is_finite()))
}
