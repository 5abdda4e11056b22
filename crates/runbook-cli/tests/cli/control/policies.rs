//! Failure policies.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{
    accept_posts, assert_code, executions, posts, recorded, report, respond, run_runbook, step,
};

fn policy(on_error: &str) -> String {
    format!(
        r#"
id: policy
title: Failure policy
inputs:
  base_url: {{type: string}}
steps:
  - id: flaky
    {on_error}
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/flaky"}}
  - id: next
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/next"}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_continue_goes_on_and_the_run_succeeds() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(
        &server,
        &policy("on_error: continue"),
        None,
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/flaky", "/next"]));
    let report = report(&output);
    assert_eq!(report["status"], "succeeded");
    assert_eq!(step(&report, "flaky")["outcome"], "failed");
    assert_eq!(step(&report, "next")["outcome"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn abort_is_the_default_policy() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(&server, &policy(""), None, &[]);
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/flaky"]));
    assert!(output.stdout.contains("got 500"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_retry_runs_the_step_again() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let output = run_runbook(
        &server,
        &policy("on_error: ask"),
        Some("decisions:\n  flaky: [retry]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        posts(&["/flaky", "/flaky", "/next"])
    );
    let report = report(&output);
    let runs: Vec<&Value> = executions(&report, "flaky");
    assert_eq!(runs.len(), 2, "{report:#}");
    assert_eq!(runs[0]["outcome"], "failed");
    assert_eq!(runs[1]["outcome"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_skip_goes_on_and_records_the_decision() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(
        &server,
        &policy("on_error: ask"),
        Some("decisions:\n  flaky: [skip]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/flaky", "/next"]));
    let report = report(&output);
    let note = step(&report, "flaky")["note"].as_str().unwrap_or_default();
    assert!(note.contains("skip"), "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_abort_stops_the_run() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(
        &server,
        &policy("on_error: ask"),
        Some("decisions:\n  flaky: [abort]\n"),
        &["--output", "json"],
    );
    assert_ne!(output.code, 0);
    assert_eq!(recorded(&server).await, posts(&["/flaky"]));
    let report = report(&output);
    assert_eq!(report["failed_step"], "flaky", "{report:#}");
    assert_eq!(step(&report, "next")["outcome"], "not_run");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_with_a_skipped_step_makes_later_references_fail() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let yaml = r#"
id: policy
title: Failure policy
inputs:
  base_url: {type: string}
steps:
  - id: flaky
    on_error: ask
    http: {method: POST, url: "{{inputs.base_url}}/flaky"}
  - id: next
    http:
      method: POST
      url: "{{inputs.base_url}}/next"
      json: {status: "{{steps.flaky.outputs.status}}"}
"#;
    let output = run_runbook(&server, yaml, Some("decisions:\n  flaky: [skip]\n"), &[]);
    assert_ne!(output.code, 0, "{}", output.stdout);
    // The skipped step's outputs do not exist: `next` fails before sending anything.
    assert_eq!(recorded(&server).await, posts(&["/flaky"]));
}
