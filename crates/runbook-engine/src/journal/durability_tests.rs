//! The journal's durability rule, end to end through its observer: a step with side effects has a
//! synced start record in the file before the step may run; a read-only step's start is written
//! without a sync; a passed step's outcome goes out with the next record, in one write.

use runbook_dsl::{Runbook, Source, Step};
use serde_json::Map;

use super::{JournalObserver, JournalRecord, JournalWriter, RunStarted, read_journal};
use crate::observer::{Observer, Position};
use crate::report::{Phase, StepOutcome, StepReport};

fn runbook() -> Runbook {
    let text = r#"id: durability
title: Durability
steps:
  - {id: get, http: {url: "http://127.0.0.1:1/a"}}
  - {id: check, assert: [{that: "1", equals: "1"}]}
  - {id: sh, shell: {command: "true"}}
  - {id: post, http: {method: POST, url: "http://127.0.0.1:1/a"}}
  - {id: marked_get, irreversible: true, http: {url: "http://127.0.0.1:1/a"}}
"#;
    let source = Source::new("durability.yaml", text);
    runbook_dsl::load_and_check(&source)
        .unwrap_or_else(|findings| panic!("the test runbook has findings: {findings:#?}"))
}

fn started() -> RunStarted {
    RunStarted {
        run_id: "r1".into(),
        runbook: "durability".into(),
        title: "Durability".into(),
        path: "/tmp/durability.yaml".into(),
        sha256: "00".into(),
        inputs: Map::new(),
        secret_inputs: Vec::new(),
        actor: "alice".into(),
        host: "nowhere.invalid".into(),
        pid: 1,
        fragments: Vec::new(),
    }
}

fn report(step: &Step, outcome: StepOutcome) -> StepReport {
    StepReport {
        attempts: 1,
        ..crate::sequence::reports::new_report(step, Phase::Main, outcome)
    }
}

const AT: Position = Position {
    phase: Phase::Main,
    depth: 0,
    index: 1,
    total: 1,
    cleanup: false,
};

/// The journal's lines as `type step` (the step empty for run records).
fn lines(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let field = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
            format!("{} {}", field("type"), field("step"))
                .trim()
                .to_owned()
        })
        .collect()
}

fn step_of<'r>(runbook: &'r Runbook, id: &str) -> &'r Step {
    runbook
        .steps
        .iter()
        .find(|step| step.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// A new run's journal at `path`, as its observer.
fn journal_at(path: &std::path::Path) -> JournalObserver {
    let writer = JournalWriter::create(path, started()).unwrap_or_else(|e| panic!("{e}"));
    JournalObserver::new(writer)
}

#[test]
fn a_step_with_side_effects_is_synced_before_it_runs_a_read_only_one_is_not() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("journal.jsonl");
    let mut journal = journal_at(&path);
    assert_eq!(
        journal.syncs(),
        0,
        "the run's start waits for a step with side effects"
    );
    let runbook = runbook();
    let step = |id: &str| step_of(&runbook, id);
    let last_two = |path: &std::path::Path| {
        let all = lines(path);
        all[all.len().saturating_sub(2)..].to_vec()
    };

    // Read-only: its start is in the file when the checkpoint returns, without a sync.
    assert_eq!(journal.checkpoint(step("get"), &AT), Ok(()));
    assert_eq!(journal.syncs(), 0, "get cost a sync");
    assert_eq!(lines(&path), ["run_started", "step_started get"]);
    // A passed outcome goes out with the next record, in the same write.
    journal.step_finished(step("get"), &AT, &report(step("get"), StepOutcome::Passed));
    assert_eq!(lines(&path).len(), 2);
    assert_eq!(journal.checkpoint(step("check"), &AT), Ok(()));
    assert_eq!(journal.syncs(), 0, "check cost a sync");
    assert_eq!(last_two(&path), ["step_finished get", "step_started check"]);
    journal.step_finished(
        step("check"),
        &AT,
        &report(step("check"), StepOutcome::Passed),
    );

    // Side effects: the start record (and what came before it) is in the file, and synced, when
    // the checkpoint returns.
    let mut expected_syncs = 0;
    for (id, before) in [("sh", "check"), ("post", "sh"), ("marked_get", "post")] {
        assert_eq!(journal.checkpoint(step(id), &AT), Ok(()));
        expected_syncs += 1;
        assert_eq!(journal.syncs(), expected_syncs, "{id} was not synced");
        assert_eq!(
            last_two(&path),
            [
                format!("step_finished {before}"),
                format!("step_started {id}")
            ]
        );
        journal.step_finished(step(id), &AT, &report(step(id), StepOutcome::Passed));
        assert_eq!(
            journal.syncs(),
            expected_syncs,
            "{id}'s outcome cost a sync"
        );
    }

    // A failure is written at once: an operator may be asked about it next, for any time.
    assert_eq!(journal.checkpoint(step("get"), &AT), Ok(()));
    journal.step_finished(step("get"), &AT, &report(step("get"), StepOutcome::Failed));
    assert_eq!(last_two(&path), ["step_started get", "step_finished get"]);
    assert_eq!(journal.syncs(), expected_syncs);

    let read = read_journal(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.entries.len(), 13);
    let seqs: Vec<u64> = read.entries.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, (1..=13).collect::<Vec<_>>(), "records out of order");
}

fn finished() -> super::record::RunFinished {
    super::record::RunFinished {
        status: crate::report::RunStatus::Succeeded,
        failed_step: None,
        stop: None,
        duration_ms: 1,
        irreversible_done: Vec::new(),
    }
}

/// A run of read-only steps (W1's 200 GETs, a health check) has nothing to make durable: a power
/// cut may lose its journal, and running it again changes nothing. Its start record reaches the
/// disk with the first step that has side effects, if one comes, and its end record is synced
/// only then.
#[test]
fn a_run_that_changes_nothing_syncs_nothing_and_one_that_changed_something_syncs_its_end() {
    let runbook = runbook();
    let step = |id: &str| step_of(&runbook, id);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));

    let path = dir.path().join("read-only.jsonl");
    let mut journal = journal_at(&path);
    assert_eq!(
        journal.syncs(),
        0,
        "the start of a run is not synced on its own"
    );
    assert_eq!(lines(&path), ["run_started"], "but it is in the file");
    assert_eq!(journal.checkpoint(step("get"), &AT), Ok(()));
    journal.step_finished(step("get"), &AT, &report(step("get"), StepOutcome::Passed));
    journal.write(JournalRecord::RunFinished(finished()));
    assert_eq!(journal.syncs(), 0, "a run that changed nothing synced");
    assert_eq!(
        lines(&path),
        [
            "run_started",
            "step_started get",
            "step_finished get",
            "run_finished"
        ]
    );

    let path = dir.path().join("side-effects.jsonl");
    let mut journal = journal_at(&path);
    assert_eq!(journal.checkpoint(step("sh"), &AT), Ok(()));
    assert_eq!(
        journal.syncs(),
        1,
        "sh's start (and the run's) are synced before it runs"
    );
    journal.step_finished(step("sh"), &AT, &report(step("sh"), StepOutcome::Passed));
    journal.write(JournalRecord::RunFinished(finished()));
    assert_eq!(
        journal.syncs(),
        2,
        "the end of a run that changed something is synced"
    );
}
