//! Data-parallel gradients: one batch split over threads, each with its own graph.
//!
//! candle parallelises each tensor operation internally, but on small tensors its workers spend
//! most of their time waiting at barriers. Splitting the batch instead gives every thread a
//! whole forward and backward pass. On a 2-core machine this made a LieConv training step
//! about 1.6× faster than candle's own threading (results/BENCHMARKS.md). Set
//! `CANDLE_NUM_THREADS=1` before the first tensor operation so that candle does not also
//! spawn workers.

use std::ops::Range;

use candle_core::backprop::GradStore;
use candle_core::{DType, Result, Var};
use rayon::prelude::*;

use super::LARGE_STACK_BYTES;

/// Splits `0..batch_size` into `shards` contiguous ranges of nearly equal size.
pub fn shard_ranges(batch_size: usize, shards: usize) -> Vec<Range<usize>> {
    let shards = shards.clamp(1, batch_size.max(1));
    (0..shards)
        .map(|s| (s * batch_size / shards)..((s + 1) * batch_size / shards))
        .collect()
}

/// Evaluates `loss_of(range)` for every shard of the batch, runs each shard's backward pass on
/// one of `threads` large-stack worker threads, and returns the summed loss with the summed
/// gradients of `vars`.
///
/// The loss must be additive over shards: a sum over the shard's systems, divided by the full
/// batch size if the mean is wanted. Shards are added in order, so the result depends on the
/// number of shards but not on the number of threads or their timing.
pub fn sharded_backward(
    vars: &[Var],
    batch_size: usize,
    shards: usize,
    threads: usize,
    loss_of: impl Fn(Range<usize>) -> Result<candle_core::Tensor> + Sync,
) -> Result<(f64, GradStore)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .stack_size(LARGE_STACK_BYTES)
        .thread_name(|i| format!("hamsim-shard-{i}"))
        .build()
        .map_err(candle_core::Error::wrap)?;
    let ranges = shard_ranges(batch_size, shards);
    let results: Vec<Result<(f64, GradStore)>> = pool.install(|| {
        ranges
            .into_par_iter()
            .map(|range| shard_backward(vars, loss_of(range)?))
            .collect()
    });

    let mut total_loss = 0.0;
    let mut total = GradStore::default();
    for result in results {
        let (loss, grads) = result?;
        total_loss += loss;
        total.extend(grads)?;
    }
    Ok((total_loss, total))
}

/// Runs the backward pass of one shard's loss and keeps only the gradients of `vars`.
fn shard_backward(vars: &[Var], loss: candle_core::Tensor) -> Result<(f64, GradStore)> {
    let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    let all = loss.backward()?;
    let mut kept = GradStore::default();
    for var in vars {
        if let Some(grad) = all.get(var.as_tensor()) {
            kept.insert(var.as_tensor(), grad.clone());
        }
    }
    Ok((value, kept))
}
