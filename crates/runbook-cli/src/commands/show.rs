//! `runbook show RUN_ID`: one run, step by step, and what to do next.

use std::io::Write;

use runbook_engine::journal::record::{JournalRecord, StepFinished};
use runbook_engine::journal::{Entry, Resumability, RunState, RunSummary, scan_journal};

use crate::args::{OutputFormat, ShowArgs};
use crate::failure::Failure;
use crate::render::width::{output_width, wrap_hanging};
use crate::state::StateDir;

/// The journal is read as a stream (once for the summary, once for the records): a journal of
/// any size costs the memory of its longest line.
pub fn run(args: &ShowArgs) -> anyhow::Result<()> {
    let state = StateDir::resolve(args.state.state_dir.as_deref())?;
    let run_id = state.find_run(&args.run_id)?;
    let path = state.journal(&run_id);
    let unreadable =
        |error: runbook_engine::journal::JournalError| Failure::usage(error.to_string());
    let mut out = std::io::stdout().lock();
    if args.output == OutputFormat::Json {
        return write_entries_json(&path, &mut out);
    }
    let (summary, end) = RunSummary::scan(&run_id, &path).map_err(unreadable)?;
    writeln!(out, "run {run_id}")?;
    writeln!(out, "  runbook   {} ({})", summary.runbook, summary.path)?;
    let started = summary
        .started_at
        .map_or_else(|| "-".to_owned(), |at| at.to_string());
    writeln!(out, "  started   {started} by {}", summary.actor)?;
    writeln!(out, "  state     {}", summary.state.as_str())?;
    writeln!(out, "  journal   {}", path.display())?;
    if let Some(torn) = &end.torn {
        writeln!(out, "  note      {torn}")?;
    }
    writeln!(out)?;
    let width = output_width();
    let mut failed = None;
    scan_journal(&path, |entry| {
        if failed.is_some() {
            return;
        }
        let at = entry.at.strftime("%H:%M:%S").to_string();
        // Every line of an error, whole: this is where an operator reads why a run stopped, so
        // nothing is cut, only wrapped (at spaces) to the terminal.
        for text in wrap_hanging(&describe(&entry.record), &format!("{at}  "), DETAIL, width) {
            if let Err(error) = writeln!(out, "{text}") {
                failed = Some(error);
                return;
            }
        }
    })
    .map_err(unreadable)?;
    if let Some(error) = failed {
        return Err(error.into());
    }
    writeln!(out)?;
    // The advice names the run as the next command must (with `--state-dir` if given here).
    let run_id = state.run_target(&run_id);
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

/// The records as one pretty-printed JSON array, written as they are read: byte for byte what
/// pretty-printing the whole list at once gives, without holding it.
fn write_entries_json(path: &std::path::Path, out: &mut impl Write) -> anyhow::Result<()> {
    let mut count = 0usize;
    let mut failed: Option<anyhow::Error> = None;
    out.write_all(b"[")?;
    scan_journal(path, |entry| {
        if failed.is_none() {
            failed = write_entry_json(&entry, count == 0, out).err();
            count += 1;
        }
    })
    .map_err(|error| Failure::usage(error.to_string()))?;
    if let Some(error) = failed {
        return Err(error);
    }
    out.write_all(if count == 0 { b"]\n" } else { b"\n]\n" })?;
    Ok(())
}

/// One element of the array, indented one level.
fn write_entry_json(entry: &Entry, first: bool, out: &mut impl Write) -> anyhow::Result<()> {
    out.write_all(if first { b"\n" } else { b",\n" })?;
    let text = serde_json::to_string_pretty(entry)?;
    // Strings in JSON hold no raw newline: every line of the text is a line of structure.
    for (index, line) in text.lines().enumerate() {
        if index > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(b"  ")?;
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use runbook_engine::Phase;
    use runbook_engine::journal::{JournalRecord, JournalWriter, RunStarted, read_journal};

    #[test]
    fn the_streamed_json_is_what_printing_the_whole_list_gives() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("journal.jsonl");
        let mut inputs = serde_json::Map::new();
        inputs.insert(
            "nested".into(),
            serde_json::json!({"a": [1, {"b": "multi\nline"}], "e": {}}),
        );
        let started = RunStarted {
            run_id: "r1".into(),
            runbook: "demo".into(),
            title: "Demo".into(),
            path: "/tmp/demo.yaml".into(),
            sha256: "00".into(),
            inputs,
            secret_inputs: Vec::new(),
            actor: "alice".into(),
            host: "nowhere.invalid".into(),
            pid: 1,
            fragments: Vec::new(),
        };
        let mut writer = JournalWriter::create(&path, started).unwrap_or_else(|e| panic!("{e}"));
        writer
            .append(JournalRecord::PhaseStarted {
                phase: Phase::Finally,
                reason: "always".into(),
            })
            .unwrap_or_else(|e| panic!("{e}"));
        drop(writer);
        let entries = read_journal(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .entries;
        let expected = format!(
            "{}\n",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        let mut streamed = Vec::new();
        super::write_entries_json(&path, &mut streamed).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&streamed), expected);

        std::fs::write(&path, "").unwrap_or_else(|e| panic!("{e}"));
        let mut empty = Vec::new();
        super::write_entries_json(&path, &mut empty).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&empty), "[]\n");
    }
}
