//! Training and rollout machinery for learned dynamics.

pub mod adam;
pub mod data;
pub mod integrate;
pub mod parallel;
pub mod rollout;
pub mod run;
pub mod train;

pub use integrate::{leapfrog, rk4, Tracking};
pub use parallel::{shard_ranges, sharded_backward};

/// Stack size for threads that differentiate through long rollouts. candle orders the graph
/// of a backward pass recursively, and a training step of the full-size LieConv model nests
/// deeper than the 8 MiB of a main thread allows.
pub const LARGE_STACK_BYTES: usize = 1 << 30;

/// Runs `f` on a scoped thread with a [`LARGE_STACK_BYTES`] stack and returns its result.
pub fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("hamsim-large-stack".to_string())
            .stack_size(LARGE_STACK_BYTES)
            .spawn_scoped(scope, f)
            .expect("the operating system can create a thread")
            .join()
            .expect("the large-stack thread does not panic")
    })
}
