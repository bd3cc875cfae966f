//! End-to-end test of `hamsim demo` with its tiny budget.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

#[test]
fn demo_quick_writes_every_file() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("demo");
    Command::cargo_bin("hamsim")
        .unwrap()
        .args(["demo", "--quick", "--threads", "2", "--output"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("$ hamsim train"))
        .stderr(predicate::str::contains("demo finished"));

    let files = [
        "data/springs2d.toml",
        "data/train.safetensors",
        "data/test.safetensors",
        "run/config.json",
        "run/model.safetensors",
        "run/metrics.csv",
        "metrics.json",
        "rollout.csv",
        "energy.png",
        "momentum.png",
        "error.png",
        "trajectories.png",
    ];
    for file in files {
        let path = out.join(file);
        assert!(path.is_file(), "the demo did not write {file}");
        assert!(std::fs::metadata(&path).unwrap().len() > 0, "{file} is empty");
    }
    for plot in ["energy.png", "momentum.png", "error.png", "trajectories.png"] {
        let image = image::open(out.join(plot)).unwrap_or_else(|e| panic!("{plot} does not decode: {e}"));
        assert_eq!((image.width(), image.height()), (1000, 600), "{plot}");
    }

    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["systems"], 10);
    assert_eq!(metrics["setup"]["dtype"], "f64");
    // The demo's claim: a T(2) model rolled out in f64 keeps total linear momentum to
    // round-off, about 1e-15 per step over 49 steps.
    let drift = metrics["linear_momentum_drift_max"].as_f64().unwrap();
    assert!(drift < 1e-10, "linear momentum drift {drift}");
}

#[test]
fn demo_runs_twice_into_one_directory() {
    let dir = TempDir::new().unwrap();
    for _ in 0..2 {
        Command::cargo_bin("hamsim")
            .unwrap()
            .args(["demo", "--quick", "--output"])
            .arg(dir.path())
            .assert()
            .success();
    }
}
