//! Lists of steps: order, `when`, a failure stopping the list, and each `on_error` policy.

use serde_json::json;

use super::support::{
    Event, Fixture, Recorder, Script, asked, expect, options, outcomes, step_report,
};
use crate::StepOutcome::{Failed, NotRun, Passed, Skipped};
use crate::observer::Progress;
use crate::prompter::Decision;
use crate::report::{Phase, RunStatus, Stop};

#[tokio::test]
async fn steps_run_in_order_and_see_earlier_outputs() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: order
title: Order
steps:
  - id: one
    shell: {command: "@DIR@/mark log one; echo first"}
  - id: two
    shell:
      command: "@DIR@/mark log two-{{steps.one.outputs.stdout}}"
  - id: three
    shell: {command: "@DIR@/mark log three"}
"#,
    );
    let (report, rec) = super::support::run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(report.stop, None);
    assert_eq!(fx.read("log"), "one\ntwo-first\nthree\n");
    assert_eq!(
        rec.trace(),
        [
            "start one",
            "end one passed",
            "start two",
            "end two passed",
            "start three",
            "end three passed"
        ]
    );
    // Each step is checkpointed between its start and its end, at the top level.
    let one: Vec<&Event> = rec
        .events
        .iter()
        .filter(|e| match e {
            Event::Started { step, .. } | Event::Checkpoint(step) => step == "one",
            Event::Finished { step, .. } => step == "one",
            _ => false,
        })
        .collect();
    assert_eq!(
        one,
        [
            &Event::Started {
                step: "one".into(),
                phase: Phase::Main,
                depth: 0,
                cleanup: false
            },
            &Event::Checkpoint("one".into()),
            &Event::Finished {
                step: "one".into(),
                phase: Phase::Main,
                outcome: Passed,
                restored: false
            }
        ]
    );
    assert_eq!(rec.events.first(), Some(&Event::RunStarted("order".into())));
    assert_eq!(
        rec.events.last(),
        Some(&Event::RunFinished(RunStatus::Succeeded))
    );
    assert_eq!(report.steps.iter().map(|s| s.attempts).sum::<u32>(), 3);
}

#[tokio::test]
async fn a_false_when_skips_the_step_without_running_it() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: when
title: When
inputs:
  live: {type: boolean, default: false}
steps:
  - id: only_live
    when: {that: "{{inputs.live}}", equals: true}
    shell: {command: "@DIR@/mark skipped"}
  - id: only_paper
    when: {that: "{{inputs.live}}", equals: false}
    shell: {command: "@DIR@/mark ran"}
  - id: after
    when: {that: "{{steps.only_live.outputs.stdout}}", exists: false}
    shell: {command: "@DIR@/mark after"}
"#,
    );
    let (report, rec) = super::support::run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        outcomes(&report),
        expect(&[
            ("only_live", Skipped),
            ("only_paper", Passed),
            ("after", Passed)
        ])
    );
    assert_eq!(
        (fx.count("skipped"), fx.count("ran"), fx.count("after")),
        (0, 1, 1)
    );
    // A skipped step is reported finished but never started or checkpointed.
    assert!(!rec.started().contains(&"only_live"));
    assert!(!rec.events.contains(&Event::Checkpoint("only_live".into())));
    assert_eq!(report.steps[0].attempts, 0);
}

#[tokio::test]
async fn a_failure_stops_the_list_and_later_steps_are_not_run() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: stop
title: Stop
steps:
  - id: a
    shell: {command: "@DIR@/mark a"}
  - id: boom
    shell: {command: "exit 3"}
  - id: b
    shell: {command: "@DIR@/mark b"}
  - id: c
    shell: {command: "@DIR@/mark c"}
"#,
    );
    let (report, rec) = super::support::run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(
        report.stop,
        Some(Stop::Failed {
            step: "boom".into()
        })
    );
    assert_eq!(report.failed_step.as_deref(), Some("boom"));
    assert_eq!(
        outcomes(&report),
        expect(&[
            ("a", Passed),
            ("boom", Failed),
            ("b", NotRun),
            ("c", NotRun)
        ])
    );
    assert_eq!(rec.started(), ["a", "boom"]);
    assert_eq!((fx.count("b"), fx.count("c")), (0, 0));
    let (_, error) = report.failure().unwrap_or_else(|| panic!("no failure"));
    assert!(error.message.contains("exited with 3"), "{}", error.message);
}

#[tokio::test]
async fn on_error_continue_records_the_failure_and_goes_on() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: cont
title: Continue
steps:
  - id: tolerated
    on_error: continue
    shell: {command: "exit 1"}
  - id: next
    shell: {command: "@DIR@/mark next"}
