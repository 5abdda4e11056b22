//! `runbook runs`: every run in the state directory with its state.

use std::io::Write;

use runbook_engine::journal::RunSummary;

use crate::args::{OutputFormat, RunsArgs};
use crate::state::StateDir;

pub fn run(args: &RunsArgs) -> anyhow::Result<()> {
    let state = StateDir::resolve(args.state.state_dir.as_deref())?;
    state.remove_leftover_files();
    let mut summaries = Vec::new();
    for run_id in state.run_ids() {
        // Read as a stream: memory does not grow with the journals' size.
        match RunSummary::scan(&run_id, &state.journal(&run_id)) {
            Ok((summary, _)) => summaries.push(summary),
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
    writeln!(
        out,
        "{:<24} {:<26} {:<20} {:<12} {:<14} LAST STEP",
        "RUN", "RUNBOOK", "STARTED", "ACTOR", "STATE"
    )?;
    for run in &summaries {
        let started = run.started_at.map_or_else(
            || "-".to_owned(),
            |at| at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        );
        writeln!(
            out,
            "{:<24} {:<26} {:<20} {:<12} {:<14} {}",
            run.run_id,
            run.runbook,
            started,
            run.actor,
            run.state.as_str(),
            run.last_step.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}
