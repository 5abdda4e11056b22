//! `shell` steps end to end: the real binary running real child processes in a sandbox.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Output, Sandbox};

/// Runs `runbook run FILE [--input k=v]... --output json` and returns the output and the report.
fn run_json(
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

fn run(
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

fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in report:\n{report:#}"))
}

fn message<'a>(report: &'a Value, id: &str) -> &'a str {
    step(report, id)["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("step `{id}` has no error:\n{report:#}"))
}

fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

/// True when the process no longer exists (or is a zombie waiting to be reaped: it is dead).
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

fn wait_gone(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if process_gone(pid) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_pid(path: &Path) -> u32 {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|error| panic!("{}: `{text}`: {error}", path.display()))
}

/// Kills a process left behind by a failing test, so it does not outlive the test run.
fn cleanup(pid: u32) {
    if !process_gone(pid) {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status();
    }
}

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

#[test]
fn stdout_json_with_jsonpath_captures() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: json
title: JSON stdout
steps:
  - id: list
    shell:
      command: >-
        printf '%s' '{"account": {"number": "PA123", "equity": "100000.00"}, "orders": [{"id": "a", "qty": 1}, {"id": "b", "qty": 2}], "count": 2, "paused": true}'
      stdout: json
      capture:
        number: $.account.number
        equity: $.account.equity
        ids: {jsonpath: "$.orders[*].id", all: true}
        first_qty: "$.orders[0].qty"
        count: $.count
        paused: $.paused
        none: {jsonpath: $.missing, all: true}
      assert:
        - that: "{{outputs.count}}"
          equals: 2
        - that: "{{outputs.ids}}"
          contains: b
        - that: "{{outputs.stdout.account.number}}"
          equals: PA123
  - id: later
    assert:
      - that: "{{steps.list.outputs.equity}}"
        equals: "100000.00"
      - that: "{{steps.list.outputs.first_qty}}"
        equals: 1
      - that: "{{steps.list.outputs.paused}}"
        equals: true
      - that: "{{steps.list.outputs.none}}"
        length: 0
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 0);
    let outputs = &step(&report, "list")["outputs"];
    assert_eq!(outputs["number"], json!("PA123"));
    assert_eq!(outputs["equity"], json!("100000.00"));
    assert_eq!(outputs["ids"], json!(["a", "b"]));
    assert_eq!(outputs["first_qty"], json!(1));
    assert_eq!(outputs["count"], json!(2));
    assert_eq!(outputs["paused"], json!(true));
    assert_eq!(outputs["none"], json!([]));
    assert_eq!(outputs["stdout"]["orders"][1]["id"], json!("b"));
    assert_eq!(outputs["exit_code"], json!(0));

    // Several matches without `all`, and no match, are errors that say so.
    sandbox.write(
        "many.yaml",
        r#"
id: json
title: JSON stdout
steps:
  - id: list
    shell:
      command: >-
        printf '%s' '{"orders": [{"id": "a"}, {"id": "b"}]}'
      stdout: json
      capture:
        ids: "$.orders[*].id"
"#,
    );
    let (output, report) = run_json(&sandbox, "many.yaml", &[], &[]);
    assert_code(&output, 1);
    assert_eq!(step(&report, "list")["error"]["kind"], "capture");
    assert!(
        message(&report, "list").contains("matched 2 values; add `all: true`"),
        "{report:#}"
    );

    sandbox.write(
        "none.yaml",
        r#"
id: json
title: JSON stdout
steps:
  - id: list
    shell:
      command: >-
        printf '%s' '{"orders": []}'
      stdout: json
      capture:
        first: "$.orders[0].id"
"#,
    );
    let (output, report) = run_json(&sandbox, "none.yaml", &[], &[]);
    assert_code(&output, 1);
    assert!(
        message(&report, "list").contains("matched nothing"),
        "{report:#}"
    );
}

#[test]
fn stdout_text_keeps_whitespace_and_the_default_trims() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: text
title: Text stdout
steps:
  - id: text
    shell:
      command: printf '  padded  \n\n'; printf '  err  \n\n' >&2
      stdout: text
  - id: trimmed_default
    shell:
      command: printf '  padded  \n\n'
  - id: trimmed
    shell:
      command: printf '\n\tpadded\n'
      stdout: trimmed
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 0);
    assert_eq!(
        step(&report, "text")["outputs"]["stdout"],
        json!("  padded  \n\n")
    );
    assert_eq!(step(&report, "text")["outputs"]["stderr"], json!("  err"));
    assert_eq!(
        step(&report, "trimmed_default")["outputs"]["stdout"],
        json!("padded")
    );
    assert_eq!(
        step(&report, "trimmed")["outputs"]["stdout"],
        json!("padded")
    );
}

