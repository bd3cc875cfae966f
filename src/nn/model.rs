//! Learned dynamics: Hamiltonian models (LieConv or MLP potential) and a neural ODE baseline,
//! with their configuration, seeded initialisation, saving and loading.

use std::path::Path;

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::{VarBuilder, VarMap};
use rand::Rng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::batch::SystemBatch;
use super::group::group_by_name;
use super::layers::Mlp;
use super::lieresnet::{LieResNet, LieResNetShape};

/// A learned vector field ż = f(z) over flat states z of shape (batch, 2·n·d).
pub trait Dynamics: Send + Sync {
    /// Computes ż, shape (batch, 2·n·d); padded particles get 0.
    fn time_derivative(&self, z: &Tensor, system: &SystemBatch) -> Result<Tensor>;

    /// Computes the learned Hamiltonian H(z), shape (batch), or `None` for models without one.
    fn hamiltonian(&self, z: &Tensor, system: &SystemBatch) -> Result<Option<Tensor>>;

    /// Computes ∂V/∂q for positions (batch, n, d), for models with a separable Hamiltonian
    /// H = Σ|p|²/2m + V(q); `None` otherwise.
    fn potential_gradient(&self, q: &Tensor, system: &SystemBatch) -> Result<Option<Tensor>>;
}

/// A learned potential V_θ of centred positions and particle features.
pub trait Potential: Send + Sync {
    /// Computes V (batch) and ∂V/∂x (batch, n, d) at centred positions x = q − q̄.
    fn value_and_gradient(&self, x: &Tensor, system: &SystemBatch) -> Result<(Tensor, Tensor)>;
}

impl Potential for LieResNet {
    fn value_and_gradient(&self, x: &Tensor, system: &SystemBatch) -> Result<(Tensor, Tensor)> {
        self.potential_and_gradient(x, &system.features, &system.mask)
    }
}

/// The `hnn` baseline's potential: an MLP of the flattened centred positions and features.
#[derive(Debug)]
pub struct MlpPotential {
    mlp: Mlp,
}

impl Potential for MlpPotential {
    fn value_and_gradient(&self, x: &Tensor, system: &SystemBatch) -> Result<(Tensor, Tensor)> {
        let (batch, n, d) = x.dims3()?;
        let mask = system.mask.unsqueeze(2)?;
        let inputs = Tensor::cat(
            &[
                &x.broadcast_mul(&mask)?.reshape((batch, n * d))?,
                &system.features.broadcast_mul(&mask)?.reshape((batch, ()))?,
            ],
            1,
        )?;
        let (out, cache) = self.mlp.forward_cached(&inputs)?;
        let d_inputs = self.mlp.vjp(&cache, &out.ones_like()?)?;
        let gradient = d_inputs.narrow(1, 0, n * d)?.reshape((batch, n, d))?.broadcast_mul(&mask)?;
        Ok((out.squeeze(D::Minus1)?, gradient))
    }
}

/// H(q, p) = Σ_i |p_i|² / (2 m_i) + V_θ(q − q̄; features), with ż = J ∇H computed from the
/// potential's own vector-Jacobian product, so that ż is an ordinary differentiable function of
/// the parameters.
pub struct HamiltonianModel {
    potential: Box<dyn Potential>,
}

impl HamiltonianModel {
    fn centred(&self, q: &Tensor, system: &SystemBatch) -> Result<Tensor> {
        q.broadcast_sub(&system.centroid(q)?)
    }

    fn kinetic_energy(&self, p: &Tensor, system: &SystemBatch) -> Result<Tensor> {
        let per_particle = p.sqr()?.sum(D::Minus1)?.broadcast_div(&(&system.masses * 2.0)?)?;
        (per_particle * &system.mask)?.sum(D::Minus1)
    }
}

impl Dynamics for HamiltonianModel {
    fn time_derivative(&self, z: &Tensor, system: &SystemBatch) -> Result<Tensor> {
        let (q, p) = system.split_state(z)?;
        let mask = system.mask.unsqueeze(2)?;
        let velocity = p.broadcast_div(&system.masses.unsqueeze(2)?)?.broadcast_mul(&mask)?;
        let force = self.potential_gradient(&q, system)?.expect("a potential").neg()?;
        system.join_state(&velocity, &force.broadcast_mul(&mask)?)
    }

    fn hamiltonian(&self, z: &Tensor, system: &SystemBatch) -> Result<Option<Tensor>> {
        let (q, p) = system.split_state(z)?;
        let (potential, _) = self.potential.value_and_gradient(&self.centred(&q, system)?, system)?;
        Ok(Some((self.kinetic_energy(&p, system)? + potential)?))
    }

    fn potential_gradient(&self, q: &Tensor, system: &SystemBatch) -> Result<Option<Tensor>> {
        let (_, gradient) = self.potential.value_and_gradient(&self.centred(q, system)?, system)?;
        Ok(Some(system.centring_vjp(&gradient)?))
    }
}

