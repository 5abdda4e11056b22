//! After a failure: compensation newest first, the failure path, `finally`, and how the run ends.

use super::support::{Event, Fixture, run_plain, step_report};
use crate::report::{Phase, RunStatus, StepOutcome, Stop};

/// Two steps with rollbacks, a third that fails (or not: `@FAIL@`), then cleanup that records what
/// it saw of the failure.
const UNDO: &str = r#"
id: undo
title: Undo
steps:
  - id: first
    shell: {command: "@DIR@/mark log first"}
    rollback:
      - id: undo_first
        shell: {command: "@DIR@/mark log undo_first"}
  - id: plain
    shell: {command: "@DIR@/mark log plain"}
  - id: second
    shell: {command: "@DIR@/mark log second"}
    rollback:
      - id: undo_second
        shell: {command: "@DIR@/mark log undo_second; @UNDO2@"}
  - id: third
    shell: {command: "@DIR@/mark log third; @FAIL@"}
  - id: never
    shell: {command: "@DIR@/mark log never"}
on_failure:
  - id: alert
    shell:
      command: |
        printf '%s\n%s\n' "{{run.failed_step}}" "{{run.failure}}" > @DIR@/seen
        @DIR@/mark log alert
finally:
  - id: fin
    shell: {command: "@DIR@/mark log fin"}
"#;

fn undo(fx: &Fixture, fail: &str, undo_second: &str) -> runbook_dsl::Runbook {
    fx.runbook(&UNDO.replace("@FAIL@", fail).replace("@UNDO2@", undo_second))
}

#[tokio::test]
async fn rollbacks_run_newest_first_then_the_failure_path_then_finally() {
    let fx = Fixture::new();
    let (report, rec) = run_plain(&undo(&fx, "exit 7", "true")).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    assert_eq!(
        report.stop,
        Some(Stop::Failed {
            step: "third".into()
        })
    );
    assert_eq!(
        fx.read("log"),
        "first\nplain\nsecond\nthird\nundo_second\nundo_first\nalert\nfin\n"
    );
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
    let phase_of = |id: &str| step_report(&report, id).phase;
    assert_eq!(phase_of("undo_second"), Phase::Rollback);
    assert_eq!(phase_of("alert"), Phase::OnFailure);
    assert_eq!(phase_of("fin"), Phase::Finally);
    assert_eq!(step_report(&report, "never").outcome, StepOutcome::NotRun);
    // The cleanup saw which step failed and why.
    assert_eq!(
        fx.read("seen"),
        "third\n`sh @DIR@/mark log third; exit 7` exited with 7, expected 0\n"
            .replace("@DIR@", &fx.dir().display().to_string())
    );
}

#[tokio::test]
async fn a_failing_rollback_makes_the_run_rollback_failed_and_the_rest_still_runs() {
    let fx = Fixture::new();
    let (report, _) = run_plain(&undo(&fx, "exit 1", "exit 9")).await;
    assert_eq!(report.status, RunStatus::RollbackFailed);
    assert_eq!(report.failed_step.as_deref(), Some("third"));
    assert_eq!(
        fx.read("log"),
        "first\nplain\nsecond\nthird\nundo_second\nundo_first\nalert\nfin\n"
    );
    let failed: Vec<&str> = report.cleanup_failures().map(|s| s.id.as_str()).collect();
    assert_eq!(failed, ["undo_second"]);
}

#[tokio::test]
async fn a_successful_run_runs_no_compensation_only_finally() {
    let fx = Fixture::new();
    let (report, rec) = run_plain(&undo(&fx, "true", "true")).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(fx.read("log"), "first\nplain\nsecond\nthird\nnever\nfin\n");
    assert_eq!(
        rec.events
            .iter()
            .filter(|e| matches!(e, Event::Phase(_)))
            .collect::<Vec<_>>(),
        [&Event::Phase(Phase::Finally)]
    );
    assert_eq!(fx.read("seen"), "");
}

#[tokio::test]
async fn a_failure_before_any_rollback_registered_only_runs_the_failure_path() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: early
title: Early
steps:
  - id: boom
    shell: {command: "exit 1"}
  - id: later
    shell: {command: "true"}
    rollback:
      - id: undo_later
        shell: {command: "@DIR@/mark log undo_later"}
on_failure:
  - id: alert
    shell: {command: "@DIR@/mark log alert"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    assert_eq!(fx.read("log"), "alert\n");
    assert!(!rec.events.contains(&Event::Phase(Phase::Rollback)));
}

#[tokio::test]
async fn without_compensation_or_failure_path_a_failed_run_is_failed() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: bare
title: Bare
steps:
  - id: boom
    shell: {command: "exit 1"}
finally:
  - id: fin
    shell:
      command: "@DIR@/mark log {{run.failed_step}}"
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    // `finally` sees `{{run.failed_step}}` too.
    assert_eq!(fx.read("log"), "boom\n");
}

#[tokio::test]
async fn a_failing_finally_after_success_fails_the_run() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: fin
title: Fin
steps:
  - id: ok
    shell: {command: "true"}
    rollback:
      - id: undo_ok
        shell: {command: "@DIR@/mark log undo_ok"}
finally:
  - id: fin_bad
    shell: {command: "exit 1"}
  - id: fin_good
    shell: {command: "@DIR@/mark log fin_good"}
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.stop, None);
    assert_eq!(report.failed_step.as_deref(), Some("fin_bad"));
    // No compensation for a run whose steps succeeded; the other finally step still ran.
    assert_eq!(fx.read("log"), "fin_good\n");
}

#[tokio::test]
async fn a_failing_finally_after_a_failure_is_rollback_failed() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: fin
title: Fin
steps:
  - id: boom
    shell: {command: "exit 1"}
finally:
  - id: fin_bad
    shell: {command: "exit 1"}
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::RollbackFailed);
    assert_eq!(report.failed_step.as_deref(), Some("boom"));
}

#[tokio::test]
async fn a_rollback_inside_a_group_is_compensated_after_a_later_failure() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: grouped
title: Grouped
steps:
  - id: g
    group:
      steps:
        - id: inside
          shell: {command: "@DIR@/mark log inside"}
          rollback:
            - id: undo_inside
              shell: {command: "@DIR@/mark log undo_inside"}
  - id: top
    shell: {command: "@DIR@/mark log top"}
    rollback:
      - id: undo_top
        shell: {command: "@DIR@/mark log undo_top"}
  - id: boom
    shell: {command: "exit 1"}
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    assert_eq!(fx.read("log"), "inside\ntop\nundo_top\nundo_inside\n");
}
