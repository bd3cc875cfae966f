//! Generation speed: wall time per system of the spring benchmark (6 particles in 2D,
//! 500 saved states, dt = 0.01) with each integrator, on all cores.
//!
//! Run with `cargo bench --bench generate`; figures are recorded in results/BENCHMARKS.md.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hamsim::generate::{generate, GenerateConfig};
use hamsim::physics::{Integrator, IntegratorKind, SystemSpec};

/// Systems per measured batch: enough to spread over the cores and amortise the pool.
const SYSTEMS: usize = 200;

fn config(system: &str, method: IntegratorKind) -> GenerateConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("systems").join(system);
    let spec = SystemSpec::from_file(&path).unwrap();
    GenerateConfig {
        spec,
        count: SYSTEMS,
        seed: 0,
        integrator: Integrator {
            method,
            ..Integrator::default()
        },
    }
}

fn bench_generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.throughput(Throughput::Elements(SYSTEMS as u64));
    group.sample_size(20);
    for system in ["springs2d.toml", "gravity2d.toml", "gravity3d.toml"] {
        for method in [IntegratorKind::Rk4, IntegratorKind::Leapfrog, IntegratorKind::Dop853] {
            let config = config(system, method);
            let name = format!("{}/{method}", system.trim_end_matches(".toml"));
            group.bench_function(name, |b| b.iter(|| generate(&config, &|| {}).unwrap()));
        }
    }
    group.finish();
}

criterion_group!(benches, bench_generate);
criterion_main!(benches);
