//! `runbook show RUN_ID`: one run, step by step, and what to do next.

use std::io::Write;

use serde_json::Value;

use runbook_engine::journal::read_journal;

use crate::args::{OutputFormat, ShowArgs};
use crate::failure::Failure;
use crate::runs_view::summarize;
use crate::state::StateDir;

pub fn run(args: &ShowArgs) -> anyhow::Result<()> {
    let state = StateDir::resolve(args.state.state_dir.as_deref())?;
    let run_id = state.find_run(&args.run_id)?;
    let path = state.journal(&run_id);
    let journal = read_journal(&path).map_err(Failure::usage)?;
    let mut out = std::io::stdout().lock();
    if args.output == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut out, &journal.records)?;
        writeln!(out)?;
        return Ok(());
    }
    let summary = summarize(&run_id, &journal);
    writeln!(out, "run {run_id}")?;
    writeln!(out, "  runbook   {} ({})", summary.runbook, summary.path)?;
    writeln!(
        out,
        "  started   {} by {}",
        summary.started_at, summary.actor
    )?;
    writeln!(out, "  state     {}", summary.state)?;
    writeln!(out, "  journal   {}", path.display())?;
    if let Some(torn) = &journal.torn {
        writeln!(out, "  note      {torn}")?;
    }
    writeln!(out)?;
    let text = |value: &Value| value.as_str().unwrap_or("").to_owned();
    for record in &journal.records {
        let at = text(&record["at"]);
        let time = at.get(11..19).unwrap_or(&at);
        let line = match record["type"].as_str().unwrap_or("") {
            "run_started" => "run started".to_owned(),
            "run_resumed" => format!("resumed by {}", text(&record["actor"])),
            "phase_started" => format!("{} ({})", text(&record["phase"]), text(&record["reason"])),
            "step_started" => format!("  started  {}", text(&record["step"])),
            "step_finished" => {
                let mut line = format!(
                    "  {:<8} {} ({} ms)",
                    text(&record["outcome"]),
                    text(&record["step"]),
                    record["duration_ms"]
                );
                if let Some(message) = record["error"]["message"].as_str() {
                    line.push_str(&format!(": {}", message.lines().next().unwrap_or("")));
                }
                if let Some(note) = record["note"].as_str() {
                    line.push_str(&format!(" [{note}]"));
                }
                line
            }
            "run_finished" => format!("run finished: {}", text(&record["status"])),
            other => other.to_owned(),
        };
        writeln!(out, "{time}  {line}")?;
    }
    writeln!(out)?;
    match summary.state.as_str() {
        "interrupted" | "failed" if summary.resumable => {
            writeln!(out, "next: runbook resume {run_id}")?
        }
        "interrupted" | "failed" => writeln!(
            out,
            "next: its compensation ran, so it cannot be resumed; start a new run"
        )?,
        "running" => writeln!(
            out,
            "next: the run is still in progress (its process is alive)"
        )?,
        _ => {}
    }
    Ok(())
}
