//! SIGTERM, SIGHUP and SIGKILL sent to the real binary while a shell step runs: cleanup, the
//! journal's last record, exit codes, the running command's process group, the `files:` secret
//! files; and a command that leaves a daemon holding its output.
//!
//! Every runbook here uses shell steps only: each step leaves a marker file in the sandbox, so the
//! test sees which compensation, failure-path and finally steps ran.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::support::{
    Background as Running, KillGroupOnDrop, Sandbox, group_alive, poll_until, wait_until,
};

const CANARY: &str = "CANARY-5e1gn4l";
const SECRET_ENV: &str = "RB_SIGNAL_TEST_SECRET";

fn state_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.path().join(".state")
}

fn tmp_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.path().join("tmp")
}

/// `runbook ARGS...` in the background, in `sandbox`, with its own state dir and `TMPDIR`.
fn start_in(sandbox: Sandbox, args: &[&str]) -> Running {
    std::fs::create_dir_all(tmp_dir(&sandbox)).unwrap();
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"));
    command
        .current_dir(sandbox.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env("RUNBOOK_STATE_DIR", state_dir(&sandbox))
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .env("TMPDIR", tmp_dir(&sandbox))
        .env(SECRET_ENV, CANARY)
        .env_remove("RUST_LOG");
    Running::spawn(command).keeping(sandbox)
}

fn start(yaml: &str, extra: &[&str]) -> Running {
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", yaml);
    let mut args = vec!["run", "rb.yaml"];
    args.extend_from_slice(extra);
    start_in(sandbox, &args)
}

/// The pid a step wrote to `name` in the sandbox (its shell's pid, which is its process group).
fn wait_for_pid(dir: &Path, name: &str) -> i32 {
    let path = dir.join(name);
    let mut pid = None;
    wait_until(
        Duration::from_secs(20),
        &format!("{name} to be written"),
        || {
            pid = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| text.trim().parse::<i32>().ok());
            pid.is_some()
        },
    );
    pid.unwrap()
}

/// The records of the one run's journal in `sandbox`'s state dir.
fn journal(sandbox_dir: &Path) -> Vec<Value> {
    let runs = sandbox_dir.join(".state/runs");
    let run = std::fs::read_dir(&runs)
        .unwrap_or_else(|error| panic!("{}: {error}", runs.display()))
        .filter_map(Result::ok)
        .next()
        .expect("one run");
    let text = std::fs::read_to_string(run.path().join("journal.jsonl")).unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Every file under `dir` whose bytes contain the canary.
fn files_with_canary(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_with_canary(&path));
        } else if std::fs::read(&path)
            .map(|bytes| bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()))
            .unwrap_or(false)
        {
            found.push(path);
        }
    }
    found
}

const STEP_RUNNING: &str = r#"
id: signalled
title: Signalled during a step
steps:
  - id: prepare
    shell: {command: "echo prepared"}
    rollback:
      - id: undo_prepare
        shell: {command: "touch undone"}
  - id: slow
    shell:
      command: "echo $$ > slow.pid; sleep 60"
  - id: after
    shell: {command: "touch after"}
on_failure:
  - id: failure_path
    shell: {command: "printf '%s' \"{{run.failure}}\" > failure.txt"}
finally:
  - id: cleanup
    shell: {command: "touch finally"}
"#;

