//! Ctrl-C, triggered from the observer: the run stops at the step, then cleanup runs.

use std::time::{Duration, Instant};

use serde_json::json;

use super::support::{Event, Fixture, Recorder, Script, asked, options, run, step_report};
use crate::EngineOptions;
use crate::error::StepErrorKind;
use crate::interrupt::{Interrupt, Signal};
use crate::report::{Phase, RunStatus, StepOutcome, Stop};

fn with_interrupt(interrupt: &Interrupt) -> EngineOptions {
    EngineOptions {
        interrupt: interrupt.clone(),
        ..options(None)
    }
}

#[tokio::test]
async fn ctrl_c_cancels_the_running_step_then_cleanup_runs() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: ctrlc
title: Ctrl-C
steps:
  - id: first
    shell: {command: "@DIR@/mark log first"}
    rollback:
      - id: undo_first
        shell: {command: "@DIR@/mark log undo_first"}
  - id: long
    shell: {command: "exec sleep 30"}
  - id: later
    shell: {command: "@DIR@/mark log later"}
on_failure:
  - id: alert
    shell:
      command: "@DIR@/mark log alert-{{run.failed_step}}"
finally:
  - id: fin
    shell: {command: "@DIR@/mark log fin"}
"#,
    );
    let interrupt = Interrupt::default();
    let mut rec = Recorder::interrupting_at("long", &interrupt);
    let started = Instant::now();
    let report = run(&rb, with_interrupt(&interrupt), &mut rec).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the step was not cancelled"
    );
    assert_eq!(report.status, RunStatus::Interrupted);
    assert_eq!(
        report.stop,
        Some(Stop::Interrupted {
            step: Some("long".into()),
            signal: Some(Signal::Interrupt),
        })
    );
    assert_eq!(report.failed_step.as_deref(), Some("long"));
    let long = step_report(&report, "long");
    assert_eq!(long.outcome, StepOutcome::Failed);
    assert_eq!(
        long.error.as_ref().map(|e| e.kind),
        Some(StepErrorKind::Interrupted)
    );
    assert_eq!(step_report(&report, "later").outcome, StepOutcome::NotRun);
    // Compensation, the failure path and finally all ran, in that order.
    assert_eq!(fx.read("log"), "first\nundo_first\nalert-long\nfin\n");
    let phases: Vec<&Event> = rec
        .events
        .iter()
        .filter(|e| matches!(e, Event::Phase(_)))
        .collect();
    assert_eq!(
        phases,
        [
            &Event::Phase(Phase::Rollback),
            &Event::Phase(Phase::OnFailure),
            &Event::Phase(Phase::Finally)
        ]
    );
}

#[tokio::test]
async fn ctrl_c_inside_a_group_names_the_inner_step_and_runs_the_group_finally() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: ctrlc
title: Ctrl-C
steps:
  - id: g
    group:
      steps:
        - id: inner
          shell: {command: "exec sleep 30"}
        - id: inner_next
          shell: {command: "@DIR@/mark log inner_next"}
      finally:
        - id: tidy
          shell: {command: "@DIR@/mark log tidy"}
      repeat: {max_attempts: 3}
finally:
  - id: fin
    shell:
      command: "@DIR@/mark log fin-{{run.failed_step}}"
"#,
    );
    let interrupt = Interrupt::default();
    let mut rec = Recorder::interrupting_at("inner", &interrupt);
    let report = run(&rb, with_interrupt(&interrupt), &mut rec).await;
    assert_eq!(report.status, RunStatus::Interrupted);
    assert_eq!(
        report.stop,
        Some(Stop::Interrupted {
            step: Some("inner".into()),
            signal: Some(Signal::Interrupt),
        })
    );
    // The group's `finally` is cleanup: it runs after Ctrl-C; no repeat is offered.
    assert_eq!(fx.read("log"), "tidy\nfin-inner\n");
    assert!(rec.decisions().is_empty());
    assert_eq!(step_report(&report, "g").outcome, StepOutcome::Failed);
    assert_eq!(
        step_report(&report, "inner_next").outcome,
        StepOutcome::NotRun
    );
}

#[tokio::test]
async fn ctrl_c_during_a_retry_delay_stops_waiting() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: ctrlc
title: Ctrl-C
steps:
  - id: flaky
    retry: {attempts: 3, delay: 60s, max_delay: 60s, on: [exit]}
    shell: {command: "@DIR@/flaky 5 count"}
finally:
  - id: fin
    shell: {command: "@DIR@/mark log fin"}
