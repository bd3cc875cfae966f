//! SO(2): rotations of the plane about the origin.

use candle_core::{Result, Tensor, D};

use super::LieGroup;

/// Rotations of R² about the origin, with the radius as orbit identifier.
///
/// Finzi et al. (2020) embed the relative rotation u_i⁻¹ u_j by its angle θ_j − θ_i wrapped to
/// (−π, π], which jumps at ±π and so makes a learned Hamiltonian discontinuous. hamsim embeds
/// it instead as (cos Δθ, sin Δθ), computed without atan2 from the dot and cross products:
///
/// a_ij = [x_i·x_j / (r_i r_j), (x_i × x_j) / (r_i r_j), r_i, r_j],  r = √(|x|² + ε²).
///
/// The softening ε keeps every quantity and its derivatives finite for a particle at the
/// origin. It does not affect the invariance, since dot products, cross products and radii are
/// unchanged by a rotation; it only shrinks (cos, sin) towards 0 within about ε of the origin.
#[derive(Debug, Clone, Copy)]
pub struct So2 {
    /// Softening length ε of the radius (default 1e-3, in units of the coordinates).
    pub softening: f64,
}

impl Default for So2 {
    fn default() -> Self {
        So2 { softening: 1e-3 }
    }
}

/// Quantities shared by the embedding and its vector-Jacobian product.
struct Parts {
    /// Softened squared radii r², shape (batch, n).
    radius2: Tensor,
    /// Softened radii r, shape (batch, n).
    radius: Tensor,
    /// r_i r_j, shape (batch, n, n).
    radius_product: Tensor,
    /// cos Δθ_ij, shape (batch, n, n).
    cos: Tensor,
    /// sin Δθ_ij, shape (batch, n, n).
    sin: Tensor,
}

impl So2 {
    fn parts(&self, x: &Tensor) -> Result<Parts> {
        let radius2 = (x.sqr()?.sum(D::Minus1)? + self.softening * self.softening)?;
        let radius = radius2.sqrt()?;
        let radius_product = radius.unsqueeze(2)?.broadcast_mul(&radius.unsqueeze(1)?)?;
        let dot = x.matmul(&x.t()?.contiguous()?)?;
        let cross = x.matmul(&rotate_quarter(x)?.t()?.contiguous()?)?;
        Ok(Parts {
            cos: (dot / &radius_product)?,
            sin: (cross / &radius_product)?,
            radius2,
            radius,
            radius_product,
        })
    }
}

/// J x = (x₁, −x₀) for points of shape (batch, n, 2): the gradient of x_j × x with respect
/// to x_j is J x.
fn rotate_quarter(x: &Tensor) -> Result<Tensor> {
    let x0 = x.narrow(D::Minus1, 0, 1)?;
    let x1 = x.narrow(D::Minus1, 1, 1)?;
    Tensor::cat(&[&x1, &x0.neg()?], D::Minus1)
}

impl LieGroup for So2 {
    fn name(&self) -> String {
        "SO2".to_string()
    }

    fn lie_algebra_dim(&self, _dim: usize) -> usize {
        2
    }

    fn orbit_dim(&self, _dim: usize) -> usize {
        1
    }

    fn pair_embedding(&self, x: &Tensor) -> Result<Tensor> {
        let (batch, n, dim) = x.dims3()?;
        if dim != 2 {
            candle_core::bail!("SO2 acts on 2D coordinates, got dimension {dim}");
        }
        let parts = self.parts(x)?;
        let r_i = parts.radius.unsqueeze(2)?.broadcast_as((batch, n, n))?;
        let r_j = parts.radius.unsqueeze(1)?.broadcast_as((batch, n, n))?;
        Tensor::stack(&[&parts.cos, &parts.sin, &r_i, &r_j], D::Minus1)
    }

    /// With c = x_i·x_j / R, s = (x_i × x_j) / R and R = r_i r_j:
    /// ∂c/∂x_i = x_j / R − c x_i / r_i², ∂s/∂x_i = J x_j / R − s x_i / r_i²,
    /// ∂s/∂x_j = −J x_i / R − s x_j / r_j² and ∂r_i/∂x_i = x_i / r_i.
    fn pair_embedding_vjp(&self, x: &Tensor, grad: &Tensor) -> Result<Tensor> {
        let parts = self.parts(x)?;
        let g_cos = grad.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?;
        let g_sin = grad.narrow(D::Minus1, 1, 1)?.squeeze(D::Minus1)?;
        let g_ri = grad.narrow(D::Minus1, 2, 1)?.squeeze(D::Minus1)?;
        let g_rj = grad.narrow(D::Minus1, 3, 1)?.squeeze(D::Minus1)?;

        let a = (&g_cos / &parts.radius_product)?;
        let b = (&g_sin / &parts.radius_product)?;
        let symmetric = (&a + a.t()?)?.contiguous()?;
        let antisymmetric = (&b - b.t()?)?.contiguous()?;
        let along_pairs = (symmetric.matmul(x)? + antisymmetric.matmul(&rotate_quarter(x)?)?)?;

        let normalisation = ((&g_cos * &parts.cos)? + (&g_sin * &parts.sin)?)?;
        let normalisation = (normalisation.sum(2)? + normalisation.sum(1)?)?;
        let orbit = (g_ri.sum(2)? + g_rj.sum(1)?)?;
        let radial = ((orbit / &parts.radius)? - (normalisation / &parts.radius2)?)?;
        along_pairs + x.broadcast_mul(&radial.unsqueeze(D::Minus1)?)?
    }

    /// α·|(cos Δθ − 1, sin Δθ)| + (1 − α)·|r_i − r_j|: the chord 2|sin(Δθ/2)| grows with |Δθ|
    /// on [0, π], so it ranks neighbors as the angle would.
    fn distance(&self, x: &Tensor, alpha: f64) -> Result<Tensor> {
        let parts = self.parts(x)?;
        let chord = ((parts.cos - 1.0)?.sqr()? + parts.sin.sqr()?)?.sqrt()?;
        let gap = parts
            .radius
            .unsqueeze(2)?
            .broadcast_sub(&parts.radius.unsqueeze(1)?)?
            .abs()?;
        (chord * alpha)? + (gap * (1.0 - alpha))?
    }
}
