//! End-to-end tests of `hamsim train` on small datasets made by `hamsim generate`.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::root;
use predicates::prelude::*;
use tempfile::TempDir;

fn hamsim() -> Command {
    Command::cargo_bin("hamsim").unwrap()
}

/// Generates `count` systems of `system` with 30 states into `dir`.
fn dataset(dir: &Path, system: &str, count: usize) -> PathBuf {
    let path = dir.join(format!("{system}.safetensors"));
    hamsim()
        .args(["generate", "--system"])
        .arg(root().join("systems").join(format!("{system}.toml")))
        .args(["--count", &count.to_string(), "--states", "30", "--output"])
        .arg(&path)
        .assert()
        .success();
    path
}

/// A small LieConv T2 run: 40 training and 20 validation systems, batches of 10; `extra`
/// overrides any of these flags.
fn train(data: &Path, run: &Path, epochs: usize, extra: &[&str]) -> Command {
    let mut command = hamsim();
    command.args(["train", "--data"]).arg(data).arg("--output").arg(run);
    let epochs = epochs.to_string();
    let defaults = [
        ("--model", "lieconv"),
        ("--group", "T2"),
        ("--width", "16"),
        ("--layers", "2"),
        ("--n-train", "40"),
        ("--n-val", "20"),
        ("--batch-size", "10"),
        ("--lr", "1e-2"),
        ("--epochs", epochs.as_str()),
        ("--threads", "2"),
    ];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            command.args([flag, value]);
        }
    }
    command.args(extra);
    command
}

/// The rows of metrics.csv as (epoch, train_mse, val_mse).
fn metrics(run: &Path) -> Vec<(usize, f64, f64)> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("epoch,train_mse,val_mse,lr,seconds,chunks_per_second"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 6, "row {line}");
            (fields[0].parse().unwrap(), fields[1].parse().unwrap(), fields[2].parse().unwrap())
        })
        .collect()
}

fn weights(path: &Path) -> Vec<(String, Vec<f32>)> {
    let tensors = candle_core::safetensors::load(path, &candle_core::Device::Cpu).unwrap();
    let mut named: Vec<(String, Vec<f32>)> = tensors
        .into_iter()
        .map(|(name, t)| (name, t.flatten_all().unwrap().to_vec1().unwrap()))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

#[test]
fn training_reduces_validation_error() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 60);
    let run = dir.path().join("run");
    // Batches of 5 give 8 Adam steps per epoch, enough to learn within 8 epochs.
    train(&data, &run, 8, &["--batch-size", "5"]).assert().success().stderr(predicate::str::contains("finished"));

    for file in ["config.json", "model.safetensors", "last.safetensors", "optimizer.safetensors", "state.json", "metrics.csv"] {
        assert!(run.join(file).exists(), "{file} is missing");
    }
    let rows = metrics(&run);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    let (first, last) = (rows[0].2, rows[7].2);
    assert!(last < 0.5 * first, "val_mse went from {first:e} to {last:e}");

    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model"]["group"], "T2");
    assert_eq!(config["training"]["epochs"], 8);
    assert_eq!(config["data"]["system_kind"], "springs");
}

#[test]
fn same_seed_gives_same_run() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 60);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    train(&data, &a, 2, &["--threads", "1"]).assert().success();
    train(&data, &b, 2, &["--threads", "2"]).assert().success();
    let strip = |rows: Vec<(usize, f64, f64)>| rows.into_iter().map(|r| (r.0, r.1.to_bits(), r.2.to_bits())).collect::<Vec<_>>();
    assert_eq!(strip(metrics(&a)), strip(metrics(&b)));
    assert_eq!(weights(&a.join("last.safetensors")), weights(&b.join("last.safetensors")));
}

