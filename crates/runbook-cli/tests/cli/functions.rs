//! Template functions end to end: a rolled key verified by its SHA-256 fingerprint against a
//! health endpoint (no shell step), money strings compared as exact decimals, and a canary secret
//! put through every function that derives a secret, whose results must appear nowhere the run
//! writes: stdout, stderr, the JSON report, the journal, the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{Output, Sandbox};

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Runs `runbook ARGS` in the sandbox with its journal and audit log inside it, so a file sweep
/// covers both.
fn run(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Output {
    let state = sandbox.path().join("state");
    let audit = sandbox.path().join("audit.jsonl");
    let mut all: Vec<(&str, &str)> = vec![
        ("RUNBOOK_STATE_DIR", state.to_str().unwrap()),
        ("RUNBOOK_AUDIT_LOG", audit.to_str().unwrap()),
    ];
    all.extend_from_slice(env);
    let output = sandbox.run_with_env(args, &all);
    eprintln!(
        "--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
        output.code, output.stdout, output.stderr
    );
    output
}

/// Every file under `dir` (but `allowed`), as text.
fn files_under(dir: &Path, allowed: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if allowed.contains(&name) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A fingerprint comparison and money strings.

const ROLLED_KEY: &str = "rk_live_FN7d1eQ2x9";
const OLD_KEY: &str = "rk_live_OLD0000000";

const FINGERPRINT_RUNBOOK: &str = r#"id: fingerprint
title: Verify the rolled key by its fingerprint
mode: operator-assisted
inputs:
  base_url:
    default: http://127.0.0.1:9
steps:
  - id: roll
    prompt:
      instructions: Roll the key in the dashboard, then paste the new key.
      answers:
        key:
          label: New key
          secret: true
  - id: health
    http:
      url: "{{inputs.base_url}}/health"
      capture:
        fingerprint: $.key_fingerprint
        equity: $.equity
      assert:
        - that: "{{outputs.fingerprint}}"
          equals: "{{sha256 (trim steps.roll.outputs.key)}}"
          message: the service still uses the old key
        - that: "{{outputs.equity}}"
          greater_than: 1000
  - id: tell
    shell:
      command: echo "verified key ...{{last 4 steps.roll.outputs.key}} ({{length steps.roll.outputs.key}} characters)"
"#;

async fn health_server(fingerprint: &str, equity: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "key_fingerprint": fingerprint,
            "equity": equity,
        })))
        .mount(&server)
        .await;
    server
}

/// Runs the fingerprint runbook against `server`, with a JSON report on stdout or the human view.
fn run_fingerprint(server: &MockServer, json_output: bool) -> (Sandbox, Output) {
    let sandbox = Sandbox::new();
    sandbox.write("fingerprint.yaml", FINGERPRINT_RUNBOOK);
    // Pasted with a trailing space and newline, as a clipboard does: `trim` takes them off.
    sandbox.write(
        "fingerprint.answers.yaml",
        &format!("roll:\n  key: \"{ROLLED_KEY} \\n\"\n"),
    );
    let base_url = format!("base_url={}", server.uri());
    let mut args = vec![
        "run",
        "fingerprint.yaml",
        "--input",
        &base_url,
        "--answers",
        "fingerprint.answers.yaml",
        "--allow-answers-file-on-live-run",
    ];
    if json_output {
        args.extend(["--output", "json"]);
    }
    let output = run(&sandbox, &args, &[]);
    (sandbox, output)
}

