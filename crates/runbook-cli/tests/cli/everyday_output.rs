//! What an operator reads every day, pinned whole: the end-of-run summary (which steps never ran,
//! and whether and how to resume), `runbook show` with whole errors, and long messages wrapped to
//! the terminal width (`COLUMNS` stands in for the terminal).

use crate::control::state_dir;
use crate::fixtures::normalize;
use crate::support::{self, Output, Sandbox};

/// Pause, then a rotation that fails, three steps that never run, and a `finally`.
const ROLLED_BACK: &str = r#"
id: summary
title: Rolls back, with steps left
steps:
  - id: pause
    name: Pause trading
    shell: {command: "true"}
    rollback:
      - id: unpause
        name: Resume trading (compensation)
        shell: {command: "true"}
  - id: rotate
    name: Rotate the key
    shell: {command: "echo 'the broker refused the new key' >&2; exit 1"}
  - id: store
    name: Store the key
    shell: {command: "true"}
  - id: verify
    name: Verify the key
    shell: {command: "true"}
  - id: announce
    name: Announce the rotation
    shell: {command: "true"}
finally:
  - id: cleanup
    name: Remove temporary files
    shell: {command: "true"}
"#;

fn run(sandbox: &Sandbox, env: &[(&str, &str)]) -> Output {
    let state = state_dir(sandbox);
    let mut all = vec![("RUNBOOK_STATE_DIR", state.as_str())];
    all.extend_from_slice(env);
    sandbox.run_with_env(&["run", "rb.yaml"], &all)
}

#[test]
fn a_rolled_back_run_lists_what_never_ran_once_and_says_why_it_cannot_be_resumed() {
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", ROLLED_BACK);
    let output = run(&sandbox, &[]);
    assert_eq!(output.code, 10, "{output:?}");
    assert_eq!(
        normalize(&output.stdout),
        "Rolls back, with steps left
rb.yaml · 5 steps · run <run-id>

  ✓ [1/5] Pause trading <dur>
  ✗ [2/5] Rotate the key <dur>
      `echo 'the broker refused the new key' >&2; exit 1` exited with 1, expected 0
        stderr: the broker refused the new key

▸ rolling back (step `rotate` failed): compensation, newest first
  ✓ Resume trading (compensation) <dur>

▸ finally (always)
  ✓ Remove temporary files <dur>

failed at step `rotate`; compensation and the failure path completed: 3 passed, 1 failed, 3 not run in <dur>
  not run: [3/5] `store` … [5/5] `announce`
  cannot be resumed: compensation undid what the run did, so continuing it would act on undone work; start a new run (the run's record: runbook show <run-id>)
"
    );
}

#[test]
fn the_summary_wraps_to_the_width_too() {
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", ROLLED_BACK);
    let output = run(&sandbox, &[("COLUMNS", "60")]);
    assert_eq!(output.code, 10, "{output:?}");
    let stdout = normalize(&output.stdout);
    let summary = stdout
        .split_once("\n\nfailed at step")
        .map(|(_, rest)| format!("failed at step{rest}"))
        .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
    // The run's time, wrapped onto a continuation line the fixture normaliser does not know.
    let summary = match summary.split_once(" not run in ") {
        Some((head, rest)) => {
            let tail = rest.split_once('\n').map_or("", |(_, tail)| tail);
            format!("{head} not run in <dur>\n{tail}")
        }
        None => summary,
    };
    assert_eq!(
        summary,
        "failed at step `rotate`; compensation and the failure path
  completed: 3 passed, 1 failed, 3 not run in <dur>
  not run: [3/5] `store` … [5/5] `announce`
  cannot be resumed: compensation undid what the run did,
  so continuing it would act on undone work; start a new run
  (the run's record: runbook show <run-id>)
"
    );
}

#[test]
fn a_failed_run_that_can_continue_says_runbook_resume_with_its_id() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: resumable
title: Stops, can continue
steps:
  - id: first
    shell: {command: "true"}
  - id: second
    shell: {command: "exit 3"}
  - id: third
    shell: {command: "true"}
"#,
    );
    let output = run(&sandbox, &[]);
    assert_eq!(output.code, 1, "{output:?}");
    let run_id = support::run_id_of(&output.stdout);
    assert!(
        output.stdout.ends_with(&format!(
            "failed at step `second`: 1 passed, 1 failed, 1 not run in {}\n  not run: [3/3] `third`\n  to continue after fixing the cause: runbook resume {run_id}\n",
            output.stdout.rsplit_once(" in ").map_or("", |(_, rest)| rest.lines().next().unwrap_or(""))
        )),
        "{}",
        output.stdout
    );
    // And it can: resume is what the summary promised.
    let state = state_dir(&sandbox);
    let resumed = sandbox.run_with_env(
        &["resume", &run_id],
        &[("RUNBOOK_STATE_DIR", state.as_str())],
    );
    assert_eq!(
        resumed.code, 1,
        "the step still fails, but it ran: {resumed:?}"
    );
    assert!(
        resumed.stdout.contains("resuming run"),
        "{}",
        resumed.stdout
    );
}

#[test]
fn long_messages_wrap_at_spaces_to_the_width_with_their_indentation() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: wraps
title: Wraps
steps:
  - id: check
    name: Check the account
    shell:
      command: >-
        echo 'the account PA123 is not the live account this runbook rotates: ask its owner
        before going on' >&2; exit 1
