//! The LieConv layer and the neighborhoods it convolves over.
//!
//! Finzi et al. (ICML 2020), Sec. 4.3: the output at particle i is
//! h_i = (1 / |N(i)|) Σ_{j ∈ N(i)} k_θ(a_ij) f_j, with the kernel k_θ an MLP of the pair
//! embedding. As in the paper's PointConv trick (Wu et al. 2019), the MLP outputs 16 numbers
//! per pair instead of a full c_out × c_in matrix; they are contracted with the neighbors'
//! values, and a linear map takes the 16·c_in results to the output channels.

use candle_core::{DType, Result, Tensor, D};
use candle_nn::VarBuilder;

use super::group::LieGroup;
use super::layers::{Dense, Mlp, MlpCache};

/// Hidden width of the kernel MLP.
pub const KERNEL_WIDTH: usize = 32;

/// Outputs of the kernel MLP per pair.
pub const KERNEL_OUTPUTS: usize = 16;

/// The neighbors of every particle, shared by all layers of a network.
pub struct Neighborhood {
    /// Pair embeddings a_ij, shape (batch, n, k, e), for the k neighbors j of each i.
    pub embedding: Tensor,
    /// 1 for a real neighbor, 0 for a padded one, shape (batch, n, k); `None` when no
    /// particle is padded, which saves two operations per layer.
    pub mask: Option<Tensor>,
    /// Number of real neighbors, at least 1, shape (batch, n, 1); `None` when it is k for
    /// every particle.
    pub count: Option<Tensor>,
    /// Row of each neighbor in the (batch·n) flattened particles, shape (batch·n·k); `None`
    /// when every particle is every other's neighbor, in order.
    pub index: Option<Tensor>,
    /// Row of each pair in the (batch·n·n) flattened pairs, shape (batch·n·k), alongside
    /// `index`.
    pub pair_index: Option<Tensor>,
}

impl Neighborhood {
    /// Picks the neighborhoods of points `x` (batch, n, dim) with particle `mask` (batch, n):
    /// every real particle when n ≤ `size`, otherwise the `size` nearest by the group
    /// distance with weight `alpha`.
    pub fn new(group: &dyn LieGroup, x: &Tensor, mask: &Tensor, size: usize, alpha: f64) -> Result<Self> {
        let (batch, n, _) = x.dims3()?;
        let embedding = group.pair_embedding(x)?;
        let padded = mask.min_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()? < 1.0;
        if n <= size {
            if !padded {
                return Ok(Neighborhood {
                    embedding,
                    mask: None,
                    count: None,
                    index: None,
                    pair_index: None,
                });
            }
            let mask = mask.unsqueeze(1)?.broadcast_as((batch, n, n))?.contiguous()?;
            let count = mask.sum_keepdim(D::Minus1)?.clamp(1.0, f64::INFINITY)?;
            return Ok(Neighborhood {
                embedding,
                mask: Some(mask),
                count: Some(count),
                index: None,
                pair_index: None,
            });
        }

        // Padded particles are pushed to the end of every ranking.
        let distance = group.distance(&x.detach(), alpha)?.detach();
        let far = mask.unsqueeze(1)?.broadcast_as((batch, n, n))?.affine(-1e30, 1e30)?;
        let order = (distance + far)?.arg_sort_last_dim(true)?.narrow(D::Minus1, 0, size)?;
        let order = order.to_dtype(DType::U32)?.contiguous()?;

        let rows = Tensor::arange(0u32, (batch * n) as u32, x.device())?.reshape((batch, n, 1))?;
        let batch_start = Tensor::arange(0u32, batch as u32, x.device())?
            .affine(n as f64, 0.0)?
            .reshape((batch, 1, 1))?;
        let index = order.broadcast_add(&batch_start)?.flatten_all()?;
        let pair_index = rows.affine(n as f64, 0.0)?.broadcast_add(&order)?.flatten_all()?;

        let e = embedding.dim(D::Minus1)?;
        let embedding = embedding
            .reshape((batch * n * n, e))?
            .index_select(&pair_index, 0)?
            .reshape((batch, n, size, e))?;
        let mask = mask.flatten_all()?.index_select(&index, 0)?.reshape((batch, n, size))?;
        let count = mask.sum_keepdim(D::Minus1)?.clamp(1.0, f64::INFINITY)?;
        Ok(Neighborhood {
            embedding,
            mask: Some(mask),
            count: Some(count),
            index: Some(index),
            pair_index: Some(pair_index),
        })
    }

    /// Number of neighbors per particle, k.
    pub fn size(&self) -> Result<usize> {
        self.embedding.dim(2)
    }

    /// Multiplies `t` of shape (batch, n, k, c) by the neighbor mask.
    fn apply_mask(&self, t: Tensor) -> Result<Tensor> {
        match &self.mask {
            Some(mask) => t.broadcast_mul(&mask.unsqueeze(D::Minus1)?),
            None => Ok(t),
        }
    }

    /// Divides `t` of shape (batch, n, c) by each particle's number of real neighbors.
    fn average(&self, t: &Tensor) -> Result<Tensor> {
        match &self.count {
            Some(count) => t.broadcast_div(count),
            None => t.affine(1.0 / self.size()? as f64, 0.0),
        }
    }

