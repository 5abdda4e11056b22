//! Regression tests for the resume fixes of commit 550609f ("Resume fixes from the docs review;
//! refuse a prompting runbook with nobody to answer"), one test per fix. Each drives the real binary
//! against a wiremock server that records every request; runs are SIGKILLed (or SIGINTed) while a
//! request is held by the server, then `runbook resume` continues them with the same state
//! directory. Every test states what the code before the fix did, so it is clear why it would fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::bench::{Bench, assert_code};
use crate::control::recorded;
use crate::durable::{count, mount, ok, until_count};

// ---------------------------------------------------------------------------------------------
// Helpers (the ones in durable.rs are private to that module).

/// A response held for a minute until the test opens the gate; then `opened` at once.
#[derive(Clone)]
struct Gate {
    open: Arc<AtomicBool>,
    opened: ResponseTemplate,
}

impl Gate {
    fn hanging(opened: ResponseTemplate) -> Gate {
        Gate {
            open: Arc::new(AtomicBool::new(false)),
            opened,
        }
    }

    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Respond for Gate {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.open.load(Ordering::SeqCst) {
            self.opened.clone()
        } else {
            self.opened.clone().set_delay(Duration::from_secs(60))
        }
    }
}

/// Records of `kind` (and, when given, of `step`).
fn records<'a>(records: &'a [Value], kind: &str, step: Option<&str>) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["type"] == kind && step.is_none_or(|s| r["step"] == s))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. A completed group restored on resume re-registers its steps' compensation.
//
// Before the fix, `restore_quietly` put a restored group's inner steps back without registering
// their `rollback:`; only the top-level step's compensation (registered by `run_step` for the
// restored step) ran: the server got POST /undo_top but never POST /undo_inner.

const GROUP_ROLLBACK: &str = r#"
id: group-rollback
title: A group with compensation, then a failure after a resume
inputs:
  base_url: {type: string}
steps:
  - id: top
    http: {method: POST, url: "{{inputs.base_url}}/top"}
    rollback:
      - id: undo_top
        http: {method: POST, url: "{{inputs.base_url}}/undo_top"}
  - id: grp
    group:
      steps:
        - id: inner
          http: {method: POST, url: "{{inputs.base_url}}/inner"}
          rollback:
            - id: undo_inner
              http: {method: POST, url: "{{inputs.base_url}}/undo_inner"}
  - id: block
    timeout: 2m
    http: {url: "{{inputs.base_url}}/block"}
  - id: fail
    http: {method: POST, url: "{{inputs.base_url}}/fail"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_restored_groups_inner_compensation_runs_when_the_resumed_run_fails() {
    let server = MockServer::start().await;
    let block = Gate::hanging(ok());
    for at in ["/top", "/inner", "/undo_top", "/undo_inner"] {
        mount(&server, "POST", at, ok()).await;
    }
    mount(&server, "GET", "/block", block.clone()).await;
    mount(&server, "POST", "/fail", ResponseTemplate::new(500)).await;
    let bench = Bench::new(GROUP_ROLLBACK);
    let base = format!("base_url={}", server.uri());

    let running = bench.spawn(&["run", "rb.yaml", "--input", &base]);
    until_count(&server, "GET /block", 1).await;
    sigkill(running);
    block.open();
    assert_eq!(
        recorded(&server).await,
        vec!["POST /top", "POST /inner", "GET /block"],
        "the group completed in the first session"
    );
    let run_id = bench.only_run_id();

    let resumed = bench.cmd(&["resume", &run_id]);
    assert_code(&resumed, 10, "resume: fails and rolls back");
    let received = recorded(&server).await;
    assert_eq!(
        received[3..],
        [
            "GET /block",
            "POST /fail",
            "POST /undo_inner",
            "POST /undo_top"
        ],
        "the group's inner step is compensated too, newest first: {received:?}"
    );
    assert_eq!(count(&received, "POST /top"), 1, "{received:?}");
    assert_eq!(count(&received, "POST /inner"), 1, "{received:?}");
}

// ---------------------------------------------------------------------------------------------
// 2. The resume plan applies to a step's first run only: a repeat group asks anew.
//
// Before the fix, every attempt of the group after a resume found `enter_key` in the plan's
// completed steps and restored its old answer (AKBAD0001) without asking, and found `validate`
// still in doubt: the second attempt sent the old key again.
//
// After the fix the attempt asks again, but the prompt's occurrence counter starts at 0 in the
// resumed session: the restored (non-secret) `enter_key` does not count as its first run, so the
// second attempt is asked as occurrence 1 and an answers file shared by both sessions hands it the
// FIRST set again. The second test below pins that gap (it fails until occurrences carry over).

const REPEAT: &str = r#"
id: repeat-resume
title: Enter a key until it works, killed mid-attempt
inputs:
  base_url: {type: string}
steps:
  - id: rotate
    group:
      steps:
        - id: enter_key
          prompt:
            answers:
              key_id: {pattern: "^AK"}
        - id: validate
          timeout: 2m
          resume: rerun
          http:
            method: POST
            url: "{{inputs.base_url}}/validate"
            json: {key_id: "{{steps.enter_key.outputs.key_id}}"}
      repeat: {max_attempts: 3}
"#;

/// Answers 200 to AKGOOD0002 and 401 to anything else; held (60 s) until opened.
struct Validate {
    open: Arc<AtomicBool>,
}

impl Respond for Validate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let response = if body["key_id"] == "AKGOOD0002" {
            ok()
        } else {
            ResponseTemplate::new(401)
        };
        if self.open.load(Ordering::SeqCst) {
            response
        } else {
            response.set_delay(Duration::from_secs(60))
        }
    }
}