fn assert_nothing_derived_leaked(sandbox: &Sandbox, output: &Output) {
    let fingerprint = sha256_hex(ROLLED_KEY);
    for secret in [ROLLED_KEY, fingerprint.as_str(), "7d1eQ2x9"] {
        assert!(!output.stdout.contains(secret), "{secret} leaked to stdout");
        assert!(!output.stderr.contains(secret), "{secret} leaked to stderr");
        for (file, text) in files_under(sandbox.path(), &["fingerprint.answers.yaml"]) {
            assert!(!text.contains(secret), "{secret} was written to {file}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_key_is_verified_by_its_fingerprint_without_a_shell_step() {
    let server = health_server(&sha256_hex(ROLLED_KEY), "123346.11").await;
    let (sandbox, output) = run_fingerprint(&server, true);
    assert_eq!(output.code, 0);
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    let tell = report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["id"] == "tell"))
        .unwrap();
    // The last four characters of a secret are a secret; its length is not.
    assert_eq!(
        tell["outputs"]["stdout"],
        json!(format!(
            "verified key ...******** ({} characters)",
            ROLLED_KEY.len() + 2
        ))
    );
    let health = report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["id"] == "health"))
        .unwrap();
    // The server's fingerprint equals a value derived from the secret: it is masked too.
    assert_eq!(health["outputs"]["fingerprint"], json!("********"));
    assert_eq!(health["outputs"]["equity"], json!("123346.11"));
    assert_nothing_derived_leaked(&sandbox, &output);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_fingerprint_fails_the_assertion_with_the_derived_value_masked() {
    let server = health_server(&sha256_hex(OLD_KEY), "123346.11").await;
    let (sandbox, output) = run_fingerprint(&server, false);
    assert_eq!(output.code, 4, "an assertion failed");
    let shown = &output.stdout;
    assert!(
        shown.contains("the service still uses the old key"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "expected (equals): \"********\" (string) from {{sha256 (trim steps.roll.outputs.key)}}"
        ),
        "{shown}"
    );
    assert!(
        shown.contains(&sha256_hex(OLD_KEY)),
        "the old key's fingerprint is not a secret of this run: {shown}"
    );
    assert_nothing_derived_leaked(&sandbox, &output);
}

