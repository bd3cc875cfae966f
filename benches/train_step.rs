//! Time of one training step: a batch of 200 chunks of 5 saved states of springs2d, an RK4
//! rollout over the 4 intervals, the mean squared error, and its backward pass (which
//! differentiates through ∂V/∂q). f32 on the CPU.
//!
//! Two ways of using both cores are measured: the batch split into two shards with one thread
//! each (`sharded`), and the whole batch on one thread with candle's internal threading
//! (`candle_threads`). Run with `cargo bench --bench train_step`; figures are recorded in
//! results/BENCHMARKS.md.

use candle_core::{DType, Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use hamsim::learn::{rk4, sharded_backward, with_large_stack, Tracking};
use hamsim::nn::{Model, ModelConfig, SystemBatch};
use rand::{Rng, SeedableRng};

const BATCH: usize = 200;
const STATES: usize = 5;
const N: usize = 6;

struct Inputs {
    masses: Vec<f64>,
    k: Vec<f64>,
    z0: Vec<f64>,
    target: Vec<f64>,
}

fn inputs() -> Inputs {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut draw = |count: usize, low: f64, high: f64| -> Vec<f64> {
        (0..count).map(|_| rng.random_range(low..high)).collect()
    };
    Inputs {
        masses: draw(BATCH * N, 0.1, 3.1),
        k: draw(BATCH * N, 0.0, 5.0),
        z0: draw(BATCH * 4 * N, -1.0, 1.0),
        target: draw(BATCH * STATES * 4 * N, -1.0, 1.0),
    }
}

/// The summed squared error of systems `range`, divided by the full batch's element count.
fn shard_loss(model: &Model, data: &Inputs, range: std::ops::Range<usize>) -> candle_core::Result<Tensor> {
    let (device, b) = (Device::Cpu, range.len());
    let masses = &data.masses[range.start * N..range.end * N];
    let k = &data.k[range.start * N..range.end * N];
    let system = SystemBatch::from_parameters(masses, Some(k), N, 2, DType::F32, &device)?;
    let f32 = |values: &[f64], shape: &[usize]| -> candle_core::Result<Tensor> {
        Tensor::from_slice(values, shape, &device)?.to_dtype(DType::F32)
    };
    let z0 = f32(&data.z0[range.start * 4 * N..range.end * 4 * N], &[b, 4 * N])?;
    let target = f32(&data.target[range.start * STATES * 4 * N..range.end * STATES * 4 * N], &[b, STATES, 4 * N])?;
    let ts: Vec<f64> = (0..b).flat_map(|_| (0..STATES).map(|i| i as f64 * 0.01)).collect();
    let ts = f32(&ts, &[b, STATES])?;
    let trajectory = rk4(model.dynamics(), &system, &z0, &ts, 1, Tracking::Train)?;
    let sum = (trajectory - target)?.sqr()?.sum_all()?;
    sum / (BATCH * STATES * 4 * N) as f64
}

fn bench_train_step(c: &mut Criterion) {
    let data = inputs();
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
    let mode = std::env::var("HAMSIM_BENCH_MODE").unwrap_or_else(|_| "sharded".to_string());
    for (name, config) in configs {
        let model = Model::new(config, DType::F32, &Device::Cpu, 0).unwrap();
        let vars = model.varmap.all_vars();
        eprintln!("{name}: {} parameters", model.parameter_count());
        group.bench_function(format!("{name}/{mode}"), |b| {
            b.iter(|| {
                if mode == "sharded" {
                    sharded_backward(&vars, BATCH, 2, 2, |range| shard_loss(&model, &data, range)).unwrap();
                } else {
                    with_large_stack(|| shard_loss(&model, &data, 0..BATCH).unwrap().backward().unwrap());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_train_step);
criterion_main!(benches);
