//! System files: the TOML description of a family of physical systems, and sampling from it.
//!
//! A file names its `kind` (`springs` or `gravity`), the spatial dimension, the time grid
//! (`dt`, `states`), the distributions of its parameters and initial states, and optionally an
//! `[integrator]` table with the default solver. Unknown keys and out-of-range values are
//! rejected with a message that names the file, the key, the value and the allowed range.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::Integrator;
use super::{system_rng, Distribution, Gravity, Hamiltonian, Springs};
use crate::{Error, Result};

/// The largest spatial dimension a system file may ask for.
pub const MAX_DIM: usize = 16;

/// A spring network family (see [`Springs`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpringsSpec {
    /// Number of particles n, at least 2.
    pub n_particles: usize,
    /// Spatial dimension d, 1 to [`MAX_DIM`].
    pub dim: usize,
    /// Time between saved states, > 0.
    pub dt: f64,
    /// Number of saved states per trajectory, including the initial one; at least 2.
    pub states: usize,
    /// Distribution of each mass m_i; must be positive.
    pub masses: Distribution,
    /// Distribution of each spring constant k_i; must be non-negative.
    pub spring_constants: Distribution,
    /// Distribution of each initial position component.
    pub q0: Distribution,
    /// Distribution of each initial momentum component.
    pub p0: Distribution,
    /// Default solver settings.
    #[serde(default)]
    pub integrator: Integrator,
}

/// A star-and-planets gravity family (see [`Gravity`]): a star at rest at the origin and
/// planets on circular orbits around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GravitySpec {
    /// Spatial dimension d, 2 or 3.
    pub dim: usize,
    /// Time between saved states, > 0.
    pub dt: f64,
    /// Number of saved states per trajectory, including the initial one; at least 2.
    pub states: usize,
    /// Gravitational constant G, > 0.
    #[serde(default = "one")]
    pub gravitational_constant: f64,
    /// Plummer softening length ε, >= 0 (default 0: exact Newtonian gravity).
    #[serde(default)]
    pub softening: f64,
    /// Mass of the central star, > 0.
    pub star_mass: f64,
    /// Number of planets, at least 1.
    pub planets: usize,
    /// Distribution of each planet's mass; must be positive.
    pub planet_masses: Distribution,
    /// Orbit radius of the innermost planet before jitter.
    pub radius_min: f64,
    /// Orbit radius of the outermost planet before jitter; radii are evenly spread between.
    pub radius_max: f64,
    /// Half-width of the uniform jitter added to each radius, >= 0.
    #[serde(default)]
    pub radius_jitter: f64,
    /// Shuffle the particle order, so the star is not always particle 0 (default true).
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Default solver settings.
    #[serde(default)]
    pub integrator: Integrator,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// The kinds of physical system a file can describe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SystemKind {
    /// Spring networks.
    Springs(SpringsSpec),
    /// Star-and-planets gravity.
    Gravity(GravitySpec),
}

/// A parsed and validated system file.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemSpec {
    /// Where the file was read from, for messages.
    pub path: PathBuf,
    /// The file's text, stored verbatim in dataset metadata.
    pub text: String,
    /// The parsed contents.
    pub kind: SystemKind,
}

/// One sampled system: its parameters and initial state.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Masses, shape (n_particles).
    pub masses: Vec<f64>,
    /// Spring constants for spring networks, shape (n_particles).
    pub spring_constants: Option<Vec<f64>>,
    /// Initial state z0 = [q, p], shape (2·n_particles·dim).
    pub z0: Vec<f64>,
}

impl SystemSpec {
    /// Reads, parses and validates a system file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::SystemFile {
            path: path.to_path_buf(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::from_toml(path, &text)
    }

