//! Helpers shared by the `shell` step tests: running the binary, reading its JSON report, and
//! watching child processes by pid.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::control::step;
use crate::support::{self, Output, Sandbox};

/// Runs `runbook run FILE [--input k=v]... --output json` and returns the output and the report.
pub(super) fn run_json(
    sandbox: &Sandbox,
    file: &str,
    inputs: &[(&str, &str)],
    env: &[(&str, &str)],
) -> (Output, Value) {
    let output = run(sandbox, file, inputs, env, true);
    let report = serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not a JSON report ({error}):\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    });
    (output, report)
}

pub(super) fn run(
    sandbox: &Sandbox,
    file: &str,
    inputs: &[(&str, &str)],
    env: &[(&str, &str)],
    json: bool,
) -> Output {
    let mut args: Vec<String> = vec!["run".into(), file.into()];
    for (name, value) in inputs {
        args.push("--input".into());
        args.push(format!("{name}={value}"));
    }
    if json {
        args.push("--output".into());
        args.push("json".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandbox.run_with_env(&args, env)
}

pub(super) fn message<'a>(report: &'a Value, id: &str) -> &'a str {
    step(report, id)["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("step `{id}` has no error:\n{report:#}"))
}

/// True when the process no longer exists (or is a zombie waiting to be reaped: it is dead).
pub(super) fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

pub(super) fn wait_gone(pid: u32, within: Duration) -> bool {
    support::poll_until(within, || process_gone(pid))
}

pub(super) fn read_pid(path: &Path) -> u32 {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|error| panic!("{}: `{text}`: {error}", path.display()))
}

/// Kills a process left behind by a failing test, so it does not outlive the test run.
pub(super) fn cleanup(pid: u32) {
    if !process_gone(pid) {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status();
    }
}
