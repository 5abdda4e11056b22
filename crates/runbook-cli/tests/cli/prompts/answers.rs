//! Answers files: confirmations, phrases, a missing answer, answers per occurrence of a repeat
//! group, and the transcript of a run answered from a file.

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{prompt_runbook, requests_of, server};
use crate::control::{assert_code, executions, posts, recorded, report, run_runbook, step};
use crate::support::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn confirm_yes_from_an_answers_file_proceeds() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &prompt_runbook("confirm: Pause live trading now?"),
        Some("ask:\n  confirm: true\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/before", "/after"]));
    let report = report(&output);
    assert_eq!(step(&report, "ask")["outputs"]["confirmed"], true);
    assert_eq!(report["operator"]["prompts"], "answers file", "{report:#}");
    assert_eq!(
        report["operator"]["answers_file"], "answers.yaml",
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn confirm_no_declines_with_exit_6_and_nothing_after_runs() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &prompt_runbook("confirm: Pause live trading now?"),
        Some("ask:\n  confirm: false\n"),
        &[],
    );
    assert_code(&output, 6);
    assert_eq!(recorded(&server).await, posts(&["/before"]));
    assert!(
        output
            .stdout
            .contains("answered no to: Pause live trading now?"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_templated_phrase_typed_right_proceeds() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &prompt_runbook("phrase: \"LIVE {{inputs.account}}\""),
        Some("ask:\n  phrase: LIVE 0102ABCD\n"),
        &[],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/before", "/after"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_phrase_declines_with_exit_6() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &prompt_runbook("phrase: \"LIVE {{inputs.account}}\""),
        Some("ask:\n  phrase: LIVE\n"),
        &[],
    );
    assert_code(&output, 6);
    assert_eq!(recorded(&server).await, posts(&["/before"]));
    assert!(
        output.stdout.contains("`LIVE 0102ABCD`"),
        "the message shows the phrase that was needed:\n{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_answer_is_an_error_never_yes() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &prompt_runbook("confirm: Pause live trading now?"),
        Some("other_step:\n  confirm: true\n"),
        &[],
    );
    // The answers file is checked before the first step: nothing is sent.
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(recorded(&server).await.is_empty());
    assert!(
        output.stderr.contains("no answers for step `ask`")
            && output.stderr.contains("unknown step `other_step`"),
        "{}",
        output.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_per_occurrence_feed_each_attempt_of_a_repeat_group() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/validate"))
        .and(body_partial_json(json!({"key_id": "AKGOOD0002"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"echo": "ok"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/validate"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(10)
        .mount(&server)
        .await;
    let yaml = r#"
id: keys
title: Enter a key until it works
inputs:
  base_url: {type: string}
steps:
  - id: rotate
    group:
      steps:
        - id: enter_key
          prompt:
            answers:
              key_id: {pattern: "^AK"}
        - id: validate
          http:
            method: POST
            url: "{{inputs.base_url}}/validate"
            json: {key_id: "{{steps.enter_key.outputs.key_id}}"}
      repeat: {max_attempts: 3}
"#;
    let answers = "enter_key:\n  - {key_id: AKBAD0001}\n  - {key_id: AKGOOD0002}\ndecisions:\n  rotate: [retry]\n";
    let output = run_runbook(&server, yaml, Some(answers), &["--output", "json"]);
    assert_code(&output, 0);
    let keys: Vec<Value> = requests_of(server.received_requests().await)
        .iter()
        .map(|request| serde_json::from_slice::<Value>(&request.body).unwrap()["key_id"].clone())
        .collect();
    assert_eq!(keys, vec![json!("AKBAD0001"), json!("AKGOOD0002")]);
    let report = report(&output);
    assert_eq!(executions(&report, "enter_key").len(), 2, "{report:#}");
}

/// A rehearsal's transcript shows each prompt and the answer taken from the file, secrets masked;
/// `--output json` keeps stderr free of it.
#[test]
fn an_answers_file_run_shows_the_prompts_and_answers_taken() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"id: echo
title: Echo
steps:
  - id: enter
    name: Enter the key
    prompt:
      instructions: Copy the key from the dashboard.
      phrase: LIVE
      answers:
        key_id: {label: Key ID}
        secret: {label: Secret, secret: true}
"#,
    );
    sandbox.write(
        "a.answers.yaml",
        "enter: {phrase: LIVE, key_id: AK123, secret: echo-canary-77aa}\n",
    );
    let output = sandbox.run(&["run", "rb.yaml", "--answers", "a.answers.yaml"]);
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    for line in [
        "── Enter the key ── (answered from a.answers.yaml)",
        "Copy the key from the dashboard.",
        "Type LIVE to continue · LIVE",
        "Key ID · AK123",
        "Secret · ********",
    ] {
        assert!(output.stderr.contains(line), "{line}:\n{}", output.stderr);
    }
    assert!(!output.stderr.contains("77aa") && !output.stdout.contains("77aa"));
    let json = sandbox.run(&[
        "run",
        "rb.yaml",
        "--answers",
        "a.answers.yaml",
        "--output",
        "json",
    ]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert!(!json.stderr.contains("answered from"), "{}", json.stderr);
}
