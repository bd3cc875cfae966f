//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use hamsim::physics::{Hamiltonian, SystemSpec};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A system file of `systems/`, parsed.
pub fn system(name: &str) -> SystemSpec {
    SystemSpec::from_file(&root().join("systems").join(format!("{name}.toml"))).unwrap()
}

/// The reference spring dataset made by the LieConv authors' code, kept beside the repository.
pub fn reference_npz() -> PathBuf {
    let path = root().join("../shared/data/springs2d_ref_seed0_n200.npz");
    assert!(
        path.exists(),
        "the reference dataset {} is missing; these tests need the shared data folder beside the repository",
        path.display()
    );
    path
}

/// Sample `index` of `spec` (seed 0) with its Hamiltonian.
pub fn sampled(spec: &SystemSpec, index: u64) -> (Box<dyn Hamiltonian>, Vec<f64>) {
    let sample = spec.sample(0, index);
    let system = spec
        .hamiltonian(&sample.masses, sample.spring_constants.as_deref())
        .unwrap();
    (system, sample.z0)
}

/// The largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