    /// Parses and validates TOML text; `path` is used in messages only.
    pub fn from_toml(path: &Path, text: &str) -> Result<Self> {
        let error = |message: String| Error::SystemFile {
            path: path.to_path_buf(),
            message,
        };
        let kind: SystemKind = toml::from_str(text).map_err(|e| error(e.to_string().trim_end().to_string()))?;
        let spec = SystemSpec {
            path: path.to_path_buf(),
            text: text.to_string(),
            kind,
        };
        spec.check().map_err(error)?;
        Ok(spec)
    }

    /// The name of the kind, as written in the file.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            SystemKind::Springs(_) => "springs",
            SystemKind::Gravity(_) => "gravity",
        }
    }

    /// Number of particles n.
    pub fn n_particles(&self) -> usize {
        match &self.kind {
            SystemKind::Springs(s) => s.n_particles,
            SystemKind::Gravity(g) => g.planets + 1,
        }
    }

    /// Spatial dimension d.
    pub fn dim(&self) -> usize {
        match &self.kind {
            SystemKind::Springs(s) => s.dim,
            SystemKind::Gravity(g) => g.dim,
        }
    }

    /// Time between saved states.
    pub fn dt(&self) -> f64 {
        match &self.kind {
            SystemKind::Springs(s) => s.dt,
            SystemKind::Gravity(g) => g.dt,
        }
    }

    /// Number of saved states per trajectory.
    pub fn states(&self) -> usize {
        match &self.kind {
            SystemKind::Springs(s) => s.states,
            SystemKind::Gravity(g) => g.states,
        }
    }

    /// The file's default solver settings.
    pub fn integrator(&self) -> &Integrator {
        match &self.kind {
            SystemKind::Springs(s) => &s.integrator,
            SystemKind::Gravity(g) => &g.integrator,
        }
    }

    /// The saved times 0, dt, 2·dt, …, shape (states).
    pub fn times(&self) -> Vec<f64> {
        let dt = self.dt();
        (0..self.states()).map(|i| i as f64 * dt).collect()
    }

    /// Draws system `index` of the run seeded with `seed`, from its own generator stream.
    pub fn sample(&self, seed: u64, index: u64) -> Sample {
        let mut rng = system_rng(seed, index);
        match &self.kind {
            SystemKind::Springs(s) => sample_springs(s, &mut rng),
            SystemKind::Gravity(g) => sample_gravity(g, &mut rng),
        }
    }

    /// Builds the Hamiltonian of one system from its stored parameters.
    pub fn hamiltonian(
        &self,
        masses: &[f64],
        spring_constants: Option<&[f64]>,
    ) -> Result<Box<dyn Hamiltonian>> {
        match &self.kind {
            SystemKind::Springs(s) => {
                let k = spring_constants.ok_or_else(|| {
                    Error::invalid(
                        "system",
                        "a springs system needs spring constants, but the dataset has none",
                    )
                })?;
                Ok(Box::new(Springs::new(s.dim, masses.to_vec(), k.to_vec())))
            }
            SystemKind::Gravity(g) => Ok(Box::new(Gravity {
                dim: g.dim,
                masses: masses.to_vec(),
                gravitational_constant: g.gravitational_constant,
                softening: g.softening,
            })),
        }
    }

    /// Replaces the time grid, for command-line overrides; the result is checked again.
    pub fn with_grid(mut self, dt: Option<f64>, states: Option<usize>) -> Result<Self> {
        let (spec_dt, spec_states) = match &mut self.kind {
            SystemKind::Springs(s) => (&mut s.dt, &mut s.states),
            SystemKind::Gravity(g) => (&mut g.dt, &mut g.states),
        };
        if let Some(dt) = dt {
            check_dt(dt).map_err(|m| Error::invalid("--dt", m))?;
            *spec_dt = dt;
        }
        if let Some(states) = states {
            check_states(states).map_err(|m| Error::invalid("--states", m))?;
            *spec_states = states;
        }
        Ok(self)
    }

    fn check(&self) -> Result<(), String> {
        check_dt(self.dt())?;
        check_states(self.states())?;
        self.integrator().check()?;
        match &self.kind {
            SystemKind::Springs(s) => check_springs(s),
            SystemKind::Gravity(g) => check_gravity(g),
        }
    }
}