"#,
    );
    let interrupt = Interrupt::default();
    let mut rec = Recorder::interrupting_on_retry(&interrupt);
    let report = run(&rb, with_interrupt(&interrupt), &mut rec).await;
    assert_eq!(report.status, RunStatus::Interrupted);
    assert_eq!(
        report.stop,
        Some(Stop::Interrupted {
            step: Some("flaky".into()),
            signal: Some(Signal::Interrupt),
        })
    );
    // The wait was cut short: no second attempt.
    assert_eq!(step_report(&report, "flaky").attempts, 1);
    assert_eq!(fx.read("count").trim(), "1");
    assert_eq!(fx.read("log"), "fin\n");
}

#[tokio::test]
async fn ctrl_c_before_a_step_starts_stops_the_list_there() {
    let fx = Fixture::new();
    // Ctrl-C came before the run reached its first step: nothing starts, and the stop names the
    // step that was about to.
    let rb = fx.runbook(
        r#"
id: ctrlc
title: Ctrl-C
steps:
  - id: first
    shell: {command: "@DIR@/mark log first"}
  - id: next
    shell: {command: "@DIR@/mark log next"}
"#,
    );
    let interrupt = Interrupt::default();
    interrupt.trigger();
    let mut rec = Recorder::default();
    let report = run(&rb, with_interrupt(&interrupt), &mut rec).await;
    assert_eq!(report.status, RunStatus::Interrupted);
    assert_eq!(
        report.stop,
        Some(Stop::Interrupted {
            step: Some("first".into()),
            signal: Some(Signal::Interrupt),
        })
    );
    assert_eq!(fx.read("log"), "");
    assert!(rec.started().is_empty());
    assert_eq!(
        super::support::outcomes(&report),
        super::support::expect(&[
            ("first", StepOutcome::NotRun),
            ("next", StepOutcome::NotRun)
        ])
    );
}

/// Bug: `Run::decide` turns Ctrl-C at the question into `Err`, which `after_failure` treats as
/// abort, so `run_step` returns `Stop::Failed` and the run ends `rolled_back` (exit 10) with
/// `{{run.failure}}` set to the step's error, instead of `interrupted` (exit 130).
#[tokio::test]
async fn ctrl_c_while_the_operator_decides_about_a_failure_ends_the_run_interrupted() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: ctrlc
title: Ctrl-C
steps:
  - id: first
    shell: {command: "true"}
    rollback:
      - id: undo_first
        shell: {command: "@DIR@/mark log undo_first"}
  - id: shaky
    on_error: ask
    shell: {command: "exit 1"}
  - id: next
    shell: {command: "@DIR@/mark log next"}
"#,
    );
    let interrupt = Interrupt::default();
    // Ctrl-C comes once the step has failed, while the question is (about to be) asked.
    let mut rec = Recorder::interrupting_at_failure("shaky", &interrupt);
    let (script, _) = Script::new(json!({"decisions": {"shaky": "retry"}}));
    let report = run(
        &rb,
        EngineOptions {
            interrupt: interrupt.clone(),
            ..options(Some(script))
        },
        &mut rec,
    )
    .await;
    assert_eq!(fx.read("log"), "undo_first\n");
    assert_eq!(
        report.stop,
        Some(Stop::Interrupted {
            step: Some("shaky".into()),
            signal: Some(Signal::Interrupt),
        })
    );
    assert_eq!(report.status, RunStatus::Interrupted);
}

/// Bug: when Ctrl-C comes after a group step failed (during the group's `finally`, or at the repeat
/// question), `run_group` returns the step's failure (`attempt >= max || self.interrupted()`, or the
/// "no decision" path), so the run stops as `Stop::Failed` and ends `failed`, not `interrupted`.
#[tokio::test]
async fn ctrl_c_after_a_group_step_failed_ends_the_run_interrupted() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: ctrlc
title: Ctrl-C
steps:
  - id: g
    group:
      steps:
        - id: inner
          shell: {command: "exit 1"}
      finally:
        - id: tidy
          shell: {command: "@DIR@/mark log tidy"}
      repeat: {max_attempts: 3}
"#,
    );
    let interrupt = Interrupt::default();
    let mut rec = Recorder::interrupting_at_failure("inner", &interrupt);
    let (script, log) = Script::new(json!({"decisions": {"g": "retry"}}));
    let report = run(
        &rb,
        EngineOptions {
            interrupt: interrupt.clone(),
            ..options(Some(script))
        },
        &mut rec,
    )
    .await;
    // The group's `finally` ran, and no repeat was offered after Ctrl-C.
    assert_eq!(fx.read("log"), "tidy\n");
    assert!(asked(&log).is_empty());
    assert_eq!(report.status, RunStatus::Interrupted);
    assert!(
        matches!(report.stop, Some(Stop::Interrupted { .. })),
        "{:?}",
        report.stop
    );
}
