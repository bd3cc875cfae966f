//! Long rollouts of learned dynamics, batched over systems and run without gradient tracking.
//!
//! Systems are cut into batches of a fixed size that run in parallel on the rayon pool, so the
//! predicted states do not depend on the number of threads. Inside a batch, every saved
//! interval takes `substeps` RK4 or velocity Verlet steps of size (t[i+1] − t[i]) / substeps,
//! computed in f64 before the cast to the model's precision. A system whose state stops being
//! finite leaves the batch and keeps NaN from that state on.

use candle_core::{DType, Device, Result, Tensor};
use rayon::prelude::*;

use super::integrate::{rk4_step, LeapfrogState, Tracking};
use crate::dataset::Dataset;
use crate::nn::{Dynamics, SystemBatch};
use crate::physics::IntegratorKind;
use crate::rollout::{Prediction, TimeGrid};

/// Settings of a learned model's rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutSettings {
    /// `Rk4`, or `Leapfrog` for models with a separable Hamiltonian.
    pub method: IntegratorKind,
    /// Steps per saved interval, at least 1.
    pub substeps: usize,
    /// Systems per batch, at least 1.
    pub batch_size: usize,
    /// Precision of the model's weights and states.
    pub dtype: DType,
}

/// Rolls out `dynamics` from the first stored state of the first `grid.systems` systems of
/// `data` over the saved times of `grid`, calling `on_interval` once per batch and saved
/// interval.
pub fn roll_out_model(
    dynamics: &dyn Dynamics,
    data: &Dataset,
    grid: &TimeGrid,
    settings: RolloutSettings,
    on_interval: &(dyn Fn() + Sync),
) -> Result<Prediction> {
    if !matches!(settings.method, IntegratorKind::Rk4 | IntegratorKind::Leapfrog) {
        candle_core::bail!("learned dynamics are rolled out with rk4 or leapfrog, not {}", settings.method);
    }
    let batch_size = settings.batch_size.max(1);
    let starts: Vec<usize> = (0..grid.systems).step_by(batch_size).collect();
    let batches: Vec<Prediction> = starts
        .par_iter()
        .map(|&start| {
            let count = batch_size.min(grid.systems - start);
            BatchRollout::new(dynamics, data, grid, settings, start, count)?.run(on_interval)
        })
        .collect::<Result<_>>()?;
    Ok(concatenate(batches, grid, data.state_len()))
}

/// Joins per-batch predictions in system order.
fn concatenate(batches: Vec<Prediction>, grid: &TimeGrid, state_len: usize) -> Prediction {
    let mut all = Prediction::empty(0, grid.states, state_len);
    let mut energies: Option<Vec<f64>> = None;
    for batch in batches {
        all.systems += batch.systems;
        all.zs.extend(batch.zs);
        all.diverged.extend(batch.diverged);
        if let Some(e) = batch.learned_energy {
            energies.get_or_insert_with(Vec::new).extend(e);
        }
    }
    all.learned_energy = energies;
    all
}

/// The integrator's state for the systems of a batch that are still finite.
enum Stepper {
    Rk4(Tensor),
    Leapfrog(LeapfrogState),
}

impl Stepper {
    /// Takes one step of size `h` (batch, 1), detached from the weights.
    fn step(&self, dynamics: &dyn Dynamics, system: &SystemBatch, h: &Tensor) -> Result<Self> {
        Ok(match self {
            Stepper::Rk4(z) => Stepper::Rk4(rk4_step(dynamics, system, z, h)?.detach()),
            Stepper::Leapfrog(state) => {
                Stepper::Leapfrog(state.clone().step(dynamics, system, h, Tracking::Inference)?)
            }
        })
    }

    /// Returns the flat states (batch, 2·n·d).
    fn z(&self, system: &SystemBatch) -> Result<Tensor> {
        match self {
            Stepper::Rk4(z) => Ok(z.clone()),
            Stepper::Leapfrog(state) => state.z(system),
        }
    }
}

/// One batch of systems being rolled out.
struct BatchRollout<'a> {
    dynamics: &'a dyn Dynamics,
    grid: &'a TimeGrid,
    settings: RolloutSettings,
    /// Index of the batch's first system in the dataset.
    start: usize,
    /// Batch-local indices of the systems still finite, in order.
    active: Vec<usize>,
    /// Parameters of the active systems.
    system: SystemBatch,
    stepper: Stepper,
    /// The output, for every system of the batch.
    prediction: Prediction,
}