fn check_dt(dt: f64) -> Result<(), String> {
    if dt > 0.0 && dt.is_finite() {
        Ok(())
    } else {
        Err(format!(
            "dt = {dt:?} is out of range; the time step between saved states must be a finite number > 0"
        ))
    }
}

fn check_states(states: usize) -> Result<(), String> {
    if states >= 2 {
        Ok(())
    } else {
        Err(format!(
            "states = {states} is out of range; a trajectory needs at least 2 saved states"
        ))
    }
}

fn check_positive_support(key: &str, distribution: &Distribution, allow_zero: bool) -> Result<(), String> {
    distribution.validate(key)?;
    let low = distribution.lower_bound();
    let ok = if allow_zero { low >= 0.0 } else { low > 0.0 };
    if ok {
        return Ok(());
    }
    let bound = if allow_zero { ">= 0" } else { "> 0" };
    let reason = if low == f64::NEG_INFINITY {
        "can produce any negative value".to_string()
    } else {
        format!("can produce the value {low:?}")
    };
    Err(format!(
        "{key} {reason}, but every value must be {bound}; \
         use a uniform or constant distribution with low {bound}"
    ))
}

fn check_springs(s: &SpringsSpec) -> Result<(), String> {
    if s.n_particles < 2 {
        return Err(format!(
            "n_particles = {} is out of range; a spring network needs at least 2 particles",
            s.n_particles
        ));
    }
    if s.dim == 0 || s.dim > MAX_DIM {
        return Err(format!(
            "dim = {} is out of range; the allowed range is 1 to {MAX_DIM}",
            s.dim
        ));
    }
    check_positive_support("masses", &s.masses, false)?;
    check_positive_support("spring_constants", &s.spring_constants, true)?;
    s.q0.validate("q0")?;
    s.p0.validate("p0")
}

fn check_gravity(g: &GravitySpec) -> Result<(), String> {
    if g.dim != 2 && g.dim != 3 {
        return Err(format!(
            "dim = {} is out of range; circular orbits need dim = 2 or dim = 3",
            g.dim
        ));
    }
    if g.planets < 1 {
        return Err(format!(
            "planets = {} is out of range; a gravity system needs a star and at least 1 planet (2 particles)",
            g.planets
        ));
    }
    if !(g.gravitational_constant > 0.0) || !g.gravitational_constant.is_finite() {
        return Err(format!(
            "gravitational_constant = {} is out of range; it must be a finite number > 0",
            g.gravitational_constant
        ));
    }
    if !(g.softening >= 0.0) || !g.softening.is_finite() {
        return Err(format!(
            "softening = {} is out of range; it must be a finite number >= 0",
            g.softening
        ));
    }
    if !(g.star_mass > 0.0) || !g.star_mass.is_finite() {
        return Err(format!(
            "star_mass = {} is out of range; masses must be finite numbers > 0",
            g.star_mass
        ));
    }
    check_positive_support("planet_masses", &g.planet_masses, false)?;
    if !(g.radius_jitter >= 0.0) || !g.radius_jitter.is_finite() {
        return Err(format!(
            "radius_jitter = {} is out of range; it must be a finite number >= 0",
            g.radius_jitter
        ));
    }
    if !(g.radius_max >= g.radius_min) || !g.radius_max.is_finite() {
        return Err(format!(
            "radius_max = {} is out of range; it must be finite and >= radius_min = {}",
            g.radius_max, g.radius_min
        ));
    }
    if !(g.radius_min - g.radius_jitter > 0.0) {
        return Err(format!(
            "radius_min = {} with radius_jitter = {} allows orbits of radius <= 0; \
             radius_min must exceed radius_jitter",
            g.radius_min, g.radius_jitter
        ));
    }
    Ok(())
}

