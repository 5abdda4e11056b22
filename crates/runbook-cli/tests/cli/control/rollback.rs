//! Rollback, the failure path and finally.

use wiremock::MockServer;

use super::helpers::{
    accept_posts, assert_code, indent, post, posts, recorded, report, respond, run_runbook, step,
};

/// Three steps that each register a compensation, a fourth that fails, a failure path and finally.
fn saga() -> String {
    let mut yaml =
        String::from("id: saga\ntitle: Saga\ninputs:\n  base_url: {type: string}\nsteps:\n");
    for n in 1..=3 {
        let mut step = post(&format!("step_{n}"), &format!("/step/{n}"));
        step.push_str("  rollback:\n");
        step.push_str(&indent(
            &post(&format!("undo_{n}"), &format!("/undo/{n}")),
            4,
        ));
        yaml.push_str(&indent(&step, 2));
    }
    yaml.push_str(&indent(&post("step_4", "/step/4"), 2));
    yaml.push_str(&indent(&post("after", "/after"), 2));
    yaml.push_str("on_failure:\n");
    yaml.push_str(&indent(&post("failure_path", "/on_failure"), 2));
    yaml.push_str("finally:\n");
    yaml.push_str(&indent(&post("cleanup", "/finally"), 2));
    yaml
}

const SAGA_ORDER: [&str; 9] = [
    "/step/1",
    "/step/2",
    "/step/3",
    "/step/4",
    "/undo/3",
    "/undo/2",
    "/undo/1",
    "/on_failure",
    "/finally",
];

#[tokio::test(flavor = "multi_thread")]
async fn rollback_runs_newest_first_then_the_failure_path_then_finally() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;

    let output = run_runbook(&server, &saga(), None, &[]);
    assert_code(&output, 10);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    assert!(output.stdout.contains("rolling back"), "{}", output.stdout);
    assert!(output.stdout.contains("failure path"), "{}", output.stdout);
    assert!(
        output.stdout.contains("step `step_4`"),
        "the summary names the failed step:\n{}",
        output.stdout
    );
    // `after` never started.
    assert!(output.stdout.contains("after"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_json_report_says_rolled_back_with_phases() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;

    let output = run_runbook(&server, &saga(), None, &["--output", "json"]);
    assert_code(&output, 10);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    let report = report(&output);
    assert_eq!(report["status"], "rolled_back", "{report:#}");
    assert_eq!(report["failed_step"], "step_4", "{report:#}");
    let order: Vec<(&str, &str)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|step| step["outcome"] != "not_run")
        .map(|step| {
            (
                step["id"].as_str().unwrap(),
                step["phase"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("step_1", "main"),
            ("step_2", "main"),
            ("step_3", "main"),
            ("step_4", "main"),
            ("undo_3", "rollback"),
            ("undo_2", "rollback"),
            ("undo_1", "rollback"),
            ("failure_path", "on_failure"),
            ("cleanup", "finally"),
        ],
        "{report:#}"
    );
    assert_eq!(step(&report, "step_4")["outcome"], "failed");
    assert_eq!(step(&report, "after")["outcome"], "not_run");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_compensation_exits_11_and_the_other_compensations_still_run() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;
    respond(&server, "/undo/2", 500).await;

    let output = run_runbook(&server, &saga(), None, &[]);
    assert_code(&output, 11);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    assert!(
        output.stdout.contains("ROLLBACK FAILED"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("`undo_2`"), "{}", output.stdout);
    assert!(output.stdout.contains("manual action"), "{}", output.stdout);

    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;
    respond(&server, "/undo/2", 500).await;
    let output = run_runbook(&server, &saga(), None, &["--output", "json"]);
    assert_code(&output, 11);
    let report = report(&output);
    assert_eq!(report["status"], "rollback_failed", "{report:#}");
    assert_eq!(step(&report, "undo_2")["outcome"], "failed");
    assert_eq!(step(&report, "undo_1")["outcome"], "passed");
    assert_eq!(step(&report, "failure_path")["outcome"], "passed");
    assert_eq!(step(&report, "cleanup")["outcome"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_failure_path_step_is_a_rollback_failure_too() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;
    respond(&server, "/on_failure", 500).await;

    let output = run_runbook(&server, &saga(), None, &["--output", "json"]);
    assert_code(&output, 11);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    assert_eq!(report(&output)["status"], "rollback_failed");
}

const FINALLY: &str = r#"
id: finally-always
title: Finally always runs
inputs:
  base_url: {type: string}
steps:
  - id: work
    http: {method: POST, url: "{{inputs.base_url}}/work"}
  - id: more
    http: {method: POST, url: "{{inputs.base_url}}/more"}
on_failure:
  - id: failure_path
    http: {method: POST, url: "{{inputs.base_url}}/on_failure"}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
  - id: cleanup_2
    http: {method: POST, url: "{{inputs.base_url}}/finally/2"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn finally_runs_on_success_and_the_failure_path_does_not() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    let output = run_runbook(&server, FINALLY, None, &[]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        posts(&["/work", "/more", "/finally", "/finally/2"])
    );
    assert!(output.stdout.contains("finally"), "{}", output.stdout);
    assert!(output.stdout.contains("succeeded"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn finally_runs_on_failure_after_the_failure_path() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/work", 500).await;
    let output = run_runbook(&server, FINALLY, None, &["--output", "json"]);
    assert_code(&output, 10);
    assert_eq!(
        recorded(&server).await,
        posts(&["/work", "/on_failure", "/finally", "/finally/2"])
    );
    let report = report(&output);
    assert_eq!(step(&report, "more")["outcome"], "not_run");
    assert_eq!(step(&report, "cleanup")["phase"], "finally");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_finally_step_runs_even_when_one_fails_and_the_run_then_fails() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/finally", 500).await;
    let output = run_runbook(&server, FINALLY, None, &["--output", "json"]);
    assert_ne!(output.code, 0, "a failed finally step fails the run");
    assert_eq!(
        recorded(&server).await,
        posts(&["/work", "/more", "/finally", "/finally/2"])
    );
    let report = report(&output);
    assert_eq!(report["status"], "failed", "{report:#}");
    assert_eq!(report["failed_step"], "cleanup", "{report:#}");
}

/// "Cancel the check order even if a later assertion fails."
const GROUP_FINALLY: &str = r#"
id: group-finally
title: A group's finally
inputs:
  base_url: {type: string}
steps:
  - id: check
    group:
      steps:
        - id: place_order
          http: {method: POST, url: "{{inputs.base_url}}/order"}
        - id: verify
          http: {method: POST, url: "{{inputs.base_url}}/verify"}
      finally:
        - id: cancel_order
          http: {method: POST, url: "{{inputs.base_url}}/order/cancel"}
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_group_finally_runs_after_the_group_on_success() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    let output = run_runbook(&server, GROUP_FINALLY, None, &[]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        posts(&["/order", "/verify", "/order/cancel", "/after", "/finally"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_finally_cancels_the_check_order_even_when_a_later_step_fails() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(&server, GROUP_FINALLY, None, &["--output", "json"]);
    assert_code(&output, 1);
    assert_eq!(
        recorded(&server).await,
        posts(&["/order", "/verify", "/order/cancel", "/finally"])
    );
    let report = report(&output);
    assert_eq!(report["failed_step"], "check", "{report:#}");
    assert_eq!(step(&report, "cancel_order")["outcome"], "passed");
    assert_eq!(step(&report, "after")["outcome"], "not_run");
}
