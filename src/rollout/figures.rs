//! The plots of a rollout: energy error, momentum drift, state error and particle paths.

use super::metrics::{RolloutMetrics, Spread, StepRow, SystemSeries};
use super::{Prediction, TimeGrid};
use crate::dataset::Dataset;
use crate::plot::{Axis, Band, Figure, Line, Panel, Scale, Stroke};

/// Systems drawn as thin lines beside the median and band.
const THIN_SYSTEMS: usize = 3;

/// Palette indices: predictions, stored trajectories, the learned Hamiltonian.
const MODEL: usize = 0;
const TRUTH: usize = 1;
const LEARNED: usize = 2;

fn time_axis() -> Axis {
    Axis {
        label: "time t (units of the dataset's ts)".to_string(),
        scale: Scale::Linear,
    }
}

/// Draws the median of a spread over systems as a thick line, and its 10th to 90th percentile
/// as a band.
fn median_and_band(
    rows: &[StepRow],
    pick: impl Fn(&StepRow) -> Option<Spread>,
    label: &str,
    color: usize,
) -> (Line, Band) {
    let spreads: Vec<(f64, Spread)> = rows.iter().filter_map(|r| pick(r).map(|s| (r.time, s))).collect();
    let line = Line {
        label: Some(format!("{label}, median")),
        points: spreads.iter().map(|(t, s)| (*t, s.median)).collect(),
        color,
        stroke: Stroke::Thick,
        mark_start: false,
    };
    let band = Band {
        label: Some(format!("{label}, 10th to 90th percentile")),
        points: spreads.iter().map(|(t, s)| (*t, s.p10, s.p90)).collect(),
        color,
    };
    (line, band)
}

/// Thin lines of one figure for the first few systems.
fn system_lines(
    series: &[SystemSeries],
    rows: &[StepRow],
    pick: impl Fn(&SystemSeries) -> &[f64],
    label: &str,
    color: usize,
) -> Vec<Line> {
    series
        .iter()
        .take(THIN_SYSTEMS)
        .enumerate()
        .map(|(s, system)| Line {
            label: (s == 0).then(|| format!("{label}, systems 0 to {}", THIN_SYSTEMS.min(series.len()) - 1)),
            points: rows.iter().zip(pick(system)).map(|(r, &y)| (r.time, y)).collect(),
            color,
            stroke: Stroke::Thin,
            mark_start: false,
        })
        .collect()
}

/// Builds a log-scale panel of one conserved quantity for the predictions and the stored
/// trajectories.
fn conservation_panel(
    metrics: &RolloutMetrics,
    title: &str,
    y_label: &str,
    model: fn(&StepRow) -> Option<Spread>,
    truth: fn(&StepRow) -> Option<Spread>,
    per_system: fn(&SystemSeries) -> &[f64],
) -> Panel {
    let (model_line, model_band) = median_and_band(&metrics.rows, model, "rollout", MODEL);
    let (truth_line, truth_band) = median_and_band(&metrics.rows, truth, "dataset", TRUTH);
    let mut lines = system_lines(&metrics.series, &metrics.rows, per_system, "rollout", MODEL);
    lines.extend([model_line, truth_line]);
    Panel {
        title: title.to_string(),
        x: time_axis(),
        y: Axis {
            label: y_label.to_string(),
            scale: Scale::Log,
        },
        lines,
        bands: vec![model_band, truth_band],
        equal_aspect: false,
        include: Vec::new(),
    }
}

/// Relative energy error |H(ẑ(t)) − H(ẑ(0))| / |H(ẑ(0))| of the predictions and the stored
/// trajectories, with the learned Hamiltonian along its own rollout when there is one.
pub fn energy(metrics: &RolloutMetrics, title: &str, size: (u32, u32)) -> Figure {
    let mut panel = conservation_panel(
        metrics,
        "exact H on each trajectory",
        "relative energy error |H(t) - H(0)| / |H(0)|",
        |r| r.energy,
        |r| r.truth_energy,
        |s| &s.model.energy_rel,
    );
    if metrics.rows.iter().any(|r| r.learned_energy.is_some()) {
        let (line, _) = median_and_band(&metrics.rows, |r| r.learned_energy, "learned H on the rollout", LEARNED);
        panel.lines.push(line);
    }
    Figure {
        title: title.to_string(),
        panels: vec![panel],
        size,
    }
}

