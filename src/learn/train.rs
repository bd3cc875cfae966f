//! The training loop: Adam on the mean squared error of RK4 rollouts over chunks, with a cosine
//! learning-rate schedule, validation after every epoch, and hooks for checkpoints, progress
//! and interruption.

use std::time::Instant;

use candle_core::{DType, Device, Result, Tensor};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::data::{rng, ChunkSet, Stream};
use super::{rk4, sharded_backward, Tracking};
use crate::dataset::Dataset;
use crate::nn::Model;

/// Shards each batch is split into for its gradient. The count is fixed, not tied to the number
/// of threads, so that the weights do not depend on `--threads`.
pub const GRADIENT_SHARDS: usize = 4;

/// The training recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Passes over the training systems.
    pub epochs: usize,
    /// Chunks per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate; the schedule decays it to 0 along a cosine.
    pub lr: f64,
    /// Saved states per chunk, at least 2.
    pub chunk_len: usize,
    /// Seed of splits, chunk starts and batch order.
    pub seed: u64,
    /// Draw new chunk starts every epoch instead of once.
    pub resample_chunks: bool,
}

impl TrainSettings {
    /// Returns the learning rate of `epoch` (0-based): lr·(1 + cos(π·epoch/epochs))/2.
    pub fn learning_rate(&self, epoch: usize) -> f64 {
        let progress = epoch as f64 / self.epochs as f64;
        0.5 * self.lr * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// Figures of one finished epoch, one row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean squared error over the epoch's training batches.
    pub train_mse: f64,
    /// Mean squared error over the validation chunks after the epoch.
    pub val_mse: f64,
    /// Learning rate used in the epoch.
    pub lr: f64,
    /// Seconds spent training in the epoch, validation excluded.
    pub seconds: f64,
    /// Training chunks per second.
    pub chunks_per_second: f64,
}

/// A position in training: the epoch (0-based), the first batch to run in it, and the
/// training error summed over the epoch's earlier batches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Epoch, from 0.
    pub epoch: usize,
    /// Batch within the epoch, from 0.
    pub batch: usize,
    /// Sum over the epoch's earlier batches of their mean squared error times their size.
    #[serde(default)]
    pub squared_error: f64,
    /// Chunks in the epoch's earlier batches.
    #[serde(default)]
    pub chunks: usize,
}

impl Position {
    /// Returns the start of epoch `epoch`.
    pub fn epoch_start(epoch: usize) -> Self {
        Position {
            epoch,
            batch: 0,
            squared_error: 0.0,
            chunks: 0,
        }
    }
}

/// The end state of a training run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Every epoch ran.
    Finished,
    /// The hooks asked to stop; training can resume at `next`.
    Interrupted {
        /// The position to resume from.
        next: Position,
    },
    /// A batch gave a NaN or infinite loss; the weights were not updated with it.
    Diverged {
        /// Epoch number, from 1.
        epoch: usize,
        /// Batch number within the epoch, from 1.
        batch: usize,
        /// The loss.
        loss: f64,
    },
}

/// Callbacks of the training loop.
pub trait TrainHooks {
    /// Called after each optimiser step.
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64);

    /// Called after each epoch with its figures, the model and the optimiser, to write
    /// checkpoints; `next` is where training would resume.
    fn on_epoch(&mut self, metrics: &EpochMetrics, model: &Model, adam: &Adam, next: Position) -> Result<()>;

    /// Called after each batch; returning true stops training after saving through
    /// [`TrainHooks::on_interrupt`].
    fn should_stop(&mut self) -> bool;

    /// Called when training stops early, to save the state needed to resume at `next`.
    fn on_interrupt(&mut self, model: &Model, adam: &Adam, next: Position) -> Result<()>;
}

/// Everything a training run reads.
pub struct TrainRun<'a> {
    /// The model being trained.
    pub model: &'a Model,
    /// Dataset of the training systems.
    pub train_data: &'a Dataset,
    /// Indices of the training systems in `train_data`.
    pub train_systems: Vec<usize>,
    /// The validation chunks, fixed for the whole run.
    pub validation: ChunkSet<'a>,
    /// The recipe.
    pub settings: TrainSettings,
    /// Precision of the tensors.
    pub dtype: DType,
    /// Worker threads for the gradient shards.
    pub threads: usize,
}

