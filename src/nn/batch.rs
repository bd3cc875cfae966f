//! Batches of systems as tensors: masses, per-particle features and padding masks.

use candle_core::{DType, Device, Result, Tensor};

/// The parameters of a batch of systems, padded to a common particle count n.
#[derive(Debug, Clone)]
pub struct SystemBatch {
    /// Masses, shape (batch, n); padded particles must carry a positive placeholder such as 1.
    pub masses: Tensor,
    /// Per-particle input features of the networks, shape (batch, n, features): (m_i, k_i) for
    /// spring networks, (m_i) for gravity.
    pub features: Tensor,
    /// 1 for a real particle, 0 for padding, shape (batch, n).
    pub mask: Tensor,
    /// Spatial dimension d.
    pub dim: usize,
}

impl SystemBatch {
    /// Builds a batch from flat parameter arrays: `masses` of shape (batch, n) and, for spring
    /// networks, `spring_constants` of the same shape. Every particle is real.
    pub fn from_parameters(
        masses: &[f64],
        spring_constants: Option<&[f64]>,
        n_particles: usize,
        dim: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let batch = masses.len() / n_particles;
        let masses_t = Tensor::from_slice(masses, (batch, n_particles), device)?.to_dtype(dtype)?;
        let features = match spring_constants {
            Some(k) => {
                let k = Tensor::from_slice(k, (batch, n_particles), device)?.to_dtype(dtype)?;
                Tensor::stack(&[&masses_t, &k], 2)?
            }
            None => masses_t.unsqueeze(2)?,
        };
        let mask = Tensor::ones((batch, n_particles), dtype, device)?;
        Ok(SystemBatch {
            masses: masses_t,
            features,
            mask,
            dim,
        })
    }

    /// Selects `len` systems starting at `start`.
    pub fn narrow(&self, start: usize, len: usize) -> Result<Self> {
        Ok(SystemBatch {
            masses: self.masses.narrow(0, start, len)?,
            features: self.features.narrow(0, start, len)?,
            mask: self.mask.narrow(0, start, len)?,
            dim: self.dim,
        })
    }

    /// Selects the systems at `rows`, a u32 tensor of shape (len).
    pub fn select(&self, rows: &Tensor) -> Result<Self> {
        Ok(SystemBatch {
            masses: self.masses.index_select(rows, 0)?,
            features: self.features.index_select(rows, 0)?,
            mask: self.mask.index_select(rows, 0)?,
            dim: self.dim,
        })
    }

    /// Number of systems.
    pub fn batch_size(&self) -> Result<usize> {
        self.masses.dim(0)
    }

    /// Number of particles n, padding included.
    pub fn n_particles(&self) -> Result<usize> {
        self.masses.dim(1)
    }

    /// Number of input features per particle.
    pub fn feature_count(&self) -> Result<usize> {
        self.features.dim(2)
    }

    /// Splits flat states `z` (batch, 2·n·d) into q and p, each (batch, n, d).
    pub fn split_state(&self, z: &Tensor) -> Result<(Tensor, Tensor)> {
        let (batch, len) = z.dims2()?;
        let n = self.n_particles()?;
        let half = len / 2;
        let q = z.narrow(1, 0, half)?.reshape((batch, n, self.dim))?;
        let p = z.narrow(1, half, half)?.reshape((batch, n, self.dim))?;
        Ok((q, p))
    }

    /// Joins q and p, each (batch, n, d), into flat states (batch, 2·n·d).
    pub fn join_state(&self, q: &Tensor, p: &Tensor) -> Result<Tensor> {
        let batch = q.dim(0)?;
        Tensor::cat(&[&q.reshape((batch, ()))?, &p.reshape((batch, ()))?], 1)
    }

    /// The mean position of the real particles q̄, shape (batch, 1, d).
    pub fn centroid(&self, q: &Tensor) -> Result<Tensor> {
        let mask = self.mask.unsqueeze(2)?;
        let count = mask.sum_keepdim(1)?;
        q.broadcast_mul(&mask)?.sum_keepdim(1)?.broadcast_div(&count)
    }

    /// Maps a gradient with respect to centred positions q − q̄ to one with respect to q:
    /// ∂L/∂q_m = ∂L/∂(q_m − q̄) − mask_m Σ_k ∂L/∂(q_k − q̄) / Σ_k mask_k.
    pub fn centring_vjp(&self, grad: &Tensor) -> Result<Tensor> {
        let mask = self.mask.unsqueeze(2)?;
        let count = mask.sum_keepdim(1)?;
        let mean = grad.sum_keepdim(1)?.broadcast_div(&count)?;
        grad - mask.broadcast_mul(&mean)?
    }
}
