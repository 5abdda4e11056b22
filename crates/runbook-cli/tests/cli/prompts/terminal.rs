//! The terminal prompter, through a pseudo-terminal (rexpect). `spawn` and `finish` are shared with
//! the interrupt tests.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::helpers::{CANARY, prompt_runbook, requests_of, server};
use crate::control::{posts, recorded};
use crate::support::Sandbox;

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

/// Starts `runbook run rb.yaml --input base_url=URI` on a pseudo-terminal (stdin, stdout and
/// stderr), through `sh` so the terminal echoes typed input like a real one (rexpect turns
/// echo off).
pub(crate) fn spawn(sandbox: &Sandbox, base_url: &str) -> PtySession {
    let binary = assert_cmd::cargo::cargo_bin("runbook");
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("stty echo; exec \"$0\" run rb.yaml --input \"base_url=$1\"")
        .arg(binary)
        .arg(base_url)
        .current_dir(sandbox.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("RUNBOOK_STATE_DIR", crate::control::state_dir(sandbox))
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .env_remove("RUST_LOG");
    rexpect::session::spawn_command(command, Some(15_000)).expect("spawn on a pty")
}

/// Reads to the end and returns the rest of the output and the exit code.
pub(crate) fn finish(session: &mut PtySession) -> (String, i32) {
    let rest = session.exp_eof().expect("the run ends");
    let code = match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}\n{rest}"),
    };
    (rest, code)
}

fn runbook_with(prompt: &str) -> String {
    prompt_runbook(prompt)
}