async fn keys_sent(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|r| r.url.path() == "/validate")
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["key_id"].clone())
        .collect()
}

/// Runs REPEAT with `answers` and SIGKILLs it while the first POST /validate (AKBAD0001) is held;
/// then opens the gate. Returns the bench, the server and the run id.
async fn kill_in_validate(answers: &str) -> (Bench, MockServer, String) {
    let server = MockServer::start().await;
    let open = Arc::new(AtomicBool::new(false));
    mount(
        &server,
        "POST",
        "/validate",
        Validate { open: open.clone() },
    )
    .await;
    let bench = Bench::new(REPEAT);
    bench.sandbox.write("answers.yaml", answers);
    let base = format!("base_url={}", server.uri());

    let running = bench.spawn(&[
        "run",
        "rb.yaml",
        "--input",
        &base,
        "--answers",
        "answers.yaml",
    ]);
    until_count(&server, "POST /validate", 1).await;
    sigkill(running);
    open.store(true, Ordering::SeqCst);
    assert_eq!(keys_sent(&server).await, vec![json!("AKBAD0001")]);
    let run_id = bench.only_run_id();
    (bench, server, run_id)
}

/// What the fix did achieve: the repeated attempt asks the prompter again instead of restoring the
/// old session's answer. The resume's answers file gives the good key for either numbering of the
/// occurrence (1 or 2), so this holds whichever way the occurrence is counted across sessions.
#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_after_a_resume_asks_anew_instead_of_replaying_the_old_answer() {
    let (bench, server, run_id) = kill_in_validate(
        "enter_key:\n  - {key_id: AKBAD0001}\n  - {key_id: AKGOOD0002}\ndecisions:\n  rotate: [retry]\n",
    )
    .await;
    bench.sandbox.write(
        "resume.answers.yaml",
        "enter_key:\n  - {key_id: AKGOOD0002}\n  - {key_id: AKGOOD0002}\ndecisions:\n  rotate: [retry]\n",
    );
    let resumed = bench.cmd(&["resume", &run_id, "--answers", "resume.answers.yaml"]);
    assert_eq!(
        keys_sent(&server).await,
        vec![json!("AKBAD0001"), json!("AKBAD0001"), json!("AKGOOD0002")],
        "stdout:\n{}\nstderr:\n{}",
        resumed.stdout,
        resumed.stderr
    );
    assert_code(&resumed, 0, "resume");
}