/// The `node` baseline: an MLP that outputs ż from z and the features, with no Hamiltonian
/// structure and no symmetry.
pub struct NeuralOde {
    mlp: Mlp,
}

impl Dynamics for NeuralOde {
    fn time_derivative(&self, z: &Tensor, system: &SystemBatch) -> Result<Tensor> {
        let batch = z.dim(0)?;
        let features = system.features.broadcast_mul(&system.mask.unsqueeze(2)?)?;
        let inputs = Tensor::cat(&[z, &features.reshape((batch, ()))?], 1)?;
        let out = self.mlp.forward(&inputs)?;
        let (dq, dp) = system.split_state(&out)?;
        let mask = system.mask.unsqueeze(2)?;
        system.join_state(&dq.broadcast_mul(&mask)?, &dp.broadcast_mul(&mask)?)
    }

    fn hamiltonian(&self, _z: &Tensor, _system: &SystemBatch) -> Result<Option<Tensor>> {
        Ok(None)
    }

    fn potential_gradient(&self, _q: &Tensor, _system: &SystemBatch) -> Result<Option<Tensor>> {
        Ok(None)
    }
}

/// The model families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Hamiltonian with a LieResNet potential.
    Lieconv,
    /// Hamiltonian with an MLP potential.
    Hnn,
    /// Neural ODE with no Hamiltonian structure.
    Node,
}

/// Everything needed to rebuild a model's architecture, stored as JSON beside its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model family.
    pub model: ModelKind,
    /// Group of a `lieconv` model: `trivial`, `T1` to `T3`, or `SO2`.
    #[serde(default)]
    pub group: Option<String>,
    /// Channels k of a LieResNet, or hidden width of an MLP.
    pub width: usize,
    /// Bottleneck blocks of a LieResNet, or linear layers of an MLP.
    pub layers: usize,
    /// Particles per system n.
    pub n_particles: usize,
    /// Spatial dimension d.
    pub dim: usize,
    /// Input features per particle (2 for springs: m and k; 1 for gravity: m).
    pub features: usize,
    /// Largest LieConv neighborhood (default 100).
    #[serde(default = "default_nbhd")]
    pub nbhd: usize,
    /// Weight α of the Lie algebra part in the neighborhood distance (default 0.2).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
}

fn default_nbhd() -> usize {
    100
}

fn default_alpha() -> f64 {
    0.2
}

impl ModelConfig {
    /// The spring model of Finzi et al.: a LieResNet with k = 384 and 4 blocks.
    pub fn lieconv(group: &str, n_particles: usize, dim: usize, features: usize) -> Self {
        ModelConfig {
            model: ModelKind::Lieconv,
            group: Some(group.to_string()),
            width: 384,
            layers: 4,
            n_particles,
            dim,
            features,
            nbhd: default_nbhd(),
            alpha: default_alpha(),
        }
    }

    /// The `hnn` baseline: an MLP potential with 4 layers of width 150.
    pub fn hnn(n_particles: usize, dim: usize, features: usize) -> Self {
        ModelConfig {
            model: ModelKind::Hnn,
            group: None,
            width: 150,
            layers: 4,
            ..Self::lieconv("trivial", n_particles, dim, features)
        }
    }

    /// The `node` baseline: an MLP vector field with 4 layers of width 300.
    pub fn node(n_particles: usize, dim: usize, features: usize) -> Self {
        ModelConfig {
            model: ModelKind::Node,
            group: None,
            width: 300,
            layers: 4,
            ..Self::lieconv("trivial", n_particles, dim, features)
        }
    }

    /// Checks sizes and names before any weight is created.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.layers == 0 {
            return Err("layers = 0 is out of range; use 1 or more".to_string());
        }
        if self.model == ModelKind::Lieconv && (self.width < 4 || self.width % 4 != 0) {
            return Err(format!(
                "width = {} is invalid for lieconv; it must be a positive multiple of 4 (the bottleneck has width/4 channels)",
                self.width
            ));
        }
        if self.width == 0 {
            return Err("width = 0 is out of range; use 1 or more".to_string());
        }
        if self.model == ModelKind::Lieconv {
            let name = self.group.as_deref().unwrap_or("missing");
            let group = group_by_name(name)?;
            let fits = match name {
                "SO2" => self.dim == 2,
                "trivial" => true,
                _ => name == format!("T{}", self.dim),
            };
            if !fits {
                return Err(format!(
                    "group {} does not act on {}D coordinates; use T{} , SO2 (2D only) or trivial",
                    group.name(),
                    self.dim,
                    self.dim
                ));
            }
        }
        Ok(())
    }

    fn build(&self, vb: VarBuilder) -> Result<Box<dyn Dynamics>> {
        self.check().map_err(candle_core::Error::msg)?;
        let (n, d, f) = (self.n_particles, self.dim, self.features);
        let hidden = vec![self.width; self.layers - 1];
        match self.model {
            ModelKind::Lieconv => {
                let group = group_by_name(self.group.as_deref().unwrap_or_default())
                    .map_err(candle_core::Error::msg)?;
                let shape = LieResNetShape {
                    features: f,
                    width: self.width,
                    layers: self.layers,
                    nbhd: self.nbhd,
                    alpha: self.alpha,
                };
                let net = LieResNet::new(group, d, shape, vb.pp("potential"))?;
                Ok(Box::new(HamiltonianModel {
                    potential: Box::new(net),
                }))
            }
            ModelKind::Hnn => {
                let widths = [&[n * (d + f)][..], &hidden, &[1]].concat();
                let mlp = Mlp::new(&widths, false, vb.pp("potential"))?;
                Ok(Box::new(HamiltonianModel {
                    potential: Box::new(MlpPotential { mlp }),
                }))
            }
            ModelKind::Node => {
                let widths = [&[2 * n * d + n * f][..], &hidden, &[2 * n * d]].concat();
                let mlp = Mlp::new(&widths, false, vb.pp("vector_field"))?;
                Ok(Box::new(NeuralOde { mlp }))
            }
        }
    }
}

