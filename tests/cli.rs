//! End-to-end tests of `hamsim generate` and `hamsim analyze` on small real data.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{reference_npz, root, write_file};
use hamsim::dataset::Dataset;
use npyz::WriterBuilder;
use predicates::prelude::*;
use tempfile::TempDir;

fn hamsim() -> Command {
    Command::cargo_bin("hamsim").unwrap()
}

fn system_path(name: &str) -> PathBuf {
    root().join("systems").join(format!("{name}.toml"))
}

/// Runs `hamsim generate` on 6 systems of 30 states unless `extra` sets `--count` or
/// `--states`; extra arguments are appended.
fn generate(system: &Path, output: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut command = hamsim();
    command.args(["generate", "--system"]).arg(system).arg("--output").arg(output);
    for (flag, default) in [("--count", "6"), ("--states", "30")] {
        if !extra.contains(&flag) {
            command.args([flag, default]);
        }
    }
    command.args(extra).assert()
}

/// Writes an `.npz` archive of float64 arrays.
fn write_npz(path: &Path, arrays: &[(&str, &[u64], &[f64])]) {
    let file = std::fs::File::create(path).unwrap();
    let mut npz = npyz::npz::NpzWriter::new(std::io::BufWriter::new(file));
    for (name, shape, values) in arrays {
        let mut writer = npz
            .array::<f64>(name, Default::default())
            .unwrap()
            .default_dtype()
            .shape(shape)
            .begin_nd()
            .unwrap();
        writer.extend(values.iter().copied()).unwrap();
        writer.finish().unwrap();
    }
}

/// Asserts that a failed command named `needle` in its error and left no `output`.
fn assert_rejected(assert: assert_cmd::assert::Assert, needle: &str, output: &Path) {
    assert
        .failure()
        .stderr(predicate::str::contains(needle));
    assert!(!output.exists(), "{} was written despite the error", output.display());
}

