//! Lie groups acting on particle coordinates, as LieConv uses them.
//!
//! Finzi et al., "Generalizing Convolutional Neural Networks for Equivariance to Lie Groups on
//! Arbitrary Continuous Data" (ICML 2020), Sec. 4 and App. A: each point x_i is lifted to a
//! group element u_i and an orbit identifier o_i, and a pair of points is described by the
//! embedding a_ij = [log(u_i⁻¹ u_j), o_i, o_j]. A function of the a_ij alone is invariant
//! under the group, because u_i⁻¹ u_j and the orbits do not change when every point moves by
//! the same group element. Neighborhoods use the distance
//! α·|log(u_i⁻¹ u_j)| + (1 − α)·|o_i − o_j|.
//!
//! Every group here lifts a point to exactly one element, so the lift and the logarithm
//! collapse into a closed-form pair embedding. Each group also provides the vector-Jacobian
//! product of its embedding, so that ∂V/∂q can be written with ordinary tensor operations.
//! Adding a group means adding one file that implements [`LieGroup`] and one line in
//! [`group_by_name`].

mod so2;
mod translation;
mod trivial;

use candle_core::{Result, Tensor, D};

pub use so2::So2;
pub use translation::Translation;
pub use trivial::Trivial;

/// A group acting on point coordinates of shape (batch, n, dim).
pub trait LieGroup: Send + Sync + std::fmt::Debug {
    /// The name used in configs and on the command line (`trivial`, `T2`, `SO2`).
    fn name(&self) -> String;

    /// Number of Lie algebra coordinates in the embedding.
    fn lie_algebra_dim(&self, dim: usize) -> usize;

    /// Number of orbit identifier coordinates per point.
    fn orbit_dim(&self, dim: usize) -> usize;

    /// Width of a_ij: the Lie algebra part, then o_i, then o_j.
    fn embedding_dim(&self, dim: usize) -> usize {
        self.lie_algebra_dim(dim) + 2 * self.orbit_dim(dim)
    }

    /// Computes a_ij for `x` of shape (batch, n, dim); the result has shape
    /// (batch, n, n, embedding_dim) with a[b, i, j] describing the pair (i, j).
    fn pair_embedding(&self, x: &Tensor) -> Result<Tensor>;

    /// Returns Σ_ij ⟨grad[b, i, j], ∂a_ij/∂x⟩, shape (batch, n, dim), the vector-Jacobian
    /// product of [`LieGroup::pair_embedding`] with `grad` of shape (batch, n, n, embedding_dim).
    fn pair_embedding_vjp(&self, x: &Tensor, grad: &Tensor) -> Result<Tensor>;

    /// Computes the neighborhood distance α·|log(u_i⁻¹ u_j)| + (1 − α)·|o_i − o_j| for `x` of
    /// shape (batch, n, dim); the result has shape (batch, n, n).
    fn distance(&self, x: &Tensor, alpha: f64) -> Result<Tensor> {
        let dim = x.dim(D::Minus1)?;
        let embedding = self.pair_embedding(x)?;
        let (algebra, orbit) = (self.lie_algebra_dim(dim), self.orbit_dim(dim));
        let log_norm = embedding.narrow(D::Minus1, 0, algebra)?.sqr()?.sum(D::Minus1)?.sqrt()?;
        if orbit == 0 {
            return log_norm * alpha;
        }
        let o_i = embedding.narrow(D::Minus1, algebra, orbit)?;
        let o_j = embedding.narrow(D::Minus1, algebra + orbit, orbit)?;
        let gap = (o_i - o_j)?.sqr()?.sum(D::Minus1)?.sqrt()?;
        (log_norm * alpha)? + (gap * (1.0 - alpha))?
    }
}

/// Builds a group from its name: `trivial`, `T1` to `T3` (translations), or `SO2`.
pub fn group_by_name(name: &str) -> std::result::Result<Box<dyn LieGroup>, String> {
    match name {
        "trivial" => Ok(Box::new(Trivial)),
        "T1" => Ok(Box::new(Translation { dim: 1 })),
        "T2" => Ok(Box::new(Translation { dim: 2 })),
        "T3" => Ok(Box::new(Translation { dim: 3 })),
        "SO2" => Ok(Box::new(So2::default())),
        other => Err(format!(
            "unknown group '{other}'; the allowed values are trivial, T1, T2, T3 and SO2"
        )),
    }
}