/// A signal during a step: the step's command is killed, compensation, the failure path and
/// finally run, the journal ends with `run_finished` (interrupted), and the exit code is 128+n.
fn signal_during_a_step(signal: Signal, code: i32, name: &str) {
    let mut running = start(STEP_RUNNING, &[]);
    // Kept past the process's end, to look at what it left.
    let sandbox = running.take_sandbox().unwrap();
    let dir = sandbox.path().to_owned();
    let group = wait_for_pid(&dir, "slow.pid");
    let _leftover = KillGroupOnDrop(group);
    running.signal(signal);
    let finished = tokio_block(running.finish(Duration::from_secs(20)));
    let shown = format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    assert_eq!(finished.code, Some(code), "{shown}");
    assert!(dir.join("undone").exists(), "compensation ran\n{shown}");
    assert!(dir.join("finally").exists(), "finally ran\n{shown}");
    assert!(
        !dir.join("after").exists(),
        "no step after the signal\n{shown}"
    );
    let failure = std::fs::read_to_string(dir.join("failure.txt")).unwrap_or_default();
    assert_eq!(failure, format!("interrupted ({name})"), "{shown}");
    let records = journal(&dir);
    let last = records.last().unwrap();
    assert_eq!(last["type"], "run_finished", "{records:#?}");
    assert_eq!(last["status"], "interrupted", "{records:#?}");
    assert_eq!(last["stop"]["signal"], name, "{records:#?}");
    assert!(
        poll_until(Duration::from_secs(5), || !group_alive(group)),
        "the command's process group {group} outlived the run"
    );
    assert!(finished.stderr.contains(name), "{shown}");
}

fn tokio_block<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn sigterm_during_a_step_cleans_up_records_and_exits_143() {
    signal_during_a_step(Signal::SIGTERM, 143, "SIGTERM");
}

#[test]
fn sighup_during_a_step_cleans_up_records_and_exits_129() {
    signal_during_a_step(Signal::SIGHUP, 129, "SIGHUP");
}

const SLOW_FINALLY: &str = r#"
id: signalled-twice
title: Signalled twice
steps:
  - id: slow
    shell:
      command: "echo $$ > slow.pid; sleep 60"
finally:
  - id: slow_cleanup
    shell:
      command: "echo $$ > cleanup.pid; sleep 60"
  - id: last
    shell: {command: "touch last"}
"#;

#[test]
fn a_second_signal_exits_at_once_and_kills_the_running_command() {
    let mut running = start(SLOW_FINALLY, &[]);
    let sandbox = running.take_sandbox().unwrap();
    let dir = sandbox.path().to_owned();
    let first = wait_for_pid(&dir, "slow.pid");
    let _first = KillGroupOnDrop(first);
    running.signal(Signal::SIGTERM);
    let group = wait_for_pid(&dir, "cleanup.pid");
    let _leftover = KillGroupOnDrop(group);
    let second_at = Instant::now();
    running.signal(Signal::SIGHUP);
    let finished = tokio_block(running.finish(Duration::from_secs(20)));
    let took = second_at.elapsed();
    let shown = format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    assert_eq!(finished.code, Some(143), "{shown}");
    assert!(
        took < Duration::from_secs(5),
        "exited at once: {took:?}\n{shown}"
    );
    assert!(
        finished
            .stderr
            .contains("stopped immediately while step `slow_cleanup` was running (finally)"),
        "{shown}"
    );
    assert!(!dir.join("last").exists(), "{shown}");
    assert!(
        poll_until(Duration::from_secs(5), || !group_alive(group)),
        "the command's process group {group} outlived the run"
    );
}

const SECRET_FILE: &str = r#"
id: secret-file
title: A secret file while signalled
inputs:
  token:
    secret: true
    env: RB_SIGNAL_TEST_SECRET
steps:
  - id: use_file
    shell:
      command: "printf '%s' \"$TOKEN_FILE\" > file.path; echo $$ > files.pid; sleep 60"
      files:
        TOKEN_FILE: "token={{inputs.token}}"
"#;

/// Signals runbook while a step with a `files:` secret file runs; returns the run, its sandbox,
/// the path the file had and the command's process group.
fn secret_file_after(signal: Signal) -> (Running, Sandbox, PathBuf, i32) {
    let mut running = start(SECRET_FILE, &[]);
    let sandbox = running.take_sandbox().unwrap();
    let dir = sandbox.path().to_owned();
    let group = wait_for_pid(&dir, "files.pid");
    let file = PathBuf::from(std::fs::read_to_string(dir.join("file.path")).unwrap());
    assert!(
        file.starts_with(state_dir(&sandbox)),
        "the secret file is kept under the state dir, not {}",
        file.display()
    );
    if signal != Signal::SIGKILL {
        running.signal(signal);
    }
    (running, sandbox, file, group)
}