#[test]
fn generate_writes_dataset_and_summary() {
    let dir = TempDir::new().unwrap();
    let output = dir.path().join("nested/springs.safetensors");
    generate(&system_path("springs2d"), &output, &[])
        .success()
        .stdout(predicate::str::contains("relative energy error"))
        .stderr(predicate::str::contains("wrote"));

    let data = Dataset::load(&output).unwrap();
    assert_eq!((data.systems, data.states, data.n_particles, data.dim), (6, 30, 6, 2));
    assert_eq!(data.zs.len(), 6 * 30 * 24);
    assert!(data.spring_constants.is_some());
    let metadata = data.metadata.expect("hamsim writes metadata");
    assert_eq!(metadata.system_kind, "springs");
    assert_eq!(metadata.integrator.method.name(), "dop853");
    assert_eq!(metadata.states, 30);
    assert!(metadata.system_toml.contains("n_particles = 6"));
    let conservation = metadata.conservation.unwrap();
    assert!(conservation.energy_rel_drift.max < 1e-9);

    // No temporary file is left next to the output.
    let leftovers: Vec<_> = std::fs::read_dir(output.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn generate_is_reproducible_across_threads() {
    let dir = TempDir::new().unwrap();
    let paths: Vec<PathBuf> = ["one", "two", "seed1"]
        .iter()
        .map(|n| dir.path().join(format!("{n}.safetensors")))
        .collect();
    for (path, (threads, seed)) in paths.iter().zip([("1", "0"), ("2", "0"), ("2", "1")]) {
        generate(&system_path("gravity3d"), path, &["--threads", threads, "--seed", seed]).success();
    }
    let bytes: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(bytes[0] == bytes[1], "1 and 2 threads gave different files");
    let zs = |p: &Path| Dataset::load(p).unwrap().zs;
    assert_ne!(zs(&paths[0]), zs(&paths[2]), "seeds 0 and 1 gave the same trajectories");
}

#[test]
fn generate_honours_integrator_flags() {
    let dir = TempDir::new().unwrap();
    let output = dir.path().join("rk4.safetensors");
    generate(
        &system_path("springs2d"),
        &output,
        &["--integrator", "rk4", "--substeps", "4", "--dt", "0.02"],
    )
    .success()
    .stderr(predicate::str::contains("rk4 (4 substeps"));
    let data = Dataset::load(&output).unwrap();
    let metadata = data.metadata.as_ref().unwrap();
    assert_eq!(metadata.integrator.method.name(), "rk4");
    assert_eq!(metadata.integrator.substeps, 4);
    assert!((data.ts[29] - 29.0 * 0.02).abs() < 1e-15);
}

#[test]
fn analyze_reference_npz_reads_springs() {
    // The reference data's own README reports a worst relative energy error of 3.7e-3 and a
    // linear momentum drift of 4e-14: the analysis must find the same.
    let output = hamsim()
        .args(["analyze", "--json"])
        .arg(reference_npz())
        .assert()
        .success()
        .stderr(predicate::str::contains("reading it as springs"))
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(json["systems"], 200);
    assert_eq!(json["states"], 500);
    assert_eq!(json["particles"], 6);
    assert_eq!(json["dim"], 2);
    let energy_max = json["energy_rel_drift"]["max"].as_f64().unwrap();
    assert!((energy_max - 3.7e-3).abs() < 0.05e-3, "energy max {energy_max}");
    let energy_median = json["energy_rel_drift"]["median"].as_f64().unwrap();
    assert!((energy_median - 9.2e-6).abs() < 0.05e-6, "energy median {energy_median}");
    assert!(json["linear_momentum_drift"]["max"].as_f64().unwrap() < 1e-13);
    let angular_max = json["angular_momentum_drift"]["max"].as_f64().unwrap();
    assert!((angular_max - 4.5e-3).abs() < 0.05e-3, "angular max {angular_max}");

    hamsim()
        .arg("analyze")
        .arg(reference_npz())
        .assert()
        .success()
        .stdout(predicate::str::contains("relative energy error"));
}

#[test]
fn analyze_npz_without_system_needs_flag() {
    let dir = TempDir::new().unwrap();
    let dataset = dir.path().join("gravity.safetensors");
    generate(&system_path("gravity2d"), &dataset, &[]).success();
    let data = Dataset::load(&dataset).unwrap();

    let npz = dir.path().join("gravity.npz");
    let (s, t, n) = (data.systems as u64, data.states as u64, data.n_particles as u64);
    write_npz(
        &npz,
        &[
            ("ts", &[s, t], &data.ts),
            ("zs", &[s, t, 2 * n * 2], &data.zs),
            ("masses", &[s, n], &data.masses),
        ],
    );
    hamsim()
        .arg("analyze")
        .arg(&npz)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--system"));

    let from_npz = hamsim()
        .args(["analyze", "--json", "--system"])
        .arg(system_path("gravity2d"))
        .arg(&npz)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let from_metadata = hamsim()
        .args(["analyze", "--json"])
        .arg(&dataset)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(from_npz, from_metadata, "the same trajectories must give the same table");

    hamsim()
        .args(["analyze", "--system"])
        .arg(system_path("gravity3d"))
        .arg(&npz)
        .assert()
        .failure()
        .stderr(predicate::str::contains("particles in 3D"));
}

#[test]
fn generate_rejects_bad_system_files() {
    let dir = TempDir::new().unwrap();
    let base = std::fs::read_to_string(system_path("springs2d")).unwrap();
    let cases = [
        ("unknown key", base.replace("dim = 2", "dim = 2\ncolour = 1"), "unknown field `colour`"),
        (
            "non-positive masses",
            base.replace("low = 0.1, high = 3.1", "low = -1.0, high = 3.1"),
            "masses can produce the value -1",
        ),
        ("one particle", base.replace("n_particles = 6", "n_particles = 1"), "n_particles = 1"),
        ("zero dt", base.replace("dt = 0.01", "dt = 0.0"), "dt = 0"),
        ("negative dt", base.replace("dt = 0.01", "dt = -0.5"), "dt = -0.5"),
        ("one state", base.replace("states = 500", "states = 1"), "states = 1"),
        ("bad rtol", base.replace("rtol = 1e-10", "rtol = 2.0"), "integrator.rtol = 2"),
        ("not toml", "kind = springs = 3".to_string(), "invalid system file"),
    ];
    for (label, text, needle) in cases {
        let system = write_file(dir.path(), "bad.toml", &text);
        let output = dir.path().join("out.safetensors");
        let assert = generate(&system, &output, &[]);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains("bad.toml"), "{label}: the message must name the file: {stderr}");
        assert_rejected(assert, needle, &output);
    }

    let gravity = std::fs::read_to_string(system_path("gravity2d")).unwrap();
    let system = write_file(dir.path(), "g.toml", &gravity.replace("star_mass = 32.0", "star_mass = 0.0"));
    let output = dir.path().join("out.safetensors");
    assert_rejected(generate(&system, &output, &[]), "star_mass = 0", &output);
    let system = write_file(dir.path(), "g.toml", &gravity.replace("planets = 5", "planets = 0"));
    assert_rejected(generate(&system, &output, &[]), "planets = 0", &output);
}

#[test]
fn generate_rejects_bad_flags() {
    let dir = TempDir::new().unwrap();
    let system = system_path("springs2d");
    let output = dir.path().join("out.safetensors");
    let cases: [(&[&str], &str); 6] = [
        (&["--count", "0"], "invalid --count: 0 systems"),
        (&["--dt", "0"], "invalid --dt"),
        (&["--states", "1"], "invalid --states"),
        (&["--rtol", "0"], "rtol"),
        (&["--threads", "0"], "invalid --threads"),
        (&["--integrator", "euler"], "euler"),
    ];
    for (flags, needle) in cases {
        assert_rejected(generate(&system, &output, flags), needle, &output);
    }
    assert_rejected(
        generate(&dir.path().join("missing.toml"), &output, &[]),
        "missing.toml",
        &output,
    );
}

#[test]
fn generate_protects_existing_output() {
    let dir = TempDir::new().unwrap();
    let output = write_file(dir.path(), "taken.safetensors", "precious");
    generate(&system_path("springs2d"), &output, &[])
        .failure()
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "precious");

    generate(&system_path("springs2d"), &output, &["--force"]).success();
    assert_eq!(Dataset::load(&output).unwrap().systems, 6);
}

