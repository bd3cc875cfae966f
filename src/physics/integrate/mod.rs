//! f64 integrators for Hamilton's equations, all reporting states at given saved times.
//!
//! - [`IntegratorKind::Dop853`]: the adaptive 8th-order Dormand–Prince method of
//!   Hairer, Nørsett and Wanner (Solving ODEs I, 1993), from the `ode_solvers` crate.
//! - [`IntegratorKind::Rk4`]: the classical fixed-step Runge–Kutta method on the grid of saved
//!   times, optionally with substeps.
//! - [`IntegratorKind::Leapfrog`]: velocity Verlet, a symplectic second-order method for
//!   separable Hamiltonians, with substeps.

mod dop853;
mod leapfrog;
mod rk4;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Hamiltonian;

/// The integration methods hamsim offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntegratorKind {
    /// Adaptive 8th-order Dormand–Prince with dense output.
    #[default]
    Dop853,
    /// Classical 4th-order Runge–Kutta with a fixed step.
    Rk4,
    /// Velocity Verlet (symplectic, 2nd order) with a fixed step.
    Leapfrog,
}

impl IntegratorKind {
    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            IntegratorKind::Dop853 => "dop853",
            IntegratorKind::Rk4 => "rk4",
            IntegratorKind::Leapfrog => "leapfrog",
        }
    }
}

impl fmt::Display for IntegratorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IntegratorKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dop853" => Ok(IntegratorKind::Dop853),
            "rk4" => Ok(IntegratorKind::Rk4),
            "leapfrog" => Ok(IntegratorKind::Leapfrog),
            other => Err(format!(
                "unknown integrator '{other}'; the allowed values are dop853, rk4 and leapfrog"
            )),
        }
    }
}

/// A solver with its settings, as written in a system file's `[integrator]` table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integrator {
    /// The method (default `dop853`).
    #[serde(default)]
    pub method: IntegratorKind,
    /// Relative tolerance of `dop853` (default 1e-10), in [1e-14, 1).
    #[serde(default = "default_rtol")]
    pub rtol: f64,
    /// Absolute tolerance of `dop853` (default 1e-12), > 0.
    #[serde(default = "default_atol")]
    pub atol: f64,
    /// Fixed steps of `rk4` and `leapfrog` per saved interval (default 1), at least 1.
    #[serde(default = "default_substeps")]
    pub substeps: usize,
}

fn default_rtol() -> f64 {
    1e-10
}

fn default_atol() -> f64 {
    1e-12
}

fn default_substeps() -> usize {
    1
}

impl Default for Integrator {
    fn default() -> Self {
        Integrator {
            method: IntegratorKind::default(),
            rtol: default_rtol(),
            atol: default_atol(),
            substeps: default_substeps(),
        }
    }
}

impl Integrator {
    /// Checks the tolerances and substeps; the message names the key and its allowed range.
    pub fn check(&self) -> Result<(), String> {
        if !(self.rtol >= 1e-14 && self.rtol < 1.0) {
            return Err(format!(
                "integrator.rtol = {:?} is out of range; the allowed range is 1e-14 <= rtol < 1 \
                 (below 1e-14 float64 round-off dominates)",
                self.rtol
            ));
        }
        if !(self.atol > 0.0) || !self.atol.is_finite() {
            return Err(format!(
                "integrator.atol = {:?} is out of range; it must be a finite number > 0",
                self.atol
            ));
        }
        if self.substeps == 0 {
            return Err(
                "integrator.substeps = 0 is out of range; use at least 1 step per saved interval"
                    .to_string(),
            );
        }
        Ok(())
    }

    /// Integrates Hamilton's equations from `z0` at `ts[0]` and writes the state at every
    /// saved time into `out`, shape (ts.len(), z0.len()), row 0 being `z0` itself.
    ///
    /// `ts` must be strictly increasing. Returns the solver's message on failure.
    pub fn integrate(
        &self,
        system: &dyn Hamiltonian,
        z0: &[f64],
        ts: &[f64],
        out: &mut [f64],
    ) -> Result<(), String> {
        assert_eq!(out.len(), ts.len() * z0.len(), "output buffer has the wrong size");
        if let Some(w) = ts.windows(2).find(|w| !(w[1] > w[0])) {
            return Err(format!(
                "saved times must be strictly increasing, but {} is followed by {}",
                w[0], w[1]
            ));
        }
        out[..z0.len()].copy_from_slice(z0);
        match self.method {
            IntegratorKind::Dop853 => dop853::integrate(system, ts, self.rtol, self.atol, out),
            IntegratorKind::Rk4 => {
                rk4::integrate(system, ts, self.substeps, out);
                Ok(())
            }
            IntegratorKind::Leapfrog => {
                leapfrog::integrate(system, ts, self.substeps, out);
                Ok(())
            }
        }
    }
}
