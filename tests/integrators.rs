//! Accuracy of the f64 integrators against analytic solutions, conservation laws, and a
//! trajectory file written by an independent implementation.

mod common;

use std::f64::consts::TAU;

use common::{max_abs_diff, reference_npz, sampled, system};
use hamsim::analysis::trajectory_drift;
use hamsim::dataset::Dataset;
use hamsim::physics::springs::NormalModes;
use hamsim::physics::{Gravity, Hamiltonian, Integrator, IntegratorKind, Springs};

fn dop853() -> Integrator {
    Integrator::default()
}

fn run(integrator: &Integrator, system: &dyn Hamiltonian, z0: &[f64], ts: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; ts.len() * z0.len()];
    integrator.integrate(system, z0, ts, &mut out).unwrap();
    out
}

#[test]
fn dop853_matches_spring_normal_modes() {
    // Springs are linear, so the exact solution is a sum of normal modes. With rtol 1e-10
    // the solver's global error over 500 saved states stays below 1e-9 (measured worst
    // 6e-10 over 300 systems); states are of order 1 to 10.
    for name in ["springs2d", "springs3d"] {
        let spec = system(name);
        let ts = spec.times();
        for index in 0..40 {
            let sample = spec.sample(0, index);
            let springs = Springs::new(spec.dim(), sample.masses, sample.spring_constants.unwrap());
            let modes = NormalModes::new(&springs);
            let exact: Vec<f64> = ts.iter().flat_map(|&t| modes.state_at(&sample.z0, t)).collect();
            let numeric = run(&dop853(), &springs, &sample.z0, &ts);
            let error = max_abs_diff(&numeric, &exact);
            assert!(error < 1e-9, "{name} system {index}: max error {error:e}");
        }
    }
}

#[test]
fn normal_modes_conserve_energy() {
    // A check of the test oracle itself: the eigendecomposition is accurate to round-off,
    // so the exact trajectory keeps H to a few ulps of its size.
    let spec = system("springs2d");
    let sample = spec.sample(0, 3);
    let springs = Springs::new(2, sample.masses, sample.spring_constants.unwrap());
    let modes = NormalModes::new(&springs);
    let h0 = springs.hamiltonian(&sample.z0);
    for t in [0.7, 3.1, 50.0] {
        let h = springs.hamiltonian(&modes.state_at(&sample.z0, t));
        assert!(((h - h0) / h0).abs() < 1e-12, "t = {t}: H = {h}, H0 = {h0}");
    }
}

#[test]
fn dop853_conserves_energy_and_momenta() {
    // Energy: rtol 1e-10 keeps the relative error well below 1e-9 (measured worst 3e-11).
    // Linear momentum: the forces of every system sum to zero up to round-off, so P moves
    // only by round-off, about 1e-16 per step times momenta of order 1 over ~1000 steps.
    // Angular momentum: the forces are central, so L changes only by the solver's error.
    for name in ["springs2d", "springs3d", "gravity2d", "gravity3d"] {
        let spec = system(name);
        let ts = spec.times();
        for index in 0..25 {
            let (h, z0) = sampled(&spec, index);
            let zs = run(&dop853(), h.as_ref(), &z0, &ts);
            let drift = trajectory_drift(h.as_ref(), &zs);
            assert!(drift.energy_rel < 1e-9, "{name} {index}: energy {:e}", drift.energy_rel);
            assert!(drift.linear_momentum < 1e-12, "{name} {index}: P {:e}", drift.linear_momentum);
            assert!(drift.angular_momentum < 1e-10, "{name} {index}: L {:e}", drift.angular_momentum);
        }
    }
}

/// Two bodies on circular orbits about their resting centre of mass, separation `a`.
fn two_body(dim: usize, m1: f64, m2: f64, a: f64) -> (Gravity, Vec<f64>, f64) {
    let total = m1 + m2;
    let omega = (total / a.powi(3)).sqrt();
    let (r1, r2) = (a * m2 / total, a * m1 / total);
    let mut q = vec![0.0; 2 * dim];
    let mut p = vec![0.0; 2 * dim];
    q[0] = -r1;
    q[dim] = r2;
    p[1] = -m1 * omega * r1;
    p[dim + 1] = m2 * omega * r2;
    let gravity = Gravity {
        dim,
        masses: vec![m1, m2],
        gravitational_constant: 1.0,
        softening: 0.0,
    };
    q.extend(p);
    (gravity, q, TAU / omega)
}

