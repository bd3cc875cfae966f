//! The trivial group: no symmetry at all.

use candle_core::{Result, Tensor, D};

use super::LieGroup;

/// The group with one element. Every point is its own orbit, so a_ij = [x_i, x_j] (no Lie
/// algebra part) and a model built on it receives absolute coordinates.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trivial;

impl LieGroup for Trivial {
    fn name(&self) -> String {
        "trivial".to_string()
    }

    fn lie_algebra_dim(&self, _dim: usize) -> usize {
        0
    }

    fn orbit_dim(&self, dim: usize) -> usize {
        dim
    }

    fn pair_embedding(&self, x: &Tensor) -> Result<Tensor> {
        let (batch, n, dim) = x.dims3()?;
        let x_i = x.unsqueeze(2)?.broadcast_as((batch, n, n, dim))?;
        let x_j = x.unsqueeze(1)?.broadcast_as((batch, n, n, dim))?;
        Tensor::cat(&[&x_i, &x_j], D::Minus1)
    }

    /// ∂L/∂x_k = Σ_j g_kj[:d] + Σ_i g_ik[d:].
    fn pair_embedding_vjp(&self, x: &Tensor, grad: &Tensor) -> Result<Tensor> {
        let dim = x.dim(D::Minus1)?;
        let as_first = grad.narrow(D::Minus1, 0, dim)?.sum(2)?;
        let as_second = grad.narrow(D::Minus1, dim, dim)?.sum(1)?;
        as_first + as_second
    }
}
