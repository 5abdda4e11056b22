//! Undo that depends on how far the run got: a phase's `undo` armed when the phase starts, step
//! rollbacks armed when they pass, a commit point that disarms both; the same undo for a failure
//! and for Ctrl-C at the same point; a resume that finishes an undo a crash cut off.

use serde_json::Value;

use super::support::{Fixture, Recorder, options, run, session, step_report};
use crate::EngineOptions;
use crate::interrupt::Interrupt;
use crate::report::{Phase, RunStatus, StepOutcome, Stop};

/// The SOP's shape: pause (its rollback resumes), prepare, a rollout phase with an undo (that
/// reports how far propagation got), a commit point at `verify`, then a late step.
const SOP: &str = r#"
id: phases
title: Phases
steps:
  - id: pause
    shell: {command: "@DIR@/mark log pause"}
    rollback:
      - id: resume_hooks
        shell: {command: "@DIR@/mark log resume_hooks"}
  - id: prepare
    shell: {command: "@DIR@/mark log prepare; @PREPARE@"}
  - id: rollout
    group:
      steps:
        - id: propagate
          shell: {command: "@DIR@/mark log propagate; @PROPAGATE@"}
        - id: verify
          shell: {command: "@DIR@/mark log verify; @VERIFY@"}
          commit: true
      undo:
        - id: undo_rollout
          shell: {command: "@DIR@/mark log undo_rollout-{{steps.propagate.outcome}}"}
        - id: wait_rollout
          shell: {command: "@DIR@/mark log wait_rollout"}
  - id: after
    shell: {command: "@DIR@/mark log after; @AFTER@"}
on_failure:
  - id: alert
    shell: {command: "@DIR@/mark log alert-{{run.failed_step}}"}
"#;

/// The SOP with the step named `failing` failing (exit 3), or none.
fn sop(fx: &Fixture, failing: &str) -> runbook_dsl::Runbook {
    let mut text = SOP.to_owned();
    for step in ["PREPARE", "PROPAGATE", "VERIFY", "AFTER"] {
        let command = if step.eq_ignore_ascii_case(failing) {
            "exit 3"
        } else {
            "true"
        };
        text = text.replace(&format!("@{step}@"), command);
    }
    fx.runbook(&text)
}

