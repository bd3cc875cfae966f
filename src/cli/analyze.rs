//! `hamsim analyze`: the conservation table of any dataset.

use std::path::PathBuf;

use clap::Args;

use hamsim::analysis::summarize;
use hamsim::dataset::{resolve_system, Dataset, SystemSource};

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Dataset file: a hamsim .safetensors file or an .npz with arrays ts, zs, masses (and k).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// System file naming the Hamiltonian, for datasets without hamsim metadata
    /// [default: the system stored in the file; springs for an .npz that contains k].
    #[arg(long, value_name = "FILE.toml")]
    system: Option<PathBuf>,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,

    /// Worker threads, 1 to 1024 [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    let pool = super::thread_pool(args.threads)?;
    let data = Dataset::load(&args.file)?;
    let (spec, source) = resolve_system(&data, &args.file, args.system.as_deref())?;
    if source == SystemSource::File && data.metadata.is_some() {
        super::log!(
            "note: using the Hamiltonian of {} instead of the system stored in {}",
            args.system.as_deref().unwrap_or(std::path::Path::new("")).display(),
            args.file.display()
        );
    }
    if source == SystemSource::SpringConstants {
        super::log!(
            "note: {} has no hamsim metadata; reading it as springs because it holds spring \
             constants (pass --system FILE.toml to name another system)",
            args.file.display()
        );
    }

    let summary = pool.install(|| summarize(&data, &spec))?;
    if args.json {
        super::emit!("{}\n", serde_json::to_string_pretty(&summary)?);
    } else {
        super::emit!("{} ({} system)\n{}", args.file.display(), spec.kind_name(), summary.table());
    }
    Ok(())
}
