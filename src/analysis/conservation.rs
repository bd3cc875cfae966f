//! Conserved quantities of an isolated particle system and their drift along a trajectory.
//!
//! For a Hamiltonian invariant under translations the total linear momentum P = Σ_i p_i is
//! conserved, and for one invariant under rotations about the origin so is the total angular
//! momentum L = Σ_i q_i ∧ p_i. In d dimensions L is the bivector with components
//! L_ab = Σ_i (q_ia p_ib − q_ib p_ia) for a < b: one component in 2D (the usual scalar
//! L = Σ q_x p_y − q_y p_x) and three in 3D, ordered as the vector Σ q_i × p_i.

use serde::{Deserialize, Serialize};

use crate::physics::Hamiltonian;

/// Total linear momentum P = Σ_i p_i, shape (dim); `p` has shape (n_particles·dim).
pub fn linear_momentum(p: &[f64], dim: usize) -> Vec<f64> {
    let mut total = vec![0.0; dim];
    linear_momentum_into(p, dim, &mut total);
    total
}

fn linear_momentum_into(p: &[f64], dim: usize, total: &mut [f64]) {
    total.fill(0.0);
    for p_i in p.chunks_exact(dim) {
        for (t, x) in total.iter_mut().zip(p_i) {
            *t += x;
        }
    }
}

/// Total angular momentum about the origin, shape (dim·(dim−1)/2): the scalar
/// Σ q_x p_y − q_y p_x in 2D, the vector Σ q × p in 3D, the bivector components L_ab (a < b)
/// in higher dimensions.
pub fn angular_momentum(q: &[f64], p: &[f64], dim: usize) -> Vec<f64> {
    let planes = rotation_planes(dim);
    let mut total = vec![0.0; planes.len()];
    angular_momentum_into(q, p, dim, &planes, &mut total);
    total
}

fn angular_momentum_into(q: &[f64], p: &[f64], dim: usize, planes: &[(usize, usize)], total: &mut [f64]) {
    total.fill(0.0);
    for (q_i, p_i) in q.chunks_exact(dim).zip(p.chunks_exact(dim)) {
        for (t, &(a, b)) in total.iter_mut().zip(planes) {
            *t += q_i[a] * p_i[b] - q_i[b] * p_i[a];
        }
    }
}

/// Lists the coordinate planes (a, b) of the angular momentum components, in output order.
fn rotation_planes(dim: usize) -> Vec<(usize, usize)> {
    if dim == 3 {
        // L_x = L_yz, L_y = L_zx, L_z = L_xy, so that L = Σ q × p.
        return vec![(1, 2), (2, 0), (0, 1)];
    }
    (0..dim)
        .flat_map(|a| (a + 1..dim).map(move |b| (a, b)))
        .collect()
}

/// How far one trajectory strays from its initial energy and momenta.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    /// max_t |H(t) − H(0)| / |H(0)|.
    pub energy_rel: f64,
    /// max_t |P(t) − P(0)| (Euclidean norm).
    pub linear_momentum: f64,
    /// max_t |L(t) − L(0)| (Euclidean norm of the components).
    pub angular_momentum: f64,
}

/// Measures the drift of a trajectory `zs` of shape (states, 2·n·d) under `system`.
///
/// A non-finite state makes every figure NaN or infinite, so a diverged trajectory is never
/// reported as conserving anything.
pub fn trajectory_drift(system: &dyn Hamiltonian, zs: &[f64]) -> Drift {
    let series = conservation_series(system, zs);
    let worst = |values: &[f64]| values.iter().copied().fold(0.0, nan_max);
    Drift {
        energy_rel: worst(&series.energy_rel),
        linear_momentum: worst(&series.linear_momentum),
        angular_momentum: worst(&series.angular_momentum),
    }
}

/// Energy and momentum errors of a trajectory at every saved state, each of shape (states).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConservationSeries {
    /// |H(t) − H(0)| / |H(0)|.
    pub energy_rel: Vec<f64>,
    /// |P(t) − P(0)| (Euclidean norm).
    pub linear_momentum: Vec<f64>,
    /// |L(t) − L(0)| (Euclidean norm of the components).
    pub angular_momentum: Vec<f64>,
}

