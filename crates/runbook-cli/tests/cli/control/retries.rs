//! Retries.

use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{
    accept_posts, assert_code, posts, recorded, report, respond, run_runbook, step,
};

fn retry_runbook(retry: &str) -> String {
    format!(
        r#"
id: retry
title: Retries
inputs:
  base_url: {{type: string}}
steps:
  - id: call
    retry: {retry}
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/call"}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_5xx_until_it_succeeds() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/call"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 100ms}"),
        None,
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call", "/call"]));
    assert_eq!(step(&report(&output), "call")["attempts"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_give_up_after_the_last_attempt() {
    let server = MockServer::start().await;
    respond(&server, "/call", 503).await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 100ms}"),
        None,
        &[],
    );
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call", "/call"]));
    assert!(output.stdout.contains("3 attempts"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_retry_after_waits_as_asked() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/call"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 2, delay: 50ms}"),
        None,
        &[],
    );
    let elapsed = started.elapsed();
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call"]));
    assert!(
        elapsed >= Duration::from_millis(950),
        "Retry-After: 1 means at least a second, not the 50ms delay: took {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_delays_back_off() {
    let server = MockServer::start().await;
    respond(&server, "/call", 503).await;
    let started = Instant::now();
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 200ms, backoff: 2}"),
        None,
        &[],
    );
    let elapsed = started.elapsed();
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call", "/call"]));
    // 200ms, then 400ms.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(output.stdout.contains("retrying in"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_400_is_not_retried_by_default() {
    let server = MockServer::start().await;
    respond(&server, "/call", 400).await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 100ms}"),
        None,
        &[],
    );
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_400_is_retried_when_listed() {
    let server = MockServer::start().await;
    respond(&server, "/call", 400).await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 2, delay: 100ms, on: [4xx]}"),
        None,
        &[],
    );
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call"]));
}
