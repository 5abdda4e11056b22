//! `runbook graph FILE`: the runbook's flow as a Mermaid flowchart (see [`crate::render::mermaid`]).

use std::io::Write;

use crate::args::FileArgs;

pub fn run(args: &FileArgs) -> anyhow::Result<()> {
    let source = super::read_source(&args.file)?;
    let runbook = super::run::check_or_report(&source)?;
    let graph = crate::render::mermaid::render_graph(&runbook);
    std::io::stdout().lock().write_all(graph.as_bytes())?;
    Ok(())
}