/// Measures the errors of a trajectory `zs` of shape (states, 2·n·d) under `system` against
/// its first state. Non-finite states give NaN or infinite errors.
pub fn conservation_series(system: &dyn Hamiltonian, zs: &[f64]) -> ConservationSeries {
    let len = system.state_len();
    let dim = system.dim();
    let nd = len / 2;
    let (q0, p0) = zs[..len].split_at(nd);
    let planes = rotation_planes(dim);
    let energy0 = system.hamiltonian(&zs[..len]);
    let momentum0 = linear_momentum(p0, dim);
    let angular0 = angular_momentum(q0, p0, dim);
    let mut momentum = momentum0.clone();
    let mut angular = angular0.clone();

    let mut series = ConservationSeries::default();
    for z in zs.chunks_exact(len) {
        let (q, p) = z.split_at(nd);
        series.energy_rel.push((system.hamiltonian(z) - energy0).abs() / energy0.abs());
        linear_momentum_into(p, dim, &mut momentum);
        angular_momentum_into(q, p, dim, &planes, &mut angular);
        series.linear_momentum.push(distance(&momentum, &momentum0));
        series.angular_momentum.push(distance(&angular, &angular0));
    }
    series
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

/// Returns the larger of two values, or NaN if either is NaN.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// The median and the worst value of one figure over a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Statistic {
    /// Median over systems.
    pub median: f64,
    /// Maximum over systems (NaN if any system's figure is NaN).
    pub max: f64,
}

impl Statistic {
    /// Median and maximum of `values`; NaN values sort last, so they show up in `max`.
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Statistic {
                median: f64::NAN,
                max: f64::NAN,
            };
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[mid]
        } else {
            0.5 * (sorted[mid - 1] + sorted[mid])
        };
        let max = values.iter().copied().fold(f64::NEG_INFINITY, nan_max);
        Statistic { median, max }
    }
}

/// The conservation table of a dataset, as printed by `hamsim analyze` and stored in dataset
/// metadata. Its JSON form has the keys below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConservationSummary {
    /// Relative energy error max_t |H(t) − H(0)| / |H(0)| over systems.
    pub energy_rel_drift: Statistic,
    /// max_t |P(t) − P(0)| over systems.
    pub linear_momentum_drift: Statistic,
    /// max_t |L(t) − L(0)| over systems.
    pub angular_momentum_drift: Statistic,
    /// Number of systems.
    pub systems: usize,
    /// Saved states per system.
    pub states: usize,
    /// Particles per system.
    pub particles: usize,
    /// Spatial dimension.
    pub dim: usize,
}

impl ConservationSummary {
    /// Summarises per-system drifts.
    pub fn from_drifts(drifts: &[Drift], states: usize, particles: usize, dim: usize) -> Self {
        let pick = |f: fn(&Drift) -> f64| Statistic::of(&drifts.iter().map(f).collect::<Vec<_>>());
        ConservationSummary {
            energy_rel_drift: pick(|d| d.energy_rel),
            linear_momentum_drift: pick(|d| d.linear_momentum),
            angular_momentum_drift: pick(|d| d.angular_momentum),
            systems: drifts.len(),
            states,
            particles,
            dim,
        }
    }

    /// Formats the summary as a plain-text table for terminals.
    pub fn table(&self) -> String {
        let mut text = format!(
            "{} systems, {} states, {} particles in {}D\n",
            self.systems, self.states, self.particles, self.dim
        );
        text += &format!("{:<36} {:>12} {:>12}\n", "quantity", "median", "max");
        let rows = [
            ("relative energy error |H-H0|/|H0|", self.energy_rel_drift),
            ("linear momentum drift |P-P0|", self.linear_momentum_drift),
            ("angular momentum drift |L-L0|", self.angular_momentum_drift),
        ];
        for (name, stat) in rows {
            text += &format!("{:<36} {:>12.3e} {:>12.3e}\n", name, stat.median, stat.max);
        }
        text
    }
}
