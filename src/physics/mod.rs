//! The physics core: Hamiltonians with closed-form gradients, the system files that describe
//! how to sample them, and f64 integrators for Hamilton's equations.
//!
//! Every system here is separable, H(q, p) = Σ_i |p_i|² / (2 m_i) + V(q), so Hamilton's
//! equations read q̇ = p / m and ṗ = −∂V/∂q.

pub mod distribution;
pub mod gravity;
pub mod hamiltonian;
pub mod integrate;
pub mod spec;
pub mod springs;

pub use distribution::Distribution;
pub use gravity::Gravity;
pub use hamiltonian::Hamiltonian;
pub use integrate::{Integrator, IntegratorKind};
pub use spec::{Sample, SystemSpec};
pub use springs::Springs;

/// The random generator behind every sampled system.
///
/// ChaCha8 is portable and value-stable across platforms and crate versions. Its 64-bit stream
/// number gives each system a stream of its own, derived from (seed, index), so the data do not
/// depend on how systems are spread over threads.
pub type SystemRng = rand_chacha::ChaCha8Rng;

/// Creates the generator of system `index` for the run seeded with `seed`.
pub fn system_rng(seed: u64, index: u64) -> SystemRng {
    use rand::SeedableRng;

    let mut rng = SystemRng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}
