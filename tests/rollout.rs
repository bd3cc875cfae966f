//! End-to-end tests of `hamsim rollout` on datasets made by `hamsim generate` and models
//! trained by short `hamsim train` runs.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::root;
use hamsim::dataset::Dataset;
use hamsim::rollout::TimeGrid;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

fn hamsim() -> Command {
    Command::cargo_bin("hamsim").unwrap()
}

/// Generates `count` systems of `system` with `states` saved states into `dir`.
fn dataset(dir: &Path, system: &str, count: usize, states: usize) -> PathBuf {
    let path = dir.join(format!("{system}.safetensors"));
    hamsim()
        .args(["generate", "--system"])
        .arg(root().join("systems").join(format!("{system}.toml")))
        .args(["--count", &count.to_string(), "--states", &states.to_string(), "--seed", "5", "--output"])
        .arg(&path)
        .assert()
        .success();
    path
}

/// Trains a tiny model for one epoch on 16 systems; `flags` choose the model.
fn trained(data: &Path, run: &Path, flags: &[&str]) {
    let mut command = hamsim();
    command
        .args(["train", "--data"])
        .arg(data)
        .arg("--output")
        .arg(run)
        .args(["--layers", "1", "--epochs", "1", "--n-train", "16", "--n-val", "8"])
        .args(["--batch-size", "8", "--threads", "2"])
        .args(flags);
    if !flags.contains(&"--width") {
        command.args(["--width", "8"]);
    }
    command
        .assert()
        .success();
}

fn metrics(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

fn number(metrics: &Value, key: &str) -> f64 {
    metrics[key].as_f64().unwrap_or_else(|| panic!("metrics.json has no number '{key}': {metrics}"))
}

/// Computes the exact springs energy Σ_i |p_i|²/2m_i + Σ_{i<j} k_i k_j |q_i − q_j|², written out here
/// independently of the library.
fn springs_energy(z: &[f64], masses: &[f64], k: &[f64], dim: usize) -> f64 {
    let n = masses.len();
    let (q, p) = z.split_at(n * dim);
    let kinetic: f64 = (0..n)
        .map(|i| p[i * dim..(i + 1) * dim].iter().map(|x| x * x).sum::<f64>() / (2.0 * masses[i]))
        .sum();
    let mut potential = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            let squared: f64 = (0..dim).map(|a| (q[i * dim + a] - q[j * dim + a]).powi(2)).sum();
            potential += k[i] * k[j] * squared;
        }
    }
    kinetic + potential
}

