//! Fused elementwise operations for the backward pass of swish.
//!
//! g·swish'(x) written with candle's primitive operations takes six tensor operations, each of
//! which candle's backward later revisits with a zero fill and an addition. As one custom
//! operation it is a single pass over memory, with its own derivatives:
//!
//! swish'(x) = σ(x)·(1 + x·(1 − σ(x))),
//! swish''(x) = σ(x)·(1 − σ(x))·(2 + x·(1 − 2σ(x))).
//!
//! NOTE: only the CPU backend is implemented; other devices return an error.

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};

/// Returns g·swish'(x) for tensors of equal shape; differentiable once in both arguments.
pub fn swish_grad(x: &Tensor, grad: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op2(&grad.contiguous()?, SwishGrad)
}

/// Defines swish' and swish'' for one float type, so that f32 tensors use f32 arithmetic.
macro_rules! swish_derivatives {
    ($module:ident, $float:ty) => {
        mod $module {
            fn sigmoid(x: $float) -> $float {
                1.0 / (1.0 + (-x).exp())
            }

            pub fn first(x: $float) -> $float {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }

            pub fn second(x: $float) -> $float {
                let s = sigmoid(x);
                s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))
            }
        }
    };
}

swish_derivatives!(derivatives_f32, f32);
swish_derivatives!(derivatives_f64, f64);

/// The order of the swish derivative that an operation multiplies by.
#[derive(Clone, Copy)]
enum Order {
    First,
    Second,
}

/// Applies swish^(order)(x) · g element by element to two contiguous CPU tensors of one dtype.
fn map_pairs(
    s1: &CpuStorage,
    l1: &Layout,
    s2: &CpuStorage,
    l2: &Layout,
    order: Order,
) -> Result<(CpuStorage, Shape)> {
    let (Some((a0, a1)), Some((b0, b1))) = (l1.contiguous_offsets(), l2.contiguous_offsets()) else {
        candle_core::bail!("fused swish operations need contiguous inputs");
    };
    if l1.shape() != l2.shape() {
        candle_core::bail!("fused swish operations need equal shapes, got {:?} and {:?}", l1.shape(), l2.shape());
    }
    let storage = match (s1, s2) {
        (CpuStorage::F32(x), CpuStorage::F32(g)) => {
            let f = match order {
                Order::First => derivatives_f32::first,
                Order::Second => derivatives_f32::second,
            };
            CpuStorage::F32(x[a0..a1].iter().zip(&g[b0..b1]).map(|(&x, &g)| f(x) * g).collect())
        }
        (CpuStorage::F64(x), CpuStorage::F64(g)) => {
            let f = match order {
                Order::First => derivatives_f64::first,
                Order::Second => derivatives_f64::second,
            };
            CpuStorage::F64(x[a0..a1].iter().zip(&g[b0..b1]).map(|(&x, &g)| f(x) * g).collect())
        }
        _ => candle_core::bail!("fused swish operations support f32 and f64 tensors of one dtype"),
    };
    Ok((storage, l1.shape().clone()))
}

/// (x, g) ↦ g·swish'(x).
struct SwishGrad;

/// (x, g) ↦ g·swish''(x), used only inside the backward pass of [`SwishGrad`].
struct SwishCurvature;

impl CustomOp2 for SwishGrad {
    fn name(&self) -> &'static str {
        "swish-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        map_pairs(s1, l1, s2, l2, Order::First)
    }

    /// ∂(g·swish'(x))/∂x = g·swish''(x) and ∂(g·swish'(x))/∂g = swish'(x).
    fn bwd(&self, x: &Tensor, g: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let grad_res = grad_res.contiguous()?;
        let d_x = x.apply_op2_no_bwd(&(g * &grad_res)?.contiguous()?, &SwishCurvature)?;
        let d_g = x.apply_op2_no_bwd(&grad_res, &SwishGrad)?;
        Ok((Some(d_x), Some(d_g)))
    }
}

impl CustomOp2 for SwishCurvature {
    fn name(&self) -> &'static str {
        "swish-curvature"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        map_pairs(s1, l1, s2, l2, Order::Second)
    }
}