impl<'a> BatchRollout<'a> {
    fn new(
        dynamics: &'a dyn Dynamics,
        data: &Dataset,
        grid: &'a TimeGrid,
        settings: RolloutSettings,
        start: usize,
        count: usize,
    ) -> Result<Self> {
        let (n, len) = (data.n_particles, data.state_len());
        let masses = &data.masses[start * n..(start + count) * n];
        let spring_constants = data.spring_constants.as_ref().map(|k| &k[start * n..(start + count) * n]);
        let system = SystemBatch::from_parameters(masses, spring_constants, n, data.dim, settings.dtype, &Device::Cpu)?;

        let z0: Vec<f64> = (start..start + count).flat_map(|s| data.trajectory(s)[..len].to_vec()).collect();
        let z0 = Tensor::from_vec(z0, (count, len), &Device::Cpu)?.to_dtype(settings.dtype)?;
        let stepper = match settings.method {
            IntegratorKind::Leapfrog => Stepper::Leapfrog(LeapfrogState::new(dynamics, &system, &z0)?),
            _ => Stepper::Rk4(z0),
        };

        let prediction = Prediction::empty(count, grid.states, len);
        Ok(BatchRollout {
            dynamics,
            grid,
            settings,
            start,
            active: (0..count).collect(),
            system,
            stepper,
            prediction,
        })
    }

    fn run(mut self, on_interval: &(dyn Fn() + Sync)) -> Result<Prediction> {
        self.record(0)?;
        for i in 0..self.grid.states - 1 {
            if !self.active.is_empty() {
                self.advance(i)?;
                self.record(i + 1)?;
            }
            on_interval();
        }
        Ok(self.prediction)
    }

    /// Takes the steps of saved interval `i`.
    fn advance(&mut self, i: usize) -> Result<()> {
        let substeps = self.settings.substeps.max(1);
        let h: Vec<f64> = self
            .active
            .iter()
            .map(|&j| {
                let t = self.grid.times(self.start + j);
                (t[i + 1] - t[i]) / substeps as f64
            })
            .collect();
        let h = Tensor::from_vec(h, (self.active.len(), 1), &Device::Cpu)?.to_dtype(self.settings.dtype)?;

        for _ in 0..substeps {
            self.stepper = self.stepper.step(self.dynamics, &self.system, &h)?;
        }
        Ok(())
    }

    /// Writes the active systems' states at saved state `i` and drops those that diverged.
    fn record(&mut self, i: usize) -> Result<()> {
        let z = self.stepper.z(&self.system)?;
        let values: Vec<f64> = z.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
        let energies: Option<Vec<f64>> = match self.dynamics.hamiltonian(&z, &self.system)? {
            Some(h) => Some(h.to_dtype(DType::F64)?.to_vec1()?),
            None => None,
        };

        let (len, states) = (self.prediction.state_len, self.prediction.states);
        if energies.is_some() && self.prediction.learned_energy.is_none() {
            self.prediction.learned_energy = Some(vec![f64::NAN; self.prediction.systems * states]);
        }
        let mut keep = Vec::with_capacity(self.active.len());
        for (row, &j) in self.active.iter().enumerate() {
            let state = &values[row * len..(row + 1) * len];
            let energy = energies.as_ref().map_or(0.0, |e| e[row]);
            if state.iter().any(|x| !x.is_finite()) || !energy.is_finite() {
                self.prediction.diverged[j] = Some(i);
                continue;
            }
            let offset = (j * states + i) * len;
            self.prediction.zs[offset..offset + len].copy_from_slice(state);
            if let Some(e) = self.prediction.learned_energy.as_mut() {
                e[j * states + i] = energy;
            }
            keep.push(row);
        }
        if keep.len() < self.active.len() {
            self.retain(&keep)?;
        }
        Ok(())
    }

    /// Keeps only the active systems at rows `keep`.
    fn retain(&mut self, keep: &[usize]) -> Result<()> {
        self.active = keep.iter().map(|&row| self.active[row]).collect();
        if keep.is_empty() {
            return Ok(());
        }
        let rows: Vec<u32> = keep.iter().map(|&row| row as u32).collect();
        let rows = Tensor::from_vec(rows, keep.len(), &Device::Cpu)?;
        self.system = self.system.select(&rows)?;
        self.stepper = match &self.stepper {
            Stepper::Rk4(z) => Stepper::Rk4(z.index_select(&rows, 0)?),
            Stepper::Leapfrog(state) => Stepper::Leapfrog(LeapfrogState {
                q: state.q.index_select(&rows, 0)?,
                p: state.p.index_select(&rows, 0)?,
                force: state.force.index_select(&rows, 0)?,
            }),
        };
        Ok(())
    }
}