fn secret_files_are_gone_after(signal: Signal) {
    let (running, sandbox, file, group) = secret_file_after(signal);
    let _leftover = KillGroupOnDrop(group);
    let dir = sandbox.path().to_owned();
    let finished = tokio_block(running.finish(Duration::from_secs(20)));
    assert!(finished.code.is_some(), "{}", finished.stderr);
    assert!(!file.exists(), "{} is still there", file.display());
    let left = files_with_canary(&dir);
    assert!(left.is_empty(), "the secret is still on disk: {left:?}");
}

#[test]
fn secret_files_are_removed_after_sigterm() {
    secret_files_are_gone_after(Signal::SIGTERM);
}

#[test]
fn secret_files_are_removed_after_sighup() {
    secret_files_are_gone_after(Signal::SIGHUP);
}

#[test]
fn secret_files_left_by_a_sigkilled_run_are_removed_by_the_next_command() {
    let (running, sandbox, file, group) = secret_file_after(Signal::SIGKILL);
    let leftover = KillGroupOnDrop(group);
    let sandbox_dir = sandbox.path().to_owned();
    let finished = running.sigkill();
    assert_eq!(finished.code, None);
    // The command may still run (or have been killed with runbook); end it either way.
    drop(leftover);
    wait_until(
        Duration::from_secs(5),
        "the killed run's command to end",
        || !group_alive(group),
    );
    assert!(
        file.exists(),
        "SIGKILL leaves the file: nothing could remove it"
    );
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"));
    let output = command
        .current_dir(&sandbox_dir)
        .arg("runs")
        .env("NO_COLOR", "1")
        .env("RUNBOOK_STATE_DIR", state_dir(&sandbox))
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .env("TMPDIR", tmp_dir(&sandbox))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!file.exists(), "`runbook runs` removed {}", file.display());
    let left = files_with_canary(&sandbox_dir);
    assert!(left.is_empty(), "the secret is still on disk: {left:?}");
}

const DAEMON: &str = r#"
id: daemon
title: Starts a daemon
steps:
  - id: start_daemon
    timeout: 10s
    shell:
      command: "setsid sh -c 'echo $$ > daemon.pid; exec sleep 60' & echo started"
"#;

#[test]
fn a_command_that_starts_a_daemon_ends_when_its_shell_exits() {
    let started = Instant::now();
    let mut running = start(DAEMON, &["--output", "json"]);
    let sandbox = running.take_sandbox().unwrap();
    let dir = sandbox.path().to_owned();
    let daemon = wait_for_pid(&dir, "daemon.pid");
    let _daemon = KillGroupOnDrop(daemon);
    let finished = tokio_block(running.finish(Duration::from_secs(30)));
    let took = started.elapsed();
    let shown = format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    assert_eq!(finished.code, Some(0), "{shown}");
    assert!(
        took < Duration::from_secs(5),
        "not at the timeout: {took:?}"
    );
    let report: Value = serde_json::from_str(&finished.stdout).unwrap();
    let step = crate::control::step(&report, "start_daemon");
    assert_eq!(step["outcome"], "passed", "{report:#}");
    assert_eq!(step["outputs"]["stdout"], "started", "{report:#}");
    let note = step["note"].as_str().unwrap_or_default();
    assert!(
        note.contains(&daemon.to_string()) && note.contains("sleep"),
        "the daemon is reported: {report:#}"
    );
    assert!(group_alive(daemon), "the daemon is left running, as asked");
}

const EXEC_SLEEP: &str = r#"
id: killed
title: SIGKILLed during a step
steps:
  - id: slow
    shell:
      command: "echo $$ > slow.pid; exec sleep 60"
"#;

