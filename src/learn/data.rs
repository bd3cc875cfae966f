//! Training data: train and validation splits of a dataset, and chunks of consecutive states.
//!
//! Following Finzi et al. (2020), each system contributes one chunk of `chunk_len` consecutive
//! saved states; the model integrates from the chunk's first state over its saved times and is
//! scored against the whole chunk.

use candle_core::{DType, Device, Result, Tensor};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::dataset::Dataset;
use crate::nn::SystemBatch;

/// Generator streams of one seed, so that each random choice has a stream of its own.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// The order of systems before splitting.
    Split,
    /// The chunk start of every system; `epoch` selects a fresh draw when chunks are resampled.
    Chunks {
        /// Epoch of the draw (0 when chunks are fixed).
        epoch: u64,
    },
    /// The batch order within an epoch.
    Batches {
        /// The epoch.
        epoch: u64,
    },
}

/// A generator for `stream` of `seed`.
pub fn rng(seed: u64, stream: Stream) -> rand_chacha::ChaCha8Rng {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(match stream {
        Stream::Split => 0,
        Stream::Chunks { epoch } => (1 << 32) | epoch,
        Stream::Batches { epoch } => (2 << 32) | epoch,
    });
    rng
}

/// A random permutation of `0..systems`, drawn from the split stream of `seed`.
pub fn shuffled_systems(systems: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..systems).collect();
    order.shuffle(&mut rng(seed, Stream::Split));
    order
}

/// Some systems of a dataset, each with the start of its chunk.
#[derive(Debug, Clone)]
pub struct ChunkSet<'a> {
    data: &'a Dataset,
    /// Indices of the systems in the dataset.
    pub systems: Vec<usize>,
    /// First saved state of each system's chunk.
    pub starts: Vec<usize>,
    /// States per chunk.
    pub chunk_len: usize,
}

/// The tensors of one batch of chunks.
pub struct ChunkBatch {
    /// Masses and features of the batch's systems.
    pub system: SystemBatch,
    /// First states, shape (batch, 2·n·d).
    pub z0: Tensor,
    /// Saved times of the chunks, shape (batch, chunk_len).
    pub ts: Tensor,
    /// True states, shape (batch, chunk_len, 2·n·d).
    pub target: Tensor,
}

impl<'a> ChunkSet<'a> {
    /// Chunks of `systems` from `data`, with starts drawn uniformly from `rng`.
    pub fn new(data: &'a Dataset, systems: Vec<usize>, chunk_len: usize, rng: &mut impl Rng) -> Self {
        let starts = systems
            .iter()
            .map(|_| rng.random_range(0..=data.states - chunk_len))
            .collect();
        ChunkSet {
            data,
            systems,
            starts,
            chunk_len,
        }
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.systems.len()
    }

    /// Whether the set has no chunk.
    pub fn is_empty(&self) -> bool {
        self.systems.is_empty()
    }

    /// Builds the tensors of the chunks at `positions` of this set.
    pub fn batch(&self, positions: &[usize], dtype: DType, device: &Device) -> Result<ChunkBatch> {
        let data = self.data;
        let (len, c) = (data.state_len(), self.chunk_len);
        let mut masses = Vec::with_capacity(positions.len() * data.n_particles);
        let mut spring_constants = Vec::new();
        let mut ts = Vec::with_capacity(positions.len() * c);
        let mut states = Vec::with_capacity(positions.len() * c * len);
        for &position in positions {
            let (s, start) = (self.systems[position], self.starts[position]);
            masses.extend_from_slice(data.system_masses(s));
            if let Some(k) = data.system_spring_constants(s) {
                spring_constants.extend_from_slice(k);
            }
            ts.extend_from_slice(&data.times(s)[start..start + c]);
            states.extend_from_slice(&data.trajectory(s)[start * len..(start + c) * len]);
        }

        let b = positions.len();
        let k = data.spring_constants.is_some().then_some(spring_constants.as_slice());
        let system = SystemBatch::from_parameters(&masses, k, data.n_particles, data.dim, dtype, device)?;
        let target = Tensor::from_vec(states, (b, c, len), device)?.to_dtype(dtype)?;
        Ok(ChunkBatch {
            system,
            z0: target.narrow(1, 0, 1)?.squeeze(1)?,
            ts: Tensor::from_vec(ts, (b, c), device)?.to_dtype(dtype)?,
            target,
        })
    }
}