#[test]
fn invalid_json_stdout_fails_clearly() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: bad-json
title: Bad JSON
steps:
  - id: bad
    shell:
      command: "echo 'Setting KEY and restarting app... done, v124'; echo '{\"partial\": '"
      stdout: json
  - id: empty
    shell:
      command: "true"
      stdout: json
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 1);
    assert_eq!(step(&report, "bad")["error"]["kind"], "capture");
    let text = message(&report, "bad");
    assert!(text.contains("stdout is not valid JSON"), "{text}");
    assert!(
        text.contains("it begins: Setting KEY and restarting app... done, v124"),
        "{text}"
    );

    // Empty stdout is not JSON either: unknown is failure.
    sandbox.write(
        "empty.yaml",
        r#"
id: bad-json
title: Bad JSON
steps:
  - id: empty
    shell:
      command: "true"
      stdout: json
"#,
    );
    let (output, report) = run_json(&sandbox, "empty.yaml", &[], &[]);
    assert_code(&output, 1);
    assert!(
        message(&report, "empty").contains("stdout is not valid JSON"),
        "{report:#}"
    );

    let output = run(&sandbox, "rb.yaml", &[], &[], false);
    assert_code(&output, 1);
    assert!(
        output.stdout.contains("stdout is not valid JSON"),
        "{}",
        output.stdout
    );
}

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

#[test]
fn shell_metacharacters_in_values_are_data_not_code() {
    let sandbox = Sandbox::new();
    let evil = r#"$(touch pwned1) `touch pwned2`; touch pwned3 && echo "dq" 'sq' | tee pwned4 > pwned5 \ * ~ {{inputs.other}} $HOME"#;
    sandbox.write(
        "rb.yaml",
        r#"
id: injection
title: Injection
inputs:
  evil: {type: string}
  other: {type: string, default: should-not-appear}
steps:
  - id: bare
    shell:
      command: printf '%s' {{inputs.evil}}
      stdout: text
  - id: via_env_and_stdin
    shell:
      command: printf '%s' "$EVIL"; cat
      env:
        EVIL: "{{inputs.evil}}"
      stdin: "|{{inputs.evil}}"
      stdout: text
  - id: as_argument_count
    name: One value is exactly one argument
    shell:
      command: set -- {{inputs.evil}}; echo $#
  - id: compare
    shell:
      command: test {{inputs.evil}} = "$EXPECTED"
"#,
    );
    let (output, report) = run_json(
        &sandbox,
        "rb.yaml",
        &[("evil", evil)],
        &[("EXPECTED", evil)],
    );
    assert_code(&output, 0);
    assert_eq!(step(&report, "bare")["outputs"]["stdout"], json!(evil));
    assert_eq!(
        step(&report, "via_env_and_stdin")["outputs"]["stdout"],
        json!(format!("{evil}|{evil}"))
    );
    assert_eq!(
        step(&report, "as_argument_count")["outputs"]["stdout"],
        json!("1")
    );
    assert_eq!(step(&report, "compare")["outcome"], "passed");
    for name in ["pwned1", "pwned2", "pwned3", "pwned4", "pwned5"] {
        assert!(
            !sandbox.path().join(name).exists(),
            "{name} was created: the value ran as code"
        );
    }
    let steps = report["steps"].to_string();
    assert!(
        !steps.contains("should-not-appear"),
        "a value was rendered as a template: {steps}"
    );
}

#[test]
fn a_reference_inside_single_quotes_is_rejected_before_running() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: quoted
title: Quoted
inputs:
  name: {type: string, default: x}
steps:
  - id: first
    shell:
      command: touch first-ran
  - id: quoted
    shell:
      command: echo '{{inputs.name}}'
"#,
    );
    let output = run(&sandbox, "rb.yaml", &[], &[], false);
    assert_code(&output, 3);
    assert!(
        output.stderr.contains("inside single quotes"),
        "{}",
        output.stderr
    );
    assert!(
        !sandbox.path().join("first-ran").exists(),
        "nothing runs before the runbook is valid"
    );
}

/// A reference written inside double quotes must arrive as one intact word too: no word splitting, no
/// pathname expansion.
#[test]
fn a_reference_inside_double_quotes_is_not_split_or_globbed() {
    let sandbox = Sandbox::new();
    let value = "two  spaces * star";
    sandbox.write(
        "rb.yaml",
        r#"
id: injection
title: Injection
inputs:
  value: {type: string}
steps:
  - id: in_double_quotes
    shell:
      command: printf '%s' "<{{inputs.value}}>"
      stdout: text
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[("value", value)], &[]);
    assert_code(&output, 0);
    assert_eq!(
        step(&report, "in_double_quotes")["outputs"]["stdout"],
        json!(format!("<{value}>"))
    );
}
