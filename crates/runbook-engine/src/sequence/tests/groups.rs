//! Groups: their `finally`, operator-decided repeats, `abort_run` inside a repeat, nesting.

use serde_json::json;

use super::support::{
    Event, Fixture, Recorder, Script, asked, expect, options, outcomes, run, run_plain, step_report,
};
use crate::StepOutcome::{Failed, NotRun, Passed, Skipped};
use crate::observer::Progress;
use crate::prompter::Decision;
use crate::report::{Phase, RunStatus, Stop};

#[tokio::test]
async fn group_finally_runs_after_its_steps_pass() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: group
title: Group
steps:
  - id: g
    group:
      steps:
        - id: a
          shell: {command: "@DIR@/mark log a"}
      finally:
        - id: tidy
          shell: {command: "@DIR@/mark log tidy"}
  - id: after
    shell: {command: "@DIR@/mark log after"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(fx.read("log"), "a\ntidy\nafter\n");
    assert_eq!(
        rec.trace(),
        [
            "start g",
            "start a",
            "end a passed",
            "start tidy",
            "end tidy passed",
            "end g passed",
            "start after",
            "end after passed"
        ]
    );
    let tidy = rec.events.iter().find_map(|e| match e {
        Event::Started {
            step,
            phase,
            depth,
            cleanup,
        } if step == "tidy" => Some((*phase, *depth, *cleanup)),
        _ => None,
    });
    assert_eq!(tidy, Some((Phase::Main, 1, true)));
}

#[tokio::test]
async fn group_finally_runs_when_a_group_step_fails() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: group
title: Group
steps:
  - id: g
    group:
      steps:
        - id: a
          shell: {command: "exit 1"}
        - id: b
          shell: {command: "@DIR@/mark b"}
      finally:
        - id: tidy
          shell: {command: "exit 2"}
        - id: tidy2
          shell: {command: "@DIR@/mark tidy2"}
  - id: after
    shell: {command: "@DIR@/mark after"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.stop, Some(Stop::Failed { step: "g".into() }));
    // Every `finally` step runs, even after one of them failed.
    assert_eq!(
        (fx.count("b"), fx.count("tidy2"), fx.count("after")),
        (0, 1, 0)
    );
    assert_eq!(
        outcomes(&report),
        expect(&[
            ("a", Failed),
            ("tidy", Failed),
            ("tidy2", Passed),
            ("g", Failed),
            ("b", NotRun),
            ("after", NotRun)
        ])
    );
    assert_eq!(rec.started(), ["g", "a", "tidy", "tidy2"]);
    let message = step_report(&report, "g")
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(message.contains("step `a` failed"), "{message}");
}

#[tokio::test]
async fn a_failing_group_finally_fails_a_group_whose_steps_passed() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: group
title: Group
steps:
  - id: g
    group:
      steps:
        - id: a
          shell: {command: "true"}
      finally:
        - id: tidy
          shell: {command: "false"}
"#,
    );
    let (report, _) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.stop, Some(Stop::Failed { step: "g".into() }));
    let message = step_report(&report, "g")
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("`finally` step of the group failed"),
        "{message}"
    );
}

/// A group whose step fails on its first run, repeatable three times.
const REPEAT: &str = r#"
id: repeat
title: Repeat
steps:
  - id: g
    group:
      steps:
        - id: try_it
          shell: {command: "@DIR@/flaky 1 tries"}
        - id: then
          shell: {command: "@DIR@/mark then"}
      finally:
        - id: tidy
          shell: {command: "@DIR@/mark tidy"}
      repeat: {max_attempts: 3}
"#;

#[tokio::test]
async fn a_group_repeats_when_the_operator_chooses_to() {
    let fx = Fixture::new();
    let (script, log) = Script::new(json!({"decisions": {"g": ["retry"]}}));
    let mut rec = Recorder::default();
    let report = run(&fx.runbook(REPEAT), options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        rec.trace(),
        [
            "start g",
            "start try_it",
            "end try_it failed",
            "start tidy",
            "end tidy passed",
            "decide g retry",
            "start try_it",
            "end try_it passed",
            "start then",
            "end then passed",
            "start tidy",
            "end tidy passed",
            "end g passed"
        ]
    );
    assert_eq!(
        rec.progress("g"),
        [&Progress::GroupAttempt { attempt: 2, of: 3 }]
    );
    assert_eq!(step_report(&report, "g").attempts, 2);
    assert_eq!((fx.count("tidy"), fx.count("then")), (2, 1));
    assert_eq!(asked(&log).len(), 1);
}

