//! The `Hamiltonian` trait shared by every physical system.

/// A separable Hamiltonian H(q, p) = Σ_i |p_i|² / (2 m_i) + V(q) of `n` particles in `dim`
/// dimensions, with its gradient in closed form.
///
/// States are flat slices `z = [q, p]` of length `2·n·dim`, with `q` and `p` particle-major:
/// `q[i·dim + a]` is coordinate `a` of particle `i`.
pub trait Hamiltonian: Send + Sync {
    /// Spatial dimension d.
    fn dim(&self) -> usize;

    /// Particle masses, shape (n_particles).
    fn masses(&self) -> &[f64];

    /// Potential energy V(q); `q` has length n·d.
    fn potential(&self, q: &[f64]) -> f64;

    /// Writes ∂V/∂q into `grad` (length n·d).
    fn potential_gradient(&self, q: &[f64], grad: &mut [f64]);

    /// Number of particles n.
    fn n_particles(&self) -> usize {
        self.masses().len()
    }

    /// Length of a state vector, 2·n·d.
    fn state_len(&self) -> usize {
        2 * self.n_particles() * self.dim()
    }

    /// Kinetic energy Σ_i |p_i|² / (2 m_i); `p` has length n·d.
    fn kinetic_energy(&self, p: &[f64]) -> f64 {
        let dim = self.dim();
        self.masses()
            .iter()
            .zip(p.chunks_exact(dim))
            .map(|(m, p_i)| p_i.iter().map(|x| x * x).sum::<f64>() / (2.0 * m))
            .sum()
    }

    /// The Hamiltonian H(z) = T(p) + V(q).
    fn hamiltonian(&self, z: &[f64]) -> f64 {
        let (q, p) = z.split_at(z.len() / 2);
        self.kinetic_energy(p) + self.potential(q)
    }

    /// Writes ∂H/∂z = [∂V/∂q, p / m] into `grad`.
    fn gradient(&self, z: &[f64], grad: &mut [f64]) {
        let (q, p) = z.split_at(z.len() / 2);
        let (grad_q, grad_p) = grad.split_at_mut(z.len() / 2);
        self.potential_gradient(q, grad_q);
        self.velocities(p, grad_p);
    }

    /// Writes Hamilton's vector field ż = J ∂H/∂z = [p / m, −∂V/∂q] into `dz`.
    fn vector_field(&self, z: &[f64], dz: &mut [f64]) {
        let (q, p) = z.split_at(z.len() / 2);
        let (dq, dp) = dz.split_at_mut(z.len() / 2);
        self.velocities(p, dq);
        self.potential_gradient(q, dp);
        dp.iter_mut().for_each(|x| *x = -*x);
    }

    /// Writes the velocities q̇ = p / m into `v`.
    fn velocities(&self, p: &[f64], v: &mut [f64]) {
        let dim = self.dim();
        for ((m, p_i), v_i) in self
            .masses()
            .iter()
            .zip(p.chunks_exact(dim))
            .zip(v.chunks_exact_mut(dim))
        {
            for (v_ia, p_ia) in v_i.iter_mut().zip(p_i) {
                *v_ia = p_ia / m;
            }
        }
    }
}