/// The same answers file for both sessions (one answer set per time the step runs): the attempt
/// after the resume is the step's second run, so it must get the second set.
#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_after_a_resume_uses_the_next_answer_set_not_the_replayed_one() {
    let (bench, server, run_id) = kill_in_validate(
        "enter_key:\n  - {key_id: AKBAD0001}\n  - {key_id: AKGOOD0002}\ndecisions:\n  rotate: [retry]\n",
    )
    .await;
    let resumed = bench.cmd(&[
        "resume",
        &run_id,
        "--answers",
        "answers.yaml",
        "--output",
        "json",
    ]);
    let keys = keys_sent(&server).await;
    // Session 1: the first key (killed). Resume: `validate` was in doubt and re-runs with the
    // restored first key (401); the operator repeats the group; its second attempt asks again and
    // gets the next answer set.
    assert_eq!(
        keys,
        vec![json!("AKBAD0001"), json!("AKBAD0001"), json!("AKGOOD0002")],
        "keys the server received\nstdout:\n{}\nstderr:\n{}",
        resumed.stdout,
        resumed.stderr
    );
    assert_code(&resumed, 0, "resume");
}

// ---------------------------------------------------------------------------------------------
// 3. Operator decisions are journaled and audited; a skip counts as done on a later resume.
//
// Before the fix, no `decision` record was written anywhere (journal or audit log); the journal
// only had `flaky` finished as `failed`, so the resume ran POST /flaky again.

const ASK_SKIP: &str = r#"
id: ask-skip
title: A skipped failure, then a kill
inputs:
  base_url: {type: string}
