//! Comparison of a rollout with the stored trajectories: figures per system and saved state,
//! their spread over systems at each state (`rollout.csv`), and a summary (`metrics.json`).
//!
//! State error is measured where the dataset stores the true state. The relative error
//! e(t) = |ẑ(t) − z(t)| / (|ẑ(t)| + |z(t)|) lies in [0, 1] and is summarised by its geometric
//! mean, the rollout metric of Finzi, Wang and Wilson, "Simplifying Hamiltonian and Lagrangian
//! Neural Networks via Explicit Constraints" (NeurIPS 2020). Conservation is measured against
//! each system's initial state: the exact H on the predicted states, the learned H along its
//! own rollout, |P(t) − P(0)| and |L(t) − L(0)| about the origin.

use std::fmt::Write as _;

use rayon::prelude::*;
use serde::Serialize;

use super::{Prediction, TimeGrid};
use crate::analysis::{conservation_series, ConservationSeries};
use crate::dataset::Dataset;
use crate::physics::SystemSpec;
use crate::Result;

/// Figures of one system at every saved state.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemSeries {
    /// Conservation along the predicted trajectory, shape (states); NaN after a divergence.
    pub model: ConservationSeries,
    /// |H_θ(t) − H_θ(0)| / |H_θ(0)| of the learned Hamiltonian, shape (states).
    pub learned_energy_rel: Option<Vec<f64>>,
    /// Conservation along the stored trajectory, shape (truth_states).
    pub truth: ConservationSeries,
    /// Mean over components of (ẑ − z)², shape (truth_states).
    pub squared_error: Vec<f64>,
    /// e(t), shape (truth_states).
    pub relative_error: Vec<f64>,
    /// max over states and components of |ẑ − z|.
    pub max_abs_error: f64,
}

/// Median, 10th and 90th percentile and maximum of one figure over systems.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Maximum.
    pub max: f64,
}

impl Spread {
    /// Computes the spread of the finite `values`, or `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut sorted: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        Some(Spread {
            median: quantile(&sorted, 0.5),
            p10: quantile(&sorted, 0.1),
            p90: quantile(&sorted, 0.9),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// Quantile `q` of sorted values, interpolating linearly between neighbours (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (below, fraction) = (position.floor() as usize, position.fract());
    match sorted.get(below + 1) {
        Some(&above) => sorted[below] + fraction * (above - sorted[below]),
        None => sorted[below],
    }
}

/// exp(mean(ln x)) of the finite values; 0 if one of them is 0, `None` if there are none.
fn geometric_mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut count) = (0.0, 0usize);
    for x in values.into_iter().filter(|x| x.is_finite()) {
        sum += x.ln();
        count += 1;
    }
    (count > 0).then(|| (sum / count as f64).exp())
}

/// The spread over systems at one saved state: one row of `rollout.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    /// Index of the saved state, 0 for the initial one.
    pub step: usize,
    /// Its time in system 0.
    pub time: f64,
    /// Systems that have not diverged by this state. The figures below are over the finite
    /// values, so a system whose error overflows while its state is still finite drops out of
    /// them too.
    pub active: usize,
    /// Mean squared state error, where the true state is stored.
    pub state_mse: Option<f64>,
    /// Geometric mean of e(t), where the true state is stored.
    pub relative_error_geomean: Option<f64>,
    /// Spread of e(t), where the true state is stored.
    pub relative_error: Option<Spread>,
    /// Relative energy error of the predictions.
    pub energy: Option<Spread>,
    /// Relative energy error of the stored trajectories.
    pub truth_energy: Option<Spread>,
    /// Relative error of the learned Hamiltonian along its own rollout.
    pub learned_energy: Option<Spread>,
    /// |P(t) − P(0)| of the predictions.
    pub linear_momentum: Option<Spread>,
    /// |P(t) − P(0)| of the stored trajectories.
    pub truth_linear_momentum: Option<Spread>,
    /// |L(t) − L(0)| of the predictions.
    pub angular_momentum: Option<Spread>,
    /// |L(t) − L(0)| of the stored trajectories.
    pub truth_angular_momentum: Option<Spread>,
}

/// A system that diverged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// Index of the system.
    pub system: usize,
    /// First saved state that is not finite.
    pub step: usize,
    /// Its time.
    pub time: f64,
}

