//! The learned Hamiltonians: gradients against finite differences and autograd, exact
//! symmetries, conservation along rollouts, padding, and saving.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use hamsim::learn::{leapfrog, rk4, with_large_stack, Tracking};
use hamsim::nn::group::group_by_name;
use hamsim::nn::lieresnet::{LieResNet, LieResNetShape};
use hamsim::nn::model::Potential;
use hamsim::nn::{Model, ModelConfig, ModelKind, SystemBatch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const N: usize = 5;

/// A small model of each family: LieResNets with k = 16 and 2 blocks, the baselines at their
/// default sizes.
fn small(kind: ModelKind, group: &str, nbhd: usize) -> ModelConfig {
    let mut config = match kind {
        ModelKind::Lieconv => ModelConfig::lieconv(group, N, 2, 2),
        ModelKind::Hnn => ModelConfig::hnn(N, 2, 2),
        ModelKind::Node => ModelConfig::node(N, 2, 2),
    };
    if kind == ModelKind::Lieconv {
        config.width = 16;
        config.layers = 2;
        config.nbhd = nbhd;
    }
    config
}

fn all_models() -> Vec<(String, ModelConfig)> {
    let mut models = vec![];
    for group in ["trivial", "T2", "SO2"] {
        models.push((format!("lieconv {group}"), small(ModelKind::Lieconv, group, 100)));
        models.push((format!("lieconv {group} nbhd 3"), small(ModelKind::Lieconv, group, 3)));
    }
    models.push(("hnn".to_string(), small(ModelKind::Hnn, "", 100)));
    models.push(("node".to_string(), small(ModelKind::Node, "", 100)));
    models
}

fn model(config: &ModelConfig, dtype: DType) -> Model {
    Model::new(config.clone(), dtype, &Device::Cpu, 1).unwrap()
}

/// Random spring-like systems: masses in [0.5, 2], k in [0, 2], q and p of order 1.
fn random_systems(batch: usize, seed: u64, dtype: DType) -> (SystemBatch, Tensor) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let masses: Vec<f64> = (0..batch * N).map(|_| rng.random_range(0.5..2.0)).collect();
    let k: Vec<f64> = (0..batch * N).map(|_| rng.random_range(0.0..2.0)).collect();
    let z: Vec<f64> = (0..batch * 4 * N).map(|_| rng.random_range(-1.0..1.0)).collect();
    let system = SystemBatch::from_parameters(&masses, Some(&k), N, 2, dtype, &Device::Cpu).unwrap();
    let z = Tensor::from_vec(z, (batch, 4 * N), &Device::Cpu).unwrap().to_dtype(dtype).unwrap();
    (system, z)
}

fn hamiltonian(model: &Model, z: &Tensor, system: &SystemBatch) -> Vec<f64> {
    let h = model.dynamics().hamiltonian(z, system).unwrap().expect("a Hamiltonian model");
    h.to_dtype(DType::F64).unwrap().to_vec1().unwrap()
}

fn flat(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1().unwrap()
}