steps:
  - id: flaky
    on_error: ask
    http: {method: POST, url: "{{inputs.base_url}}/flaky"}
  - id: block
    timeout: 2m
    http: {url: "{{inputs.base_url}}/block"}
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_skip_decision_is_journaled_audited_and_not_rerun_on_resume() {
    let server = MockServer::start().await;
    let block = Gate::hanging(ok());
    mount(&server, "POST", "/flaky", ResponseTemplate::new(500)).await;
    mount(&server, "GET", "/block", block.clone()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(ASK_SKIP);
    bench
        .sandbox
        .write("answers.yaml", "decisions:\n  flaky: [skip]\n");
    let base = format!("base_url={}", server.uri());

    let running = bench.spawn(&[
        "run",
        "rb.yaml",
        "--input",
        &base,
        "--answers",
        "answers.yaml",
    ]);
    until_count(&server, "GET /block", 1).await;
    sigkill(running);
    block.open();
    let run_id = bench.only_run_id();

    // The same answers file again: had `flaky` been re-run, it would be skipped again and the run
    // would still succeed, so only the server's count tells.
    let resumed = bench.cmd(&["resume", &run_id, "--answers", "answers.yaml"]);
    assert_code(&resumed, 0, "resume");
    let received = recorded(&server).await;
    assert_eq!(
        count(&received, "POST /flaky"),
        1,
        "the skipped step is not re-run: {received:?}"
    );
    assert_eq!(count(&received, "GET /block"), 2, "{received:?}");
    assert_eq!(count(&received, "POST /after"), 1, "{received:?}");

    let journal = bench.journal(&run_id);
    let resumed_at = journal
        .iter()
        .position(|r| r["type"] == "run_resumed")
        .expect("run_resumed");
    let decisions = records(&journal[..resumed_at], "decision", Some("flaky"));
    assert_eq!(decisions.len(), 1, "{journal:#?}");
    assert_eq!(decisions[0]["decision"], "skip", "{:#}", decisions[0]);

    let audit = bench.audit();
    let audited = records(&audit, "operator_decision", Some("flaky"));
    assert_eq!(audited.len(), 1, "{audit:#?}");
    assert_eq!(audited[0]["decision"], "skip", "{:#}", audited[0]);
    assert_eq!(audited[0]["run_id"], run_id.as_str());
}

// ---------------------------------------------------------------------------------------------
// 4. runs/show do not offer to resume a run whose compensation ran.
//
// Before the fix, `resumable` was true for any `interrupted` or `failed` run, and `show` printed
// `next: runbook resume RUN_ID` even though resume refuses a compensated run.

const INTERRUPTED_WAIT: &str = r#"
id: sigint-compensated
title: Interrupted while waiting, compensated
inputs:
  base_url: {type: string}
steps:
  - id: pause
    http: {method: POST, url: "{{inputs.base_url}}/pause"}
    rollback:
      - id: unpause
        http: {method: POST, url: "{{inputs.base_url}}/unpause"}
  - id: wait_disabled
    http:
      url: "{{inputs.base_url}}/status"
      capture:
        live: $.live_enabled
    until:
      that: "{{outputs.live}}"
      equals: false
    poll:
      interval: 100ms
      timeout: 60s
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_ctrl_c_run_whose_compensation_ran_is_not_offered_for_resume() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/pause", ok()).await;
    mount(&server, "POST", "/unpause", ok()).await;
    mount(
        &server,
        "GET",
        "/status",
        ResponseTemplate::new(200).set_body_json(json!({"live_enabled": true})),
    )
    .await;
    let bench = Bench::new(INTERRUPTED_WAIT);
    let base = format!("base_url={}", server.uri());

    let running = bench.spawn(&["run", "rb.yaml", "--input", &base]);
    until_count(&server, "GET /status", 1).await;
    running.signal(Signal::SIGINT);
    let finished = running.finish(Duration::from_secs(15)).await;
    assert_eq!(
        finished.code,
        Some(130),
        "stdout:\n{}\nstderr:\n{}",
        finished.stdout,
        finished.stderr
    );
    assert_eq!(
        count(&recorded(&server).await, "POST /unpause"),
        1,
        "the compensation ran"
    );

    let run = bench.only_run();
    let run_id = run["run_id"].as_str().expect("run_id").to_owned();
    assert_eq!(run["state"], "interrupted", "{run:#}");
    assert_eq!(run["resumable"], false, "{run:#}");

    let shown = bench.cmd(&["show", &run_id]);
    assert_code(&shown, 0, "show");
    assert!(
        !shown.stdout.contains("next: runbook resume"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("cannot be resumed"),
        "{}",
        shown.stdout
    );
    // And resume agrees.
    let refused = bench.cmd(&["resume", &run_id]);
    assert_code(&refused, 2, "resume of a compensated run");
}

// ---------------------------------------------------------------------------------------------
// 5. A resume that cannot get a decision about a step in doubt changes nothing.
//
// Before the fix, the undecided resume failed the step and then ran compensation (POST
// /undo_before), the failure path (POST /on_failure) and finally (POST /finally); the journal then
// held rollback records, so the next resume was refused ("already ran its compensation").

const UNDECIDED: &str = r#"
id: undecided
title: A step in doubt and nobody to decide
inputs:
  base_url: {type: string}
steps:
  - id: before
    http: {method: POST, url: "{{inputs.base_url}}/before"}
    rollback:
      - id: undo_before
        http: {method: POST, url: "{{inputs.base_url}}/undo_before"}
  - id: submit
    timeout: 2m
    resume: ask
    http: {method: POST, url: "{{inputs.base_url}}/submit"}
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
on_failure:
  - id: keep_safe
    http: {method: POST, url: "{{inputs.base_url}}/on_failure"}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_undecided_resume_runs_no_cleanup_and_a_decided_one_then_completes() {
    let server = MockServer::start().await;
    let submit = Gate::hanging(ok());
    for at in [
        "/before",
        "/undo_before",
        "/after",
        "/on_failure",
        "/finally",
    ] {
        mount(&server, "POST", at, ok()).await;
    }
    mount(&server, "POST", "/submit", submit.clone()).await;
    let bench = Bench::new(UNDECIDED);
    let base = format!("base_url={}", server.uri());

    let running = bench.spawn(&["run", "rb.yaml", "--input", &base]);
    until_count(&server, "POST /submit", 1).await;
    sigkill(running);
    submit.open();
    let run_id = bench.only_run_id();
    let at_kill = recorded(&server).await;
    assert_eq!(at_kill, vec!["POST /before", "POST /submit"]);

    // No terminal, no answers file: no decision about `submit`.
    let undecided = bench.cmd(&["resume", &run_id]);
    assert_ne!(undecided.code, 0, "{undecided:?}");
    assert_eq!(
        recorded(&server).await,
        at_kill,
        "no compensation, failure path or finally in the undecided session"
    );
    let run = bench.only_run();
    assert_eq!(run["resumable"], true, "still resumable: {run:#}");

    bench
        .sandbox
        .write("answers.yaml", "decisions:\n  submit: [retry]\n");
    let decided = bench.cmd(&["resume", &run_id, "--answers", "answers.yaml"]);
    assert_code(&decided, 0, "resume with a decision");
    assert_eq!(
        recorded(&server).await,
        vec![
            "POST /before",
            "POST /submit",
            "POST /submit",
            "POST /after",
            "POST /finally"
        ]
    );
    assert_eq!(bench.only_run()["state"], "succeeded");
}

// ---------------------------------------------------------------------------------------------
// 6. The audit log is opened before the journal exists.
//
// Before the fix, the journal (with its `run_started` record) was created first and the audit log
// opened afterwards: the failure left a ghost run in `runbook runs`, and it was not a usage error.

#[tokio::test(flavor = "multi_thread")]
async fn an_audit_log_that_cannot_be_opened_is_a_usage_error_and_leaves_no_run() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/work", ok()).await;
    let bench = Bench::new(
        r#"
id: audited
title: Needs an audit log
inputs:
  base_url: {type: string}
steps:
  - id: work
    http: {method: POST, url: "{{inputs.base_url}}/work"}
"#,
    );
    // A path under a regular file: its parent directory can never be created.
    bench.sandbox.write("not-a-dir", "a regular file\n");
    let audit_log = bench.sandbox.path().join("not-a-dir/sub/audit.jsonl");
    let base = format!("base_url={}", server.uri());

    let output = bench.cmd(&[
        "run",
        "rb.yaml",
        "--input",
        &base,
        "--audit-log",
        audit_log.to_str().expect("utf-8 path"),
    ]);
    assert_code(
        &output,
        74,
        "run with an unopenable audit log (an environment failure)",
    );
    assert!(
        output.stderr.contains("cannot open the audit log")
            && output.stderr.contains("not-a-dir/sub/audit.jsonl"),
        "{}",
        output.stderr
    );
    assert!(recorded(&server).await.is_empty(), "nothing ran");
    assert!(bench.runs().is_empty(), "no ghost run: {:#?}", bench.runs());
    let journals = std::fs::read_dir(bench.state.join("runs"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(journals, 0, "no journal in the state directory");
}

// ---------------------------------------------------------------------------------------------
// 7. With no terminal and no answers file, a runbook with prompt steps is refused up front.
//
// Before the fix, the automatic steps ran (POST /before here) and the run then failed at its first
// prompt, having already changed things.

#[tokio::test(flavor = "multi_thread")]
async fn a_prompting_runbook_with_nobody_to_answer_is_refused_before_any_step() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/before", ok()).await;
    mount(&server, "POST", "/after", ok()).await;
    // The prompt is nested in a group: the refusal looks into groups, not just the top level.
    let bench = Bench::new(
        r#"
id: nobody
title: Asks an operator after an automatic step
inputs:
  base_url: {type: string}
steps:
  - id: before
    http: {method: POST, url: "{{inputs.base_url}}/before"}
  - id: grp
    group:
      steps:
        - id: ask
          prompt:
            confirm: Go on?
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
"#,
    );
    let base = format!("base_url={}", server.uri());
    let started = Instant::now();
    let output = bench.cmd(&["run", "rb.yaml", "--input", &base]);
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    assert_code(&output, 2, "a prompting runbook with no terminal");
    assert!(
        output.stderr.contains("standard input is not a terminal")
            && output.stderr.contains("--answers"),
        "{}",
        output.stderr
    );
    assert!(
        recorded(&server).await.is_empty(),
        "refused before any step ran: {:?}",
        recorded(&server).await
    );
    assert!(bench.runs().is_empty(), "no run was started");
}

/// SIGKILL, then reap: the pid is gone when this returns, and it was the signal that ended it.
fn sigkill(running: crate::support::Background) {
    let finished = running.sigkill();
    assert_eq!(
        finished.code, None,
        "killed, not exited\nstdout:\n{}\nstderr:\n{}",
        finished.stdout, finished.stderr
    );
}