/// |P(t) − P(0)| and |L(t) − L(0)| side by side.
pub fn momentum(metrics: &RolloutMetrics, title: &str, size: (u32, u32)) -> Figure {
    let linear = conservation_panel(
        metrics,
        "linear momentum",
        "|P(t) - P(0)| (mass x length / time)",
        |r| r.linear_momentum,
        |r| r.truth_linear_momentum,
        |s| &s.model.linear_momentum,
    );
    let angular = conservation_panel(
        metrics,
        "angular momentum about the origin",
        "|L(t) - L(0)| (mass x length^2 / time)",
        |r| r.angular_momentum,
        |r| r.truth_angular_momentum,
        |s| &s.model.angular_momentum,
    );
    Figure {
        title: title.to_string(),
        panels: vec![linear, angular],
        size,
    }
}

/// Plots the relative state error e(t) = |ẑ − z| / (|ẑ| + |z|): its geometric mean over
/// systems, its spread, and the first few systems. The initial state is left out: its error is only
/// the cast of the stored state to the model's precision.
pub fn state_error(metrics: &RolloutMetrics, title: &str, size: (u32, u32)) -> Figure {
    let rows = &metrics.rows[1.min(metrics.rows.len())..];
    let (_, band) = median_and_band(rows, |r| r.relative_error, "rollout", MODEL);
    let mut lines = system_lines(&metrics.series, rows, errors_after_start, "rollout", MODEL);
    lines.push(Line {
        label: Some("rollout, geometric mean over systems".to_string()),
        points: rows.iter().filter_map(|r| r.relative_error_geomean.map(|e| (r.time, e))).collect(),
        color: MODEL,
        stroke: Stroke::Thick,
        mark_start: false,
    });
    let panel = Panel {
        title: "relative state error against the dataset".to_string(),
        x: time_axis(),
        y: Axis {
            label: "e(t) = |z_pred - z_true| / (|z_pred| + |z_true|)".to_string(),
            scale: Scale::Log,
        },
        lines,
        bands: vec![band],
        equal_aspect: false,
        include: Vec::new(),
    };
    Figure {
        title: title.to_string(),
        panels: vec![panel],
        size,
    }
}

/// e(t) of one system from the first saved state after the initial one.
fn errors_after_start(series: &SystemSeries) -> &[f64] {
    &series.relative_error[1.min(series.relative_error.len())..]
}

/// Plots the particle paths of system `s` over the compared states, stored and predicted side by
/// side; 3D systems are projected on their first two coordinates.
pub fn trajectories(
    data: &Dataset,
    grid: &TimeGrid,
    prediction: &Prediction,
    s: usize,
    title: &str,
    size: (u32, u32),
) -> Figure {
    let len = data.state_len();
    let stored = &data.trajectory(s)[..grid.truth_states * len];
    let predicted = prediction.trajectory(s);
    let projection = if data.dim > 2 { " (projection of 3D positions on x and y)" } else { "" };
    let axis = |name: &str| Axis {
        label: format!("{name} (length units){projection}"),
        scale: Scale::Linear,
    };
    let panel = |name: &str, zs: &[f64], times: &[f64]| Panel {
        title: format!("{name}, system {s}"),
        x: axis("x"),
        y: if data.dim >= 2 { axis("y") } else { time_axis() },
        lines: particle_paths(zs, times, data.n_particles, data.dim),
        bands: Vec::new(),
        equal_aspect: data.dim >= 2,
        include: Vec::new(),
    };
    let mut panels = vec![
        panel("dataset", stored, &grid.times(s)[..grid.truth_states]),
        panel("rollout", predicted, grid.times(s)),
    ];

    // Both panels span every point of both, so that their axes match.
    let all: Vec<(f64, f64)> = panels.iter().flat_map(|p| p.lines.iter().flat_map(|l| l.points.clone())).collect();
    for panel in &mut panels {
        panel.include = all.clone();
    }
    Figure {
        title: title.to_string(),
        panels,
        size,
    }
}

/// Draws one line per particle through its positions (x, y), or (x, t) in 1D, with its start marked.
fn particle_paths(zs: &[f64], times: &[f64], n: usize, dim: usize) -> Vec<Line> {
    let len = 2 * n * dim;
    (0..n)
        .map(|i| Line {
            label: Some(format!("particle {i}")),
            points: zs
                .chunks_exact(len)
                .zip(times)
                .map(|(z, &t)| {
                    let q = &z[i * dim..(i + 1) * dim];
                    (q[0], if dim >= 2 { q[1] } else { t })
                })
                .collect(),
            color: i,
            stroke: Stroke::Thick,
            mark_start: true,
        })
        .collect()
}
