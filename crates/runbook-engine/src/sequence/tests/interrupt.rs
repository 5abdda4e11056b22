//! Ctrl-C, triggered from the observer: the run stops at the step, then cleanup runs.

use std::time::{Duration, Instant};

use super::support::{Event, Fixture, Recorder, options, run, step_report};
use crate::error::StepErrorKind;
use crate::interrupt::Interrupt;
use crate::report::{Phase, RunStatus, StepOutcome, Stop};

fn with_interrupt(interrupt: &Interrupt) -> crate::EngineOptions {
    crate::EngineOptions {
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
            step: Some("long".into())
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
            step: Some("inner".into())
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
            step: Some("flaky".into())
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
            step: Some("first".into())
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