#[test]
fn rollout_writes_every_output() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 24, 40);
    let run = dir.path().join("run");
    trained(&data, &run, &[]);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();

    hamsim()
        .args(["rollout", "--run"])
        .arg(&run)
        .arg("--data")
        .arg(&data)
        .arg("--plot")
        .arg(out.join("energy.png"))
        .arg("--plot-momentum")
        .arg(out.join("momentum.svg"))
        .arg("--plot-error")
        .arg(out.join("error.png"))
        .arg("--plot-trajectories")
        .arg(out.join("paths.png"))
        .args(["--system-index", "3", "--plot-size", "640x480", "--count", "12", "--save"])
        .arg(out.join("predicted.safetensors"))
        .assert()
        .success()
        .stdout(predicate::str::contains("relative energy error"));

    for (name, size) in [("energy.png", (640, 480)), ("error.png", (640, 480)), ("paths.png", (640, 480))] {
        let image = image::open(out.join(name)).unwrap_or_else(|e| panic!("{name} does not decode: {e}"));
        assert_eq!((image.width(), image.height()), size, "{name}");
    }
    let svg = std::fs::read_to_string(out.join("momentum.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "momentum.svg is not SVG");

    let csv = std::fs::read_to_string(out.join("rollout.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 40, "rollout.csv needs a header and one row per saved time");
    let columns = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == columns), "ragged rollout.csv");

    let summary = metrics(&out);
    assert_eq!(summary["systems"], 12);
    assert_eq!(summary["steps"], 39);
    assert_eq!(summary["diverged"], 0);
    for key in ["energy_rel_error_max", "energy_rel_error_median", "linear_momentum_drift_max", "angular_momentum_drift_max"] {
        assert!(summary["truth"][key].is_number(), "truth.{key} missing");
    }
}

#[test]
fn rollout_metrics_match_direct_computation() {
    let dir = TempDir::new().unwrap();
    let data_path = dataset(dir.path(), "springs2d", 24, 40);
    let run = dir.path().join("run");
    trained(&data_path, &run, &[]);
    let out = dir.path().join("out");
    let saved = dir.path().join("predicted.safetensors");
    hamsim()
        .args(["rollout", "--run"])
        .arg(&run)
        .arg("--data")
        .arg(&data_path)
        .arg("--output")
        .arg(&out)
        .arg("--plot")
        .arg(out.join("energy.svg"))
        .arg("--save")
        .arg(&saved)
        .assert()
        .success();
    assert!(out.join("energy.svg").is_file(), "a plot inside a new --output directory is written");

    let truth = Dataset::load(&data_path).unwrap();
    let predicted = Dataset::load(&saved).unwrap();
    assert_eq!(predicted.ts, truth.ts);
    assert_eq!(predicted.masses, truth.masses);
    let metadata = predicted.metadata.as_ref().unwrap();
    assert_eq!(metadata.integrator.method.name(), "rk4", "the saved file records the rollout's integrator");
    assert!(metadata.conservation.is_some(), "the saved file records its conservation");
    let rollout: Value = serde_json::from_str(metadata.rollout.as_deref().unwrap()).unwrap();
    assert!(rollout["dynamics"].as_str().unwrap().starts_with("lieconv T2"), "{rollout}");

    // State MSE over saved states 1 and later, and the largest relative energy error.
    let len = truth.state_len();
    let (mut squared, mut count, mut worst_energy, mut worst_momentum) = (0.0, 0usize, 0.0f64, 0.0f64);
    let mut log_relative = 0.0;
    for s in 0..truth.systems {
        let (z_true, z_pred) = (truth.trajectory(s), predicted.trajectory(s));
        let masses = truth.system_masses(s);
        let k = truth.system_spring_constants(s).unwrap();
        let energy0 = springs_energy(&z_pred[..len], masses, k, 2);
        let momentum0 = [z_pred[len / 2..len].iter().step_by(2).sum::<f64>(), z_pred[len / 2 + 1..len].iter().step_by(2).sum::<f64>()];
        for t in 0..truth.states {
            let (a, b) = (&z_pred[t * len..(t + 1) * len], &z_true[t * len..(t + 1) * len]);
            let energy = springs_energy(a, masses, k, 2);
            worst_energy = worst_energy.max((energy - energy0).abs() / energy0.abs());
            let momentum = [a[len / 2..].iter().step_by(2).sum::<f64>(), a[len / 2 + 1..].iter().step_by(2).sum::<f64>()];
            worst_momentum = worst_momentum.max(((momentum[0] - momentum0[0]).powi(2) + (momentum[1] - momentum0[1]).powi(2)).sqrt());
            if t == 0 {
                continue;
            }
            let difference: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
            squared += difference;
            count += len;
            let norm = |z: &[f64]| z.iter().map(|x| x * x).sum::<f64>().sqrt();
            log_relative += (difference.sqrt() / (norm(a) + norm(b))).ln();
        }
    }
    let summary = metrics(&out);
    let relative = |x: f64, y: f64| (x - y).abs() / y.abs();
    // The tool and this test sum the same f64 values in different orders: agreement to 1e-9
    // leaves room for that round-off and nothing else.
    assert!(relative(number(&summary, "state_mse"), squared / count as f64) < 1e-9);
    let geomean = (log_relative / (truth.systems * (truth.states - 1)) as f64).exp();
    assert!(relative(number(&summary, "relative_error_geomean"), geomean) < 1e-9);
    assert!(relative(number(&summary, "energy_rel_error_max"), worst_energy) < 1e-9);
    // Momentum drift is a difference of sums near round-off for this model, so compare
    // absolutely at a level far below the drift an f32 rollout shows.
    assert!((number(&summary, "linear_momentum_drift_max") - worst_momentum).abs() < 1e-12);
}

#[test]
fn physics_baseline_matches_dataset() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 20, 300);
    let out = dir.path().join("out");
    hamsim()
        .args(["rollout", "--physics", "--integrator", "dop853", "--data"])
        .arg(&data)
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    let summary = metrics(&out);
    // dop853 at rtol 1e-10 over 3 time units conserves energy to about 1e-11 on springs2d.
    assert!(number(&summary, "energy_rel_error_max") < 1e-9, "{summary}");
    // The dataset was made by the same solver, so the states agree far below 1e-8.
    assert!(number(&summary, "state_max_abs_error") < 1e-8, "{summary}");
    assert!(number(&summary["truth"], "energy_rel_error_max") < 1e-9);
}

