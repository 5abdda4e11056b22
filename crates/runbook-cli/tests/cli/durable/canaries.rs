//! Secret canaries, across a kill and a resume.

use std::path::{Path, PathBuf};

use serde_json::json;
use wiremock::{MockServer, Request};

use super::harness::{
    Bench, Gate, assert_code, count, killed_by_signal, mount, ok, records, until_count,
};
use crate::control::recorded;

const KEY_CANARY: &str = "CANARY-KEY-7f3a9c20d1";
const TOKEN_CANARY: &str = "CANARY-TOKEN-51e0d2b8aa";

const CANARIES: &str = r#"
id: canaries
title: Secrets never reach the journal or the audit log
inputs:
  base_url: {type: string}
  api_key: {type: string, secret: true, env: DURABLE_CANARY_KEY}
steps:
  - id: enter
    prompt:
      answers:
        token: {secret: true}
  - id: call
    http:
      method: POST
      url: "{{inputs.base_url}}/call"
      headers:
        X-Api-Key: "{{inputs.api_key}}"
        X-Token: "{{steps.enter.outputs.token}}"
  - id: echo
    shell:
      command: "echo key={{inputs.api_key}} token={{steps.enter.outputs.token}}"
  - id: block
    timeout: 2m
    http: {url: "{{inputs.base_url}}/slow"}
  - id: after
    http:
      method: POST
      url: "{{inputs.base_url}}/after"
      headers:
        X-Api-Key: "{{inputs.api_key}}"
        X-Token: "{{steps.enter.outputs.token}}"
  - id: event
    audit:
      action: canary.checked
      context:
        key: "{{inputs.api_key}}"
        token: "{{steps.enter.outputs.token}}"
"#;

fn assert_no_canary(what: &str, text: &str) {
    for canary in [KEY_CANARY, TOKEN_CANARY] {
        assert!(
            !text.contains(canary),
            "{canary} leaked into {what}:\n{text}"
        );
    }
}

/// `(X-Api-Key, X-Token)` of every request to `at`.
async fn secret_headers(server: &MockServer, at: &str) -> Vec<(String, String)> {
    let header = |request: &Request, name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|r| r.url.path() == at)
        .map(|r| (header(r, "X-Api-Key"), header(r, "X-Token")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_canaries_stay_out_of_journal_audit_and_output_across_kill_and_resume() {
    let server = MockServer::start().await;
    let slow = Gate::hanging(ok());
    mount(&server, "POST", "/call", ok()).await;
    mount(&server, "GET", "/slow", slow.clone()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(CANARIES);
    bench.sandbox.write(
        "canary.answers.yaml",
        &format!("enter:\n  token: {TOKEN_CANARY}\n"),
    );
    let base = format!("base_url={}", server.uri());
    let running = bench.spawn(
        &[
            "run",
            "rb.yaml",
            "--input",
            &base,
            "--answers",
            "canary.answers.yaml",
        ],
        &[("DURABLE_CANARY_KEY", KEY_CANARY)],
    );
    until_count(&server, "GET /slow", 1).await;
    let first = running.sigkill();
    killed_by_signal(&first);
    slow.open();
    let run_id = bench.only_run_id();
    let secrets = (KEY_CANARY.to_owned(), TOKEN_CANARY.to_owned());
    assert_eq!(
        secret_headers(&server, "/call").await,
        vec![secrets.clone()]
    );

    // Without the secret input, the resume stops before doing anything.
    let journal_before = bench.journal_text(&run_id);
    let missing = bench.cmd(
        &["resume", &run_id, "--answers", "canary.answers.yaml"],
        &[],
    );
    assert_code(&missing, 2, "resume without the secret input");
    assert!(
        missing.stderr.contains("api_key") && missing.stderr.contains("DURABLE_CANARY_KEY"),
        "{}",
        missing.stderr
    );
    assert_eq!(bench.journal_text(&run_id), journal_before);

    // Given again (input from the environment, prompt answer from the answers file), it completes.
    let resumed = bench.cmd(
        &["resume", &run_id, "--answers", "canary.answers.yaml"],
        &[("DURABLE_CANARY_KEY", KEY_CANARY)],
    );
    assert_code(&resumed, 0, "resume");
    let received = recorded(&server).await;
    assert_eq!(count(&received, "POST /call"), 1, "{received:?}");
    assert_eq!(count(&received, "GET /slow"), 2, "{received:?}");
    assert_eq!(
        secret_headers(&server, "/after").await,
        vec![secrets],
        "the resumed session used the secrets given again"
    );
    let journal = bench.journal(&run_id);
    assert_eq!(journal[0]["secret_inputs"], json!(["api_key"]));
    assert!(journal[0]["inputs"].get("api_key").is_none());
    assert_eq!(journal.last().expect("records")["status"], "succeeded");
    let event = records(&bench.audit(), "event", None)[0].clone();
    assert_eq!(event["context"]["key"], "********", "{event:#}");
    assert_eq!(event["context"]["token"], "********", "{event:#}");

    assert_no_canary("the journal", &bench.journal_text(&run_id));
    assert_no_canary("the audit log", &bench.audit_text());
    for (what, text) in [
        ("the run's stdout", &first.stdout),
        ("the run's stderr", &first.stderr),
        ("the refused resume's output", &missing.stdout),
        ("the refused resume's stderr", &missing.stderr),
        ("the resume's stdout", &resumed.stdout),
        ("the resume's stderr", &resumed.stderr),
    ] {
        assert_no_canary(what, text);
    }
    let shown = bench.cmd(&["show", &run_id], &[]);
    assert_no_canary("show", &shown.stdout);
    let shown = bench.cmd(&["show", &run_id, "--output", "json"], &[]);
    assert_no_canary("show --output json", &shown.stdout);
    // Nothing else in the state directory holds them either.
    for entry in walk(&bench.state) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert_no_canary(
            &entry.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}
