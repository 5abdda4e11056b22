//! A leaf step's attempts: `retry` (attempts, classes, backoff) and `until`/`poll` waits.

use std::time::Duration;

use super::support::{Fixture, run_plain, step_report as report_of};
use crate::error::StepErrorKind;
use crate::observer::Progress;
use crate::report::{RunStatus, StepOutcome};

#[tokio::test]
async fn retry_on_exit_passes_after_failed_attempts() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: retry
title: Retry
steps:
  - id: flaky
    retry: {attempts: 5, delay: 1ms, backoff: 2, max_delay: 3ms, on: [exit]}
    shell: {command: "@DIR@/flaky 2 count"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let step = report_of(&report, "flaky");
    assert_eq!(step.outcome, StepOutcome::Passed);
    assert_eq!(step.attempts, 3);
    assert_eq!(step.outputs.get("stdout"), Some(&serde_json::json!("3")));
    assert_eq!(fx.read("count").trim(), "3");
    // One report and one start for the step: retries happen inside it.
    assert_eq!(report.steps.len(), 1);
    assert_eq!(rec.started(), ["flaky"]);
    let retries: Vec<(u32, u32, Duration)> = rec
        .progress("flaky")
        .into_iter()
        .map(|p| match p {
            Progress::Retrying {
                attempt, of, wait, ..
            } => (*attempt, *of, *wait),
            other => panic!("unexpected progress {other:?}"),
        })
        .collect();
    // The delay doubles (backoff 2) from 1ms.
    assert_eq!(
        retries,
        [
            (1, 5, Duration::from_millis(1)),
            (2, 5, Duration::from_millis(2))
        ]
    );
}

#[tokio::test]
async fn retry_gives_up_after_its_attempts() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: retry
title: Retry
steps:
  - id: flaky
    retry: {attempts: 3, delay: 1ms, on: [exit]}
    shell: {command: "@DIR@/flaky 10 count"}
  - id: next
    shell: {command: "@DIR@/mark next"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    let step = report_of(&report, "flaky");
    assert_eq!(step.outcome, StepOutcome::Failed);
    assert_eq!(step.attempts, 3);
    assert_eq!(fx.read("count").trim(), "3");
    assert_eq!(rec.progress("flaky").len(), 2);
    assert_eq!(fx.count("next"), 0);
}

#[tokio::test]
async fn a_failure_outside_the_retry_classes_is_not_retried() {
    let fx = Fixture::new();
    // The default classes (transport, timeout, 429, 5xx) do not cover an exit code.
    let rb = fx.runbook(
        r#"
id: retry
title: Retry
steps:
  - id: flaky
    retry: {attempts: 4, delay: 1ms}
    shell: {command: "@DIR@/flaky 2 count"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report_of(&report, "flaky").attempts, 1);
    assert_eq!(fx.read("count").trim(), "1");
    assert!(rec.progress("flaky").is_empty());
}

#[tokio::test]
async fn retry_on_timeout_retries_a_step_that_runs_too_long() {
    let fx = Fixture::new();
    // Attempts 1 and 2 sleep past the 400ms timeout; attempt 3 is quick.
    let rb = fx.runbook(
        r#"
id: retry
title: Retry
steps:
  - id: slow
    timeout: 400ms
    retry: {attempts: 3, delay: 1ms, on: [timeout]}
    shell:
      command: "n=$(@DIR@/flaky 2 slow) || exec sleep 5; echo $n"
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let step = report_of(&report, "slow");
    assert_eq!(step.attempts, 3);
    assert!(
        rec.progress("slow")
            .iter()
            .all(|p| matches!(p, Progress::Retrying { error, .. } if error.contains("400ms")))
    );
    assert_eq!(rec.progress("slow").len(), 2);
}

#[tokio::test]
async fn until_polls_until_the_condition_holds() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: wait
title: Wait
steps:
  - id: wait
    shell: {command: "@DIR@/flaky 0 polls"}
    until: {that: "{{outputs.stdout}}", equals: "4"}
    poll: {interval: 1ms, timeout: 20s}
  - id: next
    shell: {command: "@DIR@/mark next"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    let step = report_of(&report, "wait");
    assert_eq!(step.attempts, 4);
    assert_eq!(step.outputs.get("stdout"), Some(&serde_json::json!("4")));
    let waits: Vec<(u32, String)> = rec
        .progress("wait")
        .into_iter()
        .map(|p| match p {
            Progress::Waiting {
                attempt, observed, ..
            } => (*attempt, observed.clone()),
            other => panic!("unexpected progress {other:?}"),
        })
        .collect();
    assert_eq!(
        waits,
        [
            (1, "\"1\" (string)".to_owned()),
            (2, "\"2\" (string)".to_owned()),
            (3, "\"3\" (string)".to_owned())
        ]
    );
    assert_eq!(fx.count("next"), 1);
}

#[tokio::test]
async fn until_counts_a_failed_attempt_as_not_yet() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: wait
title: Wait
steps:
  - id: wait
    shell: {command: "@DIR@/flaky 2 polls"}
    until: {that: "{{outputs.exit_code}}", equals: 0}
    poll: {interval: 1ms, timeout: 20s}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(report_of(&report, "wait").attempts, 3);
    let observed: Vec<bool> = rec
        .progress("wait")
        .into_iter()
        .map(|p| matches!(p, Progress::Waiting { observed, .. } if observed.starts_with("error:")))
        .collect();
    assert_eq!(observed, [true, true]);
}

#[tokio::test]
async fn until_that_never_holds_times_out() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: wait
title: Wait
steps:
  - id: wait
    shell: {command: "@DIR@/flaky 0 polls"}
    until: {that: "{{outputs.stdout}}", equals: "never", message: still not ready}
    poll: {interval: 10ms, timeout: 200ms}
  - id: next
    shell: {command: "@DIR@/mark next"}
"#,
    );
    let (report, rec) = run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Failed);
    let step = report_of(&report, "wait");
    assert_eq!(step.outcome, StepOutcome::Failed);
    let error = step.error.as_ref().unwrap_or_else(|| panic!("no error"));
    assert_eq!(error.kind, StepErrorKind::Timeout);
    assert!(
        error
            .message
            .starts_with("still not ready: the condition did not hold within 200ms"),
        "{}",
        error.message
    );
    // Every attempt ran, and the message names the last value seen.
    let attempts = fx.read("polls").trim().parse::<u32>().unwrap_or(0);
    assert!(attempts >= 1);
    assert_eq!(step.attempts, attempts);
    assert!(error.message.contains(&format!("({attempts} attempts)")));
    assert!(error.message.contains(&format!("\"{attempts}\" (string)")));
    assert_eq!(rec.progress("wait").len() as u32, attempts - 1);
    assert_eq!(fx.count("next"), 0);
}
