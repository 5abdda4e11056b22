//! Expected and unexpected exit codes, and a command killed by a signal.

use serde_json::json;

use super::helpers::{message, run, run_json};
use crate::control::{assert_code, step};
use crate::support::Sandbox;

#[test]
fn expected_exit_codes_as_one_code_and_a_list() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: exits
title: Exit codes
steps:
  - id: three
    shell:
      command: exit 3
      expect_exit: [0, 3]
  - id: one
    shell:
      command: grep -q needle /dev/null
      expect_exit: 1
  - id: zero
    shell:
      command: "true"
  - id: code_is_typed
    assert:
      - that: "{{steps.three.outputs.exit_code}}"
        equals: 3
      - that: "{{steps.one.outputs.exit_code}}"
        equals: 1
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 0);
    assert_eq!(step(&report, "three")["outputs"]["exit_code"], json!(3));
    assert_eq!(step(&report, "zero")["outputs"]["exit_code"], json!(0));
    assert_eq!(step(&report, "code_is_typed")["outcome"], "passed");
}

#[test]
fn an_unexpected_exit_code_fails_with_the_tail_of_stderr() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: exits
title: Exit codes
steps:
  - id: noisy
    name: Noisy failure
    shell:
      command: for i in 1 2 3 4 5 6 7; do echo "problem $i" >&2; done; echo ok-on-stdout; exit 2
  - id: after
    shell:
      command: touch after-ran
"#,
    );
    sandbox.write(
        "listed.yaml",
        r#"
id: exits
title: Exit codes
steps:
  - id: listed
    shell:
      command: exit 0
      expect_exit: [1, 2]
  - id: missing
    shell:
      command: no-such-command-7f3e
"#,
    );
    let output = run(&sandbox, "rb.yaml", &[], &[], false);
    assert_code(&output, 1);
    let stdout = &output.stdout;
    assert!(stdout.contains("exited with 2, expected 0"), "{stdout}");
    for line in 3..=7 {
        assert!(
            stdout.contains(&format!("problem {line}")),
            "line {line}: {stdout}"
        );
    }
    // Only the tail is shown.
    assert!(!stdout.contains("problem 1"), "{stdout}");
    assert!(!stdout.contains("problem 2"), "{stdout}");
    assert!(stdout.contains("failed at step `noisy`"), "{stdout}");
    assert!(!sandbox.path().join("after-ran").exists());

    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 1);
    assert_eq!(step(&report, "noisy")["error"]["kind"], "unexpected_result");
    assert_eq!(step(&report, "after")["outcome"], "not_run");

    let (output, report) = run_json(&sandbox, "listed.yaml", &[], &[]);
    assert_code(&output, 1);
    assert!(
        message(&report, "listed").contains("exited with 0, expected 1 or 2"),
        "{report:#}"
    );

    sandbox.write(
        "listed.yaml",
        r#"
id: exits
title: Exit codes
steps:
  - id: missing
    shell:
      command: no-such-command-7f3e
"#,
    );
    let (output, report) = run_json(&sandbox, "listed.yaml", &[], &[]);
    assert_code(&output, 1);
    let text = message(&report, "missing");
    assert!(text.contains("exited with 127, expected 0"), "{text}");
    assert!(text.contains("no-such-command-7f3e"), "{text}");
    assert!(text.contains("not found"), "{text}");
}

#[test]
fn a_command_killed_by_a_signal_fails() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: signal
title: Signal
steps:
  - id: killed
    shell:
      command: echo about to die >&2; kill -9 $$
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 1);
    let text = message(&report, "killed");
    assert!(text.contains("was killed by a signal"), "{text}");
    assert!(text.contains("about to die"), "{text}");
}