fn sample_springs(s: &SpringsSpec, rng: &mut impl Rng) -> Sample {
    let nd = s.n_particles * s.dim;
    let masses = s.masses.sample_n(rng, s.n_particles);
    let spring_constants = s.spring_constants.sample_n(rng, s.n_particles);
    let mut z0 = s.q0.sample_n(rng, nd);
    z0.extend(s.p0.sample_n(rng, nd));
    Sample {
        masses,
        spring_constants: Some(spring_constants),
        z0,
    }
}

/// Star at rest at the origin, planets on circular orbits of speed √(G·M/r) about it, each
/// at a random angle with a random sense of rotation (and in 3D in a random plane).
fn sample_gravity(g: &GravitySpec, rng: &mut impl Rng) -> Sample {
    let d = g.dim;
    let n = g.planets + 1;
    let mut masses = vec![g.star_mass];
    masses.extend(g.planet_masses.sample_n(rng, g.planets));
    let mut q = vec![vec![0.0; d]; n];
    let mut p = vec![vec![0.0; d]; n];

    for planet in 0..g.planets {
        let spread = if g.planets > 1 {
            planet as f64 / (g.planets - 1) as f64
        } else {
            0.0
        };
        let jitter = g.radius_jitter * (2.0 * rng.random::<f64>() - 1.0);
        let radius = g.radius_min + (g.radius_max - g.radius_min) * spread + jitter;
        let angle = TAU * rng.random::<f64>();
        let sense = if rng.random::<bool>() { 1.0 } else { -1.0 };
        let (e1, e2) = orbital_plane(d, rng);

        let speed = sense * (g.gravitational_constant * g.star_mass / radius).sqrt();
        let mass = masses[planet + 1];
        let (sin, cos) = angle.sin_cos();
        for a in 0..d {
            q[planet + 1][a] = radius * (cos * e1[a] + sin * e2[a]);
            p[planet + 1][a] = mass * speed * (-sin * e1[a] + cos * e2[a]);
        }
    }

    let mut order: Vec<usize> = (0..n).collect();
    if g.shuffle {
        order.shuffle(rng);
    }
    let mut z0: Vec<f64> = order.iter().flat_map(|&i| q[i].clone()).collect();
    z0.extend(order.iter().flat_map(|&i| p[i].clone()));
    Sample {
        masses: order.iter().map(|&i| masses[i]).collect(),
        spring_constants: None,
        z0,
    }
}

/// An orthonormal basis (e1, e2) of the orbital plane: the xy-plane in 2D, a uniformly random
/// plane in 3D (its normal drawn uniformly on the sphere).
fn orbital_plane(dim: usize, rng: &mut impl Rng) -> (Vec<f64>, Vec<f64>) {
    if dim == 2 {
        return (vec![1.0, 0.0], vec![0.0, 1.0]);
    }
    let normal = loop {
        let v: [f64; 3] = [
            rng.sample(StandardNormal),
            rng.sample(StandardNormal),
            rng.sample(StandardNormal),
        ];
        let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        if norm > 1e-12 {
            break [v[0] / norm, v[1] / norm, v[2] / norm];
        }
    };

    // Any vector not parallel to the normal, made orthogonal to it, spans the plane with
    // normal × e1.
    let helper = if normal[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
    let dot = helper[0] * normal[0] + helper[1] * normal[1] + helper[2] * normal[2];
    let mut e1 = [
        helper[0] - dot * normal[0],
        helper[1] - dot * normal[1],
        helper[2] - dot * normal[2],
    ];
    let norm = (e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]).sqrt();
    e1.iter_mut().for_each(|x| *x /= norm);
    let e2 = [
        normal[1] * e1[2] - normal[2] * e1[1],
        normal[2] * e1[0] - normal[0] * e1[2],
        normal[0] * e1[1] - normal[1] * e1[0],
    ];
    (e1.to_vec(), e2.to_vec())
}
