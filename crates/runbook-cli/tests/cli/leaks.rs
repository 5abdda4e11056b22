//! The canary sweep (issue 9): a secret that holds a space, `+`, `#`, `?`, a non-ASCII letter and
//! `&` enters the run by every route, comes back from real parts (a local HTTP server that echoes
//! it in other encodings, shell commands), and every byte the program wrote (stdout, stderr, the
//! JSON report, the journal, the audit log, every other file in the state directory) is searched
//! for the canary in every encoding the redactor promises to mask (docs/security.md).
//!
//! Each test prints `sweep NAME: N channels tried, M leaked`; run with `--nocapture` to count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Output, Sandbox, fresh_state_dir};

pub(crate) const CANARY: &str = "CANARY s3cr3t+91ab#?ß&";
pub(crate) const ENV: &str = "RB_CANARY";

// ---------------------------------------------------------------------------------------------
// The sweep.

/// The canary's encodings, each computed here independently of the redactor.
pub(crate) fn encodings(secret: &str) -> Vec<(&'static str, String)> {
    let percent = |keep: &dyn Fn(u8) -> bool, plus: bool, upper: bool| -> String {
        secret
            .bytes()
            .map(|b| {
                if plus && b == b' ' {
                    "+".to_owned()
                } else if b != b'%' && keep(b) {
                    char::from(b).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    let path_set = |b: u8| b.is_ascii_graphic() && !b"\"#<>?`{}%".contains(&b);
    let json = serde_json::to_string(secret).unwrap();
    let json = json.trim_matches('"').to_owned();
    let ascii_json = |upper: bool, html: bool| -> String {
        let mut out = String::new();
        for c in secret.chars() {
            let mut units = [0u16; 2];
            if !c.is_ascii() || (html && "<>&".contains(c)) {
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&if upper {
                        format!("\\u{unit:04X}")
                    } else {
                        format!("\\u{unit:04x}")
                    });
                }
            } else if c == '"' || c == '\\' {
                out.push('\\');
                out.push(c);
            } else {
                out.push(c);
            }
        }
        out
    };
    let nested = serde_json::to_string(&format!("\"{json}\"")).unwrap();
    let nested = nested
        .trim_matches('"')
        .trim_matches(|c| c == '\\' || c == '"');
    let nested_ascii = ascii_json(false, true).replace('\\', "\\\\");
    let base64 = |alphabet: &[u8; 64], pad: bool| -> String {
        let bytes = secret.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
                } else if pad {
                    out.push('=');
                }
            }
        }
        out
    };
    let std64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let url64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut forms = vec![
        ("exact", secret.to_owned()),
        ("percent, upper hex", percent(&unreserved, false, true)),
        ("percent, lower hex", percent(&unreserved, false, false)),
        ("form (+ for space)", percent(&unreserved, true, true)),
        ("path (WHATWG set)", percent(&path_set, false, true)),
        ("JSON", json.clone()),
        ("JSON \\u, lower", ascii_json(false, false)),
        ("JSON \\u, upper", ascii_json(true, false)),
        ("JSON, Go's \\u0026", ascii_json(false, true)),
        ("JSON in JSON", nested.to_owned()),
        ("JSON in JSON, \\u", nested_ascii),
        ("base64", base64(std64, true)),
        ("base64, no padding", base64(std64, false)),
        ("base64 URL-safe", base64(url64, false)),
        // The distinctive middle of the secret: found in any copy that is cut short.
        ("core", "s3cr3t".to_owned()),
    ];
    forms.dedup_by(|a, b| a.1 == b.1);
    forms
}

/// Channels searched and what was found.
pub(crate) struct Sweep {
    name: &'static str,
    forms: Vec<(&'static str, String)>,
    tried: usize,
    leaks: Vec<String>,
}

impl Sweep {
    pub(crate) fn new(name: &'static str) -> Self {
        Sweep {
            name,
            forms: encodings(CANARY),
            tried: 0,
            leaks: Vec::new(),
        }
    }

    /// Searches one channel (a stream or a file) for every form.
    pub(crate) fn check(&mut self, channel: &str, text: &str) {
        self.tried += 1;
        for (label, form) in &self.forms {
            if text.contains(form.as_str()) {
                self.leaks.push(format!(
                    "{channel}: the canary ({label}) `{form}` in:\n{text}"
                ));
            }
        }
    }

    pub(crate) fn output(&mut self, what: &str, output: &Output) {
        self.check(&format!("{what} stdout"), &output.stdout);
        self.check(&format!("{what} stderr"), &output.stderr);
    }