/// Energy and momentum conservation of a set of trajectories: for each figure, the median
/// over systems of each system's worst value, and the worst system's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConservationFigures {
    /// Largest relative energy error of a system.
    pub energy_rel_error_max: Option<f64>,
    /// Median over systems of each system's largest relative energy error.
    pub energy_rel_error_median: Option<f64>,
    /// Largest |P(t) − P(0)|.
    pub linear_momentum_drift_max: Option<f64>,
    /// Median over systems of each system's largest |P(t) − P(0)|.
    pub linear_momentum_drift_median: Option<f64>,
    /// Largest |L(t) − L(0)|.
    pub angular_momentum_drift_max: Option<f64>,
    /// Median over systems of each system's largest |L(t) − L(0)|.
    pub angular_momentum_drift_median: Option<f64>,
}

impl ConservationFigures {
    /// Summarises the conservation series `pick` selects from each system.
    fn of<'a>(series: impl Iterator<Item = &'a SystemSeries> + Clone, pick: fn(&SystemSeries) -> &ConservationSeries) -> Self {
        let figure = |values: fn(&ConservationSeries) -> &Vec<f64>| {
            median_and_max(series.clone().map(|s| worst(values(pick(s)))))
        };
        let (energy_median, energy_max) = figure(|c| &c.energy_rel);
        let (linear_median, linear_max) = figure(|c| &c.linear_momentum);
        let (angular_median, angular_max) = figure(|c| &c.angular_momentum);
        ConservationFigures {
            energy_rel_error_max: energy_max,
            energy_rel_error_median: energy_median,
            linear_momentum_drift_max: linear_max,
            linear_momentum_drift_median: linear_median,
            angular_momentum_drift_max: angular_max,
            angular_momentum_drift_median: angular_median,
        }
    }
}

/// Conservation figures of the stored trajectories over the saved states they share with the
/// rollout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthSummary {
    /// Saved states compared.
    pub states: usize,
    /// Energy and momentum figures.
    #[serde(flatten)]
    pub conservation: ConservationFigures,
}

/// The summary written as `metrics.json`. Figures of the predictions are over the systems that
/// did not diverge; state errors are over saved states 1 and later that the dataset stores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutSummary {
    /// Systems rolled out.
    pub systems: usize,
    /// Saved states after the initial one.
    pub steps: usize,
    /// Saved states after the initial one that the dataset also stores.
    pub compared_steps: usize,
    /// Time of the last saved state, in system 0.
    pub t_end: f64,
    /// Systems whose rollout stopped being finite.
    pub diverged: usize,
    /// The system, step and time of each divergence.
    pub diverged_systems: Vec<Divergence>,
    /// Mean squared state error.
    pub state_mse: Option<f64>,
    /// Largest absolute error of a state component.
    pub state_max_abs_error: Option<f64>,
    /// Geometric mean of e(t) over systems and saved states.
    pub relative_error_geomean: Option<f64>,
    /// Energy and momentum figures of the predictions.
    #[serde(flatten)]
    pub conservation: ConservationFigures,
    /// Largest relative error of the learned Hamiltonian along its own rollout.
    pub learned_energy_rel_error_max: Option<f64>,
    /// Median over systems of the same.
    pub learned_energy_rel_error_median: Option<f64>,
    /// The same conservation figures for the stored trajectories.
    pub truth: TruthSummary,
}

/// Everything measured on one rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutMetrics {
    /// Figures per system, in system order.
    pub series: Vec<SystemSeries>,
    /// One row per saved state.
    pub rows: Vec<StepRow>,
    /// The summary.
    pub summary: RolloutSummary,
}

/// Measures `prediction` against the stored trajectories of `data` under the Hamiltonian
/// family `spec`, in parallel; the result does not depend on the number of threads.
pub fn measure(data: &Dataset, spec: &SystemSpec, grid: &TimeGrid, prediction: &Prediction) -> Result<RolloutMetrics> {
    let series: Vec<SystemSeries> = (0..grid.systems)
        .into_par_iter()
        .map(|s| system_series(data, spec, grid, prediction, s))
        .collect::<Result<_>>()?;
    let rows = (0..grid.states).map(|i| step_row(&series, grid, &prediction.diverged, i)).collect();
    let summary = summarize(&series, grid, prediction);
    Ok(RolloutMetrics { series, rows, summary })
}