"#,
    );
    let output = run(&sandbox, &[("COLUMNS", "60")]);
    assert_eq!(output.code, 1, "{output:?}");
    let stdout = normalize(&output.stdout);
    let step = stdout
        .split_once("  ✗ [1/1] Check the account <dur>\n")
        .map(|(_, rest)| rest.split("\n\n").next().unwrap_or_default())
        .unwrap_or_else(|| panic!("no step line:\n{stdout}"));
    assert_eq!(
        step,
        "      `echo 'the account PA123 is not the live account this
      runbook rotates: ask its owner before going on' >&2;
      exit 1` exited with 1, expected 0
        stderr: the account PA123 is not the live account
        this runbook rotates: ask its owner before going on"
    );
    for line in stdout.lines() {
        assert!(line.chars().count() <= 60, "wider than 60: {line:?}");
    }
}

#[test]
fn show_prints_every_line_of_why_a_run_stopped() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: whole
title: Whole errors
steps:
  - id: count
    shell: {command: "echo 3"}
  - id: check
    assert:
      - that: "{{steps.count.outputs.stdout}}"
        equals: "5"
        message: the open order count must be five before the key is revoked, as the broker's dashboard shows under Orders
"#,
    );
    let output = run(&sandbox, &[]);
    assert_eq!(output.code, 4, "{output:?}");
    let run_id = support::run_id_of(&output.stdout);
    let state = state_dir(&sandbox);
    let shown = sandbox.run_with_env(&["show", &run_id], &[("RUNBOOK_STATE_DIR", state.as_str())]);
    assert_eq!(shown.code, 0, "{shown:?}");
    let stopped = shown
        .stdout
        .lines()
        .skip_while(|line| !line.contains("stopped: "))
        .take_while(|line| !line.contains("run finished"))
        .collect::<Vec<_>>();
    let text = stopped.join("\n");
    assert!(
        stopped.len() >= 3
            && text.contains("as the broker's dashboard shows under Orders")
            && text.contains(r#"expected (equals): "5" (string)"#)
            && text.contains(r#"actual: "3" (string) from {{steps.count.outputs.stdout}}"#),
        "the whole failure under `stopped:`:\n{}",
        shown.stdout
    );
}

#[test]
fn runs_is_a_table_that_fits_the_terminal_and_wide_shows_every_cell_whole() {
    let sandbox = Sandbox::new();
    let long_id = "rotate-the-live-trading-key-of-the-main-brokerage-account";
    let long_step = "propagate_the_new_key_to_every_downstream_service";
    sandbox.write(
        "rb.yaml",
        &format!(
            "id: {long_id}\ntitle: Long\nsteps:\n  - id: {long_step}\n    shell: {{command: \"exit 1\"}}\n"
        ),
    );
    let first = run(&sandbox, &[]);
    let run_id = support::run_id_of(&first.stdout);
    let state = state_dir(&sandbox);
    let runs = |args: &[&str], columns: &str| {
        let mut all = vec!["runs"];
        all.extend_from_slice(args);
        let output = sandbox.run_with_env(
            &all,
            &[("RUNBOOK_STATE_DIR", state.as_str()), ("COLUMNS", columns)],
        );
        assert_eq!(output.code, 0, "{output:?}");
        output.stdout
    };

    let narrow = runs(&[], "90");
    let lines: Vec<&str> = narrow.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one line per run:\n{narrow}");
    assert!(lines[0].starts_with("RUN "), "{narrow}");
    assert!(
        lines[1].starts_with(&format!("{run_id}  ")),
        "the id whole:\n{narrow}"
    );
    assert!(
        lines.iter().all(|line| line.chars().count() <= 90),
        "{narrow}"
    );
    assert!(
        lines[1].contains("rotate-the-") && lines[1].contains('…'),
        "{narrow}"
    );
    assert!(lines[1].contains("failed"), "the state whole:\n{narrow}");

    let wide = runs(&["--wide"], "90");
    assert!(
        wide.contains(long_id) && wide.contains(long_step) && !wide.contains('…'),
        "{wide}"
    );
    // The JSON has every field whole, whatever the width.
    let json = runs(&["--output", "json"], "40");
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    assert_eq!(parsed[0]["run_id"], run_id.as_str(), "{json}");
    assert_eq!(parsed[0]["runbook"], long_id, "{json}");
}

/// `--state-dir` given on the command line is not inherited by the next command the way
/// `RUNBOOK_STATE_DIR` is: the summary's `runbook resume` and `show`'s `next:` carry it, and the
/// suggested command, run word for word, finds the run.
#[test]
fn the_suggested_resume_names_a_state_dir_given_on_the_command_line() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        "id: resumable\ntitle: T\nsteps:\n  - id: first\n    shell: {command: \"exit 3\"}\n",
    );
    let output = sandbox.run(&["run", "rb.yaml", "--state-dir", "my state"]);
    assert_eq!(output.code, 1, "{output:?}");
    let run_id = support::run_id_of(&output.stdout);
    let advice = format!("runbook resume {run_id} --state-dir 'my state'");
    assert!(output.stdout.contains(&advice), "{}", output.stdout);
    let shown = sandbox.run(&["show", &run_id, "--state-dir", "my state"]);
    assert!(
        shown.stdout.contains(&format!("next: {advice}")),
        "{}",
        shown.stdout
    );
    let resumed = sandbox.run(&["resume", &run_id, "--state-dir", "my state"]);
    assert!(resumed.stdout.contains("resuming run"), "{resumed:?}");
    // Through the environment, the next command inherits it: the advice stays short.
    let state = state_dir(&sandbox);
    let output = sandbox.run_with_env(&["run", "rb.yaml"], &[("RUNBOOK_STATE_DIR", &state)]);
    let run_id = support::run_id_of(&output.stdout);
    assert!(
        output
            .stdout
            .ends_with(&format!("runbook resume {run_id}\n")),
        "{}",
        output.stdout
    );
}
