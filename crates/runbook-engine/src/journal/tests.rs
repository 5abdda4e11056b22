use std::fs::OpenOptions;
use std::io::Write;

use serde_json::Map;

use super::record::{RunFinished, StepFinished, StepStarted};
use super::*;
use crate::report::{Phase, RunStatus, StepOutcome, Stop};

fn started() -> RunStarted {
    RunStarted {
        run_id: "r1".into(),
        runbook: "demo".into(),
        title: "Demo".into(),
        path: "/tmp/demo.yaml".into(),
        sha256: "00".into(),
        fragments: Vec::new(),
        inputs: Map::new(),
        secret_inputs: vec!["token".into()],
        actor: "alice".into(),
        host: "nowhere.invalid".into(),
        pid: 1,
    }
}

fn resumed() -> RunResumed {
    RunResumed {
        actor: "bob".into(),
        host: "nowhere.invalid".into(),
        pid: 2,
        torn_line_dropped: None,
        allowed_changed_runbook: false,
    }
}

fn finished(step: &str, phase: Phase, outcome: StepOutcome) -> JournalRecord {
    JournalRecord::StepFinished(StepFinished {
        step: step.into(),
        phase,
        outcome,
        attempts: 1,
        duration_ms: 1,
        started_at: None,
        finished_at: None,
        outputs: Map::new(),
        secret_outputs: Vec::new(),
        large_outputs: Vec::new(),
        error: None,
        note: None,
        restored: false,
    })
}

fn run_finished(status: RunStatus, stop: Option<Stop>) -> JournalRecord {
    JournalRecord::RunFinished(RunFinished {
        status,
        failed_step: stop.as_ref().and_then(|s| s.step().map(str::to_owned)),
        stop,
        duration_ms: 1,
        irreversible_done: Vec::new(),
    })
}

fn journal(records: Vec<JournalRecord>) -> Result<(tempfile::TempDir, JournalRead), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("journal.jsonl");
    let mut writer = JournalWriter::create(&path, started()).map_err(|e| e.to_string())?;
    for record in records {
        writer.append(record).map_err(|e| e.to_string())?;
    }
    let read = read_journal(&path).map_err(|e| e.to_string())?;
    Ok((dir, read))
}

#[test]
fn records_round_trip_through_the_file() -> Result<(), String> {
    let records = vec![
        JournalRecord::StepStarted(StepStarted {
            step: "a".into(),
            phase: Phase::Main,
            depth: 0,
        }),
        finished("a", Phase::Main, StepOutcome::Passed),
        run_finished(
            RunStatus::Interrupted,
            Some(Stop::Interrupted {
                step: Some("b".into()),
                signal: Some(crate::interrupt::Signal::Terminate),
            }),
        ),
    ];
    let (_dir, read) = journal(records.clone())?;
    assert_eq!(read.entries.len(), 4);
    let seqs: Vec<u64> = read.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(read.records().skip(1).cloned().collect::<Vec<_>>(), records);
    Ok(())
}

#[test]
fn a_torn_last_line_is_detected_and_cut_on_reopen() -> Result<(), String> {
    let (dir, _) = journal(vec![finished("a", Phase::Main, StepOutcome::Passed)])?;
    let path = dir.path().join("journal.jsonl");
    let mut file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| e.to_string())?;
    file.write_all(br#"{"seq":3,"type":"step_fini"#)
        .map_err(|e| e.to_string())?;
    drop(file);

    let read = read_journal(&path).map_err(|e| e.to_string())?;
    assert_eq!(read.entries.len(), 2);
    assert!(read.torn.is_some());
    drop(JournalWriter::reopen(&path, &read.end(), resumed()).map_err(|e| e.to_string())?);
    let again = read_journal(&path).map_err(|e| e.to_string())?;
    assert_eq!(again.entries.len(), 3);
    assert!(again.torn.is_none());
    assert_eq!(again.entries[2].seq, 3);
    Ok(())
}

#[test]
fn damage_in_the_middle_names_the_file_and_line() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("journal.jsonl");
    drop(JournalWriter::create(&path, started()).map_err(|e| e.to_string())?);
    let mut file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| e.to_string())?;
    file.write_all(
        b"{\"seq\":2,\"type\":\"no_such_record\",\"at\":\"2026-01-01T00:00:00Z\"}\n{}\n",
    )
    .map_err(|e| e.to_string())?;
    let error = read_journal(&path)
        .err()
        .ok_or("a damaged journal was read")?;
    let message = error.to_string();
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("journal.jsonl"), "{message}");
    Ok(())
}

#[test]
fn a_complete_last_line_that_is_not_a_record_is_damage_not_a_torn_write() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("journal.jsonl");
    drop(JournalWriter::create(&path, started()).map_err(|e| e.to_string())?);
    let mut file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| e.to_string())?;
    file.write_all(b"not json\n").map_err(|e| e.to_string())?;
    assert!(read_journal(&path).is_err());
    Ok(())
}

#[test]
fn resumability_is_one_definition() {
    use Resumability as R;
    assert_eq!(
        R::decide(Some(RunStatus::Succeeded), false, false),
        R::Succeeded
    );
    assert_eq!(
        R::decide(Some(RunStatus::Succeeded), true, false),
        R::Succeeded
    );
    assert_eq!(
        R::decide(Some(RunStatus::SucceededWithWarnings), false, false),
        R::Succeeded
    );
    assert_eq!(R::decide(None, false, false), R::Resumable);
    assert_eq!(R::decide(None, true, false), R::Compensated);
    // Killed in the middle of an undo it had recorded the reason for: resume finishes the undo.
    assert_eq!(R::decide(None, true, true), R::UndoCutOff);
    assert!(R::UndoCutOff.is_resumable());
    for status in [
        RunStatus::Failed,
        RunStatus::RolledBack,
        RunStatus::RollbackFailed,
        RunStatus::Interrupted,
    ] {
        assert_eq!(
            R::decide(Some(status), false, false),
            R::Resumable,
            "{status:?}"
        );
        assert_eq!(
            R::decide(Some(status), true, false),
            R::Compensated,
            "{status:?}"
        );
        // A session that ended finished its undo: nothing is cut off.
        assert_eq!(
            R::decide(Some(status), true, true),
            R::Compensated,
            "{status:?}"
        );
    }
}

