//! Timeouts and background children: nothing a command starts outlives or holds its step.

use std::time::{Duration, Instant};

use serde_json::json;

use super::helpers::{cleanup, message, read_pid, run, run_json, wait_gone};
use crate::control::{assert_code, step};
use crate::support::Sandbox;

#[test]
fn a_timeout_kills_the_command_and_its_children() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: slow
title: Slow
steps:
  - id: slow
    name: Sleeps too long
    timeout: 300ms
    shell:
      command: sleep 30 & echo $! > bg.pid; echo $$ > sh.pid; sleep 30; wait
  - id: after
    shell:
      command: touch after-ran
"#,
    );
    let started = Instant::now();
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    let elapsed = started.elapsed();
    let background = read_pid(&sandbox.path().join("bg.pid"));
    let shell = read_pid(&sandbox.path().join("sh.pid"));
    let background_gone = wait_gone(background, Duration::from_secs(3));
    let shell_gone = wait_gone(shell, Duration::from_secs(3));
    cleanup(background);
    cleanup(shell);

    assert_code(&output, 5);
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(report["failed_step"], "slow");
    assert_eq!(step(&report, "slow")["error"]["kind"], "timeout");
    let text = message(&report, "slow");
    assert!(text.contains("did not finish within 300ms"), "{text}");
    assert!(text.contains("killed"), "{text}");
    assert_eq!(step(&report, "after")["outcome"], "not_run");
    assert!(!sandbox.path().join("after-ran").exists());
    assert!(shell_gone, "the shell {shell} survived the timeout");
    assert!(
        background_gone,
        "the background child {background} survived the timeout"
    );

    // The human output says the same, with exit 5.
    let output = run(&sandbox, "rb.yaml", &[], &[], false);
    let background = read_pid(&sandbox.path().join("bg.pid"));
    let gone = wait_gone(background, Duration::from_secs(3));
    cleanup(background);
    assert_code(&output, 5);
    assert!(
        output.stdout.contains("did not finish within 300ms"),
        "{}",
        output.stdout
    );
    assert!(
        gone,
        "the background child {background} survived the timeout"
    );
}

#[test]
fn background_children_do_not_outlive_a_finished_command() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: bg
title: Background
steps:
  - id: bg
    timeout: 20s
    shell:
      command: sleep 30 >/dev/null 2>&1 & echo $! > bg.pid; echo started
"#,
    );
    let started = Instant::now();
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    let elapsed = started.elapsed();
    let background = read_pid(&sandbox.path().join("bg.pid"));
    let gone = wait_gone(background, Duration::from_secs(3));
    cleanup(background);
    assert_code(&output, 0);
    assert_eq!(step(&report, "bg")["outputs"]["stdout"], json!("started"));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(gone, "the background child {background} outlived the step");
}

/// A background child that keeps the command's stdout open should not hold the step open after the
/// shell exited (the engine kills the process group once the shell is done).
#[test]
fn a_background_child_holding_stdout_does_not_hold_the_step() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: bg
title: Background
steps:
  - id: bg
    timeout: 20s
    shell:
      command: sleep 10 & echo $! > bg.pid; echo started
"#,
    );
    let started = Instant::now();
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    let elapsed = started.elapsed();
    let background = read_pid(&sandbox.path().join("bg.pid"));
    cleanup(background);
    assert_code(&output, 0);
    assert_eq!(step(&report, "bg")["outputs"]["stdout"], json!("started"));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}
