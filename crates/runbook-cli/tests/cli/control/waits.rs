//! Waits.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{accept_posts, assert_code, recorded, report, run_runbook, step};

fn wait_runbook(timeout: &str) -> String {
    format!(
        r#"
id: wait
title: Wait until trading is disabled
inputs:
  base_url: {{type: string}}
steps:
  - id: wait_disabled
    http:
      url: "{{{{inputs.base_url}}}}/status"
      capture:
        live: $.live_enabled
    until:
      that: "{{{{outputs.live}}}}"
      equals: false
    poll:
      interval: 100ms
      timeout: {timeout}
  - id: next
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/next"}}
"#
    )
}

async fn status_is(server: &MockServer, live: bool, times: Option<u64>) {
    let mut mock = Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"live_enabled": live})));
    if let Some(times) = times {
        mock = mock.up_to_n_times(times).with_priority(1);
    } else {
        mock = mock.with_priority(5);
    }
    mock.mount(server).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_succeeds_after_three_polls() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    status_is(&server, true, Some(2)).await;
    status_is(&server, false, None).await;
    let output = run_runbook(&server, &wait_runbook("5s"), None, &["--output", "json"]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        vec!["GET /status", "GET /status", "GET /status", "POST /next"]
    );
    let report = report(&output);
    assert_eq!(step(&report, "wait_disabled")["attempts"], 3, "{report:#}");
    assert_eq!(
        step(&report, "wait_disabled")["outputs"]["live"],
        json!(false)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_that_never_holds_fails_closed_at_its_timeout() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    status_is(&server, true, None).await;
    let started = Instant::now();
    let output = run_runbook(&server, &wait_runbook("1s"), None, &[]);
    let elapsed = started.elapsed();
    assert_code(&output, 5);
    let received = recorded(&server).await;
    assert!(
        received.len() >= 2 && received.iter().all(|r| r == "GET /status"),
        "polled, then stopped without running `next`: {received:?}"
    );
    assert!(
        output.stdout.contains("did not hold within"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("last observed: true"),
        "the message shows the last observed value:\n{}",
        output.stdout
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "stopped at its timeout, took {elapsed:?}"
    );
    // Not a terminal: no per-poll lines and no spinner frames.
    assert!(!output.stdout.contains("waiting:"), "{}", output.stdout);
    assert!(!output.stdout.contains('\r'), "{:?}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn error_responses_while_polling_count_as_not_yet() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(503).set_body_string("restarting"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    status_is(&server, false, None).await;
    let output = run_runbook(&server, &wait_runbook("5s"), None, &["--output", "json"]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        vec!["GET /status", "GET /status", "GET /status", "POST /next"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_timing_out_on_errors_reports_the_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(503).set_body_string("restarting"))
        .mount(&server)
        .await;
    let output = run_runbook(&server, &wait_runbook("400ms"), None, &[]);
    assert_code(&output, 5);
    assert!(output.stdout.contains("503"), "{}", output.stdout);
}