#[test]
fn physics_rk4_horizon_extends_the_grid() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 4, 50);
    let out = dir.path().join("out");
    hamsim()
        .args(["rollout", "--physics", "--data"])
        .arg(&data)
        .args(["--horizon", "0.99", "--output"])
        .arg(&out)
        .assert()
        .success();
    let summary = metrics(&out);
    assert_eq!(summary["steps"], 99);
    assert_eq!(summary["compared_steps"], 49);
    let csv = std::fs::read_to_string(out.join("rollout.csv")).unwrap();
    let last = csv.lines().last().unwrap();
    let fields: Vec<&str> = last.split(',').collect();
    assert_eq!(fields[0], "99");
    assert!((fields[1].parse::<f64>().unwrap() - 0.99).abs() < 1e-12, "last time {}", fields[1]);
    assert_eq!(fields[3], "", "no state error past the dataset's last time");
}

#[test]
fn time_grid_stops_at_horizon() {
    let dir = TempDir::new().unwrap();
    let data = Dataset::load(&dataset(dir.path(), "springs2d", 3, 20)).unwrap();
    let grid = TimeGrid::new(&data, Some(2), Some(0.105)).unwrap();
    assert_eq!((grid.systems, grid.states, grid.truth_states), (2, 11, 11));
    assert!(TimeGrid::new(&data, Some(4), None).is_err(), "more systems than the file has");
    assert!(TimeGrid::new(&data, None, Some(0.001)).is_err(), "horizon before the first step");
    assert!(TimeGrid::new(&data, None, Some(f64::NAN)).is_err(), "horizon NaN");
}

/// Rolls out `run` in f64 on `data` with `integrator` and returns metrics.json.
fn rollout_f64(data: &Path, run: &Path, integrator: &str, out: &Path) -> Value {
    hamsim()
        .args(["rollout", "--run"])
        .arg(run)
        .arg("--data")
        .arg(data)
        .args(["--dtype", "f64", "--integrator", integrator, "--output"])
        .arg(out)
        .assert()
        .success();
    metrics(out)
}

#[test]
fn symmetric_models_conserve_momenta() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 24, 200);

    // Translation invariance of H_θ makes every RK4 stage's force sum to zero, so P changes
    // only by round-off: about 1e-15 per step in f64, far below 1e-10 after 199 steps.
    let t2 = dir.path().join("t2");
    trained(&data, &t2, &["--group", "T2"]);
    let summary = rollout_f64(&data, &t2, "rk4", &dir.path().join("t2_out"));
    assert_eq!(summary["diverged"], 0);
    assert!(number(&summary, "linear_momentum_drift_max") < 1e-10, "{summary}");

    // Rotation invariance keeps each leapfrog kick and drift from changing L.
    let so2 = dir.path().join("so2");
    trained(&data, &so2, &["--group", "SO2"]);
    let summary = rollout_f64(&data, &so2, "leapfrog", &dir.path().join("so2_out"));
    assert!(number(&summary, "angular_momentum_drift_max") < 1e-10, "{summary}");

    // A neural ODE has no symmetry, so its momenta drift by far more than round-off.
    let node = dir.path().join("node");
    trained(&data, &node, &["--model", "node", "--width", "32"]);
    let summary = rollout_f64(&data, &node, "rk4", &dir.path().join("node_out"));
    assert!(number(&summary, "linear_momentum_drift_max") > 1e-6, "{summary}");
    assert!(number(&summary, "angular_momentum_drift_max") > 1e-6, "{summary}");
}

#[test]
fn rollout_is_independent_of_threads() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 24, 30);
    let run = dir.path().join("run");
    trained(&data, &run, &[]);
    let mut saved = Vec::new();
    for threads in ["1", "2"] {
        let path = dir.path().join(format!("predicted_{threads}.safetensors"));
        hamsim()
            .args(["rollout", "--run"])
            .arg(&run)
            .arg("--data")
            .arg(&data)
            .args(["--batch-size", "5", "--threads", threads, "--save"])
            .arg(&path)
            .assert()
            .success();
        saved.push(std::fs::read(path).unwrap());
    }
    assert!(saved[0] == saved[1], "--threads 1 and 2 predicted different bytes");
}