#[tokio::test(flavor = "multi_thread")]
async fn money_strings_compare_as_exact_decimals_and_a_non_number_says_so() {
    let server = health_server(&sha256_hex(ROLLED_KEY), "999.99").await;
    let (_sandbox, output) = run_fingerprint(&server, false);
    assert_eq!(output.code, 4);
    let shown = &output.stdout;
    assert!(
        shown.contains("expected (greater_than): 1000 (number)")
            && shown.contains("actual: \"999.99\" (string) from {{outputs.equity}}"),
        "{shown}"
    );
    assert!(!shown.contains("not a number"), "{shown}");

    let server = health_server(&sha256_hex(ROLLED_KEY), "n/a").await;
    let (_sandbox, output) = run_fingerprint(&server, false);
    assert_eq!(output.code, 4);
    assert!(
        output.stdout.contains(
            "note: the actual value is not a number; `greater_than` compares numbers and \
             numeric strings such as \"123.45\""
        ),
        "{}",
        output.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// The canary through every function.

const CANARY: &str = "CANARY-fn-Q7x9zK2";
const CANARY_ENV: &str = "RB_FN_CANARY";
const PIN: &str = "918273645";
const ENCODED_ENV: &str = "RB_FN_ENCODED";
const DECODED: &str = "decoded-Zq81vv";

const SWEEP_RUNBOOK: &str = r#"id: sweep
title: A canary through every function
inputs:
  base_url:
    default: http://127.0.0.1:9
  key:
    secret: true
    env: RB_FN_CANARY
  pin:
    type: integer
    secret: true
    env: RB_FN_PIN
  encoded:
    secret: true
    env: RB_FN_ENCODED
steps:
  - id: derive
    shell:
      command: >-
        printf '%s\n'
        {{upper inputs.key}} {{lower inputs.key}} {{slice 3 12 inputs.key}}
        {{first 9 (upper inputs.key)}} {{last 9 (lower inputs.key)}}
        {{join "+" (split "-" inputs.key)}} {{base64 inputs.key}} {{sha256 inputs.key}}
        {{base64_decode inputs.encoded}} {{add inputs.pin 1}} {{sub inputs.pin 1}}
        {{trim (lower inputs.key)}} len={{length inputs.key}}
  - id: send
    http:
      method: POST
      url: "{{inputs.base_url}}/echo"
      json:
        upper: "{{upper inputs.key}}"
        fingerprint: "{{sha256 inputs.key}}"
        decoded: "{{base64_decode inputs.encoded}}"
        next_pin: "{{add inputs.pin 1}}"
        joined: "{{join \"+\" (split \"-\" inputs.key)}}"
  - id: record
    audit:
      action: canary.derived
      context:
        lower: "{{lower inputs.key}}"
        base64: "{{base64 inputs.key}}"
        slice: "{{slice 3 12 inputs.key}}"
        previous_pin: "{{sub inputs.pin 1}}"
  - id: compare
    assert:
      - that: "{{sha256 inputs.key}}"
        equals: "{{upper inputs.key}}"
"#;

fn derived_values() -> Vec<String> {
    let upper = CANARY.to_uppercase();
    let lower = CANARY.to_lowercase();
    vec![
        upper.clone(),
        lower.clone(),
        CANARY.chars().skip(3).take(9).collect(),
        upper.chars().take(9).collect(),
        lower.chars().skip(lower.len() - 9).collect(),
        CANARY.split('-').collect::<Vec<_>>().join("+"),
        base64(CANARY),
        sha256_hex(CANARY),
        DECODED.to_owned(),
        "918273646".to_owned(),
        "918273644".to_owned(),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canary_through_every_function_never_leaves_the_process() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/echo"))
        .respond_with(|request: &Request| {
            ResponseTemplate::new(200).set_body_raw(request.body.clone(), "application/json")
        })
        .mount(&server)
        .await;
    let encoded = base64(DECODED);
    let env = [
        (CANARY_ENV, CANARY),
        ("RB_FN_PIN", PIN),
        (ENCODED_ENV, encoded.as_str()),
    ];
    let base_url = format!("base_url={}", server.uri());
    let mut printed = Vec::new();
    let sandbox = Sandbox::new();
    sandbox.write("sweep.yaml", SWEEP_RUNBOOK);
    for json_output in [false, true] {
        let mut args = vec!["run", "sweep.yaml", "--input", &base_url];
        if json_output {
            args.extend(["--output", "json"]);
        }
        let output = run(&sandbox, &args, &env);
        assert_eq!(output.code, 4, "the last assertion fails on purpose");
        // In the JSON report the message is a JSON string: its quotes are escaped.
        let quote = if json_output { "\\\"" } else { "\"" };
        let shown = format!("{}{}", output.stdout, output.stderr);
        assert!(
            shown.contains(&format!(
                "expected (equals): {quote}********{quote} (string)"
            )) && shown.contains(&format!("actual: {quote}********{quote} (string)")),
            "{shown}"
        );
        if json_output {
            let report: Value = serde_json::from_str(&output.stdout).unwrap();
            let derive = &report["steps"][0]["outputs"]["stdout"];
            assert!(
                derive
                    .as_str()
                    .is_some_and(|text| text.contains(&format!("len={}", CANARY.len()))),
                "a length is not a secret: {derive}"
            );
        }
        printed.push(output);
    }
    // The functions really ran: the server got every derived value.
    let received = server.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&received[0].body).into_owned();
    for value in [
        CANARY.to_uppercase(),
        sha256_hex(CANARY),
        DECODED.to_owned(),
    ] {
        assert!(body.contains(&value), "the request carried {value}: {body}");
    }
    let files = files_under(sandbox.path(), &[]);
    assert!(
        files.iter().any(|(file, _)| file.ends_with("audit.jsonl")),
        "the audit log was written"
    );
    assert!(
        files.iter().any(|(file, _)| file.contains("state")),
        "the journal was written"
    );
    let mut channels = 0;
    for secret in derived_values()
        .iter()
        .map(String::as_str)
        .chain([CANARY, PIN])
    {
        for output in &printed {
            assert!(!output.stdout.contains(secret), "{secret} leaked to stdout");
            assert!(!output.stderr.contains(secret), "{secret} leaked to stderr");
            channels += 2;
        }
        for (file, text) in &files {
            assert!(!text.contains(secret), "{secret} was written to {file}");
            channels += 1;
        }
    }
    eprintln!("sweep functions: {channels} channels tried, 0 leaked");
}
