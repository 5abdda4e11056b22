//! What reaches the command: its environment, working directory and stdin.

use serde_json::json;

use super::helpers::{message, run_json};
use crate::control::{assert_code, step};
use crate::support::Sandbox;

#[test]
fn env_map_reaches_the_command() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: env
title: Env
inputs:
  name: {type: string}
  count: {type: integer, default: 3}
steps:
  - id: show
    shell:
      command: printf '%s|%s|%s|%s' "$GREETING" "$COUNT" "$LITERAL" "$INHERITED"
      env:
        GREETING: "hello {{inputs.name}}"
        COUNT: "{{inputs.count}}"
        LITERAL: "a  b;c"
      assert:
        - that: "{{outputs.stdout}}"
          equals: "hello Ada Lovelace|3|a  b;c|from-parent"
"#,
    );
    let (output, report) = run_json(
        &sandbox,
        "rb.yaml",
        &[("name", "Ada Lovelace")],
        &[("INHERITED", "from-parent")],
    );
    assert_code(&output, 0);
    assert_eq!(
        step(&report, "show")["outputs"]["stdout"],
        json!("hello Ada Lovelace|3|a  b;c|from-parent")
    );
}

#[test]
fn workdir_absolute_relative_and_default() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join("sub/deeper")).expect("mkdir");
    let root = sandbox.path().canonicalize().expect("canonical sandbox");
    let absolute = root.join("sub/deeper");
    sandbox.write(
        "rb.yaml",
        r#"
id: workdir
title: Workdir
inputs:
  dir: {type: string}
steps:
  - id: absolute
    shell:
      command: pwd -P
      workdir: "{{inputs.dir}}"
  - id: relative
    shell:
      command: pwd -P
      workdir: sub
  - id: default
    shell:
      command: pwd -P
"#,
    );
    let (output, report) = run_json(
        &sandbox,
        "rb.yaml",
        &[("dir", absolute.to_str().unwrap())],
        &[],
    );
    assert_code(&output, 0);
    assert_eq!(
        step(&report, "absolute")["outputs"]["stdout"],
        json!(absolute.to_str().unwrap())
    );
    assert_eq!(
        step(&report, "relative")["outputs"]["stdout"],
        json!(root.join("sub").to_str().unwrap())
    );
    assert_eq!(
        step(&report, "default")["outputs"]["stdout"],
        json!(root.to_str().unwrap())
    );

    // A working directory that does not exist fails the step (it never runs somewhere else).
    let (output, report) = run_json(
        &sandbox,
        "rb.yaml",
        &[("dir", "/nonexistent/dir-4b2a")],
        &[],
    );
    assert_code(&output, 1);
    assert_eq!(report["failed_step"], "absolute");
    let text = message(&report, "absolute");
    assert!(
        text.contains("the working directory `/nonexistent/dir-4b2a` does not exist"),
        "{text}"
    );
}

#[test]
fn stdin_is_written_to_the_command() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: stdin
title: Stdin
inputs:
  name: {type: string}
  big: {type: string, env: RB_BIG_STDIN}
steps:
  - id: echo
    shell:
      command: cat
      stdin: "first line\n{{inputs.name}}\n"
      stdout: text
  - id: count
    name: A large stdin read while stdout is read too
    timeout: 20s
    shell:
      command: cat | wc -c
      stdin: "{{inputs.big}}"
  - id: ignored
    name: A command that never reads its stdin
    timeout: 20s
    shell:
      command: exit 0
      stdin: "{{inputs.big}}"
  - id: none
    name: Without stdin, stdin is empty
    shell:
      command: cat
"#,
    );
    // Larger than a pipe buffer (64 KiB), within the 128 KiB limit on one environment string.
    let big = "x".repeat(100_000);
    let (output, report) = run_json(
        &sandbox,
        "rb.yaml",
        &[("name", "Ada")],
        &[("RB_BIG_STDIN", &big)],
    );
    assert_code(&output, 0);
    assert_eq!(
        step(&report, "echo")["outputs"]["stdout"],
        json!("first line\nAda\n")
    );
    assert_eq!(step(&report, "count")["outputs"]["stdout"], json!("100000"));
    assert_eq!(step(&report, "ignored")["outcome"], "passed");
    assert_eq!(step(&report, "none")["outputs"]["stdout"], json!(""));
}
