//! Leak tests: a known secret value (a canary) must never appear in stdout, stderr, the `--output json`
//! report, a file the engine writes, or the argv of a process the engine starts, whichever way it
//! enters the run and whatever echoes it back.
//!
//! Every scenario runs four times: the secret given by its input's environment variable and by
//! `--input`, each with human and JSON output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{Output, Sandbox};

const CANARY: &str = "CANARY-9f3b2c";
/// The distinctive part of the canary: found in any copy, whole or cut, masked or not.
const CORE: &str = "9f3b2c";
const SECRET_ENV: &str = "RB_LEAK_TEST_SECRET";
const MASK: &str = "********";

const INPUTS: &str = r#"
inputs:
  base_url: {type: string, default: "http://127.0.0.1:9"}
  api_secret:
    type: string
    secret: true
    env: RB_LEAK_TEST_SECRET
    description: the canary
"#;

#[derive(Debug, Clone, Copy)]
enum Via {
    Env,
    Input,
}

/// One run of the binary, labelled with how it was made.
struct Run {
    label: String,
    output: Output,
    json: bool,
}

impl Run {
    fn report(&self) -> Value {
        assert!(self.json, "{}: not a JSON run", self.label);
        serde_json::from_str(&self.output.stdout).unwrap_or_else(|error| {
            panic!(
                "{}: stdout is not a JSON report ({error}):\n{}\nstderr:\n{}",
                self.label, self.output.stdout, self.output.stderr
            )
        })
    }

    /// Everything the run printed.
    fn printed(&self) -> String {
        format!("{}\n{}", self.output.stdout, self.output.stderr)
    }
}

fn runbook(steps: &str) -> String {
    format!("id: leak\ntitle: Leak test\n{INPUTS}\nsteps:\n{steps}")
}

fn run_one(
    sandbox: &Sandbox,
    file: &str,
    base_url: &str,
    secret: &str,
    via: Via,
    json: bool,
    env: &[(&str, &str)],
) -> Run {
    let mut args: Vec<String> = vec![
        "run".into(),
        file.into(),
        "--input".into(),
        format!("base_url={base_url}"),
    ];
    let mut env: Vec<(&str, &str)> = env.to_vec();
    match via {
        Via::Env => env.push((SECRET_ENV, secret)),
        Via::Input => {
            args.push("--input".into());
            args.push(format!("api_secret={secret}"));
        }
    }
    if json {
        args.push("--output".into());
        args.push("json".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Run {
        label: format!(
            "{file} via {via:?}, {} output",
            if json { "json" } else { "human" }
        ),
        output: sandbox.run_with_env(&args, &env),
        json,
    }
}

/// Runs `file` in all four ways, checks the exit code of each and that `core` is printed nowhere.
fn run_all(
    sandbox: &Sandbox,
    file: &str,
    base_url: &str,
    secret: &str,
    core: &str,
    code: i32,
    env: &[(&str, &str)],
) -> Vec<Run> {
    let mut runs = Vec::new();
    for via in [Via::Env, Via::Input] {
        for json in [false, true] {
            let run = run_one(sandbox, file, base_url, secret, via, json, env);
            assert_eq!(
                run.output.code, code,
                "{}: exit code\nstdout:\n{}\nstderr:\n{}",
                run.label, run.output.stdout, run.output.stderr
            );
            assert_no_leak(&run, core);
            runs.push(run);
        }
    }
    runs
}

fn assert_no_leak(run: &Run, core: &str) {
    assert!(
        !run.output.stdout.contains(core),
        "{}: the secret leaked to stdout:\n{}",
        run.label,
        run.output.stdout
    );
    assert!(
        !run.output.stderr.contains(core),
        "{}: the secret leaked to stderr:\n{}",
        run.label,
        run.output.stderr
    );
    if run.json {
        let report = run.report();
        assert_eq!(report["inputs"]["api_secret"], json!(MASK), "{}", run.label);
    }
}

/// No file under `dir` contains `core`, except the files a test's own commands wrote on purpose.
fn assert_no_file_leak(dir: &Path, core: &str, allowed: &[&str]) {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if allowed.contains(&name) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(core),
                "the secret was written to {}",
                path.display()
            );
        }
    }
}

fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in report:\n{report:#}"))
}

fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

fn requests(received: Option<Vec<Request>>) -> Vec<Request> {
    received.expect("wiremock records requests")
}

/// (a) The server echoes the secret in its body and a header; the body and captures are reported.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_echoed_by_the_server_is_masked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/echo"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Echo-Key", CANARY)
                .set_body_json(json!({
                    "received": {"key": CANARY, "note": format!("key={CANARY}")},
                    "message": format!("hello {CANARY}, welcome")
                })),
        )
        .expect(4)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: echo
    http:
      method: POST
      url: "{{inputs.base_url}}/v1/echo"
      headers:
        Authorization: "Bearer {{inputs.api_secret}}"
        X-Api-Key: "{{inputs.api_secret}}"
      json:
        key: "{{inputs.api_secret}}"
        note: "key={{inputs.api_secret}}"
      capture:
        echoed: $.received.key
        note: $.received.note
        header_echo: {header: X-Echo-Key}
      assert:
        - that: "{{outputs.echoed}}"
          equals: "{{inputs.api_secret}}"
  - id: compare
    assert:
      - that: "{{steps.echo.outputs.note}}"
        ends_with: "{{inputs.api_secret}}"
      - that: "{{steps.echo.outputs.header_echo}}"
        equals: "{{inputs.api_secret}}"
"#,
        ),
    );
    let runs = run_all(&sandbox, "rb.yaml", &server.uri(), CANARY, CORE, 0, &[]);
    for run in runs.iter().filter(|run| run.json) {
        let report = run.report();
        let outputs = &step(&report, "echo")["outputs"];
        assert_eq!(outputs["echoed"], json!(MASK), "{}", run.label);
        assert_eq!(
            outputs["note"],
            json!(format!("key={MASK}")),
            "{}",
            run.label
        );
        assert_eq!(outputs["header_echo"], json!(MASK), "{}", run.label);
        assert_eq!(
            outputs["body"]["message"],
            json!(format!("hello {MASK}, welcome")),
            "{}",
            run.label
        );
        assert_eq!(
            outputs["headers"]["x-echo-key"],
            json!(MASK),
            "{}",
            run.label
        );
    }
    // The secret was really used: the server received it, in headers and in the body.
    for request in requests(server.received_requests().await) {
        assert_eq!(
            header_of(&request, "authorization"),
            Some(format!("Bearer {CANARY}").as_str())
        );
        assert_eq!(header_of(&request, "x-api-key"), Some(CANARY));
        let body: Value = request.body_json().expect("JSON body");
        assert_eq!(
            body,
            json!({"key": CANARY, "note": format!("key={CANARY}")})
        );
    }
    assert_no_file_leak(sandbox.path(), CORE, &[]);
}

/// (b) A command prints the secret on stdout and stderr, then fails with stderr in the message.
#[test]
fn a_secret_printed_by_a_command_is_masked() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: prints
    shell:
      command: echo "token=$TOKEN"; echo "stderr token=$TOKEN" >&2
      env:
        TOKEN: "{{inputs.api_secret}}"
  - id: prints_json
    shell:
      command: >-
        printf '{"token": "%s", "list": ["%s"]}' "$TOKEN" "$TOKEN"
      env:
        TOKEN: "{{inputs.api_secret}}"
      stdout: json
      capture:
        token: $.token
  - id: fails
    shell:
      command: echo "about to fail with $TOKEN"; echo "cannot use key $TOKEN" >&2; exit 3
      env:
        TOKEN: "{{inputs.api_secret}}"