#[test]
fn interrupted_run_resumes_where_it_stopped() {
    // An uninterrupted run and one stopped after 6 of its 12 batches, then resumed, must end
    // with the same figures and weights: the stop saves weights, optimiser and position.
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 60);
    let (whole, split) = (dir.path().join("whole"), dir.path().join("split"));
    train(&data, &whole, 3, &[]).assert().success();

    train(&data, &split, 3, &[])
        .env("HAMSIM_STOP_AFTER_BATCHES", "6")
        .assert()
        .code(130)
        .stderr(predicate::str::contains("--resume"));
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(split.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["next"]["epoch"], 1);
    assert_eq!(state["next"]["batch"], 2);
    assert_eq!(metrics(&split).len(), 1);
    assert!(!weights(&split.join("last.safetensors")).is_empty());

    train(&data, &split, 3, &["--resume"]).assert().success().stderr(predicate::str::contains("resuming"));
    let strip = |rows: Vec<(usize, f64, f64)>| rows.into_iter().map(|r| (r.0, r.1.to_bits(), r.2.to_bits())).collect::<Vec<_>>();
    assert_eq!(strip(metrics(&whole)), strip(metrics(&split)));
    assert_eq!(weights(&whole.join("last.safetensors")), weights(&split.join("last.safetensors")));

    train(&data, &split, 3, &["--resume"]).assert().failure().stderr(predicate::str::contains("already finished"));
}

#[test]
fn train_rejects_bad_input() {
    let dir = TempDir::new().unwrap();
    let springs = dataset(dir.path(), "springs2d", 60);
    let springs3d = dataset(dir.path(), "springs3d", 30);
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a dataset").unwrap();

    let cases: Vec<(&Path, Vec<&str>, &str)> = vec![
        (&springs3d, vec!["--group", "SO2"], "does not act on 3D"),
        (&text, vec![], "not a safetensors or .npz dataset"),
        (&springs, vec!["--batch-size", "0"], "invalid --batch-size"),
        (&springs, vec!["--chunk-len", "1"], "invalid --chunk-len"),
        (&springs, vec!["--chunk-len", "31"], "longer than the 30 saved states"),
        (&springs, vec!["--lr", "-0.1"], "invalid --lr"),
        (&springs, vec!["--n-train", "100"], "ask for 120 systems"),
        (&springs, vec!["--epochs", "0"], "invalid --epochs"),
    ];
    for (data, extra, needle) in cases {
        let run = dir.path().join("rejected");
        train(data, &run, 2, &extra).assert().failure().stderr(predicate::str::contains(needle));
        assert!(!run.exists(), "{needle}: the run directory was created");
    }

    let run = dir.path().join("taken");
    train(&springs, &run, 1, &[]).assert().success();
    let before = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    train(&springs, &run, 1, &[]).assert().failure().stderr(predicate::str::contains("--resume"));
    assert_eq!(std::fs::read_to_string(run.join("metrics.csv")).unwrap(), before);
    train(&springs, &run, 1, &["--force"]).assert().success();
}

#[test]
fn divergence_stops_with_epoch_and_batch() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 60);
    let run = dir.path().join("run");
    train(&data, &run, 3, &["--lr", "1e4", "--batch-size", "5"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("training diverged: the loss of epoch 1, batch"));
    assert!(!run.join("model.safetensors").exists());
}

#[test]
fn baselines_train_with_separate_validation_file() {
    let dir = TempDir::new().unwrap();
    let data = dataset(dir.path(), "springs2d", 60);
    let val = dir.path().join("val.safetensors");
    std::fs::copy(dataset(dir.path(), "springs3d", 10), dir.path().join("other.safetensors")).unwrap();
    hamsim()
        .args(["generate", "--system"])
        .arg(root().join("systems/springs2d.toml"))
        .args(["--count", "20", "--states", "30", "--seed", "9", "--output"])
        .arg(&val)
        .assert()
        .success();

    for model in ["hnn", "node"] {
        let run = dir.path().join(model);
        let extra = ["--model", model, "--val", val.to_str().unwrap(), "--n-val", "20", "--dtype", "f64"];
        train(&data, &run, 2, &extra).assert().success();
        assert_eq!(metrics(&run).len(), 2);
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
        assert_eq!(config["model"]["model"], model);
        assert_eq!(config["dtype"], "f64");
        assert!(config["val"]["path"].as_str().unwrap().ends_with("val.safetensors"));
    }

    // A validation file of another shape is rejected before training.
    let run = dir.path().join("mismatch");
    let other = dir.path().join("other.safetensors");
    train(&data, &run, 1, &["--val", other.to_str().unwrap(), "--n-val", "5"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("particles in 3D"));
    assert!(!run.exists(), "the run directory was created");
}
