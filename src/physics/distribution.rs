//! Scalar distributions that system files use for masses, constants and initial states.

use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// A scalar distribution, written in TOML as an inline table such as
/// `{ distribution = "uniform", low = 0.1, high = 3.1 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "distribution", rename_all = "lowercase", deny_unknown_fields)]
pub enum Distribution {
    /// Uniform on [low, high).
    Uniform {
        /// Lower bound (inclusive).
        low: f64,
        /// Upper bound (exclusive); equal to `low` gives a constant.
        high: f64,
    },
    /// Gaussian with the given mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation, at least 0.
        std: f64,
    },
    /// Always the same value.
    Constant {
        /// The value.
        value: f64,
    },
}

impl Distribution {
    /// Draws one value.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Distribution::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Distribution::Normal { mean, std } => {
                let standard: f64 = rng.sample(StandardNormal);
                mean + std * standard
            }
            Distribution::Constant { value } => value,
        }
    }

    /// Draws `count` values.
    pub fn sample_n<R: Rng + ?Sized>(&self, rng: &mut R, count: usize) -> Vec<f64> {
        (0..count).map(|_| self.sample(rng)).collect()
    }

    /// Returns the smallest value the distribution can produce (−∞ for a Gaussian).
    pub fn lower_bound(&self) -> f64 {
        match *self {
            Distribution::Uniform { low, .. } => low,
            Distribution::Normal { std, mean } if std == 0.0 => mean,
            Distribution::Normal { .. } => f64::NEG_INFINITY,
            Distribution::Constant { value } => value,
        }
    }

    /// Checks that the parameters are finite and ordered; `key` names the TOML key in messages.
    pub fn validate(&self, key: &str) -> Result<(), String> {
        match *self {
            Distribution::Uniform { low, high } => {
                if !low.is_finite() || !high.is_finite() {
                    return Err(format!(
                        "{key}: low = {low} and high = {high} must both be finite numbers"
                    ));
                }
                if high < low {
                    return Err(format!(
                        "{key}: high = {high} is below low = {low}; the allowed range is high >= low"
                    ));
                }
            }
            Distribution::Normal { mean, std } => {
                if !mean.is_finite() {
                    return Err(format!("{key}.mean = {mean} must be a finite number"));
                }
                if !(std >= 0.0) || !std.is_finite() {
                    return Err(format!(
                        "{key}.std = {std} is out of range; the allowed range is 0 <= std < inf"
                    ));
                }
            }
            Distribution::Constant { value } => {
                if !value.is_finite() {
                    return Err(format!("{key}.value = {value} must be a finite number"));
                }
            }
        }
        Ok(())
    }
}