#[test]
fn generate_reports_unwritable_directory() {
    // A regular file used as a directory fails for every user, root included.
    let dir = TempDir::new().unwrap();
    let blocker = write_file(dir.path(), "file", "");
    let output = blocker.join("out.safetensors");
    assert_rejected(
        generate(&system_path("springs2d"), &output, &[]),
        "cannot create the output directory",
        &output,
    );
}

#[test]
fn analyze_rejects_bad_datasets() {
    let dir = TempDir::new().unwrap();
    let good = dir.path().join("good.safetensors");
    generate(&system_path("springs2d"), &good, &[]).success();
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let text = write_file(dir.path(), "notes.txt", "not a dataset");

    let (s, t, n) = (2u64, 5u64, 3u64);
    let zs = vec![0.5; (s * t * 2 * n * 2) as usize];
    let ts: Vec<f64> = (0..s * t).map(|i| (i % t) as f64).collect();
    let masses = vec![1.0; (s * n) as usize];
    let shapes = dir.path().join("shapes.npz");
    write_npz(
        &shapes,
        &[("ts", &[s, t], &ts), ("zs", &[s, t, 12], &zs), ("masses", &[s + 1, n], &[1.0; 9]), ("k", &[s, n], &masses)],
    );
    let mut with_nan = zs.clone();
    with_nan[7] = f64::NAN;
    let nan = dir.path().join("nan.npz");
    write_npz(
        &nan,
        &[("ts", &[s, t], &ts), ("zs", &[s, t, 12], &with_nan), ("masses", &[s, n], &masses), ("k", &[s, n], &masses)],
    );
    let no_zs = dir.path().join("no_zs.npz");
    write_npz(&no_zs, &[("ts", &[s, t], &ts), ("masses", &[s, n], &masses)]);

    let cases: [(&Path, &str); 6] = [
        (&dir.path().join("missing.npz"), "cannot read it"),
        (&truncated, "truncated"),
        (&text, "not a safetensors or .npz dataset"),
        (&shapes, "array 'masses' has shape [3, 3]"),
        (&nan, "non-finite value NaN"),
        (&no_zs, "no array 'zs'"),
    ];
    for (path, needle) in cases {
        hamsim()
            .arg("analyze")
            .arg(path)
            .assert()
            .failure()
            .stderr(predicate::str::contains(needle));
    }
}

#[test]
fn generate_rejects_npz_output_and_thread_excess() {
    let dir = TempDir::new().unwrap();
    let npz = dir.path().join("out.npz");
    assert_rejected(generate(&system_path("springs2d"), &npz, &[]), "name it FILE.safetensors", &npz);
    let output = dir.path().join("out.safetensors");
    assert_rejected(
        generate(&system_path("springs2d"), &output, &["--threads", "100000"]),
        "use 1 to 1024",
        &output,
    );
    assert_rejected(
        generate(&system_path("springs2d"), &output, &["--dt", "-1"]),
        "dt = -1.0 is out of range",
        &output,
    );
}

#[test]
fn generate_rejects_impossible_sizes() {
    let dir = TempDir::new().unwrap();
    let output = dir.path().join("huge.safetensors");
    assert_rejected(
        generate(&system_path("springs2d"), &output, &["--count", "1000000000000"]),
        "lower --count or --states",
        &output,
    );
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 0, "a temporary file was left behind");
}

#[test]
fn analyze_rejects_system_of_other_kind() {
    let dir = TempDir::new().unwrap();
    let dataset = dir.path().join("springs.safetensors");
    generate(&system_path("springs2d"), &dataset, &[]).success();
    hamsim()
        .args(["analyze", "--system"])
        .arg(system_path("gravity2d"))
        .arg(&dataset)
        .assert()
        .failure()
        .stderr(predicate::str::contains("generated from a springs system"));
}

#[cfg(unix)]
#[test]
fn dataset_files_are_world_readable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let output = dir.path().join("shared.safetensors");
    generate(&system_path("springs2d"), &output, &[]).success();
    let mode = std::fs::metadata(&output).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}
