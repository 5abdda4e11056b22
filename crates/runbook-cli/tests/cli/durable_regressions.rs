//! Regression tests for durable-run defects found in review, one section per defect. Each drives
//! the real binary in a temp dir with one state directory shared by every command on the run, and
//! says what the code before the fix did, so it is clear why the test would fail without it.
//!
//! Blocking points are files: a shell step fails (or loops) until the test creates a file. Nothing
//! waits a fixed time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::Value;

use crate::bench::{Bench, assert_code};
use crate::support::{KillGroupOnDrop, Output, Sandbox, wait_until};

/// The report's entry for step `id` (`--output json`).
fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in the report:\n{report:#}"))
}

fn json_report(output: &Output) -> Value {
    serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not a JSON report ({error})\nstdout:\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    })
}

// ---------------------------------------------------------------------------------------------
// 1. A second resume must not replace a secret with `********`.
//
// Before the fix, the first resume restored the completed prompt step and journaled it again with
// its outputs as the session saw them: the secret answer already masked, `********`, recorded as
// if it were a plain output. The second resume restored that text: the step using the answer got
// the 8 characters `********` and the run "succeeded"; a withheld `secret: true` capture became
// "produced no output" instead of "is unavailable".

const SECRET_ANSWER: &str = r#"
id: secret-answer-two-resumes
title: A secret answer used after two resumes
steps:
  - id: ask
    prompt:
      answers:
        token: {secret: true}
  - id: gate
    shell: {command: "test -f ready"}
  - id: use
    shell:
      command: 'printf %s "$TOKEN" | wc -c; printf %s "$TOKEN" | sha256sum'
      env:
        TOKEN: "{{steps.ask.outputs.token}}"
"#;

const TOKEN: &str = "canary-7f3a9c21";
/// `printf %s canary-7f3a9c21 | sha256sum`
const TOKEN_SHA256: &str = "68198f6eb827dd667419519572da6111a3ab97a04e5da3e35f3366eb476f75ae";
/// `printf %s '********' | sha256sum`
const MASK_SHA256: &str = "07ab59f4731b0790d0acfded6a52d2c53e7e3c6a1e241f6dfe3a41f3072e07fb";

#[test]
fn a_secret_answer_reaches_its_step_intact_after_a_second_resume() {
    let bench = Bench::new(SECRET_ANSWER);
    bench
        .sandbox
        .write("answers.yaml", &format!("ask:\n  token: {TOKEN}\n"));
    let answers = ["--answers", "answers.yaml"];

    let first = bench.cmd(&["run", "rb.yaml", answers[0], answers[1]]);
    assert_code(&first, 1, "run: `gate` fails");
    let run_id = bench.only_run_id();
    let again = bench.cmd(&["resume", &run_id, answers[0], answers[1]]);
    assert_code(&again, 1, "first resume: `gate` still fails");

    bench.touch("ready");
    let last = bench.cmd(&[
        "resume", &run_id, answers[0], answers[1], "--output", "json",
    ]);
    let report = json_report(&last);
    let printed = step(&report, "use")["outputs"]["stdout"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        !printed.contains(MASK_SHA256),
        "`use` received the mask `********` instead of the secret answer: {printed:?}\n{report:#}"
    );
    assert_eq!(
        printed,
        format!("{}\n{TOKEN_SHA256}  -", TOKEN.len()),
        "`use` receives the real answer (its length and sha256)\n{report:#}"
    );
    assert_code(&last, 0, "second resume");
}

const SECRET_CAPTURE: &str = r#"
id: secret-capture-two-resumes
title: A secret capture referenced after resumes
steps:
  - id: generate
    shell:
      command: 'echo "{\"key\": \"canary-51d0c3\"}"'
      stdout: json
      capture:
        key: {jsonpath: $.key, secret: true}
  - id: gate
    shell: {command: "test -f ready"}
  - id: store
    shell:
      command: 'printf %s "$KEY" | wc -c'
      env:
        KEY: "{{steps.generate.outputs.key}}"
"#;

