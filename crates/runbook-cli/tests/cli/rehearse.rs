//! `runbook rehearse`: the shipped rehearsals match their declarations, a wrong declaration fails
//! with a diff, a step that would escape the simulation is an error naming it (and provably
//! nothing is reached), `--init` starts a file that runs, and lint checks rehearsal files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{self, Output, Sandbox};

fn at_root(args: &[&str]) -> Output {
    let mut command = support::runbook();
    command.current_dir(support::workspace_root()).args(args);
    support::finish(command)
}

fn rehearsal_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rehearsal_files(&path, out);
        } else if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.ends_with(".rehearsal.yaml"))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_shipped_rehearsal_matches_its_declarations() {
    let root = support::workspace_root();
    let mut files = Vec::new();
    rehearsal_files(&root.join("examples"), &mut files);
    rehearsal_files(&root.join("runbooks"), &mut files);
    assert!(
        files.len() >= 2,
        "the examples and the Alpaca runbook have rehearsals: {files:?}"
    );
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let output = at_root(&["rehearse", &relative, "--output", "json"]);
        assert_eq!(
            output.code, 0,
            "{relative} does not match its declarations:\n{}\n{}",
            output.stdout, output.stderr
        );
        let report: Value = serde_json::from_str(&output.stdout)
            .unwrap_or_else(|error| panic!("{relative}: not JSON ({error}): {}", output.stdout));
        assert_eq!(report["matched"], Value::Bool(true), "{relative}");
    }
}

