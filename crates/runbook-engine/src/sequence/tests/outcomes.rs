//! Warning outcomes, outcome references, the failed step's real message, `note` and `stop` steps,
//! and the preconditions confirmed before the first step.

use serde_json::json;

use super::support::{Fixture, Recorder, Script, options, run, run_plain, step_report};
use crate::error::StepErrorKind;
use crate::report::{RunStatus, StepOutcome};

#[tokio::test]
async fn on_error_warn_is_a_warning_and_outcomes_can_be_branched_on() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: warn
title: Warn
steps:
  - id: old_key_dead
    on_error: warn
    shell: {command: "echo still-works; exit 1"}
  - id: tell
    when:
      that: "{{steps.old_key_dead.outcome}}"
      equals: warned
    note:
      message: "old key answered {{steps.old_key_dead.outputs.stdout}}: expire it by hand"
  - id: record
    shell: {command: "@DIR@/mark log {{steps.old_key_dead.outcome}}-{{steps.tell.outcome}}"}
finally:
  - id: never_ran
    shell: {command: "@DIR@/mark log {{steps.nope.outcome}}"}
  - id: nope
    shell: {command: "true"}
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::SucceededWithWarnings);
    let warned = step_report(&report, "old_key_dead");
    assert_eq!(warned.outcome, StepOutcome::Warned);
    assert!(warned.error.is_some(), "a warning keeps its message");
    assert_eq!(
        report.warnings().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["old_key_dead"]
    );
    let note = step_report(&report, "tell");
    assert_eq!(note.outcome, StepOutcome::Passed);
    assert_eq!(
        note.note.as_deref(),
        Some("old key answered still-works: expire it by hand")
    );
    // `nope` had not run when `never_ran` asked: `not_run`.
    assert_eq!(fx.read("log"), "warned-passed\nnot_run\n");
}

#[tokio::test]
async fn a_note_that_cannot_render_is_a_warning_even_in_cleanup() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: note
title: Note
steps:
  - id: say
    note: {message: "user {{env.RB_NOBODY}}"}
  - id: fail
    shell: {command: "exit 2"}
on_failure:
  - id: tell
    note: {message: "{{env.RB_NOBODY}}"}
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(step_report(&report, "say").outcome, StepOutcome::Warned);
    assert_eq!(step_report(&report, "tell").outcome, StepOutcome::Warned);
    // The failure path's note did not make the cleanup fail.
    assert_eq!(report.status, RunStatus::RolledBack);
}

#[tokio::test]
async fn a_stop_step_ends_the_run_with_its_message_and_no_repeat() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: stop
title: Stop
inputs:
  environment: {default: paper}
steps:
  - id: rotate
    group:
      steps:
        - id: check
          shell: {command: "@DIR@/mark log check"}
        - id: wrong_env
          when:
            that: "{{inputs.environment}}"
            not_equals: live
          stop: {message: "STOP: wrong environment ({{inputs.environment}})"}
      repeat: {max_attempts: 3}
  - id: never
    shell: {command: "@DIR@/mark log never"}
on_failure:
  - id: alert
    shell:
      command: 'printf "%s|%s\n" "{{run.failed_step}}" "{{run.failure}}" >> @DIR@/seen'
"#,
    );
    let (script, _) = Script::new(json!({"decisions": {"rotate": ["retry", "retry"]}}));
    let mut rec = Recorder::default();
    let report = run(&rb, options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    // One attempt: a stop is not repeated even with decisions to retry.
    assert_eq!(fx.count("log"), 1);
    let stop = step_report(&report, "wrong_env");
    assert_eq!(
        stop.error.as_ref().map(|e| (e.kind, e.message.as_str())),
        Some((StepErrorKind::Stopped, "STOP: wrong environment (paper)"))
    );
    // `{{run.failure}}` is the inner step's message, not the group's summary.
    assert_eq!(fx.read("seen"), "rotate|STOP: wrong environment (paper)\n");
    assert!(
        rec.run_events()
            .contains(&"stopped rotate: STOP: wrong environment (paper)")
    );
}