"#,
        ),
    );
    let runs = run_all(
        &sandbox,
        "rb.yaml",
        "http://127.0.0.1:9",
        CANARY,
        CORE,
        1,
        &[],
    );
    for run in &runs {
        if run.json {
            let report = run.report();
            assert_eq!(
                step(&report, "prints")["outputs"]["stdout"],
                json!(format!("token={MASK}"))
            );
            assert_eq!(
                step(&report, "prints")["outputs"]["stderr"],
                json!(format!("stderr token={MASK}"))
            );
            assert_eq!(
                step(&report, "prints_json")["outputs"]["token"],
                json!(MASK)
            );
            assert_eq!(
                step(&report, "prints_json")["outputs"]["stdout"]["list"],
                json!([MASK])
            );
            let message = step(&report, "fails")["error"]["message"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(
                message.contains(&format!("cannot use key {MASK}")),
                "{message}"
            );
        } else {
            assert!(
                run.output
                    .stdout
                    .contains(&format!("cannot use key {MASK}")),
                "{}",
                run.output.stdout
            );
        }
    }
    assert_no_file_leak(sandbox.path(), CORE, &[]);
}

/// (c) An assertion about the secret fails: its message shows both sides, masked.
#[test]
fn a_failed_assertion_about_a_secret_is_masked() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: check
    assert:
      - that: "{{inputs.api_secret}}"
        starts_with: LIVE-
        message: the key is not a live key
      - that: "prefix {{inputs.api_secret}} suffix"
        equals: something else
      - that: not the key
        equals: "{{inputs.api_secret}}"
      - that: "{{inputs.api_secret}}"
        one_of: [a, b]
      - that: "{{inputs.api_secret}}"
        length: 3
      - that: "{{inputs.api_secret}}"
        matches: "^[0-9]+$"
"#,
        ),
    );
    let runs = run_all(
        &sandbox,
        "rb.yaml",
        "http://127.0.0.1:9",
        CANARY,
        CORE,
        4,
        &[],
    );
    for run in &runs {
        let printed = run.printed();
        assert!(
            printed.contains("the key is not a live key"),
            "{}: {printed}",
            run.label
        );
        assert!(printed.contains(MASK), "{}: {printed}", run.label);
    }
}

/// (d) A failed request whose error body (or redirect target) echoes the secret.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_request_echoing_the_secret_is_masked() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/account"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code": 40110000, "message": format!("key {CANARY} is not authorized")}),
        ))
        .expect(4)
        .mount(&server)
        .await;
    Mock::given(path("/v2/redirect"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "Location",
            format!("https://elsewhere.invalid/login?key={CANARY}"),
        ))
        .expect(4)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "unauthorized.yaml",
        &runbook(
            r#"
  - id: account
    http:
      url: "{{inputs.base_url}}/v2/account"
      headers:
        APCA-API-SECRET-KEY: "{{inputs.api_secret}}"
"#,
        ),
    );
    sandbox.write(
        "redirect.yaml",
        &runbook(
            r#"
  - id: redirect
    http:
      url: "{{inputs.base_url}}/v2/redirect"
      follow_redirects: true
      headers:
        APCA-API-SECRET-KEY: "{{inputs.api_secret}}"
"#,
        ),
    );
    for run in run_all(
        &sandbox,
        "unauthorized.yaml",
        &server.uri(),
        CANARY,
        CORE,
        1,
        &[],
    ) {
        let printed = run.printed();
        assert!(
            printed.contains(&format!("key {MASK} is not authorized")),
            "{}: {printed}",
            run.label
        );
    }
    for run in run_all(
        &sandbox,
        "redirect.yaml",
        &server.uri(),
        CANARY,
        CORE,
        1,
        &[],
    ) {
        let printed = run.printed();
        assert!(
            printed.contains(&format!("login?key={MASK}")),
            "{}: {printed}",
            run.label
        );
    }
    assert_no_file_leak(sandbox.path(), CORE, &[]);
}

