//! hamsim: simulate, learn and check Hamiltonian dynamics.
//!
//! The physics core ([`physics`]) samples spring networks and gravitational N-body systems from
//! TOML files and integrates Hamilton's equations in f64. [`dataset`] stores trajectories as
//! safetensors files (and reads `.npz` files made by other tools), [`analysis`] measures how well
//! a trajectory conserves energy, linear and angular momentum, and [`generate`] ties them
//! together for the `hamsim generate` command.
//!
//! The state layout is the same everywhere: `z = [q (n·d values), p (n·d values)]`,
//! particle-major inside each half.
#![warn(missing_docs)]

pub mod analysis;
pub mod dataset;
pub mod error;
pub mod generate;
pub mod learn;
pub mod nn;
pub mod physics;
pub mod plot;
pub mod rollout;

pub use error::{Error, Result};