#[tokio::test]
async fn run_failure_after_a_group_carries_the_inner_message() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: inner
title: Inner
steps:
  - id: phase
    group:
      steps:
        - id: mode
          assert:
            - that: "{{inputs.livemode}}"
              equals: true
              message: "WRONG MODE: livemode false"
inputs:
  livemode: {type: boolean, default: false}
on_failure:
  - id: alert
    shell:
      command: 'printf "%s\n" "{{run.failure}}" > @DIR@/seen'
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    let seen = fx.read("seen");
    assert!(
        seen.starts_with("assertion failed:\nWRONG MODE: livemode false"),
        "{seen}"
    );
    assert!(!seen.contains("attempt 1 of 1"), "{seen}");
}

/// A `use:` step is a group: `{{run.failure}}` after it is its fragment's failed step's message
/// (the Alpaca runbook's audit records carry it), not "step `pause.confirm` failed (attempt 1 of 1)".
#[tokio::test]
async fn run_failure_after_a_fragment_carries_the_inner_message() -> std::io::Result<()> {
    let fx = Fixture::new();
    std::fs::write(
        fx.path("check.fragment.yaml"),
        r#"
fragment: check
title: Check the mode
params:
  livemode: {type: boolean}
steps:
  - id: mode
    assert:
      - that: "{{params.livemode}}"
        equals: true
        message: "WRONG MODE: livemode false"
"#,
    )?;
    let rb = fx.runbook(
        r#"
id: frag
title: Fragment
steps:
  - id: phase
    use: check.fragment.yaml
    with: {livemode: false}
on_failure:
  - id: alert
    shell:
      command: 'printf "%s|%s\n" "{{run.failed_step}}" "{{run.failure}}" > @DIR@/seen'
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    let seen = fx.read("seen");
    assert!(
        seen.starts_with("phase|assertion failed:\nWRONG MODE: livemode false"),
        "{seen}"
    );
    assert!(!seen.contains("attempt 1 of 1"), "{seen}");
    Ok(())
}

const PRECONDITIONS: &str = r#"
id: pre
title: Pre
preconditions:
  - maintenance window announced
  - algos halted
steps:
  - id: first
    shell: {command: "@DIR@/mark log first"}
finally:
  - id: fin
    shell: {command: "@DIR@/mark log fin"}
"#;

#[tokio::test]
async fn preconditions_are_confirmed_once_before_the_first_step() {
    let fx = Fixture::new();
    let rb = fx.runbook(PRECONDITIONS);
    let (script, asked) = Script::new(json!({"preconditions": {"confirm": true}}));
    let mut rec = Recorder::default();
    let report = run(&rb, options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let record = report.preconditions.unwrap_or_else(|| panic!("recorded"));
    assert!(record.confirmed);
    assert_eq!(
        record.items,
        ["maintenance window announced", "algos halted"]
    );
    assert_eq!(super::support::asked(&asked).len(), 1);
    assert_eq!(rec.run_events(), ["preconditions confirmed"]);
    assert_eq!(fx.read("log"), "first\nfin\n");
}

#[tokio::test]
async fn preconditions_not_confirmed_mean_nothing_runs() {
    let fx = Fixture::new();
    let rb = fx.runbook(PRECONDITIONS);
    let (script, _) = Script::new(json!({"preconditions": {"confirm": false}}));
    let mut rec = Recorder::default();
    let report = run(&rb, options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(fx.read("log"), "", "no step and no finally ran");
    let (step, error) = report.failure().unwrap_or_else(|| panic!("a failure"));
    assert_eq!(step.id, "preconditions");
    assert_eq!(error.kind, StepErrorKind::Declined);
    assert_eq!(step_report(&report, "first").outcome, StepOutcome::NotRun);
    // Without an operator: not confirmed either, and said why.
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert!(
        report
            .preconditions
            .and_then(|record| record.refusal)
            .is_some_and(|why| why.contains("needs an operator"))
    );
}