/// A model with its weights.
pub struct Model {
    /// The architecture.
    pub config: ModelConfig,
    /// The weights, by name.
    pub varmap: VarMap,
    dynamics: Box<dyn Dynamics>,
}

impl Model {
    /// Creates a model with weights drawn from a generator seeded with `seed`: every weight
    /// and bias of a layer with `fan_in` inputs is uniform on ±1/√fan_in, PyTorch's default
    /// for linear layers.
    pub fn new(config: ModelConfig, dtype: DType, device: &Device, seed: u64) -> Result<Self> {
        let varmap = VarMap::new();
        let dynamics = config.build(VarBuilder::from_varmap(&varmap, dtype, device))?;
        initialise(&varmap, seed)?;
        Ok(Model {
            config,
            varmap,
            dynamics,
        })
    }

    /// Loads weights saved by [`Model::save`] into a model built from `config`, casting them to
    /// `dtype` when they were saved in another precision.
    pub fn load(config: ModelConfig, weights: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let model = Model::new(config, dtype, device, 0)?;
        let stored = candle_core::safetensors::load(weights, device)?;
        let vars = model.varmap.data().lock().expect("the variable map is not poisoned");
        for (name, var) in vars.iter() {
            let Some(tensor) = stored.get(name) else {
                candle_core::bail!("{} has no tensor '{name}'", weights.display());
            };
            var.set(&tensor.to_dtype(dtype)?)
                .map_err(|e| candle_core::Error::msg(format!("cannot set '{name}' from {}: {e}", weights.display())))?;
        }
        drop(vars);
        Ok(model)
    }

    /// Loads weights saved by [`Model::save`] as constant tensors cast to `dtype`, and returns
    /// the dynamics alone, for inference: with no variables, no operation records a gradient
    /// graph.
    pub fn load_dynamics(config: &ModelConfig, weights: &Path, dtype: DType, device: &Device) -> Result<Box<dyn Dynamics>> {
        let tensors = candle_core::safetensors::load(weights, device)?
            .into_iter()
            .map(|(name, tensor)| Ok((name, tensor.to_dtype(dtype)?)))
            .collect::<Result<std::collections::HashMap<_, _>>>()?;
        config.build(VarBuilder::from_tensors(tensors, dtype, device))
    }

    /// Writes the weights as safetensors to `weights` and the config as JSON to `config`.
    pub fn save(&self, weights: &Path, config: &Path) -> Result<()> {
        self.varmap.save(weights)?;
        let json = serde_json::to_string_pretty(&self.config).map_err(candle_core::Error::wrap)?;
        std::fs::write(config, json)?;
        Ok(())
    }

    /// The learned dynamics.
    pub fn dynamics(&self) -> &dyn Dynamics {
        self.dynamics.as_ref()
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.varmap.all_vars().iter().map(|v| v.elem_count()).sum()
    }
}

/// Redraws every variable of `varmap` from ChaCha8 seeded with `seed`, in name order, so
/// that the weights depend on the seed alone.
fn initialise(varmap: &VarMap, seed: u64) -> Result<()> {
    let vars = varmap.data().lock().expect("the variable map is not poisoned");
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for name in names {
        let var = &vars[name];
        let fan_in = match name.strip_suffix("bias") {
            Some(prefix) => vars[&format!("{prefix}weight")].dims()[1],
            None => var.dims()[1],
        };
        let bound = 1.0 / (fan_in as f64).sqrt();
        let values: Vec<f64> = (0..var.elem_count())
            .map(|_| bound * (2.0 * rng.random::<f64>() - 1.0))
            .collect();
        let tensor = Tensor::from_vec(values, var.shape(), var.device())?.to_dtype(var.dtype())?;
        var.set(&tensor)?;
    }
    Ok(())
}
