//! A runbook (`rb.yaml`) in a sandbox with one state directory for every command run on it: the
//! harness of the resume regression tests.

#![allow(clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Background, Output, Sandbox, finish, runbook};

pub struct Bench {
    pub sandbox: Sandbox,
    pub state: PathBuf,
}

impl Bench {
    pub fn new(yaml: &str) -> Bench {
        let sandbox = Sandbox::new();
        sandbox.write("rb.yaml", yaml);
        let state = sandbox.path().join(".state");
        Bench { sandbox, state }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.sandbox.path().join(name)
    }

    pub fn touch(&self, name: &str) {
        self.sandbox.write(name, "");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    /// `runbook ARGS` in the sandbox with this bench's state directory; stdin is a pipe (no TTY).
    pub fn cmd(&self, args: &[&str]) -> Output {
        let mut command = runbook();
        command
            .current_dir(self.sandbox.path())
            .env("RUNBOOK_STATE_DIR", &self.state)
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env_remove("COLUMNS")
            .args(args)
            .timeout(Duration::from_secs(60))
            .write_stdin("");
        finish(command)
    }

    /// `runbook ARGS` in the background, stdin closed.
    pub fn spawn(&self, args: &[&str]) -> Background {
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
        Background::spawn(command)
    }

    /// `runbook runs --output json`.
    pub fn runs(&self) -> Vec<Value> {
        let output = self.cmd(&["runs", "--output", "json"]);
        assert_eq!(output.code, 0, "runs: {}", output.stderr);
        let runs: Value = serde_json::from_str(&output.stdout)
            .unwrap_or_else(|error| panic!("runs --output json: {error}\n{}", output.stdout));
        runs.as_array().cloned().unwrap_or_default()
    }

    pub fn run_summary(&self, run_id: &str) -> Value {
        self.runs()
            .into_iter()
            .find(|run| run["run_id"] == run_id)
            .unwrap_or_else(|| panic!("`runbook runs` does not list {run_id}"))
    }

    pub fn only_run(&self) -> Value {
        let runs = self.runs();
        assert_eq!(runs.len(), 1, "{runs:#?}");
        runs[0].clone()
    }

    pub fn only_run_id(&self) -> String {
        self.only_run()["run_id"]
            .as_str()
            .expect("run_id")
            .to_owned()
    }

    pub fn journal_path(&self, run_id: &str) -> PathBuf {
        self.state.join("runs").join(run_id).join("journal.jsonl")
    }

    pub fn journal(&self, run_id: &str) -> Vec<Value> {
        json_lines(&std::fs::read_to_string(self.journal_path(run_id)).expect("read the journal"))
    }

    pub fn audit(&self) -> Vec<Value> {
        json_lines(
            &std::fs::read_to_string(self.state.join("audit.jsonl")).expect("read the audit log"),
        )
    }
}

pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

pub fn assert_code(output: &Output, code: i32, what: &str) {
    assert_eq!(
        output.code, code,
        "{what}: exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}