/// Runs a rollout that must fail, and checks its message and that nothing was written.
fn rejects(args: &[&str], dir: &Path, message: &str) {
    let out = dir.join("rejected");
    hamsim()
        .arg("rollout")
        .args(args)
        .arg("--output")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains(message));
    assert!(!out.exists(), "a rejected rollout wrote {}", out.display());
}

#[test]
fn rollout_rejects_bad_input() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 24, 20);
    let gravity = dataset(dir.path(), "gravity2d", 4, 20);
    let run = dir.path().join("run");
    trained(&data, &run, &[]);
    let node = dir.path().join("node");
    trained(&data, &node, &["--model", "node"]);
    let incomplete = dir.path().join("incomplete");
    std::fs::create_dir(&incomplete).unwrap();
    std::fs::copy(run.join("config.json"), incomplete.join("config.json")).unwrap();

    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (data, gravity, run, node, incomplete) = (s(&data), s(&gravity), s(&run), s(&node), s(&incomplete));
    let missing = s(&dir.path().join("missing"));
    let [no_dir, jpg, png] = ["no/such/dir/energy.png", "energy.jpg", "plot.png"].map(|name| s(&dir.path().join(name)));
    let npz = s(&common::reference_npz());
    let gravity_system = s(&root().join("systems/gravity2d.toml"));
    let existing = s(&dir.path().join("springs2d.safetensors"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--run", &missing, "--data", &data], "is not a directory"),
        (vec!["--run", &incomplete, "--data", &data], "model.safetensors is missing"),
        (vec!["--run", &run, "--data", &gravity], "the model expects 6 particles in 2D with 2 feature(s)"),
        (vec!["--run", &run, "--data", &data, "--plot", &no_dir], "does not exist"),
        (vec!["--run", &run, "--data", &data, "--plot", &jpg], ".png or .svg"),
        (vec!["--run", &node, "--data", &data, "--integrator", "leapfrog"], "leapfrog needs a separable Hamiltonian"),
        (vec!["--run", &run, "--data", &data, "--integrator", "dop853"], "dop853 integrates the exact Hamiltonian only"),
        (vec!["--physics", "--data", &data, "--dtype", "f64"], "--physics always integrates in f64"),
        (vec!["--run", &run, "--data", &data, "--count", "25"], "the dataset contains 24"),
        (vec!["--run", &run, "--data", &data, "--horizon", "-1"], "invalid --horizon"),
        (vec!["--run", &run, "--data", &data, "--substeps", "0"], "invalid --substeps"),
        (vec!["--run", &run, "--data", &data, "--plot-size", "10x10", "--plot", &png], "200 to 8000"),
        (vec!["--run", &run, "--data", &data, "--plot-trajectories", &png, "--system-index", "30"], "invalid --system-index"),
        (vec!["--run", &run, "--data", &data, "--plot", &png, "--plot-error", &png], "is named twice"),
        (vec!["--physics", "--data", &npz, "--system", &gravity_system], "holds spring constants"),
        (vec!["--physics", "--data", &data, "--save", &existing], "invalid --save"),
        (vec!["--physics", "--data", &data, "--rtol", "0"], "invalid --rtol: 0.0 is out of range"),
    ];
    for (args, message) in cases {
        rejects(&args, dir.path(), message);
    }
}

#[test]
fn physics_rk4_replays_reference_npz() {
    // The reference file was made by the LieConv authors' code with fixed-step RK4 on the
    // saved grid, so hamsim's rk4 from the same first states reproduces it to round-off.
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    hamsim()
        .args(["rollout", "--physics", "--integrator", "rk4", "--count", "20", "--data"])
        .arg(common::reference_npz())
        .arg("--system")
        .arg(root().join("systems/springs2d.toml"))
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    let summary = metrics(&out);
    assert_eq!(summary["systems"], 20);
    assert!(number(&summary, "state_max_abs_error") < 1e-12, "{summary}");
}