/// (e) A value captured with `secret: true` is masked from then on, wherever it goes.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_capture_is_masked_in_later_steps() {
    const TOKEN: &str = "tok-5e8a1d7c";
    const TOKEN_CORE: &str = "5e8a1d7c";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/login"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"token": TOKEN, "expires_in": 3600})),
        )
        .expect(4)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/me"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"user": "ops", "seen_token": TOKEN})),
        )
        .expect(4)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: login
    http:
      method: POST
      url: "{{inputs.base_url}}/v1/login"
      json: {key: "{{inputs.api_secret}}"}
      capture:
        token: {jsonpath: $.token, secret: true}
        expires_in: $.expires_in
  - id: me
    http:
      url: "{{inputs.base_url}}/v1/me"
      headers:
        Authorization: "Bearer {{steps.login.outputs.token}}"
      capture:
        seen: $.seen_token
  - id: print
    shell:
      command: echo {{steps.login.outputs.token}}; echo "err {{steps.login.outputs.token}}" >&2
  - id: fail
    assert:
      - that: "{{steps.login.outputs.token}}"
        equals: wrong
"#,
        ),
    );
    let runs = run_all(
        &sandbox,
        "rb.yaml",
        &server.uri(),
        CANARY,
        TOKEN_CORE,
        4,
        &[],
    );
    for run in &runs {
        assert_no_leak(run, CORE);
        if run.json {
            let report = run.report();
            let login = &step(&report, "login")["outputs"];
            assert_eq!(login["token"], json!(MASK), "{}", run.label);
            assert_eq!(login["body"]["token"], json!(MASK), "{}", run.label);
            assert_eq!(login["expires_in"], json!(3600), "{}", run.label);
            assert_eq!(
                step(&report, "me")["outputs"]["seen"],
                json!(MASK),
                "{}",
                run.label
            );
            assert_eq!(
                step(&report, "print")["outputs"]["stdout"],
                json!(MASK),
                "{}",
                run.label
            );
            assert_eq!(
                step(&report, "print")["outputs"]["stderr"],
                json!(format!("err {MASK}")),
                "{}",
                run.label
            );
            let message = step(&report, "fail")["error"]["message"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(message.contains(MASK), "{message}");
        }
    }
    let received = requests(server.received_requests().await);
    let me: Vec<&Request> = received
        .iter()
        .filter(|r| r.url.path() == "/v1/me")
        .collect();
    assert_eq!(me.len(), 4);
    for request in me {
        assert_eq!(
            header_of(request, "authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    assert_no_file_leak(sandbox.path(), TOKEN_CORE, &[]);
}

/// The secret reaches the command (it compares equal), but never through the shell's argv.
#[test]
fn a_secret_in_a_command_is_never_in_argv() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: argv
    shell:
      command: cat /proc/$$/cmdline > cmdline.bin; test {{inputs.api_secret}} = "$EXPECTED_CANARY"
  - id: argv_env
    shell:
      command: cat /proc/$$/cmdline > cmdline-env.bin; test "$KEY" = "$EXPECTED_CANARY"
      env:
        KEY: "{{inputs.api_secret}}"
  - id: argv_stdin
    shell:
      command: cat /proc/$$/cmdline > cmdline-stdin.bin; read -r key; test "$key" = "$EXPECTED_CANARY"
      stdin: "{{inputs.api_secret}}\n"
"#,
        ),
    );
    for via in [Via::Env, Via::Input] {
        for file in ["cmdline.bin", "cmdline-env.bin", "cmdline-stdin.bin"] {
            let _ = std::fs::remove_file(sandbox.path().join(file));
        }
        let run = run_one(
            &sandbox,
            "rb.yaml",
            "http://127.0.0.1:9",
            CANARY,
            via,
            true,
            &[("EXPECTED_CANARY", CANARY)],
        );
        assert_eq!(
            run.output.code, 0,
            "{}: the command did not receive the secret:\n{}",
            run.label, run.output.stdout
        );
        assert_no_leak(&run, CORE);
        for file in ["cmdline.bin", "cmdline-env.bin", "cmdline-stdin.bin"] {
            let argv = std::fs::read(sandbox.path().join(file))
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            let argv = String::from_utf8_lossy(&argv).replace('\0', " ");
            assert!(argv.starts_with("sh -c "), "{file}: {argv}");
            assert!(
                !argv.contains(CORE),
                "{}: the secret is in the shell's argv: {argv}",
                run.label
            );
        }
        let argv = std::fs::read_to_string(sandbox.path().join("cmdline.bin")).unwrap_or_default();
        assert!(
            argv.contains("RUNBOOK_REF_1"),
            "the reference became an environment variable: {argv}"
        );
    }
    assert_no_file_leak(sandbox.path(), CORE, &[]);
}

