//! Learned Hamiltonians in candle: Lie groups, the LieConv layer, LieResNet, the Hamiltonian
//! model and its baselines.
//!
//! Training differentiates through ż = J∇H, so ∂H/∂z must itself be differentiable with
//! respect to the weights. hamsim writes ∂V/∂q as an explicit vector-Jacobian product: every
//! layer states its own backward pass with ordinary tensor operations ([`layers`],
//! [`lieconv`], [`lieresnet`], and each group's `pair_embedding_vjp`). A single ordinary
//! `backward` of the loss then yields the exact parameter gradient, with no second-order
//! autograd: candle 0.11 detaches gradients inside `backward` unless an environment variable
//! is set before the first call on each thread.

pub mod batch;
pub mod fused;
pub mod group;
pub mod layers;
pub mod lieconv;
pub mod lieresnet;
pub mod model;

pub use batch::SystemBatch;
pub use model::{Dynamics, Model, ModelConfig, ModelKind};
