//! Helpers shared by the durable-run tests: a gated response, a sandbox with a state directory
//! shared by every command, a run in the background that can be SIGKILLed, and readers of the
//! journal and audit log.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::control::recorded;
use crate::support::{self, Output, Sandbox, finish, runbook};
use crate::support::{Background as Running, Finished};

/// A response that stays `closed` (by default: held for a minute) until the test opens it.
#[derive(Clone)]
pub(super) struct Gate {
    pub(super) open: Arc<AtomicBool>,
    pub(super) closed: ResponseTemplate,
    pub(super) opened: ResponseTemplate,
}

impl Gate {
    /// Holds the request (60 s) until opened; then answers `opened` at once.
    pub(super) fn hanging(opened: ResponseTemplate) -> Gate {
        Gate::new(opened.clone().set_delay(Duration::from_secs(60)), opened)
    }

    pub(super) fn new(closed: ResponseTemplate, opened: ResponseTemplate) -> Gate {
        Gate {
            open: Arc::new(AtomicBool::new(false)),
            closed,
            opened,
        }
    }

    pub(super) fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Respond for Gate {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.open.load(Ordering::SeqCst) {
            self.opened.clone()
        } else {
            self.closed.clone()
        }
    }
}

pub(crate) async fn mount(
    server: &MockServer,
    verb: &str,
    at: &str,
    response: impl Respond + 'static,
) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

pub(crate) fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": true}))
}

/// How many of the recorded requests are `request` (`"POST /pause"`).
pub(crate) fn count(received: &[String], request: &str) -> usize {
    received.iter().filter(|r| *r == request).count()
}

/// Waits (at most 15 s) until the server has received `request` at least `n` times.
pub(crate) async fn until_count(server: &MockServer, request: &str, n: usize) {
    let what = format!("{n} x {request}");
    support::wait_until_async(Duration::from_secs(15), &what, || async {
        let received = recorded(server).await;
        if count(&received, request) >= n {
            Ok(())
        } else {
            Err(format!("received: {received:?}"))
        }
    })
    .await;
}

/// Waits (at most 15 s) until `path` exists.
pub(super) async fn until_exists(path: &Path) {
    let what = format!("{} to appear", path.display());
    support::wait_until_async(Duration::from_secs(15), &what, || async {
        if path.exists() {
            Ok(())
        } else {
            Err("not there".to_owned())
        }
    })
    .await;
}

/// A runbook file in a sandbox, and one state directory for every command run on it.
pub(super) struct Bench {
    pub(super) sandbox: Sandbox,
    pub(super) state: PathBuf,
}

impl Bench {
    pub(super) fn new(yaml: &str) -> Bench {
        let sandbox = Sandbox::new();
        sandbox.write("rb.yaml", yaml);
        let state = sandbox.path().join(".state");
        Bench { sandbox, state }
    }

    pub(super) fn file(&self, name: &str) -> PathBuf {
        self.sandbox.path().join(name)
    }

    pub(super) fn touch(&self, name: &str) {
        self.sandbox.write(name, "");
    }

    /// `runbook ARGS` in the sandbox, with this bench's state directory (overriding the fresh one
    /// `support::runbook()` sets) and no terminal.
    pub(super) fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = runbook();
        command
            .current_dir(self.sandbox.path())
            .env("RUNBOOK_STATE_DIR", &self.state)
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env_remove("COLUMNS")
            .args(args)
            .write_stdin("");
        for (key, value) in env {
            command.env(key, value);
        }
        finish(command)
    }

    /// `runbook ARGS` in the background.
    pub(super) fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"));
        command
            .current_dir(self.sandbox.path())
            .args(args)
            .env("NO_COLOR", "1")
            .env("RUNBOOK_STATE_DIR", &self.state)
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env_remove("COLUMNS")
            .env_remove("RUST_LOG")
            .env_remove("RUNBOOK_ACTOR")
            .env_remove("RUNBOOK_AUDIT_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        Running::spawn(command)
    }

    /// `runbook runs --output json`.
    pub(super) fn runs(&self) -> Vec<Value> {
        let output = self.cmd(&["runs", "--output", "json"], &[]);
        assert_eq!(output.code, 0, "runs: {}", output.stderr);
        let runs: Value = serde_json::from_str(&output.stdout)
            .unwrap_or_else(|error| panic!("runs --output json: {error}\n{}", output.stdout));
        runs.as_array().cloned().unwrap_or_default()
    }

    /// The id of the one run in the state directory.
    pub(super) fn only_run_id(&self) -> String {
        let runs = self.runs();
        assert_eq!(runs.len(), 1, "{runs:#?}");
        runs[0]["run_id"].as_str().expect("run_id").to_owned()
    }

    pub(super) fn journal_path(&self, run_id: &str) -> PathBuf {
        self.state.join("runs").join(run_id).join("journal.jsonl")
    }

    pub(super) fn journal_text(&self, run_id: &str) -> String {
        std::fs::read_to_string(self.journal_path(run_id)).expect("read the journal")
    }

    /// The journal, which must be valid JSON lines (every line complete) numbered 1, 2, 3...
    pub(super) fn journal(&self, run_id: &str) -> Vec<Value> {
        let records = json_lines(&self.journal_text(run_id), "journal");
        for (index, record) in records.iter().enumerate() {
            assert_eq!(
                record["seq"].as_u64(),
                Some(index as u64 + 1),
                "journal records are numbered without gaps: {records:#?}"
            );
        }
        records
    }

    pub(super) fn audit_text(&self) -> String {
        std::fs::read_to_string(self.state.join("audit.jsonl")).expect("read the audit log")
    }

    pub(super) fn audit(&self) -> Vec<Value> {
        json_lines(&self.audit_text(), "audit log")
    }
}

/// Parses JSON lines strictly: every line is a complete JSON object ending in a newline.
pub(super) fn json_lines(text: &str, what: &str) -> Vec<Value> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the {what} ends with a complete line:\n{text}"
    );
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{what} line is not JSON ({error}): {line}"));
            assert!(value.is_object(), "{what} line is not an object: {line}");
            value
        })
        .collect()
}

pub(super) fn assert_code(output: &Output, code: i32, what: &str) {
    assert_eq!(
        output.code, code,
        "{what}: exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

pub(super) fn killed_by_signal(finished: &Finished) {
    assert_eq!(
        finished.code, None,
        "the run was killed, not exited: {finished:?}"
    );
}

/// Records of `kind` (and, for step records, of `step`).
pub(super) fn records<'a>(records: &'a [Value], kind: &str, step: Option<&str>) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["type"] == kind && step.is_none_or(|s| r["step"] == s))
        .collect()
}

pub(super) fn position(records: &[Value], kind: &str) -> usize {
    let found: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r["type"] == kind)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(found.len(), 1, "exactly one `{kind}` record: {records:#?}");
    found[0]
}

pub(super) fn timestamp(value: &Value) -> jiff::Timestamp {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"))
        .parse()
        .unwrap_or_else(|error| panic!("not a timestamp ({error}): {value}"))
}
