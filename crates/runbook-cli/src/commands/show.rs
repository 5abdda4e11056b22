//! `runbook show RUN_ID`: one run, step by step, and what to do next.

use std::io::Write;

use runbook_engine::journal::record::{JournalRecord, StepFinished};
use runbook_engine::journal::{Resumability, RunState, RunSummary, read_journal};

use crate::args::{OutputFormat, ShowArgs};
use crate::failure::Failure;
use crate::render::width::{output_width, wrap_hanging};
use crate::state::StateDir;

pub fn run(args: &ShowArgs) -> anyhow::Result<()> {
    let state = StateDir::resolve(args.state.state_dir.as_deref())?;
    let run_id = state.find_run(&args.run_id)?;
    let path = state.journal(&run_id);
    let journal = read_journal(&path).map_err(|error| Failure::usage(error.to_string()))?;
    let mut out = std::io::stdout().lock();
    if args.output == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut out, &journal.entries)?;
        writeln!(out)?;
        return Ok(());
    }
    let summary = RunSummary::of(&run_id, &journal);
    writeln!(out, "run {run_id}")?;
    writeln!(out, "  runbook   {} ({})", summary.runbook, summary.path)?;
    let started = summary
        .started_at
        .map_or_else(|| "-".to_owned(), |at| at.to_string());
    writeln!(out, "  started   {started} by {}", summary.actor)?;
    writeln!(out, "  state     {}", summary.state.as_str())?;
    writeln!(out, "  journal   {}", path.display())?;
    if let Some(torn) = &journal.torn {
        writeln!(out, "  note      {torn}")?;
    }
    writeln!(out)?;
    let width = output_width();
    for entry in &journal.entries {
        let at = entry.at.strftime("%H:%M:%S").to_string();
        // Every line of an error, whole: this is where an operator reads why a run stopped, so
        // nothing is cut, only wrapped (at spaces) to the terminal.
        for text in wrap_hanging(&describe(&entry.record), &format!("{at}  "), DETAIL, width) {
            writeln!(out, "{text}")?;
        }
    }
    writeln!(out)?;
    let next = match (summary.state, summary.resumable) {
        (_, Resumability::Resumable) => Some(format!("runbook resume {run_id}")),
        (_, Resumability::UndoCutOff) => Some(Resumability::UndoCutOff.advice(&run_id)),
        (RunState::Finished(_), Resumability::Succeeded) => None,
        (_, Resumability::Running { .. }) => {
            Some("the run is still in progress (its process is alive)".to_owned())
        }
        (_, why) => Some(why.advice(&run_id)),
    };
    if let Some(next) = next {
        for text in wrap_hanging(&next, "next: ", "      ", width) {
            writeln!(out, "{text}")?;
        }
    }
    Ok(())
}

/// Where the lines after a record's first sit: under the step's name.
const DETAIL: &str = "                     ";

/// One journal record as a line, then every further line of its error (indented by the caller).
fn describe(record: &JournalRecord) -> String {
    match record {
        JournalRecord::RunStarted(_) => "run started".to_owned(),
        JournalRecord::RunResumed(resumed) => format!("resumed by {}", resumed.actor),
        JournalRecord::PhaseStarted { phase, reason } => format!("{} ({reason})", phase.word()),
        JournalRecord::StepStarted(started) => format!("  started  {}", started.step),
        JournalRecord::StepFinished(finished) => describe_finished(finished),
        JournalRecord::Decision { step, decision } => {
            format!("  decided  {step}: {}", decision.word())
        }
        JournalRecord::RunStopped { stop, failure } => match stop.step() {
            Some(step) => format!("stopped: {} at `{step}`: {failure}", stop.cause()),
            None => format!("stopped: {}: {failure}", stop.cause()),
        },
        JournalRecord::CommitPassed { step } => {
            format!("  commit point passed: `{step}` (undo disarmed)")
        }
        JournalRecord::RunFinished(finished) => {
            let mut line = format!("run finished: {}", finished.status.word());
            if let Some(stop) = &finished.stop
                && let Some(step) = stop.step()
            {
                line.push_str(&format!(" ({} at `{step}`)", stop.cause()));
            }
            line
        }
    }
}

fn describe_finished(finished: &StepFinished) -> String {
    let mut line = format!(
        "  {:<8} {} ({} ms)",
        finished.outcome.word(),
        finished.step,
        finished.duration_ms
    );
    if let Some(note) = &finished.note {
        line.push_str(&format!(" [{note}]"));
    }
    if let Some(error) = &finished.error {
        line.push_str(&format!(": {}", error.message));
    }
    line
}
