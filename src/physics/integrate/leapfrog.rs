//! Velocity Verlet (kick–drift–kick leapfrog) for separable Hamiltonians.
//!
//! One step of size h: p ← p − (h/2)·∂V/∂q(q); q ← q + h·p/m; p ← p − (h/2)·∂V/∂q(q).
//! The map is symplectic and time-reversible, so the energy error stays bounded (of order h²)
//! instead of drifting, and with pairwise central forces it conserves linear and angular
//! momentum exactly up to round-off.

use crate::physics::Hamiltonian;

/// Fills rows 1.. of `out` (shape (ts.len(), state)) from row 0, taking `substeps` equal
/// leapfrog steps across each saved interval.
pub(super) fn integrate(system: &dyn Hamiltonian, ts: &[f64], substeps: usize, out: &mut [f64]) {
    let len = out.len() / ts.len();
    let nd = len / 2;
    let mut z = out[..len].to_vec();
    let mut grad = vec![0.0; nd];
    let mut velocity = vec![0.0; nd];

    // The force at the end of one step is the force at the start of the next.
    system.potential_gradient(&z[..nd], &mut grad);
    for (i, interval) in ts.windows(2).enumerate() {
        let h = (interval[1] - interval[0]) / substeps as f64;
        for _ in 0..substeps {
            let (q, p) = z.split_at_mut(nd);
            kick(p, &grad, 0.5 * h);
            system.velocities(p, &mut velocity);
            for (q, v) in q.iter_mut().zip(&velocity) {
                *q += h * v;
            }
            system.potential_gradient(q, &mut grad);
            kick(p, &grad, 0.5 * h);
        }
        out[(i + 1) * len..(i + 2) * len].copy_from_slice(&z);
    }
}

/// p ← p − h·∂V/∂q.
fn kick(p: &mut [f64], grad: &[f64], h: f64) {
    for (p, g) in p.iter_mut().zip(grad) {
        *p -= h * g;
    }
}