fn system_series(data: &Dataset, spec: &SystemSpec, grid: &TimeGrid, prediction: &Prediction, s: usize) -> Result<SystemSeries> {
    let system = spec.hamiltonian(data.system_masses(s), data.system_spring_constants(s))?;
    let len = data.state_len();
    let predicted = prediction.trajectory(s);
    let truth = &data.trajectory(s)[..grid.truth_states * len];

    let mut squared_error = Vec::with_capacity(grid.truth_states);
    let mut relative_error = Vec::with_capacity(grid.truth_states);
    let mut max_abs_error: f64 = 0.0;
    for (z_hat, z) in predicted.chunks_exact(len).zip(truth.chunks_exact(len)) {
        let difference: Vec<f64> = z_hat.iter().zip(z).map(|(a, b)| a - b).collect();
        let squared = difference.iter().map(|x| x * x).sum::<f64>();
        squared_error.push(squared / len as f64);
        relative_error.push(squared.sqrt() / (norm(z_hat) + norm(z)));
        max_abs_error = difference.iter().fold(max_abs_error, |m, x| if x.is_nan() { f64::NAN } else { m.max(x.abs()) });
    }

    let learned_energy_rel = prediction.learned_energies(s).map(|energies| {
        let energy0 = energies[0];
        energies.iter().map(|e| (e - energy0).abs() / energy0.abs()).collect()
    });
    Ok(SystemSeries {
        model: conservation_series(system.as_ref(), predicted),
        learned_energy_rel,
        truth: conservation_series(system.as_ref(), truth),
        squared_error,
        relative_error,
        max_abs_error,
    })
}

fn norm(z: &[f64]) -> f64 {
    z.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn step_row(series: &[SystemSeries], grid: &TimeGrid, diverged: &[Option<usize>], i: usize) -> StepRow {
    let model = |pick: fn(&ConservationSeries) -> &Vec<f64>| Spread::of(series.iter().map(|s| pick(&s.model)[i]));
    let truth = |pick: fn(&ConservationSeries) -> &Vec<f64>| {
        (i < grid.truth_states).then(|| Spread::of(series.iter().map(|s| pick(&s.truth)[i]))).flatten()
    };
    let compared = i < grid.truth_states;
    let squared: Vec<f64> = if compared {
        series.iter().map(|s| s.squared_error[i]).filter(|x| x.is_finite()).collect()
    } else {
        Vec::new()
    };
    StepRow {
        step: i,
        time: grid.times(0)[i],
        active: diverged.iter().filter(|d| d.is_none_or(|step| step > i)).count(),
        state_mse: (!squared.is_empty()).then(|| squared.iter().sum::<f64>() / squared.len() as f64),
        relative_error_geomean: if compared {
            geometric_mean(series.iter().map(|s| s.relative_error[i]))
        } else {
            None
        },
        relative_error: if compared {
            Spread::of(series.iter().map(|s| s.relative_error[i]))
        } else {
            None
        },
        energy: model(|c| &c.energy_rel),
        truth_energy: truth(|c| &c.energy_rel),
        learned_energy: Spread::of(series.iter().filter_map(|s| s.learned_energy_rel.as_ref().map(|e| e[i]))),
        linear_momentum: model(|c| &c.linear_momentum),
        truth_linear_momentum: truth(|c| &c.linear_momentum),
        angular_momentum: model(|c| &c.angular_momentum),
        truth_angular_momentum: truth(|c| &c.angular_momentum),
    }
}

/// Largest finite value of a series, or NaN when one is NaN.
fn worst(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |m: f64, &x| if x.is_nan() || m.is_nan() { f64::NAN } else { m.max(x) })
}

/// Median and maximum over systems of each system's worst value.
fn median_and_max(per_system: impl Iterator<Item = f64>) -> (Option<f64>, Option<f64>) {
    let spread = Spread::of(per_system);
    (spread.map(|s| s.median), spread.map(|s| s.max))
}