#[tokio::test]
async fn a_group_is_not_repeated_when_the_operator_aborts() {
    let fx = Fixture::new();
    let (script, _) = Script::new(json!({"decisions": {"g": ["abort"]}}));
    let mut rec = Recorder::default();
    let report = run(&fx.runbook(REPEAT), options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.stop, Some(Stop::Failed { step: "g".into() }));
    assert_eq!(rec.decisions(), [("g", Decision::Abort)]);
    assert_eq!((fx.count("tidy"), fx.count("then")), (1, 0));
    let g = step_report(&report, "g");
    assert_eq!(g.attempts, 1);
    let message = g
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(message.contains("the operator chose to abort"), "{message}");
}

#[tokio::test]
async fn a_group_stops_repeating_at_max_attempts() {
    let fx = Fixture::new();
    let rb = fx.runbook(&REPEAT.replace("flaky 1", "flaky 9"));
    let (script, log) = Script::new(json!({"decisions": {"g": ["retry", "retry", "retry"]}}));
    let mut rec = Recorder::default();
    let report = run(&rb, options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Failed);
    // Two repeats asked for; the third failure ends the group without a question.
    assert_eq!(asked(&log).len(), 2);
    assert_eq!(fx.read("tries").trim(), "3");
    assert_eq!(fx.count("tidy"), 3);
    assert_eq!(step_report(&report, "g").attempts, 3);
}

#[tokio::test]
async fn abort_run_inside_a_repeat_group_offers_no_repeat() {
    let fx = Fixture::new();
    let rb = fx.runbook(&REPEAT.replace(
        "        - id: try_it\n",
        "        - id: try_it\n          on_error: abort_run\n",
    ));
    let (script, log) = Script::new(json!({"decisions": {"g": ["retry"]}}));
    let mut rec = Recorder::default();
    let report = run(&rb, options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.stop, Some(Stop::Failed { step: "g".into() }));
    assert!(asked(&log).is_empty(), "asked: {:?}", asked(&log));
    assert!(rec.decisions().is_empty());
    assert_eq!(fx.read("tries").trim(), "1");
    // Its `finally` still ran once.
    assert_eq!(fx.count("tidy"), 1);
    let message = step_report(&report, "g")
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("it stops the run (no repeat)"),
        "{message}"
    );
}

#[tokio::test]
async fn nested_groups_run_their_finally_inside_out() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: nested
title: Nested
steps:
  - id: outer
    group:
      steps:
        - id: first
          shell: {command: "@DIR@/mark log first"}
        - id: inner
          group:
            steps:
              - id: deep
                shell: {command: "@DIR@/mark log deep; exit 1"}
              - id: deeper
                shell: {command: "@DIR@/mark log deeper"}
            finally:
              - id: inner_tidy
                shell: {command: "@DIR@/mark log inner_tidy"}
        - id: last
          shell: {command: "@DIR@/mark log last"}
      finally:
        - id: outer_tidy
          shell: {command: "@DIR@/mark log outer_tidy"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(
        report.stop,
        Some(Stop::Failed {
            step: "outer".into()
        })
    );
    assert_eq!(fx.read("log"), "first\ndeep\ninner_tidy\nouter_tidy\n");
    assert_eq!(
        rec.trace(),
        [
            "start outer",
            "start first",
            "end first passed",
            "start inner",
            "start deep",
            "end deep failed",
            "start inner_tidy",
            "end inner_tidy passed",
            "end inner failed",
            "start outer_tidy",
            "end outer_tidy passed",
            "end outer failed"
        ]
    );
    let depths: Vec<(&str, usize)> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Started { step, depth, .. } => Some((step.as_str(), *depth)),
            _ => None,
        })
        .collect();
    assert_eq!(
        depths,
        [
            ("outer", 0),
            ("first", 1),
            ("inner", 1),
            ("deep", 2),
            ("inner_tidy", 2),
            ("outer_tidy", 1)
        ]
    );
    let not_run: Vec<&str> = report
        .steps
        .iter()
        .filter(|s| s.outcome == NotRun)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(not_run, ["deeper", "last"]);
}

#[tokio::test]
async fn a_group_whose_when_does_not_hold_is_skipped_with_its_steps() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: skipped
title: Skipped
steps:
  - id: g
    when: {that: "{{env.RB_NEVER_SET}}", exists: true}
    group:
      steps:
        - id: inside
          shell: {command: "@DIR@/mark log inside"}
      finally:
        - id: tidy
          shell: {command: "@DIR@/mark log tidy"}
  - id: after
    shell: {command: "@DIR@/mark log after"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    // Neither its steps nor its `finally` run, and they are not reported as `not_run`.
    assert_eq!(fx.read("log"), "after\n");
    assert_eq!(
        outcomes(&report),
        expect(&[("g", Skipped), ("after", Passed)])
    );
    assert_eq!(rec.started(), ["after"]);
}
