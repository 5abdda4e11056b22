//! Repeat groups under operator control.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{
    accept_posts, assert_code, executions, posts, recorded, report, respond, run_runbook, step,
};

const REPEAT: &str = r#"
id: repeat-group
title: Regenerate until the key works
inputs:
  base_url: {type: string}
steps:
  - id: rotate
    group:
      steps:
        - id: regenerate
          http: {method: POST, url: "{{inputs.base_url}}/regenerate"}
        - id: verify
          http: {method: POST, url: "{{inputs.base_url}}/verify"}
      finally:
        - id: cancel_order
          http: {method: POST, url: "{{inputs.base_url}}/cancel"}
      repeat:
        max_attempts: 3
  - id: resume
    http: {method: POST, url: "{{inputs.base_url}}/resume"}
"#;

fn attempt() -> [&'static str; 3] {
    ["/regenerate", "/verify", "/cancel"]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_stops_at_its_budget() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(
        &server,
        REPEAT,
        Some("decisions:\n  rotate: [retry, retry]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 1);
    let expected: Vec<&str> = attempt().repeat(3);
    assert_eq!(recorded(&server).await, posts(&expected));
    let report = report(&output);
    assert_eq!(report["status"], "failed", "{report:#}");
    assert_eq!(report["failed_step"], "rotate", "{report:#}");
    let group = step(&report, "rotate");
    assert_eq!(group["attempts"], 3, "{report:#}");
    let message = group["error"]["message"].as_str().unwrap();
    assert!(message.contains("attempt 3 of 3"), "{message}");
    assert_eq!(executions(&report, "verify").len(), 3, "{report:#}");
    assert_eq!(executions(&report, "cancel_order").len(), 3, "{report:#}");
    assert_eq!(step(&report, "resume")["outcome"], "not_run");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_succeeds_on_the_second_attempt() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/verify"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let output = run_runbook(
        &server,
        REPEAT,
        Some("decisions:\n  rotate: [retry]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    let mut expected: Vec<&str> = attempt().repeat(2);
    expected.push("/resume");
    assert_eq!(recorded(&server).await, posts(&expected));
    let report = report(&output);
    assert_eq!(report["status"], "succeeded", "{report:#}");
    assert_eq!(step(&report, "rotate")["attempts"], 2, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_stops_when_the_operator_aborts() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(
        &server,
        REPEAT,
        Some("decisions:\n  rotate: [abort]\n"),
        &[],
    );
    assert_ne!(output.code, 0, "{}", output.stdout);
    assert_eq!(recorded(&server).await, posts(&attempt()));
    assert!(
        output.stdout.contains("the operator chose to abort"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_without_a_decision_does_not_repeat() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    // An answers file with no decision for `rotate`: nobody chose retry, so nothing repeats.
    let output = run_runbook(&server, REPEAT, Some("decisions: {}\n"), &[]);
    assert_ne!(output.code, 0, "{}", output.stdout);
    assert_eq!(recorded(&server).await, posts(&attempt()));
    assert!(output.stdout.contains("no decision"), "{}", output.stdout);
}
