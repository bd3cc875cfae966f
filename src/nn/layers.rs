//! Dense layers and the swish activation, each with its vector-Jacobian product.
//!
//! The Hamiltonian models need ∂V/∂q inside the training graph. Instead of differentiating
//! twice with candle's autograd, every layer here states its own backward pass with ordinary
//! tensor operations; the result is then differentiated once, by a plain `backward`, for the
//! parameter gradient.

use candle_core::{Result, Tensor};
use candle_nn::{Linear, Module, VarBuilder};

/// swish(x) = x·σ(x) (also called SiLU).
pub fn swish(x: &Tensor) -> Result<Tensor> {
    x * sigmoid(x)?
}

/// Returns g·swish'(x), with swish'(x) = σ(x)·(1 + x·(1 − σ(x))).
pub fn swish_vjp(x: &Tensor, grad: &Tensor) -> Result<Tensor> {
    let s = sigmoid(x)?;
    let slope = (&s * ((x * (1.0 - &s)?)? + 1.0)?)?;
    grad * slope
}

/// σ(x) = 1 / (1 + e^(−x)), written with primitive operations whose gradients candle knows.
fn sigmoid(x: &Tensor) -> Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
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
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // candle's matmul reads non-contiguous inputs of rank 3 and more wrongly.
        self.linear.forward(&x.contiguous()?)
    }

    /// Returns g W, the gradient with respect to the input for `grad` of shape (..., out).
    pub fn vjp(&self, grad: &Tensor) -> Result<Tensor> {
        grad.contiguous()?.broadcast_matmul(self.linear.weight())
    }
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
