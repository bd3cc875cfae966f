//! Newtonian gravity between point masses, with optional Plummer softening ε:
//!
//! V(q) = −G Σ_{i<j} m_i m_j / √(|q_i − q_j|² + ε²).

use super::Hamiltonian;

/// One gravitational N-body system.
#[derive(Debug, Clone, PartialEq)]
pub struct Gravity {
    /// Spatial dimension d.
    pub dim: usize,
    /// Masses m_i, all positive.
    pub masses: Vec<f64>,
    /// Gravitational constant G.
    pub gravitational_constant: f64,
    /// Plummer softening length ε (0 gives the exact Newtonian potential).
    pub softening: f64,
}

impl Gravity {
    /// Calls `f(i, j, r, m_i m_j / √(|r|² + ε²))` for every pair i < j, with r = q_i − q_j.
    fn for_each_pair(&self, q: &[f64], mut f: impl FnMut(usize, usize, &[f64], f64, f64)) {
        let (d, m) = (self.dim, &self.masses);
        let eps2 = self.softening * self.softening;
        // Separation vector, on the stack for the usual 2 and 3 dimensions.
        let mut stack = [0.0; 3];
        let mut heap = Vec::new();
        let r: &mut [f64] = if d <= 3 {
            &mut stack[..d]
        } else {
            heap.resize(d, 0.0);
            &mut heap
        };
        for i in 0..m.len() {
            for j in i + 1..m.len() {
                for a in 0..d {
                    r[a] = q[i * d + a] - q[j * d + a];
                }
                let dist2 = r.iter().map(|x| x * x).sum::<f64>() + eps2;
                let inv_dist = 1.0 / dist2.sqrt();
                f(i, j, r, m[i] * m[j] * inv_dist, inv_dist * inv_dist);
            }
        }
    }
}

impl Hamiltonian for Gravity {
    fn dim(&self) -> usize {
        self.dim
    }

    fn masses(&self) -> &[f64] {
        &self.masses
    }

    fn potential(&self, q: &[f64]) -> f64 {
        let mut v = 0.0;
        self.for_each_pair(q, |_, _, _, pair_energy, _| v -= pair_energy);
        self.gravitational_constant * v
    }

    /// ∂V/∂q_i = G Σ_{j≠i} m_i m_j (q_i − q_j) / (|q_i − q_j|² + ε²)^{3/2}, applied pair by
    /// pair so that total momentum is conserved to round-off.
    fn potential_gradient(&self, q: &[f64], grad: &mut [f64]) {
        let d = self.dim;
        let g = self.gravitational_constant;
        grad.fill(0.0);
        self.for_each_pair(q, |i, j, r, pair_energy, inv_dist2| {
            let scale = g * pair_energy * inv_dist2;
            for a in 0..d {
                grad[i * d + a] += scale * r[a];
                grad[j * d + a] -= scale * r[a];
            }
        });
    }
}
