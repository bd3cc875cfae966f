//! Batched integrators on tensors for learned dynamics.
//!
//! Both take initial states z0 of shape (batch, 2·n·d) and saved times ts of shape
//! (batch, T), and return the trajectory (batch, T, 2·n·d) whose first state is z0. Each
//! system steps with its own step size (ts[b, i+1] − ts[b, i]) / substeps.

use candle_core::{Result, Tensor};

use crate::nn::{Dynamics, SystemBatch};

/// Whether the trajectory keeps its computation graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// Keep the graph, so that a loss on the trajectory can be differentiated (training).
    Train,
    /// Detach every state, so that a long rollout does not keep the graph of all earlier
    /// steps alive (evaluation).
    Inference,
}

/// Step sizes of saved interval `i`, shape (batch, 1).
fn step_sizes(ts: &Tensor, i: usize, substeps: usize) -> Result<Tensor> {
    let interval = (ts.narrow(1, i + 1, 1)? - ts.narrow(1, i, 1)?)?;
    interval / substeps as f64
}

fn track(z: Tensor, tracking: Tracking) -> Tensor {
    match tracking {
        Tracking::Train => z,
        Tracking::Inference => z.detach(),
    }
}

/// Classical fourth-order Runge–Kutta with `substeps` steps per saved interval.
pub fn rk4(
    dynamics: &dyn Dynamics,
    system: &SystemBatch,
    z0: &Tensor,
    ts: &Tensor,
    substeps: usize,
    tracking: Tracking,
) -> Result<Tensor> {
    let states = ts.dim(1)?;
    let mut z = track(z0.clone(), tracking);
    let mut trajectory = vec![z.clone()];
    for i in 0..states - 1 {
        let h = step_sizes(ts, i, substeps)?;
        for _ in 0..substeps {
            z = track(rk4_step(dynamics, system, &z, &h)?, tracking);
        }
        trajectory.push(z.clone());
    }
    Tensor::stack(&trajectory, 1)
}

/// Takes one RK4 step of size `h` (batch, 1) from states `z` (batch, 2·n·d).
pub fn rk4_step(dynamics: &dyn Dynamics, system: &SystemBatch, z: &Tensor, h: &Tensor) -> Result<Tensor> {
    let half = (h * 0.5)?;
    let k1 = dynamics.time_derivative(z, system)?;
    let k2 = dynamics.time_derivative(&(z + k1.broadcast_mul(&half)?)?, system)?;
    let k3 = dynamics.time_derivative(&(z + k2.broadcast_mul(&half)?)?, system)?;
    let k4 = dynamics.time_derivative(&(z + k3.broadcast_mul(h)?)?, system)?;
    let slope = (((k1 + (k2 * 2.0)?)? + (k3 * 2.0)?)? + k4)?;
    z + slope.broadcast_mul(&(h / 6.0)?)?
}

/// Velocity Verlet for separable Hamiltonians H = Σ|p|²/2m + V(q), with `substeps` steps per
/// saved interval. It is symplectic, and for a rotation-invariant V its kicks and drifts each
/// leave the angular momentum unchanged, so L is conserved up to round-off.
///
/// Fails for models without a separable Hamiltonian.
pub fn leapfrog(
    dynamics: &dyn Dynamics,
    system: &SystemBatch,
    z0: &Tensor,
    ts: &Tensor,
    substeps: usize,
    tracking: Tracking,
) -> Result<Tensor> {
    let mut state = LeapfrogState::new(dynamics, system, z0)?;
    state.q = track(state.q, tracking);
    state.p = track(state.p, tracking);
    let mut trajectory = vec![track(z0.clone(), tracking)];
    for i in 0..ts.dim(1)? - 1 {
        let h = step_sizes(ts, i, substeps)?;
        for _ in 0..substeps {
            state = state.step(dynamics, system, &h, tracking)?;
        }
        trajectory.push(state.z(system)?);
    }
    Tensor::stack(&trajectory, 1)
}

/// Positions, momenta and the force −∂V/∂q at the positions, each (batch, n, d): the state of
/// velocity Verlet between steps, so that each step evaluates the force once.
#[derive(Debug, Clone)]
pub struct LeapfrogState {
    /// Positions q.
    pub q: Tensor,
    /// Momenta p.
    pub p: Tensor,
    /// Force −∂V/∂q at `q`.
    pub force: Tensor,
}

impl LeapfrogState {
    /// Splits states `z` (batch, 2·n·d) and evaluates the force; fails for models without a
    /// separable Hamiltonian.
    pub fn new(dynamics: &dyn Dynamics, system: &SystemBatch, z: &Tensor) -> Result<Self> {
        let (q, p) = system.split_state(z)?;
        let force = force(dynamics, system, &q)?;
        Ok(LeapfrogState { q, p, force })
    }

    /// Takes one kick–drift–kick step of size `h` (batch, 1).
    pub fn step(self, dynamics: &dyn Dynamics, system: &SystemBatch, h: &Tensor, tracking: Tracking) -> Result<Self> {
        let mask = system.mask.unsqueeze(2)?;
        let inverse_mass = system.masses.unsqueeze(2)?.recip()?.broadcast_mul(&mask)?;
        let h = h.unsqueeze(2)?;
        let half = (&h * 0.5)?;

        let p_half = (&self.p + self.force.broadcast_mul(&half)?)?;
        let q = track((&self.q + p_half.broadcast_mul(&inverse_mass)?.broadcast_mul(&h)?)?, tracking);
        let force = track(force(dynamics, system, &q)?, tracking);
        let p = track((p_half + force.broadcast_mul(&half)?)?, tracking);
        Ok(LeapfrogState { q, p, force })
    }

    /// Returns the flat states (batch, 2·n·d).
    pub fn z(&self, system: &SystemBatch) -> Result<Tensor> {
        system.join_state(&self.q, &self.p)
    }
}

/// Computes the force −∂V/∂q at positions `q` (batch, n, d).
fn force(dynamics: &dyn Dynamics, system: &SystemBatch, q: &Tensor) -> Result<Tensor> {
    match dynamics.potential_gradient(q, system)? {
        Some(gradient) => gradient.neg(),
        None => candle_core::bail!("leapfrog needs a separable Hamiltonian model, not a neural ODE"),
    }
}