    /// Every file under `dir` (journal, audit log, anything left behind).
    pub(crate) fn tree(&mut self, dir: &Path) {
        for file in files_under(dir) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            self.check(
                &file.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }

    pub(crate) fn assert_clean(self) {
        let leaked = self.leaks.len();
        eprintln!(
            "sweep {}: {} channels tried, {leaked} leaked",
            self.name, self.tried
        );
        assert!(
            self.leaks.is_empty(),
            "{}: {leaked} leak(s):\n{}",
            self.name,
            self.leaks.join("\n---\n")
        );
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Runs `runbook ARGS` in the sandbox with the canary in its environment and `state` as state dir.
pub(crate) fn run(sandbox: &Sandbox, state: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let state = state.display().to_string();
    let mut all = vec![(ENV, CANARY), ("RUNBOOK_STATE_DIR", state.as_str())];
    all.extend_from_slice(env);
    sandbox.run_with_env(args, &all)
}

pub(crate) const SECRET_INPUT: &str = "inputs:
  base_url: {type: string, default: \"http://127.0.0.1:9\"}
  api_secret: {type: string, secret: true, env: RB_CANARY}
";

// ---------------------------------------------------------------------------------------------
// 1. Prompt text.

#[test]
fn prompt_text_and_answers_never_show_a_secret() {
    let sandbox = Sandbox::new();
    let state = fresh_state_dir();
    sandbox.write(
        "prompt.yaml",
        &format!(
            "id: leak-prompt\ntitle: t\n{SECRET_INPUT}steps:
  - id: ask
    prompt:
      instructions: \"Rotate with {{{{inputs.api_secret}}}} now\"
      confirm: \"Send {{{{inputs.api_secret}}}}?\"
      answers:
        note: {{label: A note}}
  - id: typed
    prompt:
      phrase: \"{{{{inputs.api_secret}}}}\"
"
        ),
    );
    // The answers file holds the canary (a note that equals it, the phrase): it is the operator's
    // input, not something the program wrote, so it lives outside the swept state directory.
    let answers = serde_json::json!({
        "ask": {"confirm": true, "note": CANARY},
        "typed": {"phrase": CANARY},
    });
    sandbox.write("answers.yaml", &answers.to_string());
    let mut sweep = Sweep::new("prompt text");
    for format in ["human", "json"] {
        let output = run(
            &sandbox,
            &state,
            &[
                "run",
                "prompt.yaml",
                "--answers",
                "answers.yaml",
                "--output",
                format,
            ],
            &[],
        );
        assert_eq!(output.code, 0, "{output:?}");
        sweep.output(&format!("run --output {format}"), &output);
    }
    sweep.tree(&state);
    sweep.assert_clean();
}

#[test]
fn lint_warns_about_a_secret_in_prompt_text() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "prompt.yaml",
        &format!(
            "id: p\ntitle: t\n{SECRET_INPUT}steps:\n  - id: ask\n    prompt:\n      confirm: \"Use {{{{inputs.api_secret}}}}?\"\n"
        ),
    );
    let output = sandbox.run(&["lint", "prompt.yaml"]);
    assert_eq!(output.code, 0, "a warning does not fail lint: {output:?}");
    assert!(
        output
            .stdout
            .contains("warning[runbook::check::secret_in_prompt]"),
        "{output:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Encodings: a server echoes what it receives in every encoding it might use.

/// Answers with the `x-key` header it received in every encoding above, one per line, then the
/// received path, then the key in a JSON document and in a JSON string inside a JSON document (as
/// an API that wraps a payload sends it).
pub(crate) struct EchoEncodings;

impl Respond for EchoEncodings {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = request
            .headers
            .get("x-key")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let mut body = String::new();
        for (label, form) in encodings(&key) {
            // The core is a search term for copies cut short, not an encoding a server sends.
            if label != "core" {
                body.push_str(&format!("{label}: {form}\n"));
            }
        }
        body.push_str(&format!("path: {}\n", request.url.path()));
        let document = serde_json::json!({"secret": key});
        body.push_str(&format!("{document}\n"));
        body.push_str(&format!(
            "{}\n",
            serde_json::json!({"payload": document.to_string()})
        ));
        ResponseTemplate::new(200).set_body_string(body)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_echoing_the_secret_in_other_encodings_is_masked() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(EchoEncodings)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    let state = fresh_state_dir();
    sandbox.write(
        "echo.yaml",
        &format!(
            "id: leak-echo\ntitle: t\n{SECRET_INPUT}steps:
  - id: call
    http:
      method: GET
      url: \"{{{{inputs.base_url}}}}/hooks/{{{{inputs.api_secret}}}}\"
      headers: {{x-key: \"{{{{inputs.api_secret}}}}\"}}
  - id: show
    shell:
      command: \"printf '%s' \\\"$V\\\" | base64; printf 'x%s' \\\"$V\\\" | base64; echo {{{{steps.call.outputs.status}}}}\"
      env: {{V: \"{{{{inputs.api_secret}}}}\"}}
"
        ),
    );
    let base = format!("--input=base_url={}", server.uri());
    let mut sweep = Sweep::new("encodings");
    for format in ["human", "json"] {
        let output = run(
            &sandbox,
            &state,
            &["run", "echo.yaml", &base, "--output", format],
            &[],
        );
        assert_eq!(output.code, 0, "{output:?}");
        sweep.output(&format!("run --output {format}"), &output);
    }
    sweep.tree(&state);
    sweep.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// 3. A secret learned later: the output it was captured from is secret from the start.

#[test]
fn an_output_a_later_secret_capture_reads_is_never_recorded() {
    let sandbox = Sandbox::new();
    let state = fresh_state_dir();
    // The command that prints the new secret reads it from a file: runbook cannot know it yet.
    sandbox.write(
        "new-key.json",
        &serde_json::json!({"secret": CANARY}).to_string(),
    );
    sandbox.write(
        "later.yaml",
        "id: leak-later\ntitle: t\nsteps:
  - id: generate
    shell: {command: cat new-key.json}
  - id: via_stdin
    shell:
      command: cat
      stdin: \"{{steps.generate.outputs.stdout}}\"
      stdout: json
      capture:
        key: {jsonpath: $.secret, secret: true}
  - id: echo_twice
    shell: {command: \"printf '%s' \\\"$X\\\"\", env: {X: \"{{steps.generate.outputs.stdout}}\"}}
  - id: via_echo
    shell:
      command: \"printf '%s' \\\"$Y\\\"\"
      env: {Y: \"{{steps.echo_twice.outputs.stdout}}\"}
      stdout: json
      capture:
        again: {jsonpath: $.secret, secret: true}
",
    );
    let mut sweep = Sweep::new("secret learned later");
    for format in ["human", "json"] {
        let output = run(
            &sandbox,
            &state,
            &["run", "later.yaml", "--output", format],
            &[],
        );
        assert_eq!(output.code, 0, "{output:?}");
        sweep.output(&format!("run --output {format}"), &output);
    }
    let runs: Vec<String> = std::fs::read_dir(state.join("runs"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for id in &runs {
        for format in ["human", "json"] {
            let output = run(&sandbox, &state, &["show", id, "--output", format], &[]);
            assert_eq!(output.code, 0, "{output:?}");
            sweep.output(&format!("show --output {format}"), &output);
        }
    }
    sweep.tree(&state);
    sweep.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// 4. `#` and `?` in a secret in a URL path: sent whole, as data.

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_in_a_url_path_is_sent_whole_as_data() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    let state = fresh_state_dir();
    sandbox.write(
        "path.yaml",
        &format!(
            "id: leak-path\ntitle: t\n{SECRET_INPUT}steps:
  - id: call
    http:
      url: \"{{{{inputs.base_url}}}}/hooks/{{{{inputs.api_secret}}}}?and={{{{inputs.api_secret}}}}\"
      expect_status: [200]
"
        ),
    );
    let base = format!("--input=base_url={}", server.uri());
    let output = run(
        &sandbox,
        &state,
        &["run", "path.yaml", &base, "--output", "json"],
        &[],
    );
    assert_eq!(output.code, 0, "{output:?}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let url = &requests[0].url;
    let segments: Vec<String> = url
        .path_segments()
        .unwrap()
        .map(|s| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert_eq!(segments, ["hooks", CANARY], "{url}");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(query, [("and".to_owned(), CANARY.to_owned())], "{url}");
    let mut sweep = Sweep::new("secret in a URL path");
    sweep.output("run --output json", &output);
    sweep.tree(&state);
    sweep.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// 6. Help and collector credentials.

#[test]
fn help_and_audit_collector_messages_show_no_credentials() {
    let sandbox = Sandbox::new();
    let state = fresh_state_dir();
    sandbox.write(
        "ok.yaml",
        "id: leak-audit\ntitle: t\nsteps:\n  - id: a\n    shell: {command: 'true'}\n",
    );
    let token: String = url::form_urlencoded::byte_serialize(CANARY.as_bytes()).collect();
    let header = format!("Authorization: Bearer {CANARY}");
    let audit_url = format!("http://user:{token}@127.0.0.1:9/collect?token={token}");
    let mut sweep = Sweep::new("help and audit collector");
    let help = run(
        &sandbox,
        &state,
        &["run", "--help"],
        &[
            ("RUNBOOK_AUDIT_HEADER", &header),
            ("RUNBOOK_AUDIT_URL", &audit_url),
        ],
    );
    assert_eq!(help.code, 0, "{help:?}");
    sweep.output("run --help", &help);

    // A header with no `:` at all (the value pasted without a name).
    let malformed = run(
        &sandbox,
        &state,
        &["run", "ok.yaml", "--audit-url", "http://127.0.0.1:9/c"],
        &[("RUNBOOK_AUDIT_HEADER", &format!("Bearer {CANARY}"))],
    );
    assert_eq!(malformed.code, 2, "{malformed:?}");
    assert!(
        malformed.stderr.contains("is not `Name: value`"),
        "{malformed:?}"
    );
    sweep.output("malformed --audit-header", &malformed);

    // An invalid header name: refused up front, not "builder error" on every record.
    let bad_name = run(
        &sandbox,
        &state,
        &[
            "run",
            "ok.yaml",
            "--audit-url",
            "http://127.0.0.1:9/c",
            "--audit-header",
            &format!("Bad Name {CANARY}: x"),
        ],
        &[],
    );
    assert_eq!(bad_name.code, 2, "{bad_name:?}");
    assert!(
        bad_name.stderr.contains("not a valid HTTP header name"),
        "{bad_name:?}"
    );
    sweep.output("invalid --audit-header name", &bad_name);

    // A collector that cannot be reached, with credentials in its URL.
    for format in ["human", "json"] {
        let failing = run(
            &sandbox,
            &state,
            &[
                "run",
                "ok.yaml",
                "--audit-url",
                &audit_url,
                "--output",
                format,
            ],
            &[("RUNBOOK_AUDIT_HEADER", &header)],
        );
        assert!(
            failing.stderr.contains("127.0.0.1:9/collect")
                || failing.stdout.contains("127.0.0.1:9/collect"),
            "the failure names the collector: {failing:?}"
        );
        sweep.output(&format!("unreachable --audit-url ({format})"), &failing);
    }
    sweep.tree(&state);
    sweep.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// 7. Very short secrets.

#[test]
fn short_secret_inputs_and_answers_are_refused_and_short_captures_mask_whole_tokens() {
    let sandbox = Sandbox::new();
    let state = fresh_state_dir();
    sandbox.write(
        "short.yaml",
        "id: short\ntitle: t\ninputs:\n  pin: {type: string, secret: true, env: RB_PIN}\nsteps:\n  - id: a\n    shell: {command: echo xx x 1x}\n",
    );
    let refused = run(&sandbox, &state, &["run", "short.yaml"], &[("RB_PIN", "x")]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("secret input `pin` is shorter than 6 characters"),
        "{refused:?}"
    );

    sandbox.write(
        "answer.yaml",
        "id: short-answer\ntitle: t\nsteps:\n  - id: ask\n    prompt:\n      answers:\n        pin: {label: PIN, secret: true}\n",
    );
    sandbox.write("answers.yaml", "ask:\n  pin: x1\n");
    let answer = run(
        &sandbox,
        &state,
        &["run", "answer.yaml", "--answers", "answers.yaml"],
        &[],
    );
    assert_ne!(answer.code, 0, "{answer:?}");
    assert!(
        answer.stdout.contains("at least 6 characters")
            || answer.stderr.contains("at least 6 characters"),
        "{answer:?}"
    );

    // A server (here a command) hands back a one-character secret: the run goes on, and only
    // the value standing on its own is masked, not every `x`.
    sandbox.write(
        "capture.yaml",
        "id: short-capture\ntitle: t\nsteps:
  - id: a
    shell:
      command: \"echo '{\\\"k\\\":\\\"x\\\",\\\"text\\\":\\\"xx x box\\\"}'\"
      stdout: json
      capture:
        k: {jsonpath: $.k, secret: true}
        text: {jsonpath: $.text}
",
    );
    let captured = run(
        &sandbox,
        &state,
        &["run", "capture.yaml", "--output", "json"],
        &[],
    );
    assert_eq!(captured.code, 0, "{captured:?}");
    let report: Value = serde_json::from_str(&captured.stdout).unwrap();
    let outputs = &report["steps"][0]["outputs"];
    assert_eq!(outputs["k"], "********", "{report:#}");
    assert_eq!(outputs["text"], "xx ******** box", "{report:#}");
}
