//! Time of one training step: a batch of 200 chunks of 5 saved states of springs2d, an RK4
//! rollout over the 4 intervals, the mean squared error, and its backward pass (which
//! differentiates through ∂V/∂q). f32 on the CPU, all cores.
//!
//! Run with `cargo bench --bench train_step`; figures are recorded in results/BENCHMARKS.md.

use candle_core::{DType, Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use hamsim::learn::{rk4, with_large_stack, Tracking};
use hamsim::nn::{Model, ModelConfig, SystemBatch};
use rand::{Rng, SeedableRng};

const BATCH: usize = 200;
const STATES: usize = 5;
const N: usize = 6;

fn inputs() -> (SystemBatch, Tensor, Tensor, Tensor) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut draw = |count: usize, low: f64, high: f64| -> Vec<f64> {
        (0..count).map(|_| rng.random_range(low..high)).collect()
    };
    let masses = draw(BATCH * N, 0.1, 3.1);
    let k = draw(BATCH * N, 0.0, 5.0);
    let device = Device::Cpu;
    let system = SystemBatch::from_parameters(&masses, Some(&k), N, 2, DType::F32, &device).unwrap();
    let z0 = Tensor::from_vec(draw(BATCH * 4 * N, -1.0, 1.0), (BATCH, 4 * N), &device).unwrap();
    let target = Tensor::from_vec(draw(BATCH * STATES * 4 * N, -1.0, 1.0), (BATCH, STATES, 4 * N), &device).unwrap();
    let ts: Vec<f64> = (0..BATCH).flat_map(|_| (0..STATES).map(|i| i as f64 * 0.01)).collect();
    let ts = Tensor::from_vec(ts, (BATCH, STATES), &device).unwrap();
    let f32 = |t: Tensor| t.to_dtype(DType::F32).unwrap();
    (system, f32(z0), f32(ts), f32(target))
}

fn training_step(model: &Model, system: &SystemBatch, z0: &Tensor, ts: &Tensor, target: &Tensor) {
    with_large_stack(|| {
        let trajectory = rk4(model.dynamics(), system, z0, ts, 1, Tracking::Train).unwrap();
        let loss = (trajectory - target).unwrap().sqr().unwrap().mean_all().unwrap();
        loss.backward().unwrap();
    });
}

fn bench_train_step(c: &mut Criterion) {
    let (system, z0, ts, target) = inputs();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    let mut small = ModelConfig::lieconv("T2", N, 2, 2);
    small.width = 128;
    let configs = [
        ("lieconv_T2_k384", ModelConfig::lieconv("T2", N, 2, 2)),
        ("lieconv_T2_k128", small),
        ("lieconv_SO2_k384", ModelConfig::lieconv("SO2", N, 2, 2)),
        ("hnn", ModelConfig::hnn(N, 2, 2)),
    ];
    for (name, config) in configs {
        let model = Model::new(config, DType::F32, &Device::Cpu, 0).unwrap();
        eprintln!("{name}: {} parameters", model.parameter_count());
        group.bench_function(name, |b| b.iter(|| training_step(&model, &system, &z0, &ts, &target)));
    }
    group.finish();
}

criterion_group!(benches, bench_train_step);
criterion_main!(benches);
