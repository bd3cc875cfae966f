//! The classical fixed-step Runge–Kutta method on the grid of saved times.

use crate::physics::Hamiltonian;

/// Fills rows 1.. of `out` (shape (ts.len(), state)) from row 0, taking `substeps` equal RK4
/// steps across each saved interval.
pub(super) fn integrate(system: &dyn Hamiltonian, ts: &[f64], substeps: usize, out: &mut [f64]) {
    let len = out.len() / ts.len();
    let mut stepper = Rk4 {
        k1: vec![0.0; len],
        k2: vec![0.0; len],
        k3: vec![0.0; len],
        k4: vec![0.0; len],
        stage: vec![0.0; len],
    };
    let mut z = out[..len].to_vec();

    for (i, interval) in ts.windows(2).enumerate() {
        let h = (interval[1] - interval[0]) / substeps as f64;
        for _ in 0..substeps {
            stepper.step(system, &mut z, h);
        }
        out[(i + 1) * len..(i + 2) * len].copy_from_slice(&z);
    }
}

/// Stage buffers, allocated once per trajectory.
struct Rk4 {
    k1: Vec<f64>,
    k2: Vec<f64>,
    k3: Vec<f64>,
    k4: Vec<f64>,
    stage: Vec<f64>,
}

impl Rk4 {
    /// Advances `z` by one step of size `h`.
    fn step(&mut self, system: &dyn Hamiltonian, z: &mut [f64], h: f64) {
        system.vector_field(z, &mut self.k1);
        axpy(&mut self.stage, z, 0.5 * h, &self.k1);
        system.vector_field(&self.stage, &mut self.k2);
        axpy(&mut self.stage, z, 0.5 * h, &self.k2);
        system.vector_field(&self.stage, &mut self.k3);
        axpy(&mut self.stage, z, h, &self.k3);
        system.vector_field(&self.stage, &mut self.k4);

        let sixth = h / 6.0;
        for i in 0..z.len() {
            z[i] += sixth * (self.k1[i] + 2.0 * self.k2[i] + 2.0 * self.k3[i] + self.k4[i]);
        }
    }
}

/// out = z + a·k.
fn axpy(out: &mut [f64], z: &[f64], a: f64, k: &[f64]) {
    for ((o, z), k) in out.iter_mut().zip(z).zip(k) {
        *o = z + a * k;
    }
}