/// A secret given with the wrong type: the usage error does not show it.
#[test]
fn a_mistyped_secret_input_is_not_shown() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: typed
title: Typed secret
inputs:
  pin: {type: integer, secret: true, env: RB_LEAK_TEST_PIN}
steps:
  - id: noop
    shell:
      command: "true"
"#,
    );
    let by_input = sandbox.run(&["run", "rb.yaml", "--input", &format!("pin={CANARY}")]);
    let by_env = sandbox.run_with_env(
        &["run", "rb.yaml", "--output", "json"],
        &[("RB_LEAK_TEST_PIN", CANARY)],
    );
    for output in [by_input, by_env] {
        assert_eq!(output.code, 2, "{output:?}");
        assert!(
            output.stderr.contains("input `pin` must be an integer"),
            "{}",
            output.stderr
        );
        assert!(!output.stderr.contains(CORE), "{}", output.stderr);
        assert!(!output.stdout.contains(CORE), "{}", output.stdout);
    }
}

/// A long error body is cut for display; the cut must not leave the start of a secret visible.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_cut_by_the_body_snippet_is_not_partly_shown() {
    let server = MockServer::start().await;
    let body = format!("{}{CANARY} and more", "a".repeat(288));
    Mock::given(path("/v2/account"))
        .respond_with(ResponseTemplate::new(401).set_body_string(body))
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: account
    http:
      url: "{{inputs.base_url}}/v2/account"
"#,
        ),
    );
    let run = run_one(
        &sandbox,
        "rb.yaml",
        &server.uri(),
        CANARY,
        Via::Env,
        false,
        &[],
    );
    assert_eq!(run.output.code, 1, "{}", run.printed());
    // Any recognisable part of the canary is a leak.
    assert!(!run.printed().contains("CANARY-9f3"), "{}", run.printed());
}

/// A secret with a character JSON escapes: assertion messages show values JSON-encoded, and the
/// encoded form must be masked too.
#[test]
fn a_secret_with_a_quote_is_masked_in_assertion_messages() {
    let sandbox = Sandbox::new();
    let secret = r#"s3cr"et\7d1e0a"#;
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: check
    assert:
      - that: "{{inputs.api_secret}}"
        equals: wrong
"#,
        ),
    );
    run_all(
        &sandbox,
        "rb.yaml",
        "http://127.0.0.1:9",
        secret,
        "7d1e0a",
        4,
        &[],
    );
}

/// A secret in a URL path is shown percent-encoded in the request description of an error.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_in_the_url_path_is_masked_when_encoded() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &runbook(
            r#"
  - id: hook
    http:
      method: POST
      url: "{{inputs.base_url}}/hooks/{{inputs.api_secret}}"
"#,
        ),
    );
    run_all(
        &sandbox,
        "rb.yaml",
        &server.uri(),
        "p@ss word-7d1e0a",
        "7d1e0a",
        1,
        &[],
    );
}
