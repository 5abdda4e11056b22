//! Helpers shared by the `prompt` step tests: a known secret, a one-prompt runbook, the key-entry
//! runbook, and a server that accepts what it is sent.

use wiremock::{MockServer, Request};

use crate::control::accept_posts;

/// A known secret that must never be printed.
pub(super) const CANARY: &str = "canary-s3cr3t-7f1d9a0b";

pub(super) fn prompt_runbook(prompt: &str) -> String {
    format!(
        r#"
id: prompts
title: Prompts
inputs:
  base_url: {{type: string}}
  account: {{type: string, default: "0102ABCD"}}
steps:
  - id: before
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/before"}}
  - id: ask
    prompt:
{prompt}
  - id: after
    http:
      method: POST
      url: "{{{{inputs.base_url}}}}/after"
"#,
        prompt = crate::control::indent(prompt, 6)
    )
}

pub(super) async fn server() -> MockServer {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    server
}

pub(super) fn requests_of(received: Option<Vec<Request>>) -> Vec<Request> {
    received.expect("wiremock records requests")
}

pub(super) const KEY_PROMPT: &str = r#"instructions: |
  1. Click "Regenerate".
  2. Copy both values.
answers:
  key_id:
    label: New key ID
    pattern: "^AK[A-Z0-9]{6,}$"
  environment:
    choices: [paper, live]
  secret_key:
    label: New secret key
    secret: true
    confirm: true
"#;

pub(super) fn key_runbook() -> String {
    r#"
id: keys
title: Enter a key
inputs:
  base_url: {type: string}
steps:
  - id: enter_key
    prompt:
PROMPT
  - id: validate
    http:
      method: POST
      url: "{{inputs.base_url}}/validate"
      headers:
        X-Secret: "{{steps.enter_key.outputs.secret_key}}"
      json:
        key_id: "{{steps.enter_key.outputs.key_id}}"
        environment: "{{steps.enter_key.outputs.environment}}"
        secret: "{{steps.enter_key.outputs.secret_key}}"
      capture:
        echoed: $.echo
  - id: print
    shell:
      command: echo "stdout {{steps.enter_key.outputs.secret_key}}"; echo "stderr {{steps.validate.outputs.echoed}}" >&2
  - id: fails_with_it
    http:
      method: POST
      url: "{{inputs.base_url}}/fail"
"#
    .replace("PROMPT", &crate::control::indent(KEY_PROMPT, 6))
}
