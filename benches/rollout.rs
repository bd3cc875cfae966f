//! Time of a model rollout without gradients: 200 springs2d systems × 20 RK4 steps of the
//! lieconv T2 model at the paper's size (k = 384) and at k = 128, f32, in batches of 50 on the
//! rayon pool. The weights are constant tensors, as `hamsim rollout` loads them. Run with
//! `cargo bench --bench rollout`; figures are recorded in results/BENCHMARKS.md.

use candle_core::{DType, Device};
use criterion::{criterion_group, criterion_main, Criterion};
use hamsim::dataset::Dataset;
use hamsim::learn::rollout::{roll_out_model, RolloutSettings};
use hamsim::nn::{Model, ModelConfig};
use hamsim::physics::IntegratorKind;
use hamsim::rollout::TimeGrid;
use rand::{Rng, SeedableRng};

const SYSTEMS: usize = 200;
const STATES: usize = 21;
const N: usize = 6;

/// Random springs2d-shaped systems; only their first states are used.
fn dataset() -> Dataset {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut draw = |count: usize, low: f64, high: f64| -> Vec<f64> {
        (0..count).map(|_| rng.random_range(low..high)).collect()
    };
    Dataset {
        systems: SYSTEMS,
        states: STATES,
        n_particles: N,
        dim: 2,
        ts: (0..SYSTEMS).flat_map(|_| (0..STATES).map(|i| 0.01 * i as f64)).collect(),
        zs: draw(SYSTEMS * STATES * 4 * N, -1.0, 1.0),
        masses: draw(SYSTEMS * N, 0.1, 3.1),
        spring_constants: Some(draw(SYSTEMS * N, 0.0, 5.0)),
        metadata: None,
    }
}

fn bench_rollout(c: &mut Criterion) {
    // As in the hamsim binary: the rayon pool runs batches in parallel, so candle's own
    // per-operation threads would only compete with it.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }

    let data = dataset();
    let grid = TimeGrid::new(&data, None, None).unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    let mut group = c.benchmark_group("rollout");
    group.sample_size(10);

    let mut small = ModelConfig::lieconv("T2", N, 2, 2);
    small.width = 128;
    for (name, config) in [("lieconv_T2_k384", ModelConfig::lieconv("T2", N, 2, 2)), ("lieconv_T2_k128", small)] {
        let weights = dir.path().join(format!("{name}.safetensors"));
        Model::new(config.clone(), DType::F32, &Device::Cpu, 0)
            .unwrap()
            .save(&weights, &dir.path().join(format!("{name}.json")))
            .unwrap();
        let dynamics = Model::load_dynamics(&config, &weights, DType::F32, &Device::Cpu).unwrap();

        let settings = RolloutSettings {
            method: IntegratorKind::Rk4,
            substeps: 1,
            batch_size: 50,
            dtype: DType::F32,
        };
        group.bench_function(name, |b| {
            b.iter(|| roll_out_model(dynamics.as_ref(), &data, &grid, settings, &|| {}).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_rollout);
criterion_main!(benches);