/// What ran after the steps stopped: the lines of the log from the first undo or alert on.
fn undone(fx: &Fixture) -> Vec<String> {
    fx.read("log")
        .lines()
        .skip_while(|line| {
            !["undo", "wait", "resume", "alert"]
                .iter()
                .any(|start| line.starts_with(start))
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_failure_before_the_phase_undoes_only_what_came_before() {
    let fx = Fixture::new();
    let (report, _) = super::support::run_plain(&sop(&fx, "prepare")).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    assert_eq!(undone(&fx), ["resume_hooks", "alert-prepare"]);
}

#[tokio::test]
async fn a_failure_inside_the_phase_runs_its_undo_before_earlier_compensation() {
    for (failing, outcome) in [("propagate", "failed"), ("verify", "passed")] {
        let fx = Fixture::new();
        let (report, _) = super::support::run_plain(&sop(&fx, failing)).await;
        assert_eq!(report.status, RunStatus::RolledBack, "{failing}");
        assert_eq!(
            undone(&fx),
            [
                format!("undo_rollout-{outcome}"),
                "wait_rollout".to_owned(),
                "resume_hooks".to_owned(),
                "alert-rollout".to_owned()
            ],
            "failing at {failing}"
        );
        assert_eq!(
            step_report(&report, "undo_rollout").phase,
            Phase::Rollback,
            "{failing}"
        );
        assert_eq!(report.commit_point, None);
    }
}

#[tokio::test]
async fn after_the_commit_point_a_failure_undoes_nothing() {
    let fx = Fixture::new();
    let mut rec = Recorder::default();
    let report = run(&sop(&fx, "after"), options(None), &mut rec).await;
    assert_eq!(undone(&fx), ["alert-after"]);
    assert_eq!(report.commit_point.as_deref(), Some("verify"));
    assert!(rec.run_events().contains(&"commit verify"));
    assert!(
        report
            .steps
            .iter()
            .all(|step| step.phase != Phase::Rollback)
    );
    // Only the failure path ran: the run is rolled back in the failure path's sense.
    assert_eq!(report.status, RunStatus::RolledBack);
}

fn with_interrupt(interrupt: &Interrupt) -> EngineOptions {
    EngineOptions {
        interrupt: interrupt.clone(),
        ..options(None)
    }
}

#[tokio::test]
async fn ctrl_c_at_a_point_runs_the_undo_a_failure_there_would() {
    // Ctrl-C as each step starts: the same compensation as a failure of that step.
    let cases: [(&str, &[&str]); 4] = [
        ("prepare", &["resume_hooks", "alert-prepare"]),
        (
            "propagate",
            &[
                "undo_rollout-failed",
                "wait_rollout",
                "resume_hooks",
                "alert-propagate",
            ],
        ),
        (
            "verify",
            &[
                "undo_rollout-passed",
                "wait_rollout",
                "resume_hooks",
                "alert-verify",
            ],
        ),
        ("after", &["alert-after"]),
    ];
    for (at, expected) in cases {
        let fx = Fixture::new();
        let interrupt = Interrupt::default();
        let mut rec = Recorder::interrupting_at(at, &interrupt);
        let report = run(&sop(&fx, "none"), with_interrupt(&interrupt), &mut rec).await;
        assert_eq!(report.status, RunStatus::Interrupted, "Ctrl-C at {at}");
        assert!(
            matches!(&report.stop, Some(Stop::Interrupted { step: Some(step), .. }) if step == at),
            "Ctrl-C at {at}: {:?}",
            report.stop
        );
        assert_eq!(undone(&fx), expected, "Ctrl-C at {at}");
    }
}

/// Cuts the journal off right after the record of `step` of type `kind` in phase `phase`, as a
/// SIGKILL there would.
fn cut_after(fx: &Fixture, kind: &str, step: &str, phase: &str) {
    let path = fx.path("state/journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut kept = String::new();
    for line in text.lines() {
        kept.push_str(line);
        kept.push('\n');
        let record: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if record["type"] == kind && record["step"] == step && record["phase"] == phase {
            std::fs::write(&path, kept).unwrap_or_else(|error| panic!("cut: {error}"));
            return;
        }
    }
    panic!("the journal has no {kind} of `{step}` in {phase}");
}

#[tokio::test]
async fn a_resume_finishes_an_undo_that_a_crash_cut_off() {
    let fx = Fixture::new();
    let rb = sop(&fx, "verify");
    let mut first = Recorder::default();
    let report = session(&fx, &rb, options(None), &mut first).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    // As if the process died right after `undo_rollout` finished: `wait_rollout`, the earlier
    // compensation and the failure path never ran.
    cut_after(&fx, "step_finished", "undo_rollout", "rollback");
    std::fs::write(fx.path("log"), "").unwrap_or_else(|error| panic!("{error}"));
    let journal = crate::journal::read_journal(&fx.path("state/journal.jsonl"))
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        crate::journal::RunSummary::of("r1", &journal).resumable,
        crate::journal::Resumability::UndoCutOff
    );

    let mut second = Recorder::default();
    let report = session(&fx, &rb, options(None), &mut second).await;
    // No main step ran again; the undo went on where it stopped, then the failure path.
    assert_eq!(
        fx.read("log"),
        "wait_rollout\nresume_hooks\nalert-rollout\n"
    );
    let undo = step_report(&report, "undo_rollout");
    assert!(undo.restored);
    assert_eq!(undo.outcome, StepOutcome::Passed);
    assert_eq!(report.status, RunStatus::RolledBack);
    assert!(
        second
            .run_events()
            .iter()
            .any(|event| event.starts_with("stopped rollout: ")),
        "{:?}",
        second.run_events()
    );
    // Now the undo is complete: the run cannot be resumed again.
    let journal = crate::journal::read_journal(&fx.path("state/journal.jsonl"))
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        crate::journal::RunSummary::of("r1", &journal).resumable,
        crate::journal::Resumability::Compensated
    );
}