fn max_abs(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn hamiltonian_gradient_matches_differences() {
    // ∂H/∂z read from ż = J∇H against central differences of H with step 1e-5 in f64: the
    // truncation error is about 1e-10·|H'''| and round-off about 1e-16·|H| / 1e-5, both far
    // below the 1e-6 relative bound.
    let (system, z) = random_systems(2, 3, DType::F64);
    for (name, config) in all_models().into_iter().filter(|(_, c)| c.model != ModelKind::Node) {
        let model = model(&config, DType::F64);
        let z_dot = flat(&model.dynamics().time_derivative(&z, &system).unwrap());
        let half = 2 * N;
        let values = flat(&z);
        let step = 1e-5;
        let mut analytic = vec![];
        let mut numeric = vec![];
        for b in 0..2 {
            for c in 0..4 * N {
                let index = b * 4 * N + c;
                let shifted = |delta: f64| {
                    let mut v = values.clone();
                    v[index] += delta;
                    let t = Tensor::from_vec(v, (2, 4 * N), &Device::Cpu).unwrap();
                    hamiltonian(&model, &t, &system)[b]
                };
                numeric.push((shifted(step) - shifted(-step)) / (2.0 * step));
                // ż = [∂H/∂p, −∂H/∂q].
                let dh = if c < half { -z_dot[b * 4 * N + half + c] } else { z_dot[b * 4 * N + c - half] };
                analytic.push(dh);
            }
        }
        let error = max_abs(analytic.iter().zip(&numeric).map(|(a, n)| a - n)) / max_abs(analytic.clone());
        assert!(error < 1e-6, "{name}: relative error {error:e}");
    }
}

#[test]
fn vjp_matches_autograd() {
    // The hand-written backward pass of every group's LieResNet against candle's autograd of
    // the same forward pass, in f64: both compute the same sums in a different order, so they
    // agree to round-off (1e-10 relative).
    let (system, _) = random_systems(3, 4, DType::F64);
    for group in ["trivial", "T2", "SO2"] {
        for nbhd in [100, 3] {
            let varmap = VarMap::new();
            let vb = VarBuilder::from_varmap(&varmap, DType::F64, &Device::Cpu);
            let shape = LieResNetShape { features: 2, width: 16, layers: 2, nbhd, alpha: 0.2 };
            let net = LieResNet::new(group_by_name(group).unwrap(), 2, shape, vb).unwrap();
            let x = Var::from_tensor(&Tensor::randn(0.0, 1.0, (3, N, 2), &Device::Cpu).unwrap().to_dtype(DType::F64).unwrap()).unwrap();
            let (v, gradient) = net.value_and_gradient(x.as_tensor(), &system).unwrap();
            let grads = v.sum_all().unwrap().backward().unwrap();
            let autograd = flat(grads.get(x.as_tensor()).unwrap());
            let vjp = flat(&gradient);
            let error = max_abs(vjp.iter().zip(&autograd).map(|(a, b)| a - b)) / max_abs(autograd.clone());
            assert!(error < 1e-10, "{group} nbhd {nbhd}: relative error {error:e}");
        }
    }
}

#[test]
fn parameter_gradient_matches_differences() {
    // The loss Σ w ⊙ ż involves ∂V/∂q, so its parameter gradient is a second derivative of
    // V. Central differences with step 1e-6 in f64 on three entries of every weight tensor;
    // the bound 1e-5 is relative to the largest gradient entry of the model.
    let (system, z) = random_systems(2, 5, DType::F64);
    let weights = Tensor::randn(0.0, 1.0, z.shape(), &Device::Cpu).unwrap().to_dtype(DType::F64).unwrap();
    for (name, config) in all_models() {
        let model = model(&config, DType::F64);
        let loss = || -> f64 {
            let z_dot = model.dynamics().time_derivative(&z, &system).unwrap();
            (z_dot * &weights).unwrap().sum_all().unwrap().to_scalar().unwrap()
        };
        let z_dot = model.dynamics().time_derivative(&z, &system).unwrap();
        let grads = (z_dot * &weights).unwrap().sum_all().unwrap().backward().unwrap();

        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (mut worst, mut scale) = (0.0_f64, 0.0_f64);
        for var in model.varmap.all_vars() {
            // A constant offset of V, such as the last bias, does not reach ż: no gradient.
            let analytic = match grads.get(var.as_tensor()) {
                Some(g) => flat(g),
                None => vec![0.0; var.elem_count()],
            };
            let original = var.as_tensor().copy().unwrap();
            let values = flat(&original);
            for _ in 0..3 {
                let index = rng.random_range(0..values.len());
                let at = |delta: f64| {
                    let mut v = values.clone();
                    v[index] += delta;
                    var.set(&Tensor::from_vec(v, original.shape(), &Device::Cpu).unwrap()).unwrap();
                    loss()
                };
                let numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
                var.set(&original).unwrap();
                worst = worst.max((numeric - analytic[index]).abs());
                scale = scale.max(analytic[index].abs());
            }
        }
        assert!(scale > 0.0, "{name}: all sampled gradients are zero");
        assert!(worst < 1e-5 * scale, "{name}: error {worst:e} against scale {scale:e}");
    }
}

/// Applies `transform` to the states (and the system) and compares H before and after.
fn invariance_error(
    model: &Model,
    system: &SystemBatch,
    z: &Tensor,
    transform: &dyn Fn(&SystemBatch, &Tensor) -> (SystemBatch, Tensor),
) -> f64 {
    let before = hamiltonian(model, z, system);
    let (system2, z2) = transform(system, z);
    let after = hamiltonian(model, &z2, &system2);
    max_abs(before.iter().zip(&after).map(|(a, b)| (a - b) / a))
}

fn translate(system: &SystemBatch, z: &Tensor) -> (SystemBatch, Tensor) {
    let (q, p) = system.split_state(z).unwrap();
    let shift = Tensor::new(&[[[1.7, -0.6]]], &Device::Cpu).unwrap().to_dtype(q.dtype()).unwrap();
    (system.clone(), system.join_state(&q.broadcast_add(&shift).unwrap(), &p).unwrap())
}

fn rotate(system: &SystemBatch, z: &Tensor) -> (SystemBatch, Tensor) {
    let angle: f64 = 2.1;
    let (s, c) = angle.sin_cos();
    let rotation = Tensor::new(&[[c, s], [-s, c]], &Device::Cpu).unwrap().to_dtype(z.dtype()).unwrap();
    let (q, p) = system.split_state(z).unwrap();
    let q = q.broadcast_matmul(&rotation).unwrap();
    let p = p.broadcast_matmul(&rotation).unwrap();
    (system.clone(), system.join_state(&q, &p).unwrap())
}

fn permute(system: &SystemBatch, z: &Tensor) -> (SystemBatch, Tensor) {
    let order = Tensor::new(&[3u32, 0, 4, 1, 2], &Device::Cpu).unwrap();
    let (q, p) = system.split_state(z).unwrap();
    let pick = |t: &Tensor| t.index_select(&order, 1).unwrap();
    let permuted = SystemBatch {
        masses: pick(&system.masses),
        features: pick(&system.features),
        mask: pick(&system.mask),
        dim: 2,
    };
    let z = permuted.join_state(&pick(&q), &pick(&p)).unwrap();
    (permuted, z)
}

#[test]
fn lieconv_models_are_invariant() {
    // Each transformation is exact in real arithmetic, so H may only move by round-off:
    // 1e-10 relative in f64, 1e-5 in f32.
    let checks: [(&str, &dyn Fn(&SystemBatch, &Tensor) -> (SystemBatch, Tensor), &[&str]); 3] = [
        ("translation", &translate, &["trivial", "T2", "SO2"]),
        ("rotation", &rotate, &["SO2"]),
        ("permutation", &permute, &["trivial", "T2", "SO2"]),
    ];
    for (dtype, tolerance) in [(DType::F64, 1e-10), (DType::F32, 1e-5)] {
        let (system, z) = random_systems(4, 6, dtype);
        for (label, transform, groups) in checks {
            for group in groups {
                for nbhd in [100, 3] {
                    let model = model(&small(ModelKind::Lieconv, group, nbhd), dtype);
                    let error = invariance_error(&model, &system, &z, transform);
                    assert!(error < tolerance, "{group} nbhd {nbhd}, {label}, {dtype:?}: {error:e}");
                }
            }
        }
    }
}

#[test]
fn trivial_and_t2_are_not_rotation_invariant() {
    // Without SO(2) in the group, a rotation changes H by far more than round-off.
    let (system, z) = random_systems(4, 6, DType::F64);
    for group in ["trivial", "T2"] {
        let model = model(&small(ModelKind::Lieconv, group, 100), DType::F64);
        let error = invariance_error(&model, &system, &z, &rotate);
        assert!(error > 1e-4, "{group}: rotation changed H by only {error:e}");
    }
}

/// Total linear momentum and angular momentum of each state, shapes (batch, T, 2) and
/// (batch, T).
fn momenta(trajectory: &Tensor) -> (Vec<Vec<[f64; 2]>>, Vec<Vec<f64>>) {
    let (batch, states, len) = trajectory.dims3().unwrap();
    let values = flat(trajectory);
    let (mut linear, mut angular) = (vec![], vec![]);
    for b in 0..batch {
        let (mut lin_b, mut ang_b) = (vec![], vec![]);
        for t in 0..states {
            let z = &values[(b * states + t) * len..(b * states + t + 1) * len];
            let (q, p) = z.split_at(len / 2);
            let mut total = [0.0, 0.0];
            let mut l = 0.0;
            for i in 0..len / 4 {
                total[0] += p[2 * i];
                total[1] += p[2 * i + 1];
                l += q[2 * i] * p[2 * i + 1] - q[2 * i + 1] * p[2 * i];
            }
            lin_b.push(total);
            ang_b.push(l);
        }
        linear.push(lin_b);
        angular.push(ang_b);
    }
    (linear, angular)
}

fn linear_drift(trajectory: &Tensor) -> f64 {
    let (linear, _) = momenta(trajectory);
    max_abs(linear.iter().flat_map(|s| s.iter().map(move |p| (p[0] - s[0][0]).hypot(p[1] - s[0][1]))))
}

fn angular_drift(trajectory: &Tensor) -> f64 {
    let (_, angular) = momenta(trajectory);
    max_abs(angular.iter().flat_map(|s| s.iter().map(move |l| l - s[0])))
}

fn times(batch: usize, states: usize, dt: f64) -> Tensor {
    let ts: Vec<f64> = (0..batch).flat_map(|_| (0..states).map(move |i| i as f64 * dt)).collect();
    Tensor::from_vec(ts, (batch, states), &Device::Cpu).unwrap()
}

#[test]
fn rollouts_conserve_what_symmetry_promises() {
    // 500 steps of dt = 0.01 in f64 with random weights. A translation-invariant V has forces
    // that sum to zero, so RK4 keeps P to round-off; an SO(2)-invariant V has zero torque, and
    // leapfrog's kicks and drifts then keep L to round-off. 1e-10 leaves room for 500 steps
    // of ~1e-15 errors on momenta of order 1.
    let (system, z) = random_systems(3, 7, DType::F64);
    let ts = times(3, 501, 0.01);

    let t2 = model(&small(ModelKind::Lieconv, "T2", 100), DType::F64);
    let trajectory = rk4(t2.dynamics(), &system, &z, &ts, 1, Tracking::Inference).unwrap();
    let drift = linear_drift(&trajectory);
    assert!(drift < 1e-10, "T2 with RK4: |ΔP| = {drift:e}");

    let so2 = model(&small(ModelKind::Lieconv, "SO2", 100), DType::F64);
    let trajectory = leapfrog(so2.dynamics(), &system, &z, &ts, 1, Tracking::Inference).unwrap();
    let drift = angular_drift(&trajectory);
    assert!(drift < 1e-10, "SO2 with leapfrog: |ΔL| = {drift:e}");

    // The neural ODE has no such structure: its momentum wanders.
    let node = model(&small(ModelKind::Node, "", 100), DType::F64);
    let trajectory = rk4(node.dynamics(), &system, &z, &ts, 1, Tracking::Inference).unwrap();
    let drift = linear_drift(&trajectory);
    assert!(drift > 1e-3, "node: |ΔP| = {drift:e} should show a drift");
}

#[test]
fn padding_leaves_real_particles_unchanged() {
    // Two extra particles with mask 0 and arbitrary states must not change H or the real
    // particles' ż: 1e-12 relative in f64 allows only round-off from the longer sums.
    let (system, z) = random_systems(2, 8, DType::F64);
    let (q, p) = system.split_state(&z).unwrap();
    let pad = |t: &Tensor, value: f64| {
        let extra = (t.narrow(1, 0, 2).unwrap().ones_like().unwrap() * value).unwrap();
        Tensor::cat(&[t, &extra], 1).unwrap()
    };
    let padded = SystemBatch {
        masses: pad(&system.masses, 1.0),
        features: pad(&system.features, 0.3),
        mask: pad(&system.mask, 0.0),
        dim: 2,
    };
    let z_padded = padded.join_state(&pad(&q, 0.9), &pad(&p, -0.4)).unwrap();

    for group in ["trivial", "T2", "SO2"] {
        let mut config = small(ModelKind::Lieconv, group, 100);
        let plain = model(&config, DType::F64);
        config.n_particles = N + 2;
        let wide = Model::new(config, DType::F64, &Device::Cpu, 1).unwrap();
        let h = hamiltonian(&plain, &z, &system);
        let h_padded = hamiltonian(&wide, &z_padded, &padded);
        let error = max_abs(h.iter().zip(&h_padded).map(|(a, b)| (a - b) / a));
        assert!(error < 1e-12, "{group}: H changed by {error:e}");

        let z_dot = plain.dynamics().time_derivative(&z, &system).unwrap();
        let z_dot_padded = wide.dynamics().time_derivative(&z_padded, &padded).unwrap();
        let (dq, dp) = system.split_state(&z_dot).unwrap();
        let (dq_padded, dp_padded) = padded.split_state(&z_dot_padded).unwrap();
        let real = |t: &Tensor| flat(&t.narrow(1, 0, N).unwrap());
        let difference = max_abs(
            flat(&dq).iter().zip(real(&dq_padded)).chain(flat(&dp).iter().zip(real(&dp_padded))).map(|(a, b)| a - b),
        );
        assert!(difference < 1e-12 * max_abs(flat(&z_dot)), "{group}: ż changed by {difference:e}");
    }
}

#[test]
fn saved_model_reproduces_hamiltonian() {
    let dir = tempfile::TempDir::new().unwrap();
    let (system, z) = random_systems(3, 10, DType::F32);
    for (name, config) in all_models().into_iter().filter(|(_, c)| c.model != ModelKind::Node) {
        let original = Model::new(config.clone(), DType::F32, &Device::Cpu, 42).unwrap();
        let (weights, config_path) = (dir.path().join("m.safetensors"), dir.path().join("m.json"));
        original.save(&weights, &config_path).unwrap();
        let config: ModelConfig = serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
        let loaded = Model::load(config, &weights, DType::F32, &Device::Cpu).unwrap();
        let before = hamiltonian(&original, &z, &system);
        let after = hamiltonian(&loaded, &z, &system);
        assert!(before == after, "{name}: {before:?} != {after:?}");
    }
}

#[test]
fn frozen_dynamics_match_saved_model() {
    // Inference loads the weights as constant tensors cast to the requested precision. Its
    // vector field must equal that of the model loaded as variables, bit for bit.
    let dir = tempfile::TempDir::new().unwrap();
    let (system, z) = random_systems(3, 10, DType::F64);
    for (name, config) in all_models() {
        let original = Model::new(config.clone(), DType::F32, &Device::Cpu, 7).unwrap();
        let (weights, config_path) = (dir.path().join("m.safetensors"), dir.path().join("m.json"));
        original.save(&weights, &config_path).unwrap();
        let variables = Model::load(config.clone(), &weights, DType::F64, &Device::Cpu).unwrap();
        let frozen = Model::load_dynamics(&config, &weights, DType::F64, &Device::Cpu).unwrap();
        let expected = flat(&variables.dynamics().time_derivative(&z, &system).unwrap());
        let actual = flat(&frozen.time_derivative(&z, &system).unwrap());
        assert!(expected == actual, "{name}: frozen dynamics differ");
    }
}

#[test]
fn same_seed_gives_same_weights() {
    let config = small(ModelKind::Lieconv, "T2", 100);
    let weights = |seed| {
        let model = Model::new(config.clone(), DType::F32, &Device::Cpu, seed).unwrap();
        let mut vars: Vec<(String, Vec<f64>)> = model
            .varmap
            .data()
            .lock()
            .unwrap()
            .iter()
            .map(|(name, var)| (name.clone(), flat(var.as_tensor())))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    };
    assert_eq!(weights(5), weights(5));
    assert_ne!(weights(5), weights(6));
}

#[test]
fn so2_is_finite_at_rotation_centre() {
    // A particle exactly at the centroid sits at the rotation centre after centring: H, ż
    // and the parameter gradient of a loss on ż must stay finite.
    let (system, z) = random_systems(1, 11, DType::F64);
    let mut values = flat(&z);
    let (q, _) = values.split_at_mut(2 * N);
    let mean: Vec<f64> = (0..2).map(|a| (1..N).map(|i| q[2 * i + a]).sum::<f64>() / (N - 1) as f64).collect();
    q[0] = mean[0];
    q[1] = mean[1];
    let z = Tensor::from_vec(values, (1, 4 * N), &Device::Cpu).unwrap();

    let model = model(&small(ModelKind::Lieconv, "SO2", 100), DType::F64);
    assert!(hamiltonian(&model, &z, &system).iter().all(|h| h.is_finite()));
    let z_dot = model.dynamics().time_derivative(&z, &system).unwrap();
    assert!(flat(&z_dot).iter().all(|x| x.is_finite()), "ż is not finite");
    let grads = z_dot.sqr().unwrap().sum_all().unwrap().backward().unwrap();
    for var in model.varmap.all_vars() {
        if let Some(g) = grads.get(var.as_tensor()) {
            assert!(flat(g).iter().all(|x| x.is_finite()), "a parameter gradient is not finite");
        }
    }
}

#[test]
fn full_size_training_step_runs() {
    // The spring model of Finzi et al. (2020), k = 384 and 4 blocks, differentiated through an
    // RK4 rollout over a chunk of 5 states. The graph is deep, so the step runs on a
    // large-stack thread as training does.
    let (system, z) = random_systems(2, 12, DType::F32);
    let config = ModelConfig::lieconv("T2", N, 2, 2);
    let model = Model::new(config, DType::F32, &Device::Cpu, 0).unwrap();
    assert!(model.parameter_count() > 800_000, "{} parameters", model.parameter_count());
    let ts = times(2, 5, 0.01).to_dtype(DType::F32).unwrap();
    let norm = with_large_stack(|| {
        let trajectory = rk4(model.dynamics(), &system, &z, &ts, 1, Tracking::Train).unwrap();
        let loss = trajectory.sqr().unwrap().mean_all().unwrap();
        let grads = loss.backward().unwrap();
        let mut total = 0.0;
        for var in model.varmap.all_vars() {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            total += g.sqr().unwrap().sum_all().unwrap().to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap();
        }
        total.sqrt()
    });
    assert!(norm.is_finite(), "gradient norm {norm}");
    assert!(norm > 0.0, "gradient norm {norm}");
}

#[test]
fn sharded_gradients_match_whole_batch() {
    // Splitting a summed loss over shards changes only the order of additions: in f64 the
    // gradients agree to 1e-12 relative.
    use hamsim::learn::sharded_backward;
    let (system, z) = random_systems(5, 13, DType::F64);
    let model = model(&small(ModelKind::Lieconv, "T2", 100), DType::F64);
    let vars = model.varmap.all_vars();
    let loss_of = |range: std::ops::Range<usize>| {
        let shard = system.narrow(range.start, range.len())?;
        let z = z.narrow(0, range.start, range.len())?;
        model.dynamics().time_derivative(&z, &shard)?.sqr()?.sum_all()
    };
    let (whole_loss, whole) = sharded_backward(&vars, 5, 1, 1, loss_of).unwrap();
    let (split_loss, split) = sharded_backward(&vars, 5, 3, 2, loss_of).unwrap();
    assert!(((whole_loss - split_loss) / whole_loss).abs() < 1e-12);
    for var in &vars {
        let (Some(a), Some(b)) = (whole.get(var.as_tensor()), split.get(var.as_tensor())) else {
            assert!(whole.get(var.as_tensor()).is_none(), "only the split run has a gradient");
            assert!(split.get(var.as_tensor()).is_none(), "only the whole run has a gradient");
            continue;
        };
        let (a, b) = (flat(a), flat(b));
        let error = max_abs(a.iter().zip(&b).map(|(x, y)| x - y));
        assert!(error <= 1e-12 * max_abs(a.clone()).max(1e-300), "gradient differs by {error:e}");
    }
}