#[test]
fn two_body_orbit_returns_after_one_period() {
    // Kepler's third law gives the period T = 2π √(a³ / (G (m1 + m2))). DOP853 at its
    // default tolerances must bring the state back within 1e-8, also when the period is
    // split into 100 saved intervals.
    for dim in [2, 3] {
        let (gravity, z0, period) = two_body(dim, 1.0, 0.3, 1.5);
        for states in [2, 101] {
            let ts: Vec<f64> = (0..states).map(|i| period * i as f64 / (states - 1) as f64).collect();
            let zs = run(&dop853(), &gravity, &z0, &ts);
            let end = &zs[(states - 1) * z0.len()..];
            let error = max_abs_diff(end, &z0);
            assert!(error < 1e-8, "dim {dim}, {states} states: error {error:e}");
        }
    }
}

#[test]
fn leapfrog_energy_bounded_without_drift() {
    // 10^5 velocity-Verlet steps of h = 1e-3 on a spring network. A symplectic method keeps
    // the energy error oscillating at O(h²) instead of growing: the worst error of the second
    // half of the run may not exceed 1.5 times that of the first half, and all errors stay
    // below 1e-4 (the largest frequency is about 25, so (ωh)² ≈ 6e-4 bounds them).
    let spec = system("springs2d");
    let (h, z0) = sampled(&spec, 1);
    let leapfrog = Integrator {
        method: IntegratorKind::Leapfrog,
        substeps: 100,
        ..Integrator::default()
    };
    let ts: Vec<f64> = (0..=1000).map(|i| i as f64 * 0.1).collect();
    let zs = run(&leapfrog, h.as_ref(), &z0, &ts);
    let len = z0.len();
    let h0 = h.hamiltonian(&z0);
    let errors: Vec<f64> = zs
        .chunks_exact(len)
        .map(|z| ((h.hamiltonian(z) - h0) / h0).abs())
        .collect();
    let first = errors[..500].iter().copied().fold(0.0, f64::max);
    let second = errors[500..].iter().copied().fold(0.0, f64::max);
    assert!(first < 1e-4, "energy error {first:e} in the first half");
    assert!(second < 1.5 * first, "energy error grew from {first:e} to {second:e}");

    // The kicks apply central pair forces and the drifts move along p, so L changes only by
    // round-off: about 1e-16 relative per step, 1e-11 after 10^5 steps at most.
    let drift = trajectory_drift(h.as_ref(), &zs);
    assert!(drift.angular_momentum < 1e-11, "L drift {:e}", drift.angular_momentum);
}

#[test]
fn rk4_replays_reference_trajectories() {
    // The reference file was made by fixed-step RK4 on its own saved times, and for linear
    // dynamics every four-stage fourth-order method gives the same step map. Replaying it
    // from each first state must agree to 1e-12: the only differences are round-off in a
    // differently ordered force sum, accumulated over 499 steps.
    let data = Dataset::load(&reference_npz()).unwrap();
    let rk4 = Integrator {
        method: IntegratorKind::Rk4,
        ..Integrator::default()
    };
    let len = data.state_len();
    let mut worst: f64 = 0.0;
    for s in 0..data.systems {
        let springs = Springs::new(
            data.dim,
            data.system_masses(s).to_vec(),
            data.system_spring_constants(s).unwrap().to_vec(),
        );
        let stored = data.trajectory(s);
        let zs = run(&rk4, &springs, &stored[..len], data.times(s));
        worst = worst.max(max_abs_diff(&zs, stored));
    }
    assert!(worst < 1e-12, "worst difference from the reference file {worst:e}");
}

#[test]
fn integrators_reject_unordered_times() {
    let (h, z0) = sampled(&system("springs2d"), 0);
    let mut out = vec![0.0; 3 * z0.len()];
    for method in [IntegratorKind::Dop853, IntegratorKind::Rk4, IntegratorKind::Leapfrog] {
        let integrator = Integrator { method, ..Integrator::default() };
        let error = integrator
            .integrate(h.as_ref(), &z0, &[0.0, 0.2, 0.1], &mut out)
            .unwrap_err();
        assert!(error.contains("strictly increasing"), "{method}: {error}");
    }
}