fn summarize(series: &[SystemSeries], grid: &TimeGrid, prediction: &Prediction) -> RolloutSummary {
    let finished: Vec<&SystemSeries> = series
        .iter()
        .zip(&prediction.diverged)
        .filter(|(_, diverged)| diverged.is_none())
        .map(|(s, _)| s)
        .collect();

    let compared = || finished.iter().flat_map(|s| s.squared_error.iter().skip(1));
    let compared_count = compared().count();
    let state_mse = (compared_count > 0).then(|| compared().sum::<f64>() / compared_count as f64);
    let relative_error_geomean = geometric_mean(finished.iter().flat_map(|s| s.relative_error.iter().skip(1).copied()));
    let state_max_abs_error = finished.iter().map(|s| s.max_abs_error).reduce(f64::max);

    let (learned_median, learned_max) =
        median_and_max(finished.iter().filter_map(|s| s.learned_energy_rel.as_deref().map(worst)));

    let diverged_systems: Vec<Divergence> = prediction
        .diverged
        .iter()
        .enumerate()
        .filter_map(|(system, step)| {
            step.map(|step| Divergence {
                system,
                step,
                time: grid.times(system)[step],
            })
        })
        .collect();
    RolloutSummary {
        systems: grid.systems,
        steps: grid.states - 1,
        compared_steps: grid.truth_states - 1,
        t_end: grid.times(0)[grid.states - 1],
        diverged: diverged_systems.len(),
        diverged_systems,
        state_mse,
        state_max_abs_error: (compared_count > 0).then_some(state_max_abs_error).flatten(),
        relative_error_geomean,
        conservation: ConservationFigures::of(finished.iter().copied(), |s| &s.model),
        learned_energy_rel_error_max: learned_max,
        learned_energy_rel_error_median: learned_median,
        truth: TruthSummary {
            states: grid.truth_states,
            conservation: ConservationFigures::of(series.iter(), |s| &s.truth),
        },
    }
}

/// Column names of `rollout.csv`.
fn csv_header() -> String {
    let mut columns = vec!["step", "t", "active_systems", "state_mse", "relative_error_geomean"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    for name in SPREAD_COLUMNS {
        for statistic in ["median", "p10", "p90", "max"] {
            columns.push(format!("{name}_{statistic}"));
        }
    }
    columns.join(",")
}

/// The spread columns of `rollout.csv`, in order.
const SPREAD_COLUMNS: [&str; 8] = [
    "relative_error",
    "energy_rel_error",
    "truth_energy_rel_error",
    "learned_energy_rel_error",
    "linear_momentum_drift",
    "truth_linear_momentum_drift",
    "angular_momentum_drift",
    "truth_angular_momentum_drift",
];

/// Formats the rows as CSV with a header; a figure that does not exist at a state is empty.
pub fn csv(rows: &[StepRow]) -> String {
    let mut text = csv_header();
    text.push('\n');
    let number = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:e}"));
    for row in rows {
        let _ = write!(
            text,
            "{},{},{},{},{}",
            row.step,
            number(Some(row.time)),
            row.active,
            number(row.state_mse),
            number(row.relative_error_geomean)
        );
        let spreads = [
            row.relative_error,
            row.energy,
            row.truth_energy,
            row.learned_energy,
            row.linear_momentum,
            row.truth_linear_momentum,
            row.angular_momentum,
            row.truth_angular_momentum,
        ];
        for spread in spreads {
            for statistic in [|s: Spread| s.median, |s: Spread| s.p10, |s: Spread| s.p90, |s: Spread| s.max] {
                let _ = write!(text, ",{}", number(spread.map(statistic)));
            }
        }
        text.push('\n');
    }
    text
}

/// Formats a time with at most 6 decimals, without trailing zeros.
fn format_time(t: f64) -> String {
    let text = format!("{t:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl RolloutSummary {
    /// Formats the summary as a plain-text table with a column for the predictions and one for
    /// the stored trajectories.
    pub fn table(&self) -> String {
        let figure = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3e}"));
        let mut text = format!(
            "{} systems, {} steps to t = {}; {} steps compared with the dataset\n",
            self.systems,
            self.steps,
            format_time(self.t_end),
            self.compared_steps
        );
        let _ = writeln!(text, "{:<42} {:>12} {:>12}", "figure", "rollout", "dataset");
        let (model, truth) = (&self.conservation, &self.truth.conservation);
        let rows = [
            ("state MSE", self.state_mse, None),
            ("relative state error (geometric mean)", self.relative_error_geomean, None),
            ("max state error |z-z_true|", self.state_max_abs_error, None),
            ("relative energy error, median", model.energy_rel_error_median, truth.energy_rel_error_median),
            ("relative energy error, max", model.energy_rel_error_max, truth.energy_rel_error_max),
            ("learned energy error, median", self.learned_energy_rel_error_median, None),
            ("linear momentum drift |P-P0|, max", model.linear_momentum_drift_max, truth.linear_momentum_drift_max),
            ("angular momentum drift |L-L0|, max", model.angular_momentum_drift_max, truth.angular_momentum_drift_max),
        ];
        for (name, model, truth) in rows {
            let _ = writeln!(text, "{:<42} {:>12} {:>12}", name, figure(model), figure(truth));
        }
        let _ = writeln!(text, "{:<42} {:>12}", "diverged systems", format!("{} of {}", self.diverged, self.systems));
        text
    }
}