#[test]
fn a_sigkilled_runbook_takes_its_running_command_with_it() {
    let mut running = start(EXEC_SLEEP, &[]);
    let sandbox = running.take_sandbox().unwrap();
    let group = wait_for_pid(sandbox.path(), "slow.pid");
    let _leftover = KillGroupOnDrop(group);
    let finished = running.sigkill();
    assert_eq!(finished.code, None);
    // Linux's parent-death signal, set for the command: it dies with runbook.
    assert!(
        poll_until(Duration::from_secs(5), || !group_alive(group)),
        "the command (process group {group}) outlived a SIGKILLed runbook"
    );
}

/// `files:` live in the state directory's `files/`, so a start looks there, not at every past
/// run. A state directory from before that (files beside each journal) is cleaned once, and then
/// past runs are no longer looked at: a run's start does not grow with the runs before it.
#[test]
fn leftover_files_are_found_in_one_place_and_an_old_state_directory_is_cleaned_once() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "done.yaml",
        "id: done\ntitle: Done\nsteps:\n  - {id: say, shell: {command: \"echo hi\"}}\n",
    );
    let state = state_dir(&sandbox);
    let state_text = state.to_string_lossy().into_owned();
    let env = [("RUNBOOK_STATE_DIR", state_text.as_str())];
    let ran = sandbox.run_with_env(&["run", "done.yaml"], &env);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let run_id = crate::support::run_id_of(&ran.stdout);
    let all_files = state.join("files");

    // As an older version left it: no `files/`, a finished run's secret beside its journal.
    let plant = |dir: PathBuf| {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret"), CANARY).unwrap();
        dir
    };
    let _ = std::fs::remove_dir_all(&all_files);
    let beside = plant(state.join("runs").join(&run_id).join("files"));
    let runs = sandbox.run_with_env(&["runs"], &env);
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    assert!(!beside.exists(), "the old place was not cleaned");
    assert!(all_files.is_dir());

    // Then only `files/` is looked at: a finished run's leftovers there go, the old place is
    // never scanned again.
    let leftover = plant(all_files.join(&run_id));
    let beside = plant(beside);
    let runs = sandbox.run_with_env(&["runs"], &env);
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    assert!(!leftover.exists(), "{} is still there", leftover.display());
    assert!(beside.exists(), "past runs were scanned one by one again");
}

/// Before its fix: the one-time scan of the old place (`runs/ID/files/`) keeps the files of a run that is
/// still in progress (as it must), then creates `files/`, and the old place is never looked at
/// again: when that run is SIGKILLed later (an older version's run, in progress while a newer
/// version starts), its secret files stay on disk for good. Before, every start looked at every
/// run's `files/`, and removed them once the run's process was gone.
#[test]
fn old_place_files_of_a_run_in_progress_at_the_one_time_scan_are_removed_once_it_is_killed() {
    let mut running = start(EXEC_SLEEP, &[]);
    let sandbox = running.take_sandbox().unwrap();
    let group = wait_for_pid(sandbox.path(), "slow.pid");
    let _leftover = KillGroupOnDrop(group);
    let state = state_dir(&sandbox);
    let run_id = std::fs::read_dir(state.join("runs"))
        .unwrap()
        .filter_map(Result::ok)
        .find_map(|entry| entry.file_name().into_string().ok())
        .unwrap();
    let runs = || {
        let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"))
            .current_dir(sandbox.path())
            .arg("runs")
            .env("NO_COLOR", "1")
            .env("RUNBOOK_STATE_DIR", &state)
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env("TMPDIR", tmp_dir(&sandbox))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    // As an older version, running now, keeps them: beside its journal, no `files/` yet.
    let _ = std::fs::remove_dir_all(state.join("files"));
    let beside = state.join("runs").join(&run_id).join("files");
    std::fs::create_dir_all(&beside).unwrap();
    std::fs::write(beside.join("secret"), CANARY).unwrap();
    runs();
    assert!(beside.exists(), "a run in progress keeps its files");

    let finished = running.sigkill();
    assert_eq!(finished.code, None);
    wait_until(
        Duration::from_secs(5),
        "the killed run's command to end",
        || !group_alive(group),
    );
    runs();
    assert!(
        !beside.exists(),
        "the killed run's secret files are left on disk for good"
    );
}