#[test]
fn physics_divergence_is_counted() {
    // RK4 at dt = 0.5 is unstable for the stiffer spring networks (ω·dt beyond RK4's limit
    // of about 2.8), so some of these systems overflow to infinity and the others finish.
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("big_dt.safetensors");
    hamsim()
        .args(["generate", "--system"])
        .arg(root().join("systems/springs2d.toml"))
        .args(["--count", "8", "--dt", "0.5", "--states", "200", "--seed", "3", "--output"])
        .arg(&data)
        .assert()
        .success();
    let out = dir.path().join("out");
    hamsim()
        .args(["rollout", "--physics", "--integrator", "rk4", "--data"])
        .arg(&data)
        .arg("--output")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("diverged at step"));

    let summary = metrics(&out);
    let diverged = summary["diverged"].as_u64().unwrap() as usize;
    assert!((1..8).contains(&diverged), "expected some but not all systems to diverge: {summary}");
    let listed = summary["diverged_systems"].as_array().unwrap();
    assert_eq!(listed.len(), diverged);
    for entry in listed {
        let step = entry["step"].as_u64().unwrap();
        assert!((1..200).contains(&step), "{entry}");
        assert!((entry["time"].as_f64().unwrap() - 0.5 * step as f64).abs() < 1e-9, "{entry}");
    }

    // The count of finite systems falls from all of them to those that finished.
    let csv = std::fs::read_to_string(out.join("rollout.csv")).unwrap();
    let active: Vec<usize> = csv.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().parse().unwrap()).collect();
    assert_eq!(active[0], 8);
    assert_eq!(*active.last().unwrap(), 8 - diverged);
    assert!(active.windows(2).all(|w| w[1] <= w[0]), "active systems increased");
}

/// ż = m·z for each system's first mass m: exponential growth that overflows for large m.
struct Exponential;

impl hamsim::nn::Dynamics for Exponential {
    fn time_derivative(&self, z: &candle_core::Tensor, system: &hamsim::nn::SystemBatch) -> candle_core::Result<candle_core::Tensor> {
        z.broadcast_mul(&system.masses.narrow(1, 0, 1)?)
    }

    fn hamiltonian(&self, _z: &candle_core::Tensor, _system: &hamsim::nn::SystemBatch) -> candle_core::Result<Option<candle_core::Tensor>> {
        Ok(None)
    }

    fn potential_gradient(&self, _q: &candle_core::Tensor, _system: &hamsim::nn::SystemBatch) -> candle_core::Result<Option<candle_core::Tensor>> {
        Ok(None)
    }
}

#[test]
fn model_divergence_stops_one_system() {
    use hamsim::learn::rollout::{roll_out_model, RolloutSettings};
    use hamsim::physics::IntegratorKind;

    // Three systems of 2 particles in 2D with ż = m·z: m = 1 grows by e^1.99 over the run,
    // m = 1000 grows 644-fold per RK4 step of 0.01 and overflows after about 110 steps.
    let (systems, states, len) = (3, 200, 8);
    let masses = vec![1.0, 1.0, 1000.0, 1000.0, 1.0, 1.0];
    let data = Dataset {
        systems,
        states,
        n_particles: 2,
        dim: 2,
        ts: (0..systems).flat_map(|_| (0..states).map(|i| 0.01 * i as f64)).collect(),
        zs: vec![1.0; systems * states * len],
        masses,
        spring_constants: None,
        metadata: None,
    };
    let grid = TimeGrid::new(&data, None, None).unwrap();
    let settings = RolloutSettings {
        method: IntegratorKind::Rk4,
        substeps: 1,
        batch_size: 2,
        dtype: candle_core::DType::F64,
    };
    let prediction = roll_out_model(&Exponential, &data, &grid, settings, &|| {}).unwrap();

    assert_eq!(prediction.diverged[0], None);
    assert_eq!(prediction.diverged[2], None);
    let step = prediction.diverged[1].expect("system 1 overflows");
    assert!((100..=111).contains(&step), "diverged at step {step}");
    let trajectory = prediction.trajectory(1);
    assert!(trajectory[(step - 1) * len..step * len].iter().all(|x| x.is_finite()));
    assert!(trajectory[step * len..].iter().all(|x| x.is_nan()), "states after the divergence are NaN");

    // The other systems keep stepping after system 1 leaves their batch: z(t) = e^t·z(0), and
    // RK4 at h·m = 0.01 is accurate to about 1e-10 relative over these 199 steps.
    for s in [0, 2] {
        let t_end = grid.times(s)[grid.states - 1];
        let last = &prediction.trajectory(s)[(grid.states - 1) * len..];
        for x in last {
            assert!((x / t_end.exp() - 1.0).abs() < 1e-9, "system {s}: z({t_end}) = {x}");
        }
    }
}
