//! Answers become outputs, and answers that break their rules (pattern, choices, empty) are refused
//! without printing a secret value.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::helpers::{CANARY, key_runbook, requests_of, server};
use crate::control::{assert_code, recorded, report, run_runbook, step};

#[tokio::test(flavor = "multi_thread")]
async fn answers_become_outputs_that_later_steps_send() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/validate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"echo": "fine"})))
        .with_priority(1)
        .mount(&server)
        .await;
    let yaml = key_runbook().replace(
        "  - id: fails_with_it\n    http:\n      method: POST\n      url: \"{{inputs.base_url}}/fail\"\n",
        "",
    );
    let output = run_runbook(
        &server,
        &yaml,
        Some(
            "enter_key:\n  key_id: AKNEW12345\n  environment: live\n  secret_key: not-so-secret\n",
        ),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    let received = requests_of(server.received_requests().await);
    assert_eq!(received.len(), 1, "{received:?}");
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(
        body,
        json!({"key_id": "AKNEW12345", "environment": "live", "secret": "not-so-secret"})
    );
    let report = report(&output);
    let outputs = &step(&report, "enter_key")["outputs"];
    assert_eq!(outputs["key_id"], "AKNEW12345");
    assert_eq!(outputs["environment"], "live");
    assert_eq!(outputs["secret_key"], "********", "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_failing_its_pattern_names_the_answer_not_the_value() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &key_runbook(),
        Some("enter_key:\n  key_id: PK-wrong-value-31337\n  environment: live\n  secret_key: x\n"),
        &[],
    );
    assert_ne!(output.code, 0);
    assert!(recorded(&server).await.is_empty());
    let all = format!("{}{}", output.stdout, output.stderr);
    assert!(all.contains("`key_id`"), "names the answer:\n{all}");
    assert!(all.contains("must match the pattern"), "{all}");
    assert!(
        !all.contains("PK-wrong-value-31337"),
        "does not repeat the value:\n{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_answer_failing_its_rules_is_not_printed() {
    let server = server().await;
    let yaml = r#"
id: keys
title: Enter a key
inputs:
  base_url: {type: string}
steps:
  - id: enter_key
    prompt:
      answers:
        secret_key: {secret: true, pattern: "^sk-"}
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
"#;
    let output = run_runbook(
        &server,
        yaml,
        Some(&format!("enter_key:\n  secret_key: {CANARY}\n")),
        &["--output", "json"],
    );
    assert_ne!(output.code, 0);
    assert!(recorded(&server).await.is_empty());
    assert!(output.stderr.contains("`secret_key`"), "{}", output.stderr);
    assert!(!output.stdout.contains(CANARY), "{}", output.stdout);
    assert!(!output.stderr.contains(CANARY), "{}", output.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_outside_its_choices_is_refused() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &key_runbook(),
        Some("enter_key:\n  key_id: AKNEW12345\n  environment: staging\n  secret_key: x\n"),
        &[],
    );
    assert_ne!(output.code, 0);
    assert!(recorded(&server).await.is_empty());
    assert!(
        output.stderr.contains("must be one of: paper, live"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("`environment`"), "{}", output.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_answer_is_refused_unless_allowed() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &key_runbook(),
        Some("enter_key:\n  key_id: AKNEW12345\n  environment: live\n  secret_key: \"\"\n"),
        &[],
    );
    assert_ne!(output.code, 0);
    assert!(recorded(&server).await.is_empty());
    assert!(
        output.stderr.contains("an answer is required"),
        "{}",
        output.stderr
    );
}
