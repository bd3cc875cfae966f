//! Dense layers and the swish activation, each with its vector-Jacobian product.
//!
//! The Hamiltonian models need ∂V/∂q inside the training graph. Instead of differentiating
//! twice with candle's autograd, every layer here states its own backward pass with ordinary
//! tensor operations; the result is then differentiated once, by a plain `backward`, for the
//! parameter gradient.

use candle_core::{Result, Tensor};
use candle_nn::{Linear, VarBuilder};

/// swish(x) = x·σ(x), candle's fused SiLU.
pub fn swish(x: &Tensor) -> Result<Tensor> {
    x.silu()
}

/// Returns g·swish'(x), with swish'(x) = σ(x)·(1 + x·(1 − σ(x))), as one fused operation.
pub fn swish_vjp(x: &Tensor, grad: &Tensor) -> Result<Tensor> {
    super::fused::swish_grad(x, grad)
}

/// An affine layer y = x Wᵀ + b on the last axis.
#[derive(Debug, Clone)]
pub struct Dense {
    linear: Linear,
}

impl Dense {
    /// Creates the layer's weight (`weight`, shape (out, in)) and bias (`bias`, shape (out))
    /// under `vb`.
    pub fn new(inputs: usize, outputs: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Dense {
            linear: candle_nn::linear(inputs, outputs, vb)?,
        })
    }

    /// Applies the layer to `x` of shape (..., in).
    ///
    /// The leading axes are flattened into one, so that a single matrix product serves the
    /// whole batch; candle's batched products of rank 3 and more are slower, and read
    /// non-contiguous inputs wrongly.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (rows, shape) = flatten_rows(x)?;
        let weight = self.linear.weight();
        let mut y = rows.matmul(&weight.t()?)?;
        if let Some(bias) = self.linear.bias() {
            y = y.broadcast_add(bias)?;
        }
        y.reshape(with_last(&shape, weight.dim(0)?))
    }

    /// Returns g W, the gradient with respect to the input for `grad` of shape (..., out).
    pub fn vjp(&self, grad: &Tensor) -> Result<Tensor> {
        let (rows, shape) = flatten_rows(grad)?;
        let weight = self.linear.weight();
        rows.matmul(weight)?.reshape(with_last(&shape, weight.dim(1)?))
    }
}

/// Reshapes `x` of shape (..., c) to a contiguous (rows, c) matrix; returns it with the
/// original shape.
fn flatten_rows(x: &Tensor) -> Result<(Tensor, Vec<usize>)> {
    let shape = x.dims().to_vec();
    let columns = *shape.last().expect("a tensor with at least one axis");
    let rows = x.contiguous()?.reshape(((), columns))?;
    Ok((rows, shape))
}

/// `shape` with its last axis replaced by `last`.
fn with_last(shape: &[usize], last: usize) -> Vec<usize> {
    let mut shape = shape.to_vec();
    *shape.last_mut().expect("a tensor with at least one axis") = last;
    shape
}

/// A multilayer perceptron of [`Dense`] layers with swish between them, and optionally after
/// the last one.
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Dense>,
    activate_last: bool,
}

/// The inputs of each layer's activation, kept by [`Mlp::forward_cached`] for [`Mlp::vjp`].
pub struct MlpCache {
    pre_activations: Vec<Tensor>,
}

impl Mlp {
    /// Creates layers of the given widths, `widths[0]` being the input width; layer l lives
    /// under `vb.pp(l)`.
    pub fn new(widths: &[usize], activate_last: bool, vb: VarBuilder) -> Result<Self> {
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(l, w)| Dense::new(w[0], w[1], vb.pp(l.to_string())))
            .collect::<Result<_>>()?;
        Ok(Mlp {
            layers,
            activate_last,
        })
    }

    fn activates(&self, layer: usize) -> bool {
        layer + 1 < self.layers.len() || self.activate_last
    }

    /// Applies the network to `x` of shape (..., widths[0]).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward_cached(x)?.0)
    }

    /// Applies the network and keeps what [`Mlp::vjp`] needs.
    pub fn forward_cached(&self, x: &Tensor) -> Result<(Tensor, MlpCache)> {
        let mut h = x.clone();
        let mut pre_activations = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h)?;
            if self.activates(l) {
                pre_activations.push(h.clone());
                h = swish(&h)?;
            }
        }
        Ok((h, MlpCache { pre_activations }))
    }

    /// Returns the gradient with respect to the input, for `grad` with respect to the output.
    pub fn vjp(&self, cache: &MlpCache, grad: &Tensor) -> Result<Tensor> {
        let mut g = grad.clone();
        let mut pre = cache.pre_activations.iter().rev();
        for (l, layer) in self.layers.iter().enumerate().rev() {
            if self.activates(l) {
                let x = pre.next().expect("one cached input per activation");
                g = swish_vjp(x, &g)?;
            }
            g = layer.vjp(&g)?;
        }
        Ok(g)
    }
}
