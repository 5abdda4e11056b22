//! `runbook runs`: every run in the state directory with its state.

use std::io::Write;

use runbook_engine::journal::{RunSummary, read_journal};

use crate::args::{OutputFormat, RunsArgs};
use crate::render::runs_table::render_runs;
use crate::render::width::output_width;
use crate::state::StateDir;

pub fn run(args: &RunsArgs) -> anyhow::Result<()> {
    let state = StateDir::resolve(args.state.state_dir.as_deref())?;
    state.remove_leftover_files();
    let mut summaries = Vec::new();
    for run_id in state.run_ids() {
        match read_journal(&state.journal(&run_id)) {
            Ok(journal) => summaries.push(RunSummary::of(&run_id, &journal)),
            Err(error) => eprintln!("warning: {error}"),
        }
    }
    let mut out = std::io::stdout().lock();
    if args.output == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut out, &summaries)?;
        writeln!(out)?;
        return Ok(());
    }
    if summaries.is_empty() {
        writeln!(out, "no runs in {}", state.runs().display())?;
        return Ok(());
    }
    let table = render_runs(&summaries, output_width(), args.wide);
    writeln!(out, "{table}")?;
    Ok(())
}