"#,
    );
    let (report, rec) = super::support::run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(report.stop, None);
    assert_eq!(
        outcomes(&report),
        expect(&[("tolerated", Failed), ("next", Passed)])
    );
    assert_eq!(fx.count("next"), 1);
    assert_eq!(rec.started(), ["tolerated", "next"]);
}

/// A step that fails the first time (`flaky 1`), with `on_error: ask`.
const ASK: &str = r#"
id: ask
title: Ask
steps:
  - id: shaky
    on_error: ask
    shell: {command: "@DIR@/flaky 1 shaky"}
  - id: next
    shell:
      command: "@DIR@/mark next {{steps.shaky.outputs.stdout}}"
"#;

#[tokio::test]
async fn on_error_ask_retry_runs_the_step_again() {
    let fx = Fixture::new();
    let (script, log) = Script::new(json!({"decisions": {"shaky": ["retry"]}}));
    let mut rec = Recorder::default();
    let report = super::support::run(&fx.runbook(ASK), options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        outcomes(&report),
        expect(&[("shaky", Failed), ("shaky", Passed), ("next", Passed)])
    );
    assert_eq!(fx.read("shaky").trim(), "2");
    // The retried step's outputs are the second execution's.
    assert_eq!(fx.read("next"), "2\n");
    assert_eq!(
        rec.trace(),
        [
            "start shaky",
            "end shaky failed",
            "decide shaky retry",
            "start shaky",
            "end shaky passed",
            "start next",
            "end next passed"
        ]
    );
    assert_eq!(asked(&log).len(), 1);
    assert_eq!(asked(&log)[0].what, "decide");
}

#[tokio::test]
async fn on_error_ask_skip_goes_on_with_the_step_skipped() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: skip
title: Skip
steps:
  - id: shaky
    on_error: ask
    shell: {command: "exit 1"}
  - id: next
    shell: {command: "@DIR@/mark next"}
  - id: uses_it
    on_error: continue
    shell: {command: "echo {{steps.shaky.outputs.exit_code}}"}
"#,
    );
    let (script, _) = Script::new(json!({"decisions": {"shaky": "skip"}}));
    let mut rec = Recorder::default();
    let report = super::support::run(&rb, options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        outcomes(&report),
        expect(&[("shaky", Skipped), ("next", Passed), ("uses_it", Failed)])
    );
    assert_eq!(fx.count("next"), 1);
    assert_eq!(rec.decisions(), [("shaky", Decision::Skip)]);
    assert_eq!(rec.progress("shaky"), [&Progress::SkippedByOperator]);
    // A skipped step's outputs are undefined afterwards, not its failed attempt's.
    let uses = step_report(&report, "uses_it");
    let message = uses
        .error
        .as_ref()
        .map(|e| e.message.as_str())
        .unwrap_or("");
    assert!(message.contains("skipped"), "{message}");
}

#[tokio::test]
async fn on_error_ask_abort_stops_the_run() {
    let fx = Fixture::new();
    let (script, _) = Script::new(json!({"decisions": {"shaky": ["abort"]}}));
    let mut rec = Recorder::default();
    let report = super::support::run(&fx.runbook(ASK), options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(
        report.stop,
        Some(Stop::Failed {
            step: "shaky".into()
        })
    );
    assert_eq!(
        outcomes(&report),
        expect(&[("shaky", Failed), ("next", NotRun)])
    );
    assert_eq!(rec.decisions(), [("shaky", Decision::Abort)]);
    assert_eq!(fx.read("shaky").trim(), "1");
}

#[tokio::test]
async fn on_error_ask_without_an_operator_stops_the_run() {
    let fx = Fixture::new();
    let (report, rec) = super::support::run_plain(&fx.runbook(ASK)).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(
        report.stop,
        Some(Stop::Failed {
            step: "shaky".into()
        })
    );
    assert!(rec.decisions().is_empty());
    assert!(matches!(
        rec.progress("shaky").as_slice(),
        [Progress::NoDecision { .. }]
    ));
    assert_eq!(fx.read("shaky").trim(), "1");
}

#[tokio::test]
async fn on_error_abort_run_stops_like_abort_at_the_top_level() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: fatal
title: Fatal
steps:
  - id: fatal
    on_error: abort_run
    shell: {command: "exit 1"}
  - id: next
    shell: {command: "@DIR@/mark next"}
finally:
  - id: fin
    shell: {command: "@DIR@/mark fin"}
"#,
    );
    let (report, rec) = super::support::run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(
        report.stop,
        Some(Stop::Failed {
            step: "fatal".into()
        })
    );
    assert_eq!(fx.count("next"), 0);
    // `finally` still runs after a fatal failure.
    assert_eq!(fx.count("fin"), 1);
    assert_eq!(
        rec.trace(),
        [
            "start fatal",
            "end fatal failed",
            "phase finally",
            "start fin",
            "end fin passed"
        ]
    );
}