/// Runs SECRET_CAPTURE (failing at `gate`), resumes `failing_resumes` times with `gate` still
/// failing, then resumes once more with `gate` passing: `store` fails. Returns that message.
fn withheld_capture_message(failing_resumes: usize) -> String {
    let bench = Bench::new(SECRET_CAPTURE);
    assert_code(&bench.cmd(&["run", "rb.yaml"]), 1, "run: `gate` fails");
    let run_id = bench.only_run_id();
    for n in 0..failing_resumes {
        let resumed = bench.cmd(&["resume", &run_id]);
        assert_code(&resumed, 1, &format!("failing resume #{}", n + 1));
    }
    bench.touch("ready");
    let last = bench.cmd(&["resume", &run_id, "--output", "json"]);
    assert_code(&last, 1, "the last resume: `store` cannot have the secret");
    let report = json_report(&last);
    step(&report, "store")["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("`store` has no error:\n{report:#}"))
        .to_owned()
}

#[test]
fn a_withheld_secret_capture_is_reported_unavailable_after_a_second_resume() {
    let unavailable = "`{{steps.generate.outputs.key}}` is unavailable: it held a secret";
    // After one resume (what the fix keeps): the reference says why the value is missing.
    let once = withheld_capture_message(0);
    assert!(once.contains(unavailable), "after one resume: {once}");
    // After two, the same.
    let twice = withheld_capture_message(1);
    assert!(
        !twice.contains("produced no output"),
        "after two resumes the withheld secret reads as a missing output: {twice}"
    );
    assert!(twice.contains(unavailable), "after two resumes: {twice}");
}

// ---------------------------------------------------------------------------------------------
// 2. A group that failed (no attempts left) and is resumed runs its `finally` again.
//
// Before the fix, the resume plan counted the group's `finally` step as completed because it was
// journaled `skipped` (its `when` did not hold: no order had been placed yet) in the first session.
// The resumed attempt placed the order, and `cancel_order` was reported "completed before the run
// was interrupted; not repeated": the order was never cancelled.

const GROUP_FINALLY: &str = r#"
id: group-finally-after-resume
title: A group whose finally cancels the order it placed
steps:
  - id: check
    group:
      steps:
        - id: gate
          shell: {command: "test -f ready"}
        - id: place_order
          shell: {command: "echo order >> orders; echo ord-7"}
      finally:
        - id: cancel_order
          when: {that: "{{steps.place_order.outputs.stdout}}", exists: true}
          shell: {command: 'echo "cancel {{steps.place_order.outputs.stdout}}" >> orders'}
      repeat: {max_attempts: 1}
"#;

#[test]
fn a_resumed_groups_finally_runs_again_and_cancels_the_order_it_placed() {
    let bench = Bench::new(GROUP_FINALLY);
    let first = bench.cmd(&["run", "rb.yaml"]);
    assert_code(&first, 1, "run: `gate` fails, no attempt left");
    assert_eq!(bench.read("orders"), "", "no order in the first session");
    let run_id = bench.only_run_id();

    bench.touch("ready");
    let resumed = bench.cmd(&["resume", &run_id, "--output", "json"]);
    let report = json_report(&resumed);
    assert_eq!(
        bench.read("orders"),
        "order\ncancel ord-7\n",
        "the resumed attempt placed the order and its group's finally cancelled it; \
         `cancel_order`: {:#}",
        step(&report, "cancel_order")
    );
    assert_eq!(step(&report, "cancel_order")["outcome"], "passed");
    assert_code(&resumed, 0, "resume");
}

// ---------------------------------------------------------------------------------------------
// 3. After Ctrl-C, `{{run.failed_step}}` and `run_finished.failed_step` name the running step.
//
// Before the fix, the failure path and `finally` saw the literal text `(interrupted)`, and the
// journal's `run_finished` record had `"failed_step": null`.

const CTRL_C: &str = r#"
id: ctrl-c-failed-step
title: Ctrl-C while a step runs
steps:
  - id: first
    shell: {command: "true"}
  - id: hold
    shell: {command: "touch hold.started; for i in $(seq 1200); do sleep 0.05; done"}
on_failure:
  - id: note_failure
    shell: {command: 'printf %s "{{run.failed_step}}" > on_failure.txt'}
finally:
  - id: note_finally
    shell: {command: 'printf %s "{{run.failed_step}}" > finally.txt'}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_names_the_running_step_as_the_failed_step_in_templates_and_the_journal() {
    let bench = Bench::new(CTRL_C);
    let running = bench.spawn(&["run", "rb.yaml"]);
    let started = bench.file("hold.started");
    wait_until(Duration::from_secs(15), "`hold` to start", || {
        started.exists()
    });
    running.sigint();
    let finished = running.finish(Duration::from_secs(20)).await;
    assert_eq!(
        finished.code,
        Some(130),
        "stdout:\n{}\nstderr:\n{}",
        finished.stdout,
        finished.stderr
    );

    assert_eq!(
        bench.read("on_failure.txt"),
        "hold",
        "{{{{run.failed_step}}}} in on_failure"
    );
    assert_eq!(
        bench.read("finally.txt"),
        "hold",
        "{{{{run.failed_step}}}} in finally"
    );

    let run_id = bench.only_run_id();
    let shown = bench.cmd(&["show", &run_id, "--output", "json"]);
    assert_code(&shown, 0, "show --output json");
    let records: Value = serde_json::from_str(&shown.stdout).expect("show --output json");
    let finished_record = records
        .as_array()
        .and_then(|records| records.iter().rfind(|r| r["type"] == "run_finished"))
        .unwrap_or_else(|| panic!("no run_finished record: {records:#}"));
    assert_eq!(
        finished_record["status"], "interrupted",
        "{finished_record}"
    );
    assert_eq!(
        finished_record["failed_step"], "hold",
        "run_finished names the step that was running: {finished_record}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. A new `runbook run` refuses while a SIGKILLed run's command still runs.
//
// The step's command runs in its own process group, so it outlives a SIGKILLed runbook. The OS
// released the dead run's lock, and before the fix a new run took it over ("took over a lock
// left by run ..., whose process is gone") and ran the step a second time, concurrently with
// the first. `runbook resume` already refuses in that case; `run` must too.

const OUTLIVING: &str = r#"
id: outliving-command
title: A command that outlives its SIGKILLed run
steps:
  - id: long
    shell:
      command: "if [ -f long.pid ]; then echo second run; exit 0; fi; echo $$ > long.pid; sleep 30"
"#;

#[test]
fn a_new_run_refuses_while_a_sigkilled_runs_command_still_runs() {
    let bench = Bench::new(OUTLIVING);
    let running = bench.spawn(&["run", "rb.yaml"]);
    let pid_file = bench.file("long.pid");
    let read_group = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok())
    };
    wait_until(Duration::from_secs(15), "`long` to write its pid", || {
        read_group().is_some()
    });
    // The shell is its process group's leader; the guard kills the group however the test ends.
    let group = read_group().expect("pid");
    let _leftover = KillGroupOnDrop(group);
    let run_id = bench.only_run_id();
    let note = bench
        .state
        .join("runs")
        .join(&run_id)
        .join("processes/long.pgid");
    wait_until(
        Duration::from_secs(15),
        "the process group note of `long`",
        || note.exists(),
    );
    let killed = running.sigkill();
    assert_eq!(killed.code, None, "killed by the signal: {killed:?}");
    assert!(
        crate::support::group_alive(group),
        "`sleep 30` outlives runbook"
    );

    let second = bench.cmd(&["run", "rb.yaml"]);
    assert_code(
        &second,
        75,
        "a new run while the killed run's command still runs",
    );
    assert!(
        second.stderr.contains(&format!("process group {group}"))
            && second.stderr.contains("`long`")
            && second.stderr.contains(&run_id),
        "names the leftover process group, its step and its run:\n{}",
        second.stderr
    );
    assert_eq!(bench.runs().len(), 1, "no second run was started");
}

// ---------------------------------------------------------------------------------------------
// 5. `runbook show` prints a multi-line error whole; `runbook runs` names the failed step.
//
// Before the fix, show printed only the first line of an error (`assertion failed:`, without the
// expected and actual values), and the LAST STEP column of `runs` showed the last runbook-level
// `finally` step (`tidy (passed)`) instead of the step that failed.

const FAILED_ASSERT: &str = r#"
id: failed-assert
title: An assertion fails, then finally runs
steps:
  - id: count
    shell: {command: "echo 3"}
  - id: check_count
    assert:
      - that: "{{steps.count.outputs.stdout}}"
        equals: "5"
finally:
  - id: tidy
    shell: {command: "true"}
"#;

fn failed_assert_run() -> (Bench, String) {
    let bench = Bench::new(FAILED_ASSERT);
    assert_code(
        &bench.cmd(&["run", "rb.yaml"]),
        4,
        "run: the assertion fails",
    );
    let run_id = bench.only_run_id();
    (bench, run_id)
}

#[test]
fn show_prints_every_line_of_a_multi_line_step_error() {
    let (bench, run_id) = failed_assert_run();
    let shown = bench.cmd(&["show", &run_id]);
    assert_code(&shown, 0, "show");
    let lines: Vec<&str> = shown.stdout.lines().collect();
    let failed = lines
        .iter()
        .position(|line| {
            line.contains("failed   check_count") && line.contains("assertion failed:")
        })
        .unwrap_or_else(|| panic!("no failure line for check_count:\n{}", shown.stdout));
    let rest = lines.get(failed + 1..failed + 3).unwrap_or_default();
    assert!(
        rest.len() == 2
            && rest[0].starts_with(' ')
            && rest[0].contains(r#"expected (equals): "5" (string)"#)
            && rest[1].starts_with(' ')
            && rest[1].contains(r#"actual: "3" (string) from {{steps.count.outputs.stdout}}"#),
        "the expected and actual lines follow, indented:\n{}",
        shown.stdout
    );
}

#[test]
fn runs_last_step_names_the_failed_step_not_the_last_finally_step() {
    let (bench, run_id) = failed_assert_run();
    let listed = bench.cmd(&["runs"]);
    assert_code(&listed, 0, "runs");
    let row = listed
        .stdout
        .lines()
        .find(|line| line.starts_with(&run_id))
        .unwrap_or_else(|| panic!("no row for {run_id}:\n{}", listed.stdout));
    let last_step = row.split_whitespace().skip(6).collect::<Vec<_>>().join(" ");
    assert!(
        last_step.starts_with("check_count"),
        "LAST STEP is `{last_step}`:\n{}",
        listed.stdout
    );
    let summary = bench.run_summary(&run_id);
    assert!(
        summary["last_step"]
            .as_str()
            .is_some_and(|step| step.starts_with("check_count")),
        "{summary:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. `runs`, `show` and `resume` agree on whether a run can be resumed.
//
// Before the fix each had its own rule: `runs` (and `show`) called only `interrupted` and
// `failed` runs resumable, while `resume` refuses only a succeeded run, a compensated one and a
// journal without `run_started`. So a run whose failure path ran without compensation
// (`rolled_back`) or failed (`rollback_failed`) was listed `resumable: false` and then resumed
// fine; a dead run whose recorded pid now belongs to another process was listed `running`; and a
// journal with no `run_started` was listed resumable (`next: runbook resume ID`) and refused.

/// What each command says about `run_id`: `runs` (resumable), `show` (suggests resume) and
/// `resume` (accepts: does not refuse with a usage or lock error); asserts they agree.
fn assert_resumability_agrees(bench: &Bench, run_id: &str) -> Output {
    let summary = bench.run_summary(run_id);
    let listed = summary["resumable"] == true;
    let shown = bench.cmd(&["show", run_id]);
    let suggested = shown.stdout.contains("next: runbook resume");
    let resumed = bench.cmd(&["resume", run_id]);
    let accepted = resumed.code != 2 && resumed.code != 75;
    assert!(
        listed == accepted && suggested == accepted,
        "runs says resumable: {listed} (state {}), show suggests resume: {suggested}, resume \
         accepted: {accepted} (exit {})\nshow:\n{}\nresume stdout:\n{}\nresume stderr:\n{}",
        summary["state"],
        resumed.code,
        shown.stdout,
        resumed.stdout,
        resumed.stderr
    );
    resumed
}

const FAILURE_PATH: &str = r#"
id: failure-path-only
title: A failure path and no compensation
steps:
  - id: gate
    shell: {command: "test -f ready"}
  - id: after
    shell: {command: "echo after >> log"}
on_failure:
  - id: notify
    shell: {command: "test -f ready || test -f notify.ok"}
"#;

#[test]
fn runs_show_and_resume_agree_on_a_rolled_back_run_without_compensation() {
    let bench = Bench::new(FAILURE_PATH);
    bench.touch("notify.ok");
    assert_code(&bench.cmd(&["run", "rb.yaml"]), 10, "run: failure path ran");
    let run_id = bench.only_run_id();
    assert_eq!(bench.run_summary(&run_id)["state"], "rolled_back");
    bench.touch("ready");
    assert_resumability_agrees(&bench, &run_id);
}

#[test]
fn runs_show_and_resume_agree_on_a_run_whose_failure_path_failed() {
    let bench = Bench::new(FAILURE_PATH);
    assert_code(
        &bench.cmd(&["run", "rb.yaml"]),
        11,
        "run: failure path failed",
    );
    let run_id = bench.only_run_id();
    assert_eq!(bench.run_summary(&run_id)["state"], "rollback_failed");
    bench.touch("ready");
    assert_resumability_agrees(&bench, &run_id);
}

/// A dead run (no `run_finished`) whose recorded pid has been reused by a live process: the lock
/// is free, so `resume` goes ahead.
#[test]
fn runs_show_and_resume_agree_on_a_dead_run_whose_pid_was_reused() {
    let bench = Bench::new(FAILURE_PATH);
    bench.touch("notify.ok");
    assert_code(&bench.cmd(&["run", "rb.yaml"]), 10, "run");
    let run_id = bench.only_run_id();
    // As if the process had died before finishing, and its pid now belonged to this test.
    let kept: Vec<String> = bench
        .journal(&run_id)
        .into_iter()
        .take_while(|record| record["type"] == "run_started" || record["phase"] == "main")
        .map(|mut record| {
            if record["type"] == "run_started" {
                record["pid"] = Value::from(std::process::id());
            }
            format!("{record}\n")
        })
        .collect();
    std::fs::write(bench.journal_path(&run_id), kept.concat()).expect("rewrite the journal");
    bench.touch("ready");
    assert_resumability_agrees(&bench, &run_id);
}

#[test]
fn a_journal_without_run_started_is_not_offered_for_resume() {
    let bench = Bench::new(FAILURE_PATH);
    let empty = "20200101T000000Z-000001";
    let headless = "20200101T000000Z-000002";
    bench
        .sandbox
        .write(&format!(".state/runs/{empty}/journal.jsonl"), "");
    bench.sandbox.write(
        &format!(".state/runs/{headless}/journal.jsonl"),
        "{\"at\":\"2020-01-01T00:00:00Z\",\"depth\":0,\"phase\":\"main\",\"seq\":1,\"step\":\"gate\",\"type\":\"step_started\"}\n",
    );
    for run_id in [empty, headless] {
        let refused = assert_resumability_agrees(&bench, run_id);
        assert_code(&refused, 2, "resume without run_started");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. A duration too large to represent is a lint finding, not a panic.
//
// Before the fix, `poll.interval: 18446744073709551615` (seconds) passed lint and the run panicked
// in `Duration::from_secs_f64` ("cannot convert float seconds to Duration"), exit 101.

const HUGE_INTERVAL: &str = r#"
id: huge-interval
title: A poll interval too large to represent
steps:
  - id: wait
    shell: {command: "echo no"}
    until:
      that: "{{outputs.stdout}}"
      equals: "yes"
    poll: {interval: 18446744073709551615, timeout: 1s}
"#;

#[test]
fn a_poll_interval_too_large_is_a_lint_finding_and_never_panics_the_run() {
    let bench = Bench::new(HUGE_INTERVAL);
    let linted = bench.cmd(&["lint", "rb.yaml"]);
    let said = format!("{}{}", linted.stdout, linted.stderr).to_lowercase();
    assert!(
        linted.code != 0
            && ["too large", "too long", "longer than", "out of range"]
                .iter()
                .any(|words| said.contains(words)),
        "lint reports the duration as too large (exit {}):\n{said}",
        linted.code
    );
    let ran = bench.cmd(&["run", "rb.yaml"]);
    assert!(
        ran.code != 101 && !ran.stderr.contains("panicked"),
        "the run does not panic (exit {}):\n{}",
        ran.code,
        ran.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Environment failures (disk, permissions) have their own exit code, distinct from usage errors.
//
// Before the fix, a state directory that could not be created exited 2 (usage), as if the command
// line were wrong.

#[test]
fn a_state_directory_that_cannot_be_created_is_an_environment_failure() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        "id: env-failure\ntitle: Needs its state\nsteps:\n  - id: hello\n    shell: {command: echo hi}\n",
    );
    // A path under a regular file: no directory can ever be created there.
    sandbox.write("not-a-dir", "a regular file\n");
    let state = sandbox.path().join("not-a-dir/state");
    let output = sandbox.run_with_env(
        &["run", "rb.yaml"],
        &[("RUNBOOK_STATE_DIR", state.to_str().unwrap_or_default())],
    );
    assert_code(
        &output,
        74,
        "run with a state directory that cannot be created",
    );
    assert!(
        output.stderr.contains("not-a-dir/state") && !output.stdout.contains("hi\n"),
        "the message names the path and nothing ran:\n{}\n{}",
        output.stdout,
        output.stderr
    );
}
