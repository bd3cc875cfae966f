//! `hamsim demo`: the whole pipeline on embedded defaults, as the commands a user would type.
//!
//! The demo writes the springs2d system file, generates a training and a test set, trains a
//! small LieConv T(2) model, and rolls it out in f64 on the test set. Each stage runs through
//! the same command-line parser as a typed command and is printed first, so a user can rerun
//! or change any stage by hand.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;

/// The bundled spring system, embedded so that the demo needs no files.
const SPRINGS2D: &str = include_str!("../../systems/springs2d.toml");

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the datasets, the run and the plots; existing demo files are replaced
    /// [default: results/demo, or results/demo-quick with --quick].
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,

    /// Shrink every stage to a few seconds (for tests): 40 training systems, 50 states, one
    /// epoch of a width-8 model.
    #[arg(long)]
    quick: bool,

    /// Worker threads, 1 to 1024 [default: one per core]. The results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

/// Sizes of the demo's stages.
struct Budget {
    train_systems: usize,
    val_systems: usize,
    test_systems: usize,
    states: usize,
    width: usize,
    layers: usize,
    epochs: usize,
    batch_size: usize,
    lr: &'static str,
}

impl Budget {
    /// About 4 minutes on a 2-core machine: 3 of training, 40 s of rollout.
    const FULL: Budget = Budget {
        train_systems: 800,
        val_systems: 100,
        test_systems: 100,
        states: 500,
        width: 64,
        layers: 4,
        epochs: 30,
        batch_size: 40,
        lr: "3e-3",
    };

    /// A few seconds, for tests.
    const QUICK: Budget = Budget {
        train_systems: 40,
        val_systems: 10,
        test_systems: 10,
        states: 50,
        width: 8,
        layers: 1,
        epochs: 1,
        batch_size: 10,
        lr: "3e-3",
    };
}

/// One stage: a name and the command that runs it.
struct Stage {
    name: &'static str,
    command: Vec<String>,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    super::check_threads(args.threads)?;
    let budget = if args.quick { &Budget::QUICK } else { &Budget::FULL };
    let default = if args.quick { "results/demo-quick" } else { "results/demo" };
    let dir = &args.output.clone().unwrap_or_else(|| PathBuf::from(default));
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let system = data_dir.join("springs2d.toml");
    std::fs::write(&system, SPRINGS2D).with_context(|| format!("cannot write {}", system.display()))?;

    let stages = stages(dir, &system, budget, args.threads);
    let started = Instant::now();
    for (i, stage) in stages.iter().enumerate() {
        super::log!("\n[{}/{}] {}\n$ hamsim {}", i + 1, stages.len(), stage.name, shell_words(&stage.command));
        let stage_started = Instant::now();
        super::run_from(&stage.command).with_context(|| format!("demo stage '{}' failed", stage.name))?;
        super::log!("[{}/{}] done in {:.1} s", i + 1, stages.len(), stage_started.elapsed().as_secs_f64());
    }

    super::log!(
        "\ndemo finished in {:.1} s. Files in {}:\n  run/              the trained model, its config and metrics.csv\n  \
         metrics.json      rollout summary (rollout.csv per time step)\n  energy.png        relative energy error against time\n  \
         momentum.png      linear and angular momentum drift\n  error.png         relative state error\n  \
         trajectories.png  particle paths of test system 0, true and learned\n  data/             the system file and the datasets",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}

/// Lists the commands of the demo, in order.
fn stages(dir: &Path, system: &Path, budget: &Budget, threads: Option<usize>) -> Vec<Stage> {
    let path = |p: PathBuf| p.display().to_string();
    let (train, test, run) = (
        path(dir.join("data/train.safetensors")),
        path(dir.join("data/test.safetensors")),
        path(dir.join("run")),
    );
    let system = path(system.to_path_buf());
    let states = budget.states.to_string();
    let threads: Vec<String> = threads.map(|t| vec!["--threads".to_string(), t.to_string()]).unwrap_or_default();
    let command = |words: &[&str]| -> Vec<String> {
        words.iter().map(|w| w.to_string()).chain(threads.iter().cloned()).collect()
    };

    let train_count = (budget.train_systems + budget.val_systems).to_string();
    let test_count = budget.test_systems.to_string();
    let (n_train, n_val) = (budget.train_systems.to_string(), budget.val_systems.to_string());
    let (width, layers, epochs, batch) = (
        budget.width.to_string(),
        budget.layers.to_string(),
        budget.epochs.to_string(),
        budget.batch_size.to_string(),
    );
    let plot = |name: &str| path(dir.join(name));
    vec![
        Stage {
            name: "generate training systems",
            command: command(&[
                "generate", "--system", &system, "--count", &train_count, "--states", &states, "--seed", "1",
                "--output", &train, "--force",
            ]),
        },
        Stage {
            name: "generate test systems",
            command: command(&[
                "generate", "--system", &system, "--count", &test_count, "--states", &states, "--seed", "2",
                "--output", &test, "--force",
            ]),
        },
        Stage {
            name: "train lieconv T2",
            command: command(&[
                "train", "--data", &train, "--output", &run, "--model", "lieconv", "--group", "T2", "--width", &width,
                "--layers", &layers, "--n-train", &n_train, "--n-val", &n_val, "--batch-size", &batch, "--epochs",
                &epochs, "--lr", budget.lr, "--force",
            ]),
        },
        Stage {
            name: "roll out the test systems in f64",
            command: command(&[
                "rollout", "--run", &run, "--data", &test, "--dtype", "f64", "--output", &path(dir.to_path_buf()),
                "--plot", &plot("energy.png"), "--plot-momentum", &plot("momentum.png"), "--plot-error",
                &plot("error.png"), "--plot-trajectories", &plot("trajectories.png"),
            ]),
        },
    ]
}

/// Joins words into a command line, quoting those with spaces.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| if w.contains(' ') { format!("'{w}'") } else { w.clone() })
        .collect::<Vec<_>>()
        .join(" ")
}
