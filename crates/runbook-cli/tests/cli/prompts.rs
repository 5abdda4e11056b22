//! `prompt` steps end to end: answers files, the refusal to run without an operator, the guard on
//! answers files for operator-assisted runbooks, a leak test for secret answers, and the terminal
//! prompter driven through a pseudo-terminal (rexpect). Wiremock servers prove what ran.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::control::{
    accept_posts, assert_code, executions, posts, recorded, report, run_runbook, step,
};
use crate::support::{Output, Sandbox};

/// A known secret that must never be printed.
const CANARY: &str = "canary-s3cr3t-7f1d9a0b";

fn prompt_runbook(prompt: &str) -> String {
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

async fn server() -> MockServer {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    server
}

fn requests_of(received: Option<Vec<Request>>) -> Vec<Request> {
    received.expect("wiremock records requests")
}

// ---------------------------------------------------------------------------------------------
// Answers files.

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

const KEY_PROMPT: &str = r#"instructions: |
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

fn key_runbook() -> String {
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

/// Mounts an echo server: `/validate` answers with the secret it received, `/fail` answers 500
/// with it in the body (so the failure message would carry it).
async fn echo_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/validate"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"echo": CANARY, "note": format!("got {CANARY}")})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/fail"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("invalid key {CANARY}")))
        .mount(&server)
        .await;
    server
}

fn assert_no_canary(output: &Output) {
    assert!(
        !output.stdout.contains(CANARY),
        "secret in stdout:\n{}",
        output.stdout
    );
    assert!(
        !output.stderr.contains(CANARY),
        "secret in stderr:\n{}",
        output.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn leak_test_a_secret_answer_appears_nowhere_even_when_echoed_and_printed() {
    let answers =
        format!("enter_key:\n  key_id: AKNEW12345\n  environment: live\n  secret_key: {CANARY}\n");
    for format in ["human", "json"] {
        let server = echo_server().await;
        let output = run_runbook(
            &server,
            &key_runbook(),
            Some(&answers),
            &["--output", format],
        );
        // `fails_with_it` fails with the secret in the response body.
        assert_code(&output, 1);
        // The secret really flowed: the server got it in a header and the body.
        let received = requests_of(server.received_requests().await);
        assert_eq!(received.len(), 2, "{received:?}");
        assert_eq!(
            received[0]
                .headers
                .get("x-secret")
                .and_then(|v| v.to_str().ok()),
            Some(CANARY)
        );
        assert!(String::from_utf8_lossy(&received[0].body).contains(CANARY));
        assert_no_canary(&output);
        if format == "json" {
            let report = report(&output);
            let text = report.to_string();
            assert!(!text.contains(CANARY), "{report:#}");
            // The shell step printed it on both streams; the captures are masked, not dropped.
            let print = step(&report, "print");
            assert_eq!(print["outcome"], "passed", "{report:#}");
            assert_eq!(print["outputs"]["stdout"], "stdout ********", "{report:#}");
            assert_eq!(print["outputs"]["stderr"], "stderr ********", "{report:#}");
            let error = step(&report, "fails_with_it")["error"]["message"]
                .as_str()
                .unwrap();
            assert!(error.contains("invalid key ********"), "{error}");
        } else {
            assert!(
                output.stdout.contains("invalid key ********"),
                "{}",
                output.stdout
            );
        }
    }
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

// ---------------------------------------------------------------------------------------------
// No operator; operator-assisted runbooks and answers files.

#[tokio::test(flavor = "multi_thread")]
async fn no_terminal_and_no_answers_file_fails_at_once() {
    let server = server().await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &prompt_runbook("confirm: Pause live trading now?"),
    );
    let mut command = crate::support::runbook();
    command
        .current_dir(sandbox.path())
        .args(["run", "rb.yaml", "--input"])
        .arg(format!("base_url={}", server.uri()))
        .env("RUNBOOK_STATE_DIR", crate::control::state_dir(&sandbox))
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .timeout(Duration::from_secs(20));
    let started = Instant::now();
    let output = crate::support::finish(command);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang: {:?}",
        started.elapsed()
    );
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(
        output.stderr.contains(
            "asks an operator (it has prompt steps), but standard input is not a terminal"
        ),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("--answers FILE"),
        "{}",
        output.stderr
    );
    // Refused before anything ran: nothing was assumed, not even the steps before the prompt.
    assert_eq!(recorded(&server).await, posts(&[]));
}

fn operator_assisted() -> String {
    prompt_runbook("confirm: Pause live trading now?").replace(
        "title: Prompts\n",
        "title: Prompts\nmode: operator-assisted\n",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answers_file_cannot_stand_in_for_the_operator_without_the_flag() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &operator_assisted(),
        Some("ask:\n  confirm: true\n"),
        &[],
    );
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("operator-assisted"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("--allow-answers-file-on-live-run"),
        "{}",
        output.stderr
    );
    assert!(
        recorded(&server).await.is_empty(),
        "refused before anything ran"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_flag_the_answers_file_stands_in_and_the_record_says_so() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &operator_assisted(),
        Some("ask:\n  confirm: true\n"),
        &["--allow-answers-file-on-live-run", "--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/before", "/after"]));
    let report = report(&output);
    assert_eq!(
        report["operator"]["answers_file_replaced_operator"], true,
        "{report:#}"
    );
    assert_eq!(report["operator"]["prompts"], "answers file");

    let server = crate::prompts::server().await;
    let output = run_runbook(
        &server,
        &operator_assisted(),
        Some("ask:\n  confirm: true\n"),
        &["--allow-answers-file-on-live-run"],
    );
    assert_code(&output, 0);
    assert!(output.stderr.contains("WARNING"), "{}", output.stderr);
    assert!(
        output
            .stdout
            .contains("an answers file stood in for the operator"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answers_file_for_a_runbook_without_operator_mode_is_not_a_replacement() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &prompt_runbook("confirm: Go?"),
        Some("ask:\n  confirm: true\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    let report = report(&output);
    assert!(
        report["operator"]
            .get("answers_file_replaced_operator")
            .is_none(),
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// The terminal prompter, through a pseudo-terminal.

pub(crate) mod terminal {
    use super::*;

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