    /// Spreads a gradient with respect to the neighborhood's embeddings, shape
    /// (batch, n, k, e), back onto all pairs, shape (batch, n, n, e).
    pub fn scatter_embedding_grad(&self, grad: &Tensor) -> Result<Tensor> {
        let Some(pair_index) = &self.pair_index else {
            return Ok(grad.clone());
        };
        let (batch, n, k, e) = grad.dims4()?;
        let zeros = Tensor::zeros((batch * n * n, e), grad.dtype(), grad.device())?;
        zeros
            .index_add(pair_index, &grad.reshape((batch * n * k, e))?, 0)?
            .reshape((batch, n, n, e))
    }
}

/// One LieConv layer from `c_in` to `c_out` channels.
#[derive(Debug, Clone)]
pub struct LieConv {
    kernel: Mlp,
    output: Dense,
}

/// Intermediate values of the forward pass that [`LieConv::vjp`] reuses.
pub struct LieConvCache {
    kernel: MlpCache,
    /// Masked kernel values, transposed to (batch·n, 16, k) or (batch, n·16, n).
    weights: Tensor,
    /// The neighbors' values: (batch·n, k, c_in) when gathered, else (batch, n, c_in).
    values: Tensor,
}

impl LieConv {
    /// Creates the kernel MLP (pair embedding of width `embedding_dim` → 32 → 32 → 16, swish
    /// after each layer, as in the reference implementation) and the output map.
    pub fn new(embedding_dim: usize, c_in: usize, c_out: usize, vb: VarBuilder) -> Result<Self> {
        let kernel = Mlp::new(
            &[embedding_dim, KERNEL_WIDTH, KERNEL_WIDTH, KERNEL_OUTPUTS],
            true,
            vb.pp("kernel"),
        )?;
        let output = Dense::new(KERNEL_OUTPUTS * c_in, c_out, vb.pp("output"))?;
        Ok(LieConv { kernel, output })
    }

    /// Convolves `values` (batch, n, c_in) over `neighborhood`; returns (batch, n, c_out).
    pub fn forward(&self, values: &Tensor, neighborhood: &Neighborhood) -> Result<(Tensor, LieConvCache)> {
        let (batch, n, c) = values.dims3()?;
        let k = neighborhood.size()?;
        let (kernel, kernel_cache) = self.kernel.forward_cached(&neighborhood.embedding)?;
        let masked = neighborhood.apply_mask(kernel)?;
        let transposed = masked.transpose(2, 3)?.contiguous()?;

        let (weights, gathered, contracted) = match &neighborhood.index {
            None => {
                let weights = transposed.reshape((batch, n * KERNEL_OUTPUTS, k))?;
                let contracted = weights.matmul(&values.contiguous()?)?;
                (weights, values.contiguous()?, contracted)
            }
            Some(index) => {
                let weights = transposed.reshape((batch * n, KERNEL_OUTPUTS, k))?;
                let gathered = values
                    .reshape((batch * n, c))?
                    .index_select(index, 0)?
                    .reshape((batch * n, k, c))?;
                let contracted = weights.matmul(&gathered)?;
                (weights, gathered, contracted)
            }
        };

        let contracted = contracted.reshape((batch, n, KERNEL_OUTPUTS * c))?;
        let out = neighborhood.average(&self.output.forward(&contracted)?)?;
        let cache = LieConvCache {
            kernel: kernel_cache,
            weights,
            values: gathered,
        };
        Ok((out, cache))
    }

    /// Returns the gradients with respect to the values (batch, n, c_in) and to the
    /// neighborhood's embeddings (batch, n, k, e), for `grad` (batch, n, c_out).
    pub fn vjp(
        &self,
        cache: &LieConvCache,
        neighborhood: &Neighborhood,
        grad: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (batch, n, _) = grad.dims3()?;
        let k = neighborhood.size()?;
        let c = cache.values.dim(D::Minus1)?;
        let d_out = neighborhood.average(grad)?;
        let d_contracted = self.output.vjp(&d_out)?;

        let (d_values, d_weights) = match &neighborhood.index {
            None => {
                let d_contracted = d_contracted.reshape((batch, n * KERNEL_OUTPUTS, c))?;
                let d_values = cache.weights.t()?.contiguous()?.matmul(&d_contracted)?;
                let d_weights = d_contracted.matmul(&cache.values.t()?.contiguous()?)?;
                (d_values, d_weights)
            }
            Some(index) => {
                let d_contracted = d_contracted.reshape((batch * n, KERNEL_OUTPUTS, c))?;
                let d_gathered = cache.weights.t()?.contiguous()?.matmul(&d_contracted)?;
                let zeros = Tensor::zeros((batch * n, c), grad.dtype(), grad.device())?;
                let d_values = zeros
                    .index_add(index, &d_gathered.reshape((batch * n * k, c))?, 0)?
                    .reshape((batch, n, c))?;
                let d_weights = d_contracted.matmul(&cache.values.t()?.contiguous()?)?;
                (d_values, d_weights)
            }
        };

        let d_kernel = d_weights.reshape((batch, n, KERNEL_OUTPUTS, k))?.transpose(2, 3)?;
        let d_kernel = neighborhood.apply_mask(d_kernel)?;
        let d_embedding = self.kernel.vjp(&cache.kernel, &d_kernel.contiguous()?)?;
        Ok((d_values, d_embedding))
    }
}