#[test]
fn a_failure_path_without_compensation_stays_resumable() -> Result<(), String> {
    let (_dir, read) = journal(vec![
        finished("a", Phase::Main, StepOutcome::Failed),
        finished("alert", Phase::OnFailure, StepOutcome::Passed),
        run_finished(
            RunStatus::RolledBack,
            Some(Stop::Failed { step: "a".into() }),
        ),
        finished("cleanup", Phase::Finally, StepOutcome::Passed),
    ])?;
    let summary = RunSummary::of("r1", &read);
    assert_eq!(summary.state, RunState::Finished(RunStatus::RolledBack));
    assert!(summary.resumable.is_resumable());
    assert_eq!(summary.last_step.as_deref(), Some("a (failed)"));
    Ok(())
}

#[test]
fn compensation_ends_resumability_and_a_resume_reopens_the_state() -> Result<(), String> {
    let (_dir, read) = journal(vec![
        finished("a", Phase::Main, StepOutcome::Passed),
        finished("b", Phase::Main, StepOutcome::Failed),
        finished("undo_a", Phase::Rollback, StepOutcome::Passed),
        run_finished(
            RunStatus::RolledBack,
            Some(Stop::Failed { step: "b".into() }),
        ),
    ])?;
    let summary = RunSummary::of("r1", &read);
    assert_eq!(summary.resumable, Resumability::Compensated);
    assert_eq!(summary.steps_done, 1);

    let (_dir, read) = journal(vec![
        finished("a", Phase::Main, StepOutcome::Passed),
        run_finished(RunStatus::Failed, Some(Stop::Failed { step: "b".into() })),
        JournalRecord::RunResumed(resumed()),
    ])?;
    let summary = RunSummary::of("r1", &read);
    // The resuming process (pid 2 on another host) is gone: the run was killed.
    assert_eq!(summary.state, RunState::Killed);
    assert!(summary.resumable.is_resumable());
    Ok(())
}

#[test]
fn a_journal_without_a_start_is_not_resumable() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("journal.jsonl");
    std::fs::write(&path, "").map_err(|e| e.to_string())?;
    let read = read_journal(&path).map_err(|e| e.to_string())?;
    let summary = RunSummary::of("r1", &read);
    assert_eq!(summary.state, RunState::Empty);
    assert_eq!(summary.resumable, Resumability::NoStart);
    assert!(summary.resumable.advice("r1").contains("no start record"));
    Ok(())
}

#[test]
fn a_stop_recorded_before_signals_were_named_still_reads() -> Result<(), Box<dyn std::error::Error>>
{
    let old: Stop = serde_json::from_str(r#"{"cause":"interrupted","step":"b"}"#)?;
    assert_eq!(
        old,
        Stop::Interrupted {
            step: Some("b".into()),
            signal: None
        }
    );
    let new = serde_json::to_value(Stop::Interrupted {
        step: None,
        signal: Some(crate::interrupt::Signal::Hangup),
    })?;
    assert_eq!(
        new,
        serde_json::json!({"cause": "interrupted", "step": null, "signal": "SIGHUP"})
    );
    Ok(())
}

#[test]
fn compensation_that_began_ends_resumability_even_if_no_undo_step_finished() -> Result<(), String> {
    // A session SIGKILLed while its first undo step ran: the journal has the rollback phase and
    // that step's start, but no rollback step finished.
    let (_dir, read) = journal(vec![
        finished("a", Phase::Main, StepOutcome::Passed),
        finished("b", Phase::Main, StepOutcome::Failed),
        JournalRecord::PhaseStarted {
            phase: Phase::Rollback,
            reason: "step `b` failed".into(),
        },
        JournalRecord::StepStarted(StepStarted {
            step: "undo_a".into(),
            phase: Phase::Rollback,
            depth: 0,
        }),
    ])?;
    let summary = RunSummary::of("r1", &read);
    assert_eq!(summary.state, RunState::Killed);
    assert_eq!(summary.resumable, Resumability::Compensated);
    Ok(())
}

#[test]
fn fragment_hashes_round_trip_and_are_optional() -> Result<(), Box<dyn std::error::Error>> {
    let mut with = started();
    with.fragments = vec![crate::journal::FragmentHash {
        path: "/tmp/fragments/pause.fragment.yaml".into(),
        sha256: "ab".into(),
    }];
    let line = serde_json::to_string(&JournalRecord::RunStarted(with.clone()))?;
    assert!(line.contains("\"fragments\":[{\"path\":\"/tmp/fragments/pause.fragment.yaml\""));
    let back: JournalRecord = serde_json::from_str(&line)?;
    assert_eq!(back, JournalRecord::RunStarted(with));
    // A run without fragments writes no field, and an older journal without one still reads.
    let line = serde_json::to_string(&JournalRecord::RunStarted(started()))?;
    assert!(!line.contains("fragments"), "{line}");
    let back: JournalRecord = serde_json::from_str(&line)?;
    assert_eq!(back, JournalRecord::RunStarted(started()));
    Ok(())
}