impl TrainRun<'_> {
    /// Trains from `start` to the last epoch with `adam`.
    pub fn run(&self, adam: &mut Adam, start: Position, hooks: &mut dyn TrainHooks) -> Result<Outcome> {
        for epoch in start.epoch..self.settings.epochs {
            let resume_from = if epoch == start.epoch { start } else { Position::epoch_start(epoch) };
            match self.run_epoch(adam, resume_from, hooks)? {
                Some(outcome) => return Ok(outcome),
                None => continue,
            }
        }
        Ok(Outcome::Finished)
    }

    /// Runs one epoch; returns an outcome when training must stop.
    fn run_epoch(&self, adam: &mut Adam, from: Position, hooks: &mut dyn TrainHooks) -> Result<Option<Outcome>> {
        let (epoch, first_batch) = (from.epoch, from.batch);
        let settings = &self.settings;
        let chunk_epoch = if settings.resample_chunks { epoch as u64 } else { 0 };
        let chunks = ChunkSet::new(
            self.train_data,
            self.train_systems.clone(),
            settings.chunk_len,
            &mut rng(settings.seed, Stream::Chunks { epoch: chunk_epoch }),
        );
        let mut order: Vec<usize> = (0..chunks.len()).collect();
        order.shuffle(&mut rng(settings.seed, Stream::Batches { epoch: epoch as u64 }));
        let batches: Vec<&[usize]> = order.chunks(settings.batch_size).collect();
        let lr = settings.learning_rate(epoch);
        let vars = self.model.varmap.all_vars();

        let start = Instant::now();
        let (mut squared_error, mut counted) = (from.squared_error, from.chunks);
        for (b, positions) in batches.iter().enumerate().skip(first_batch) {
            let batch = chunks.batch(positions, self.dtype, &Device::Cpu)?;
            let elements = batch.target.elem_count() as f64;
            let (loss, grads) = sharded_backward(&vars, positions.len(), GRADIENT_SHARDS, self.threads, |range| {
                let shard = shard_of(&batch, range)?;
                let error = self.rollout_error(&shard)?;
                error / elements
            })?;
            if !loss.is_finite() {
                return Ok(Some(Outcome::Diverged { epoch: epoch + 1, batch: b + 1, loss }));
            }
            adam.step(&grads, lr)?;
            squared_error += loss * positions.len() as f64;
            counted += positions.len();
            hooks.on_batch(epoch + 1, b + 1, batches.len(), loss);

            let next = Position {
                epoch,
                batch: b + 1,
                squared_error,
                chunks: counted,
            };
            if hooks.should_stop() && b + 1 < batches.len() {
                hooks.on_interrupt(self.model, adam, next)?;
                return Ok(Some(Outcome::Interrupted { next }));
            }
        }
        let seconds = start.elapsed().as_secs_f64();

        let metrics = EpochMetrics {
            epoch: epoch + 1,
            train_mse: squared_error / counted.max(1) as f64,
            val_mse: self.validation_mse()?,
            lr,
            seconds,
            chunks_per_second: counted as f64 / seconds.max(1e-9),
        };
        let next = Position::epoch_start(epoch + 1);
        hooks.on_epoch(&metrics, self.model, adam, next)?;
        if hooks.should_stop() && epoch + 1 < settings.epochs {
            hooks.on_interrupt(self.model, adam, next)?;
            return Ok(Some(Outcome::Interrupted { next }));
        }
        Ok(None)
    }

    /// Computes the summed squared error of the model's RK4 rollout over a batch of chunks.
    fn rollout_error(&self, batch: &super::data::ChunkBatch) -> Result<Tensor> {
        let dynamics = self.model.dynamics();
        let predicted = rk4(dynamics, &batch.system, &batch.z0, &batch.ts, 1, Tracking::Train)?;
        (predicted - &batch.target)?.sqr()?.sum_all()
    }

    /// Computes the mean squared error over all validation chunks, without gradients, with
    /// batches spread over the worker threads and summed in order.
    pub fn validation_mse(&self) -> Result<f64> {
        let positions: Vec<usize> = (0..self.validation.len()).collect();
        let batches: Vec<&[usize]> = positions.chunks(self.settings.batch_size.max(1)).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.max(1))
            .build()
            .map_err(candle_core::Error::wrap)?;
        let errors: Vec<Result<(f64, usize)>> = pool.install(|| {
            batches
                .par_iter()
                .map(|batch_positions| {
                    let batch = self.validation.batch(batch_positions, self.dtype, &Device::Cpu)?;
                    let dynamics = self.model.dynamics();
                    let predicted = rk4(dynamics, &batch.system, &batch.z0, &batch.ts, 1, Tracking::Inference)?;
                    let error = (predicted - &batch.target)?.sqr()?.sum_all()?;
                    Ok((error.to_dtype(DType::F64)?.to_scalar::<f64>()?, batch.target.elem_count()))
                })
                .collect()
        });
        let (mut total, mut elements) = (0.0, 0usize);
        for result in errors {
            let (error, count) = result?;
            total += error;
            elements += count;
        }
        Ok(total / elements.max(1) as f64)
    }
}

/// Selects the systems `range` of a batch.
fn shard_of(batch: &super::data::ChunkBatch, range: std::ops::Range<usize>) -> Result<super::data::ChunkBatch> {
    let pick = |t: &Tensor| t.narrow(0, range.start, range.len());
    Ok(super::data::ChunkBatch {
        system: batch.system.narrow(range.start, range.len())?,
        z0: pick(&batch.z0)?,
        ts: pick(&batch.ts)?,
        target: pick(&batch.target)?,
    })
}
