//! T(d): translations of R^d.

use candle_core::{Result, Tensor};

use super::LieGroup;

/// Translations of R^d. The lift is u_i = x_i itself, log(u_i⁻¹ u_j) = x_j − x_i, and the
/// group acts transitively, so there are no orbit identifiers.
#[derive(Debug, Clone, Copy)]
pub struct Translation {
    /// Dimension d of the space.
    pub dim: usize,
}

impl LieGroup for Translation {
    fn name(&self) -> String {
        format!("T{}", self.dim)
    }

    fn lie_algebra_dim(&self, dim: usize) -> usize {
        dim
    }

    fn orbit_dim(&self, _dim: usize) -> usize {
        0
    }

    fn pair_embedding(&self, x: &Tensor) -> Result<Tensor> {
        x.unsqueeze(1)?.broadcast_sub(&x.unsqueeze(2)?)
    }

    /// a_ij = x_j − x_i, so ∂L/∂x_k = Σ_i g_ik − Σ_j g_kj.
    fn pair_embedding_vjp(&self, _x: &Tensor, grad: &Tensor) -> Result<Tensor> {
        grad.sum(1)? - grad.sum(2)?
    }
}