#[tokio::test(flavor = "multi_thread")]
async fn typing_the_phrase_proceeds() {
    let server = server().await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook_with(
            "instructions: |\n  1. Open the dashboard.\n  2. Check it says Live.\nphrase: LIVE",
        ),
    );
    let mut session = spawn(&sandbox, &server.uri());
    session
        .exp_string("2. Check it says Live.")
        .expect("instructions shown");
    session
        .exp_string("Type LIVE to continue")
        .expect("phrase prompt");
    session.send_line("LIVE").expect("type");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(recorded(&server).await, posts(&["/before", "/after"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phrase_mistyped_three_times_declines() {
    let server = server().await;
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", &runbook_with("phrase: LIVE"));
    let mut session = spawn(&sandbox, &server.uri());
    session.exp_string("Type LIVE to continue").expect("prompt");
    session.send_line("live").expect("type");
    session.exp_string("2 tries left").expect("asked again");
    session.send_line("LIVE!").expect("type");
    session.exp_string("1 tries left").expect("asked again");
    session.send_line("PAPER").expect("type");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 6, "{rest}");
    assert!(rest.contains("not typed as required"), "{rest}");
    assert_eq!(recorded(&server).await, posts(&["/before"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn answering_no_to_a_confirmation_declines() {
    let server = server().await;
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", &runbook_with("confirm: Pause live trading now?"));
    let mut session = spawn(&sandbox, &server.uri());
    session
        .exp_string("Pause live trading now?")
        .expect("question shown");
    session.send_line("n").expect("answer");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 6, "{rest}");
    assert_eq!(recorded(&server).await, posts(&["/before"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn answering_yes_to_a_confirmation_proceeds() {
    let server = server().await;
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", &runbook_with("confirm: Pause live trading now?"));
    let mut session = spawn(&sandbox, &server.uri());
    session
        .exp_string("Pause live trading now?")
        .expect("question shown");
    session.send_line("y").expect("answer");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(recorded(&server).await, posts(&["/before", "/after"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn masked_secret_input_is_not_echoed() {
    let server = server().await;
    let sandbox = Sandbox::new();
    let yaml = r#"
id: secret-entry
title: Enter the secret
inputs:
  base_url: {type: string}
steps:
  - id: enter
    prompt:
      answers:
        secret_key: {label: New secret key, secret: true, confirm: true}
  - id: store
    http:
      method: POST
      url: "{{inputs.base_url}}/store"
      json: {secret: "{{steps.enter.outputs.secret_key}}"}
"#;
    sandbox.write("rb.yaml", yaml);
    let mut session = spawn(&sandbox, &server.uri());
    let mut seen = session.exp_string("New secret key").expect("prompt");
    session.send_line(CANARY).expect("type");
    seen.push_str(&session.exp_string("(again)").expect("asked twice"));
    session.send_line(CANARY).expect("type again");
    let (rest, code) = finish(&mut session);
    seen.push_str(&rest);
    assert_eq!(code, 0, "{seen}");
    let received = requests_of(server.received_requests().await);
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        serde_json::from_slice::<Value>(&received[0].body).unwrap(),
        json!({"secret": CANARY}),
        "the typed secret was used"
    );
    assert!(
        !seen.contains(CANARY),
        "the secret was echoed on the terminal:\n{seen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_echo_check_can_fail_plain_text_input_is_echoed() {
    // The control for the test above: a non-secret answer typed the same way does show up, so
    // the absence of the canary there is the masking, not a blind capture.
    let server = server().await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook_with("answers:\n  note: {label: A note}"),
    );
    let mut session = spawn(&sandbox, &server.uri());
    session.exp_string("A note").expect("prompt");
    session.send_line(CANARY).expect("type");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains(CANARY), "{rest}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_secret_input_is_asked_for_masked() {
    let server = server().await;
    let sandbox = Sandbox::new();
    let yaml = r#"
id: secret-input
title: A secret input nobody set
inputs:
  base_url: {type: string}
  api_secret: {type: string, secret: true, description: The API secret}
steps:
  - id: use_it
    http:
      method: POST
      url: "{{inputs.base_url}}/use"
      headers: {X-Secret: "{{inputs.api_secret}}"}
"#;
    sandbox.write("rb.yaml", yaml);
    let mut session = spawn(&sandbox, &server.uri());
    let mut seen = session
        .exp_string("The API secret (api_secret)")
        .expect("asked for the secret");
    session.send_line(CANARY).expect("type");
    let (rest, code) = finish(&mut session);
    seen.push_str(&rest);
    assert_eq!(code, 0, "{seen}");
    let received = requests_of(server.received_requests().await);
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        received[0]
            .headers
            .get("x-secret")
            .and_then(|v| v.to_str().ok()),
        Some(CANARY)
    );
    assert!(!seen.contains(CANARY), "echoed:\n{seen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_choice_is_picked_from_a_list() {
    let server = server().await;
    let sandbox = Sandbox::new();
    let yaml = r#"
id: choice
title: Choose
inputs:
  base_url: {type: string}
steps:
  - id: pick
    prompt:
      answers:
        environment: {label: Which environment, choices: [paper, live]}
  - id: use_it
    http:
      method: POST
      url: "{{inputs.base_url}}/use"
      json: {environment: "{{steps.pick.outputs.environment}}"}
"#;
    sandbox.write("rb.yaml", yaml);
    let mut session = spawn(&sandbox, &server.uri());
    session.exp_string("Which environment").expect("asked");
    session.exp_string("live").expect("choices listed");
    session.send("\x1b[B").expect("arrow down");
    session.flush().expect("flush");
    session.send_line("").expect("enter");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 0, "{rest}");
    let received = requests_of(server.received_requests().await);
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        serde_json::from_slice::<Value>(&received[0].body).unwrap(),
        json!({"environment": "live"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_failure_the_operator_chooses_skip_from_a_menu() {
    let server = server().await;
    crate::control::respond(&server, "/flaky", 500).await;
    let sandbox = Sandbox::new();
    let yaml = r#"
id: ask
title: Ask after a failure
inputs:
  base_url: {type: string}
steps:
  - id: flaky
    on_error: ask
    http: {method: POST, url: "{{inputs.base_url}}/flaky"}
  - id: next
    http: {method: POST, url: "{{inputs.base_url}}/next"}
"#;
    sandbox.write("rb.yaml", yaml);
    let mut session = spawn(&sandbox, &server.uri());
    session
        .exp_string("retry it, skip it, or abort the run?")
        .expect("asked what to do");
    session.exp_string("abort").expect("options listed");
    // The default is the last option, abort; one up is skip.
    session.send("\x1b[A").expect("arrow up");
    session.flush().expect("flush");
    session.send_line("").expect("enter");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 0, "{rest}");
    assert_eq!(recorded(&server).await, posts(&["/flaky", "/next"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_decision_after_a_failure_is_abort() {
    let server = server().await;
    crate::control::respond(&server, "/flaky", 500).await;
    let sandbox = Sandbox::new();
    let yaml = r#"
id: ask
title: Ask after a failure
inputs:
  base_url: {type: string}
steps:
  - id: flaky
    on_error: ask
    http: {method: POST, url: "{{inputs.base_url}}/flaky"}
  - id: next
    http: {method: POST, url: "{{inputs.base_url}}/next"}
"#;
    sandbox.write("rb.yaml", yaml);
    let mut session = spawn(&sandbox, &server.uri());
    session
        .exp_string("retry it, skip it, or abort the run?")
        .expect("asked what to do");
    session.exp_string("abort").expect("options listed");
    session.send_line("").expect("enter");
    let (rest, code) = finish(&mut session);
    assert_ne!(code, 0, "{rest}");
    assert_eq!(recorded(&server).await, posts(&["/flaky"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_shows_the_last_observed_value_while_it_waits() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"live_enabled": true})))
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    let yaml = r#"
id: wait
title: Wait
inputs:
  base_url: {type: string}
steps:
  - id: wait_disabled
    http:
      url: "{{inputs.base_url}}/status"
      capture: {live: $.live_enabled}
    until: {that: "{{outputs.live}}", equals: false}
    poll: {interval: 100ms, timeout: 1s}
"#;
    sandbox.write("rb.yaml", yaml);
    let mut session = spawn(&sandbox, &server.uri());
    session
        .exp_regex(r"waiting: attempt \d+, ([0-9.]+(ms|s|m|h))+, last observed: true")
        .expect("the spinner shows the attempt, elapsed time and last value");
    let (rest, code) = finish(&mut session);
    assert_eq!(code, 5, "{rest}");
}

#[tokio::test(flavor = "multi_thread")]
async fn leak_test_a_secret_typed_at_the_terminal_is_masked_when_a_command_prints_it() {
    let server = server().await;
    let sandbox = Sandbox::new();
    let yaml = r#"
id: secret-entry
title: Enter the secret
inputs:
  base_url: {type: string}
steps:
  - id: enter
    prompt:
      answers:
        secret_key: {label: New secret key, secret: true}
  - id: store
    http:
      method: POST
      url: "{{inputs.base_url}}/store"
      json: {secret: "{{steps.enter.outputs.secret_key}}"}
  - id: cli_echoes_it
    shell:
      command: echo "set SECRET={{steps.enter.outputs.secret_key}}"; echo "rejected {{steps.enter.outputs.secret_key}}" >&2; exit 3
"#;
    sandbox.write("rb.yaml", yaml);
    let mut session = spawn(&sandbox, &server.uri());
    let mut seen = session.exp_string("New secret key").expect("prompt");
    session.send_line(CANARY).expect("type");
    let (rest, code) = finish(&mut session);
    seen.push_str(&rest);
    assert_eq!(code, 1, "{seen}");
    assert_eq!(recorded(&server).await, posts(&["/store"]));
    assert!(seen.contains("rejected ********"), "{seen}");
    assert!(!seen.contains(CANARY), "leaked:\n{seen}");
}