#[test]
fn the_alpaca_rehearsal_covers_every_sop_path() {
    let output = at_root(&["rehearse", "runbooks/alpaca-live.yaml", "--output", "json"]);
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    let report: Value = serde_json::from_str(&output.stdout).unwrap_or(Value::Null);
    let scenarios = report["scenarios"].as_array().cloned().unwrap_or_default();
    let by_name = |name: &str| {
        scenarios
            .iter()
            .find(|scenario| scenario["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no scenario `{name}` in {scenarios:?}"))
    };
    for name in [
        "happy",
        "open orders",
        "health never flips",
        "new key rejected, then regenerated",
        "wrong environment",
        "downstream mismatch",
        "check order cannot be cancelled",
        "old key still valid",
        "resume never confirmed",
        "another live account",
        "equity drift",
        "transient failure storing in Infisical",
        "killed while propagating, then resumed",
        "Ctrl-C in the middle",
        "rate limited (429 with Retry-After)",
        "Heroku 5xx",
    ] {
        assert_eq!(by_name(name)["verdict"], "matched", "{name}");
    }
    // The virtual clock: the 3-minute wait ran to its timeout, in virtual time.
    assert_eq!(by_name("health never flips")["virtual_ms"], 180_000);
    assert_eq!(
        by_name("killed while propagating, then resumed")["killed_at"],
        "propagate_raptor"
    );
    assert_eq!(by_name("Ctrl-C in the middle")["exit_code"], 130);
    let steps = report["coverage"]
        .as_array()
        .and_then(|areas| areas.iter().find(|area| area["name"] == "steps"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(steps["never"], serde_json::json!(["propagate_mqa"]));

    // The operator's view and the summary, as people read them; no secret in it.
    let human = at_root(&["rehearse", "runbooks/alpaca-live.yaml"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stdout.contains("━━ coverage (17 scenarios)"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("17 scenarios: 17 matched, 0 differ"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("killed as step `propagate_raptor` started (no cleanup ran)"),
        "{}",
        human.stdout
    );
    for secret in [
        "rehearsal-current-secret",
        "rehearsal-new-secret-0001",
        "rehearsal-heroku-token",
    ] {
        assert!(
            !human.stdout.contains(secret),
            "{secret} leaked:\n{}",
            human.stdout
        );
        assert!(
            !human.stderr.contains(secret),
            "{secret} leaked:\n{}",
            human.stderr
        );
    }
}

const RUNBOOK: &str = r#"
id: rehearsed
title: A rehearsed runbook
inputs:
  api: {default: "https://api.example.test"}
steps:
  - id: pause
    name: Pause
    http:
      method: POST
      url: "{{inputs.api}}/pause"
      expect_status: 200
  - id: store
    name: Store
    shell:
      command: vault write secret/x value=1
  - id: check
    name: Check
    http:
      url: "{{inputs.api}}/state"
      capture: {paused: $.paused}
      assert:
        - that: "{{outputs.paused}}"
          equals: true
"#;

const REHEARSAL: &str = r#"
state:
  paused: false
  stored: null
services:
  api.example.test:
    routes:
      - method: POST
        path: /pause
        set: {paused: true}
      - method: GET
        path: /state
        body: {paused: "{{state.paused}}"}
commands:
  vault:
    - args: [write, "{path}", "value={value}"]
      set: {stored: "{{request.args.value}}"}
scenarios:
  - name: happy
    expect:
      status: succeeded
      state: {paused: true, stored: "1"}
  - name: vault down
    faults:
      - at: store
        command: {exit: 2, stderr: "connection refused"}
    expect:
      status: succeeded
      state: {stored: "1"}
"#;

#[test]
fn a_wrong_declaration_fails_with_a_clear_diff() {
    let sandbox = Sandbox::new();
    sandbox.write("r.yaml", RUNBOOK);
    sandbox.write("r.rehearsal.yaml", REHEARSAL);
    let output = sandbox.run(&["rehearse", "r.yaml"]);
    assert_eq!(output.code, 12, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains("✓ `happy` matched its declaration"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("✗ `vault down` differs from its declaration: failed at `store`, exit 1"),
        "{}",
        output.stdout
    );
    for line in [
        "      status\n        expected: succeeded\n        actual:   failed",
        "      state.stored\n        expected: \"1\"\n        actual:   null",
    ] {
        assert!(
            output.stdout.contains(line),
            "missing:\n{line}\nin:\n{}",
            output.stdout
        );
    }
    assert!(
        output.stdout.contains("2 scenarios: 1 matched, 1 differs"),
        "{}",
        output.stdout
    );

    // Only the scenario asked for.
    let one = sandbox.run(&["rehearse", "r.rehearsal.yaml", "--scenario", "happy"]);
    assert_eq!(one.code, 0, "{}\n{}", one.stdout, one.stderr);
    let unknown = sandbox.run(&["rehearse", "r.yaml", "--scenario", "hapy"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean `happy`?"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_step_that_would_escape_is_named_and_nothing_is_reached() {
    use std::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("nonblocking: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let sandbox = Sandbox::new();
    // A trap program on PATH: running it leaves a mark.
    let mark = sandbox.path().join("trap-ran");
    let trap = sandbox.write(
        "trap-bin/curl",
        &format!("#!/bin/sh\ntouch '{}'\n", mark.display()),
    );
    std::fs::set_permissions(&trap, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    sandbox.write(
        "escape.yaml",
        &format!(
            r#"
id: escape
title: Steps with no stand-in
steps:
  - id: simulated
    name: Simulated
    shell:
      command: echo hello
  - id: call_home
    name: Calls a host the rehearsal does not simulate
    http:
      url: "http://127.0.0.1:{port}/trap"
  - id: fetch
    name: Runs a program the rehearsal does not simulate
    shell:
      command: curl -s http://127.0.0.1:{port}/trap
"#
        ),
    );
    sandbox.write(
        "escape.rehearsal.yaml",
        "scenarios:\n  - name: happy\n    expect: {status: succeeded}\n",
    );
    let path = format!(
        "{}:{}",
        sandbox.path().join("trap-bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = sandbox.run_with_env(&["rehearse", "escape.yaml"], &[("PATH", &path)]);
    assert_eq!(output.code, 3, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output.stderr.contains(&format!(
            "step `call_home` (escape.yaml:9:5) calls `127.0.0.1:{port}`, which the rehearsal does not simulate"
        )),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains(
            "step `fetch` (escape.yaml:13:5) runs `curl`, which the rehearsal does not simulate"
        ),
        "{}",
        output.stderr
    );
    assert!(
        output
            .stderr
            .contains("runbook::rehearsal::simulation_escape"),
        "{}",
        output.stderr
    );
    // Nothing ran: no step's output, no trap, no connection.
    assert!(!output.stdout.contains("Simulated"), "{}", output.stdout);
    assert!(!mark.exists(), "the trap executable ran");
    match listener.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("the trap listener got a connection from {from}"),
        Err(error) => panic!("accept: {error}"),
    }
}

#[test]
fn a_program_named_by_path_or_made_at_run_time_cannot_be_rehearsed() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "paths.yaml",
        r#"
id: paths
title: Programs a rehearsal cannot replace
steps:
  - id: by_path
    name: By path
    shell:
      command: /usr/bin/env true
  - id: made
    name: Made at run time
    shell:
      command: $(printf cu)rl -s x
"#,
    );
    sandbox.write(
        "paths.rehearsal.yaml",
        "scenarios:\n  - name: happy\n    expect: {status: succeeded}\n",
    );
    let output = sandbox.run(&["lint", "paths.rehearsal.yaml"]);
    assert_eq!(output.code, 3, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output
            .stdout
            .contains("step `by_path` (paths.yaml:5:5) runs `/usr/bin/env` by its path"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("step `made` (paths.yaml:9:5) runs a program whose name is made at run time"),
        "{}",
        output.stdout
    );
}

#[test]
fn lint_checks_a_rehearsal_against_its_runbook() {
    let sandbox = Sandbox::new();
    sandbox.write("r.yaml", RUNBOOK);
    sandbox.write(
        "r.rehearsal.yaml",
        &REHEARSAL.replace("      - at: store\n", "      - at: stroe\n"),
    );
    let output = sandbox.run(&["lint", "."]);
    assert_eq!(output.code, 3, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains(
            "error[runbook::rehearsal::unknown_rehearsal_step]: the runbook has no step `stroe`"
        ),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("r.rehearsal.yaml:25:13"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("did you mean `store`?"),
        "{}",
        output.stdout
    );

    sandbox.write(
        "r.rehearsal.yaml",
        &REHEARSAL.replace("{{state.paused}}", "{{state.pasued}}"),
    );
    let output = sandbox.run(&["lint", "r.rehearsal.yaml"]);
    assert_eq!(output.code, 3, "{}", output.stdout);
    assert!(
        output.stdout.contains("`pasued` is not a state value"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("did you mean `paused`?"),
        "{}",
        output.stdout
    );
}

#[test]
fn init_writes_a_starting_rehearsal_that_runs() {
    let sandbox = Sandbox::new();
    sandbox.write("r.yaml", RUNBOOK);
    let output = sandbox.run(&["rehearse", "--init", "r.yaml"]);
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    let written = std::fs::read_to_string(sandbox.path().join("r.rehearsal.yaml"))
        .unwrap_or_else(|error| panic!("not written: {error}"));
    for part in [
        "  api.example.test:",
        "        method: POST\n        path: \"/pause\"",
        "  vault:",
        "  - name: happy",
    ] {
        assert!(written.contains(part), "missing {part:?} in:\n{written}");
    }
    let lint = sandbox.run(&["lint", "r.rehearsal.yaml"]);
    assert_eq!(lint.code, 0, "{}", lint.stdout);
    let run = sandbox.run(&["rehearse", "r.yaml"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("✓ `happy` matched its declaration"),
        "{}",
        run.stdout
    );
    // Never over an existing file.
    let again = sandbox.run(&["rehearse", "--init", "r.yaml"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
}

#[test]
fn keep_leaves_each_scenarios_records() {
    let sandbox = Sandbox::new();
    sandbox.write("r.yaml", RUNBOOK);
    sandbox.write("r.rehearsal.yaml", REHEARSAL);
    let output = sandbox.run(&[
        "rehearse",
        "r.yaml",
        "--scenario",
        "happy",
        "--keep",
        "kept",
    ]);
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    let journal = std::fs::read_to_string(sandbox.path().join("kept/happy/journal.jsonl"))
        .unwrap_or_else(|error| panic!("no journal: {error}"));
    // Virtual timestamps from the fixed epoch.
    assert!(
        journal.contains("\"at\":\"2026-01-01T09:00:00Z\""),
        "{journal}"
    );
    assert!(sandbox.path().join("kept/happy/audit.jsonl").is_file());
}

#[test]
fn a_kill_or_ctrl_c_at_a_step_never_reached_differs() {
    let sandbox = Sandbox::new();
    sandbox.write("r.yaml", RUNBOOK);
    sandbox.write(
        "r.rehearsal.yaml",
        &REHEARSAL.replace(
            "scenarios:\n",
            "scenarios:\n  - name: killed late\n    faults:\n      - at: pause\n        http: {status: 500}\n    kill: {at: check}\n    expect: {failed_step: pause}\n",
        ),
    );
    let output = sandbox.run(&["rehearse", "r.yaml", "--scenario", "killed late"]);
    assert_eq!(output.code, 12, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains(
            "      kill: check\n        expected: killed as the step starts\n        actual:   the step never started"
        ),
        "{}",
        output.stdout
    );
}

/// A rehearsed run's records are deleted with its scenario's directory, so the end of each run
/// suggests neither `runbook resume` nor `runbook show` (a live run does).
#[test]
fn a_rehearsed_run_suggests_no_resume_of_a_record_that_is_gone() {
    let output = at_root(&[
        "rehearse",
        "examples/payment-key-roll.yaml",
        "--scenario",
        "Ctrl-C after the commit point",
        "--scenario",
        "Ctrl-C during propagation",
    ]);
    assert_eq!(output.code, 0, "{}{}", output.stdout, output.stderr);
    assert!(
        output
            .stdout
            .contains("commit point passed: `verify` (undo disarmed)"),
        "{}",
        output.stdout
    );
    for hint in ["runbook resume", "runbook show"] {
        assert!(
            !output.stdout.contains(hint) && !output.stderr.contains(hint),
            "`{hint}` suggested:\n{}",
            output.stdout
        );
    }
}

/// A runbook with preconditions: the starting file confirms them, or no scenario got past them
/// ("no answer for the runbook's preconditions").
#[test]
fn init_answers_the_preconditions() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "p.yaml",
        "id: p\ntitle: P\nmode: operator-assisted\npreconditions:\n  - the operator is on console\n\
         steps:\n  - id: hello\n    shell: {command: \"true\"}\n",
    );
    let output = sandbox.run(&["rehearse", "--init", "p.yaml"]);
    assert_eq!(output.code, 0, "{output:?}");
    let written = std::fs::read_to_string(sandbox.path().join("p.rehearsal.yaml"))
        .unwrap_or_else(|error| panic!("not written: {error}"));
    assert!(
        written.contains("\nanswers:\n  preconditions: {confirm: true}\n"),
        "{written}"
    );
    let run = sandbox.run(&["rehearse", "p.yaml"]);
    assert_eq!(run.code, 0, "{run:?}");
}
