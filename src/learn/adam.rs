//! Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015) with a
//! learning rate set per step and a state that can be saved for resuming.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

/// Adam with β₁ = 0.9, β₂ = 0.999 and ε = 1e-8, PyTorch's defaults.
pub struct Adam {
    vars: Vec<(String, Var)>,
    first_moments: Vec<Tensor>,
    second_moments: Vec<Tensor>,
    /// Number of updates taken so far.
    pub steps: u64,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

impl Adam {
    /// Creates the optimiser for named variables, with zero moments.
    pub fn new(vars: Vec<(String, Var)>) -> Result<Self> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        let first_moments = vars.iter().map(|(_, v)| zeros(v)).collect::<Result<_>>()?;
        let second_moments = vars.iter().map(|(_, v)| zeros(v)).collect::<Result<_>>()?;
        Ok(Adam {
            vars,
            first_moments,
            second_moments,
            steps: 0,
        })
    }

    /// Applies one update with learning rate `lr`; variables without a gradient keep their value.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.steps += 1;
        let t = self.steps as i32;
        let (correction1, correction2) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(grad) = grads.get(var.as_tensor()) else { continue };
            let m = ((&self.first_moments[i] * BETA1)? + (grad * (1.0 - BETA1))?)?;
            let v = ((&self.second_moments[i] * BETA2)? + (grad.sqr()? * (1.0 - BETA2))?)?;
            let m_hat = (&m / correction1)?;
            let v_hat = (&v / correction2)?;
            let update = (m_hat / (v_hat.sqrt()? + EPSILON)?)?;
            var.set(&(var.as_tensor() - (update * lr)?)?)?;
            self.first_moments[i] = m;
            self.second_moments[i] = v;
        }
        Ok(())
    }

    /// The moments by name (`m.NAME` and `v.NAME`), for saving.
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut state = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            state.insert(format!("m.{name}"), self.first_moments[i].clone());
            state.insert(format!("v.{name}"), self.second_moments[i].clone());
        }
        state
    }

    /// Restores moments saved by [`Adam::state`] and the step count.
    pub fn restore(&mut self, state: &HashMap<String, Tensor>, steps: u64) -> Result<()> {
        for (i, (name, var)) in self.vars.iter().enumerate() {
            let lookup = |key: String| {
                state
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| candle_core::Error::msg(format!("optimiser state has no '{key}'")))
            };
            let dtype = var.dtype();
            self.first_moments[i] = lookup(format!("m.{name}"))?.to_dtype(dtype)?;
            self.second_moments[i] = lookup(format!("v.{name}"))?.to_dtype(dtype)?;
        }
        self.steps = steps;
        Ok(())
    }
}
