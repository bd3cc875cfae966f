//! LieResNet: the residual LieConv network of Finzi et al. (ICML 2020), used as a potential.

use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;

use super::group::LieGroup;
use super::layers::{swish, swish_vjp, Dense};
use super::lieconv::{LieConv, LieConvCache, Neighborhood};

/// Sizes of a LieResNet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LieResNetShape {
    /// Input features per particle.
    pub features: usize,
    /// Channels k of the residual stream; each block's bottleneck has k/4.
    pub width: usize,
    /// Number of bottleneck blocks.
    pub layers: usize,
    /// Largest neighborhood; with more particles each uses its `nbhd` nearest.
    pub nbhd: usize,
    /// Weight α of the Lie algebra part in the neighborhood distance.
    pub alpha: f64,
}

/// One bottleneck block: h + W₂ swish(LieConv(W₁ swish(h))).
#[derive(Debug, Clone)]
struct Block {
    shrink: Dense,
    conv: LieConv,
    expand: Dense,
}

/// Intermediate values of one block's forward pass, reused by its backward pass.
struct BlockCache {
    input: Tensor,
    conv_output: Tensor,
    conv: LieConvCache,
}

impl Block {
    fn forward(&self, h: &Tensor, neighborhood: &Neighborhood) -> Result<(Tensor, BlockCache)> {
        let conv_input = self.shrink.forward(&swish(h)?)?;
        let (conv_output, conv) = self.conv.forward(&conv_input, neighborhood)?;
        let out = (h + self.expand.forward(&swish(&conv_output)?)?)?;
        let cache = BlockCache {
            input: h.clone(),
            conv_output,
            conv,
        };
        Ok((out, cache))
    }

    /// Returns the gradients with respect to the block's input and to the embeddings.
    fn vjp(&self, cache: &BlockCache, neighborhood: &Neighborhood, grad: &Tensor) -> Result<(Tensor, Tensor)> {
        let d_conv_output = swish_vjp(&cache.conv_output, &self.expand.vjp(grad)?)?;
        let (d_conv_input, d_embedding) = self.conv.vjp(&cache.conv, neighborhood, &d_conv_output)?;
        let d_input = swish_vjp(&cache.input, &self.shrink.vjp(&d_conv_input)?)?;
        Ok(((grad + d_input)?, d_embedding))
    }
}

/// A LieResNet whose output, summed over particles, is a scalar potential.
///
/// Per particle: a linear embedding of the features, `layers` bottleneck blocks, swish, and a
/// linear map to one number; the potential is the masked sum of those numbers.
#[derive(Debug)]
pub struct LieResNet {
    group: Box<dyn LieGroup>,
    shape: LieResNetShape,
    embed: Dense,
    blocks: Vec<Block>,
    head: Dense,
}

impl LieResNet {
    /// Creates the network's weights under `vb` for coordinates in `dim` dimensions.
    pub fn new(group: Box<dyn LieGroup>, dim: usize, shape: LieResNetShape, vb: VarBuilder) -> Result<Self> {
        let k = shape.width;
        let embedding_dim = group.embedding_dim(dim);
        let embed = Dense::new(shape.features, k, vb.pp("embed"))?;
        let blocks = (0..shape.layers)
            .map(|l| {
                let vb = vb.pp(format!("block{l}"));
                Ok(Block {
                    shrink: Dense::new(k, k / 4, vb.pp("shrink"))?,
                    conv: LieConv::new(embedding_dim, k / 4, k / 4, vb.pp("conv"))?,
                    expand: Dense::new(k / 4, k, vb.pp("expand"))?,
                })
            })
            .collect::<Result<_>>()?;
        let head = Dense::new(k, 1, vb.pp("head"))?;
        Ok(LieResNet {
            group,
            shape,
            embed,
            blocks,
            head,
        })
    }

    /// The group the network is invariant under.
    pub fn group(&self) -> &dyn LieGroup {
        self.group.as_ref()
    }

    /// Computes V (batch) and ∂V/∂x (batch, n, dim) for points `x` (batch, n, dim), particle
    /// `features` (batch, n, features) and `mask` (batch, n).
    pub fn potential_and_gradient(&self, x: &Tensor, features: &Tensor, mask: &Tensor) -> Result<(Tensor, Tensor)> {
        let neighborhood = Neighborhood::new(self.group.as_ref(), x, mask, self.shape.nbhd, self.shape.alpha)?;

        let mut h = self.embed.forward(features)?;
        let mut caches = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let (next, cache) = block.forward(&h, &neighborhood)?;
            caches.push(cache);
            h = next;
        }
        let per_particle = self.head.forward(&swish(&h)?)?.squeeze(D::Minus1)?;
        let potential = (per_particle * mask)?.sum(D::Minus1)?;

        // ∂V/∂(per-particle output) is the mask; walk the blocks backwards from there.
        let d_out = mask.unsqueeze(D::Minus1)?;
        let mut d_h = swish_vjp(&h, &self.head.vjp(&d_out)?)?;
        let mut d_embedding: Option<Tensor> = None;
        for (block, cache) in self.blocks.iter().zip(&caches).rev() {
            let (d_input, d_block) = block.vjp(cache, &neighborhood, &d_h)?;
            d_h = d_input;
            d_embedding = Some(match d_embedding {
                Some(total) => (total + d_block)?,
                None => d_block,
            });
        }

        let gradient = match d_embedding {
            Some(d) => {
                let d_pairs = neighborhood.scatter_embedding_grad(&d)?;
                self.group.pair_embedding_vjp(x, &d_pairs)?
            }
            None => x.zeros_like()?,
        };
        Ok((potential, gradient))
    }
}
