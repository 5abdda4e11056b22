//! Control flow end to end: rollback, the failure path, `finally`, repeat groups, failure policies,
//! waits, retries and the point of no return. Each runbook's steps are HTTP requests to a wiremock
//! server, so the server's recorded requests (in arrival order) prove what ran and in which order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Output, Sandbox};

/// `runbook run rb.yaml --input base_url=URI [extra...]` in a fresh sandbox holding `yaml` (and the
/// answers file, when given, as `answers.yaml`).
pub(crate) fn run_runbook(
    server: &MockServer,
    yaml: &str,
    answers: Option<&str>,
    extra: &[&str],
) -> Output {
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", yaml);
    let base = format!("base_url={}", server.uri());
    let mut args = vec!["run", "rb.yaml", "--input", base.as_str()];
    if let Some(answers) = answers {
        sandbox.write("answers.yaml", answers);
        args.extend(["--answers", "answers.yaml"]);
    }
    args.extend_from_slice(extra);
    let state = state_dir(&sandbox);
    sandbox.run_with_env(&args, &[("RUNBOOK_STATE_DIR", state.as_str())])
}

/// A state directory (journal, run lock) inside the sandbox, so parallel tests that run runbooks
/// with the same id neither share runs nor wait on each other's lock.
pub(crate) fn state_dir(sandbox: &Sandbox) -> String {
    sandbox.path().join(".state").display().to_string()
}

/// The requests the server received, in order, as `METHOD /path`.
pub(crate) async fn recorded(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
        .iter()
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect()
}

/// `["POST /a", "POST /b"]` from `["/a", "/b"]`.
pub(crate) fn posts(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|path| format!("POST {path}")).collect()
}

/// The `--output json` report.
pub(crate) fn report(output: &Output) -> Value {
    serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not a JSON report ({error}):\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    })
}

pub(crate) fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

/// The reports of every execution of step `id`, in order.
pub(crate) fn executions<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["steps"]
        .as_array()
        .map(|steps| steps.iter().filter(|step| step["id"] == id).collect())
        .unwrap_or_default()
}

pub(crate) fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    executions(report, id)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no step `{id}` in report:\n{report:#}"))
}

/// Every POST succeeds (200, `{"ok": true}`) unless a more specific mock says otherwise.
pub(crate) async fn accept_posts(server: &MockServer) {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .with_priority(10)
        .mount(server)
        .await;
}

/// `POST path` answers `status`.
pub(crate) async fn respond(server: &MockServer, at: &str, status: u16) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(status).set_body_string("broken"))
        .with_priority(1)
        .mount(server)
        .await;
}

/// A step that POSTs to `/{path}`.
pub(crate) fn post(id: &str, at: &str) -> String {
    format!("- id: {id}\n  http:\n    method: POST\n    url: \"{{{{inputs.base_url}}}}{at}\"\n")
}

/// Indents every line of `text` by `spaces`.
pub(crate) fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}\n")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Rollback, the failure path and finally.

/// Three steps that each register a compensation, a fourth that fails, a failure path and finally.
fn saga() -> String {
    let mut yaml =
        String::from("id: saga\ntitle: Saga\ninputs:\n  base_url: {type: string}\nsteps:\n");
    for n in 1..=3 {
        let mut step = post(&format!("step_{n}"), &format!("/step/{n}"));
        step.push_str("  rollback:\n");
        step.push_str(&indent(
            &post(&format!("undo_{n}"), &format!("/undo/{n}")),
            4,
        ));
        yaml.push_str(&indent(&step, 2));
    }
    yaml.push_str(&indent(&post("step_4", "/step/4"), 2));
    yaml.push_str(&indent(&post("after", "/after"), 2));
    yaml.push_str("on_failure:\n");
    yaml.push_str(&indent(&post("failure_path", "/on_failure"), 2));
    yaml.push_str("finally:\n");
    yaml.push_str(&indent(&post("cleanup", "/finally"), 2));
    yaml
}

const SAGA_ORDER: [&str; 9] = [
    "/step/1",
    "/step/2",
    "/step/3",
    "/step/4",
    "/undo/3",
    "/undo/2",
    "/undo/1",
    "/on_failure",
    "/finally",
];

#[tokio::test(flavor = "multi_thread")]
async fn rollback_runs_newest_first_then_the_failure_path_then_finally() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;

    let output = run_runbook(&server, &saga(), None, &[]);
    assert_code(&output, 10);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    assert!(output.stdout.contains("rolling back"), "{}", output.stdout);
    assert!(output.stdout.contains("failure path"), "{}", output.stdout);
    assert!(
        output.stdout.contains("step `step_4`"),
        "the summary names the failed step:\n{}",
        output.stdout
    );
    // `after` never started.
    assert!(output.stdout.contains("after"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_json_report_says_rolled_back_with_phases() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;

    let output = run_runbook(&server, &saga(), None, &["--output", "json"]);
    assert_code(&output, 10);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    let report = report(&output);
    assert_eq!(report["status"], "rolled_back", "{report:#}");
    assert_eq!(report["failed_step"], "step_4", "{report:#}");
    let order: Vec<(&str, &str)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|step| step["outcome"] != "not_run")
        .map(|step| {
            (
                step["id"].as_str().unwrap(),
                step["phase"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("step_1", "main"),
            ("step_2", "main"),
            ("step_3", "main"),
            ("step_4", "main"),
            ("undo_3", "rollback"),
            ("undo_2", "rollback"),
            ("undo_1", "rollback"),
            ("failure_path", "on_failure"),
            ("cleanup", "finally"),
        ],
        "{report:#}"
    );
    assert_eq!(step(&report, "step_4")["outcome"], "failed");
    assert_eq!(step(&report, "after")["outcome"], "not_run");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_compensation_exits_11_and_the_other_compensations_still_run() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;
    respond(&server, "/undo/2", 500).await;

    let output = run_runbook(&server, &saga(), None, &[]);
    assert_code(&output, 11);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    assert!(
        output.stdout.contains("ROLLBACK FAILED"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("`undo_2`"), "{}", output.stdout);
    assert!(output.stdout.contains("manual action"), "{}", output.stdout);

    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;
    respond(&server, "/undo/2", 500).await;
    let output = run_runbook(&server, &saga(), None, &["--output", "json"]);
    assert_code(&output, 11);
    let report = report(&output);
    assert_eq!(report["status"], "rollback_failed", "{report:#}");
    assert_eq!(step(&report, "undo_2")["outcome"], "failed");
    assert_eq!(step(&report, "undo_1")["outcome"], "passed");
    assert_eq!(step(&report, "failure_path")["outcome"], "passed");
    assert_eq!(step(&report, "cleanup")["outcome"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_failure_path_step_is_a_rollback_failure_too() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/step/4", 500).await;
    respond(&server, "/on_failure", 500).await;

    let output = run_runbook(&server, &saga(), None, &["--output", "json"]);
    assert_code(&output, 11);
    assert_eq!(recorded(&server).await, posts(&SAGA_ORDER));
    assert_eq!(report(&output)["status"], "rollback_failed");
}

const FINALLY: &str = r#"
id: finally-always
title: Finally always runs
inputs:
  base_url: {type: string}
steps:
  - id: work
    http: {method: POST, url: "{{inputs.base_url}}/work"}
  - id: more
    http: {method: POST, url: "{{inputs.base_url}}/more"}
on_failure:
  - id: failure_path
    http: {method: POST, url: "{{inputs.base_url}}/on_failure"}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
  - id: cleanup_2
    http: {method: POST, url: "{{inputs.base_url}}/finally/2"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn finally_runs_on_success_and_the_failure_path_does_not() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    let output = run_runbook(&server, FINALLY, None, &[]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        posts(&["/work", "/more", "/finally", "/finally/2"])
    );
    assert!(output.stdout.contains("finally"), "{}", output.stdout);
    assert!(output.stdout.contains("succeeded"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn finally_runs_on_failure_after_the_failure_path() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/work", 500).await;
    let output = run_runbook(&server, FINALLY, None, &["--output", "json"]);
    assert_code(&output, 10);
    assert_eq!(
        recorded(&server).await,
        posts(&["/work", "/on_failure", "/finally", "/finally/2"])
    );
    let report = report(&output);
    assert_eq!(step(&report, "more")["outcome"], "not_run");
    assert_eq!(step(&report, "cleanup")["phase"], "finally");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_finally_step_runs_even_when_one_fails_and_the_run_then_fails() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/finally", 500).await;
    let output = run_runbook(&server, FINALLY, None, &["--output", "json"]);
    assert_ne!(output.code, 0, "a failed finally step fails the run");
    assert_eq!(
        recorded(&server).await,
        posts(&["/work", "/more", "/finally", "/finally/2"])
    );
    let report = report(&output);
    assert_eq!(report["status"], "failed", "{report:#}");
    assert_eq!(report["failed_step"], "cleanup", "{report:#}");
}

/// "Cancel the check order even if a later assertion fails."
const GROUP_FINALLY: &str = r#"
id: group-finally
title: A group's finally
inputs:
  base_url: {type: string}
steps:
  - id: check
    group:
      steps:
        - id: place_order
          http: {method: POST, url: "{{inputs.base_url}}/order"}
        - id: verify
          http: {method: POST, url: "{{inputs.base_url}}/verify"}
      finally:
        - id: cancel_order
          http: {method: POST, url: "{{inputs.base_url}}/order/cancel"}
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_group_finally_runs_after_the_group_on_success() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    let output = run_runbook(&server, GROUP_FINALLY, None, &[]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        posts(&["/order", "/verify", "/order/cancel", "/after", "/finally"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_finally_cancels_the_check_order_even_when_a_later_step_fails() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(&server, GROUP_FINALLY, None, &["--output", "json"]);
    assert_code(&output, 1);
    assert_eq!(
        recorded(&server).await,
        posts(&["/order", "/verify", "/order/cancel", "/finally"])
    );
    let report = report(&output);
    assert_eq!(report["failed_step"], "check", "{report:#}");
    assert_eq!(step(&report, "cancel_order")["outcome"], "passed");
    assert_eq!(step(&report, "after")["outcome"], "not_run");
}

// ---------------------------------------------------------------------------------------------
// Repeat groups under operator control.

const REPEAT: &str = r#"
id: repeat-group
title: Regenerate until the key works
inputs:
  base_url: {type: string}
steps:
  - id: rotate
    group:
      steps:
        - id: regenerate
          http: {method: POST, url: "{{inputs.base_url}}/regenerate"}
        - id: verify
          http: {method: POST, url: "{{inputs.base_url}}/verify"}
      finally:
        - id: cancel_order
          http: {method: POST, url: "{{inputs.base_url}}/cancel"}
      repeat:
        max_attempts: 3
  - id: resume
    http: {method: POST, url: "{{inputs.base_url}}/resume"}
"#;

fn attempt() -> [&'static str; 3] {
    ["/regenerate", "/verify", "/cancel"]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_stops_at_its_budget() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(
        &server,
        REPEAT,
        Some("decisions:\n  rotate: [retry, retry]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 1);
    let expected: Vec<&str> = attempt().repeat(3);
    assert_eq!(recorded(&server).await, posts(&expected));
    let report = report(&output);
    assert_eq!(report["status"], "failed", "{report:#}");
    assert_eq!(report["failed_step"], "rotate", "{report:#}");
    let group = step(&report, "rotate");
    assert_eq!(group["attempts"], 3, "{report:#}");
    let message = group["error"]["message"].as_str().unwrap();
    assert!(message.contains("attempt 3 of 3"), "{message}");
    assert_eq!(executions(&report, "verify").len(), 3, "{report:#}");
    assert_eq!(executions(&report, "cancel_order").len(), 3, "{report:#}");
    assert_eq!(step(&report, "resume")["outcome"], "not_run");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_succeeds_on_the_second_attempt() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/verify"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let output = run_runbook(
        &server,
        REPEAT,
        Some("decisions:\n  rotate: [retry]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    let mut expected: Vec<&str> = attempt().repeat(2);
    expected.push("/resume");
    assert_eq!(recorded(&server).await, posts(&expected));
    let report = report(&output);
    assert_eq!(report["status"], "succeeded", "{report:#}");
    assert_eq!(step(&report, "rotate")["attempts"], 2, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_stops_when_the_operator_aborts() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(
        &server,
        REPEAT,
        Some("decisions:\n  rotate: [abort]\n"),
        &[],
    );
    assert_ne!(output.code, 0, "{}", output.stdout);
    assert_eq!(recorded(&server).await, posts(&attempt()));
    assert!(
        output.stdout.contains("the operator chose to abort"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_group_without_a_decision_does_not_repeat() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    // An answers file with no decision for `rotate`: nobody chose retry, so nothing repeats.
    let output = run_runbook(&server, REPEAT, Some("decisions: {}\n"), &[]);
    assert_ne!(output.code, 0, "{}", output.stdout);
    assert_eq!(recorded(&server).await, posts(&attempt()));
    assert!(output.stdout.contains("no decision"), "{}", output.stdout);
}

// ---------------------------------------------------------------------------------------------
// Failure policies.

fn policy(on_error: &str) -> String {
    format!(
        r#"
id: policy
title: Failure policy
inputs:
  base_url: {{type: string}}
steps:
  - id: flaky
    {on_error}
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/flaky"}}
  - id: next
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/next"}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_continue_goes_on_and_the_run_succeeds() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(
        &server,
        &policy("on_error: continue"),
        None,
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/flaky", "/next"]));
    let report = report(&output);
    assert_eq!(report["status"], "succeeded");
    assert_eq!(step(&report, "flaky")["outcome"], "failed");
    assert_eq!(step(&report, "next")["outcome"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn abort_is_the_default_policy() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(&server, &policy(""), None, &[]);
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/flaky"]));
    assert!(output.stdout.contains("got 500"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_retry_runs_the_step_again() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let output = run_runbook(
        &server,
        &policy("on_error: ask"),
        Some("decisions:\n  flaky: [retry]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        posts(&["/flaky", "/flaky", "/next"])
    );
    let report = report(&output);
    let runs: Vec<&Value> = executions(&report, "flaky");
    assert_eq!(runs.len(), 2, "{report:#}");
    assert_eq!(runs[0]["outcome"], "failed");
    assert_eq!(runs[1]["outcome"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_skip_goes_on_and_records_the_decision() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(
        &server,
        &policy("on_error: ask"),
        Some("decisions:\n  flaky: [skip]\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/flaky", "/next"]));
    let report = report(&output);
    let note = step(&report, "flaky")["note"].as_str().unwrap_or_default();
    assert!(note.contains("skip"), "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_abort_stops_the_run() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let output = run_runbook(
        &server,
        &policy("on_error: ask"),
        Some("decisions:\n  flaky: [abort]\n"),
        &["--output", "json"],
    );
    assert_ne!(output.code, 0);
    assert_eq!(recorded(&server).await, posts(&["/flaky"]));
    let report = report(&output);
    assert_eq!(report["failed_step"], "flaky", "{report:#}");
    assert_eq!(step(&report, "next")["outcome"], "not_run");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_error_ask_with_a_skipped_step_makes_later_references_fail() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/flaky", 500).await;
    let yaml = r#"
id: policy
title: Failure policy
inputs:
  base_url: {type: string}
steps:
  - id: flaky
    on_error: ask
    http: {method: POST, url: "{{inputs.base_url}}/flaky"}
  - id: next
    http:
      method: POST
      url: "{{inputs.base_url}}/next"
      json: {status: "{{steps.flaky.outputs.status}}"}
"#;
    let output = run_runbook(&server, yaml, Some("decisions:\n  flaky: [skip]\n"), &[]);
    assert_ne!(output.code, 0, "{}", output.stdout);
    // The skipped step's outputs do not exist: `next` fails before sending anything.
    assert_eq!(recorded(&server).await, posts(&["/flaky"]));
}

// ---------------------------------------------------------------------------------------------
// Waits.

fn wait_runbook(timeout: &str) -> String {
    format!(
        r#"
id: wait
title: Wait until trading is disabled
inputs:
  base_url: {{type: string}}
steps:
  - id: wait_disabled
    http:
      url: "{{{{inputs.base_url}}}}/status"
      capture:
        live: $.live_enabled
    until:
      that: "{{{{outputs.live}}}}"
      equals: false
    poll:
      interval: 100ms
      timeout: {timeout}
  - id: next
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/next"}}
"#
    )
}

async fn status_is(server: &MockServer, live: bool, times: Option<u64>) {
    let mut mock = Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"live_enabled": live})));
    if let Some(times) = times {
        mock = mock.up_to_n_times(times).with_priority(1);
    } else {
        mock = mock.with_priority(5);
    }
    mock.mount(server).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_succeeds_after_three_polls() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    status_is(&server, true, Some(2)).await;
    status_is(&server, false, None).await;
    let output = run_runbook(&server, &wait_runbook("5s"), None, &["--output", "json"]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        vec!["GET /status", "GET /status", "GET /status", "POST /next"]
    );
    let report = report(&output);
    assert_eq!(step(&report, "wait_disabled")["attempts"], 3, "{report:#}");
    assert_eq!(
        step(&report, "wait_disabled")["outputs"]["live"],
        json!(false)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_that_never_holds_fails_closed_at_its_timeout() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    status_is(&server, true, None).await;
    let started = Instant::now();
    let output = run_runbook(&server, &wait_runbook("1s"), None, &[]);
    let elapsed = started.elapsed();
    assert_code(&output, 5);
    let received = recorded(&server).await;
    assert!(
        received.len() >= 2 && received.iter().all(|r| r == "GET /status"),
        "polled, then stopped without running `next`: {received:?}"
    );
    assert!(
        output.stdout.contains("did not hold within"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("last observed: true"),
        "the message shows the last observed value:\n{}",
        output.stdout
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "stopped at its timeout, took {elapsed:?}"
    );
    // Not a terminal: no per-poll lines and no spinner frames.
    assert!(!output.stdout.contains("waiting:"), "{}", output.stdout);
    assert!(!output.stdout.contains('\r'), "{:?}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn error_responses_while_polling_count_as_not_yet() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(503).set_body_string("restarting"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    status_is(&server, false, None).await;
    let output = run_runbook(&server, &wait_runbook("5s"), None, &["--output", "json"]);
    assert_code(&output, 0);
    assert_eq!(
        recorded(&server).await,
        vec!["GET /status", "GET /status", "GET /status", "POST /next"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_timing_out_on_errors_reports_the_last_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(503).set_body_string("restarting"))
        .mount(&server)
        .await;
    let output = run_runbook(&server, &wait_runbook("400ms"), None, &[]);
    assert_code(&output, 5);
    assert!(output.stdout.contains("503"), "{}", output.stdout);
}

// ---------------------------------------------------------------------------------------------
// Retries.

fn retry_runbook(retry: &str) -> String {
    format!(
        r#"
id: retry
title: Retries
inputs:
  base_url: {{type: string}}
steps:
  - id: call
    retry: {retry}
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/call"}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_5xx_until_it_succeeds() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/call"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 100ms}"),
        None,
        &["--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call", "/call"]));
    assert_eq!(step(&report(&output), "call")["attempts"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_give_up_after_the_last_attempt() {
    let server = MockServer::start().await;
    respond(&server, "/call", 503).await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 100ms}"),
        None,
        &[],
    );
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call", "/call"]));
    assert!(output.stdout.contains("3 attempts"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_retry_after_waits_as_asked() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    Mock::given(method("POST"))
        .and(path("/call"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 2, delay: 50ms}"),
        None,
        &[],
    );
    let elapsed = started.elapsed();
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call"]));
    assert!(
        elapsed >= Duration::from_millis(950),
        "Retry-After: 1 means at least a second, not the 50ms delay: took {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_delays_back_off() {
    let server = MockServer::start().await;
    respond(&server, "/call", 503).await;
    let started = Instant::now();
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 200ms, backoff: 2}"),
        None,
        &[],
    );
    let elapsed = started.elapsed();
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call", "/call"]));
    // 200ms, then 400ms.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(output.stdout.contains("retrying in"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_400_is_not_retried_by_default() {
    let server = MockServer::start().await;
    respond(&server, "/call", 400).await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 3, delay: 100ms}"),
        None,
        &[],
    );
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_400_is_retried_when_listed() {
    let server = MockServer::start().await;
    respond(&server, "/call", 400).await;
    let output = run_runbook(
        &server,
        &retry_runbook("{attempts: 2, delay: 100ms, on: [4xx]}"),
        None,
        &[],
    );
    assert_code(&output, 1);
    assert_eq!(recorded(&server).await, posts(&["/call", "/call"]));
}

// ---------------------------------------------------------------------------------------------
// The point of no return.

const IRREVERSIBLE: &str = r#"
id: irreversible
title: Past the point of no return
inputs:
  base_url: {type: string}
steps:
  - id: pause
    http: {method: POST, url: "{{inputs.base_url}}/pause"}
    rollback:
      - id: unpause
        http: {method: POST, url: "{{inputs.base_url}}/unpause"}
  - id: regenerate_key
    irreversible: true
    http: {method: POST, url: "{{inputs.base_url}}/regenerate"}
  - id: verify
    http: {method: POST, url: "{{inputs.base_url}}/verify"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_after_an_irreversible_step_says_so() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(&server, IRREVERSIBLE, None, &[]);
    assert_code(&output, 10);
    assert_eq!(
        recorded(&server).await,
        posts(&["/pause", "/regenerate", "/verify", "/unpause"])
    );
    let summary = output
        .stdout
        .lines()
        .find(|line| line.contains("point of no return passed"))
        .unwrap_or_else(|| panic!("no point-of-no-return summary:\n{}", output.stdout));
    assert!(summary.contains("`regenerate_key`"), "{summary}");

    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(&server, IRREVERSIBLE, None, &["--output", "json"]);
    assert_code(&output, 10);
    let report = report(&output);
    assert_eq!(report["irreversible_done"], json!(["regenerate_key"]));
    assert_eq!(step(&report, "regenerate_key")["irreversible"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_before_the_irreversible_step_does_not_claim_it() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/regenerate", 500).await;
    let output = run_runbook(&server, IRREVERSIBLE, None, &["--output", "json"]);
    assert_code(&output, 10);
    let report = report(&output);
    assert!(report.get("irreversible_done").is_none(), "{report:#}");
}

/// The failure path can read what a failed step produced (its HTTP status and body) and why the
/// run failed; a step that failed before producing anything stays undefined.
#[tokio::test(flavor = "multi_thread")]
async fn the_failure_path_reads_the_failed_steps_status_and_the_failure() {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/order"))
        .respond_with(
            wiremock::ResponseTemplate::new(422)
                .set_body_json(serde_json::json!({"message": "insufficient buying power"})),
        )
        .mount(&server)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path("/report"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let sandbox = crate::support::Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"id: failed-outputs
title: Failure path reads the failed step
inputs:
  base_url: {type: string}
steps:
  - id: order
    http: {method: POST, url: "{{inputs.base_url}}/order", expect_status: 200}
on_failure:
  - id: report
    http:
      method: POST
      url: "{{inputs.base_url}}/report"
      json:
        step: "{{run.failed_step}}"
        status: "{{steps.order.outputs.status}}"
        reason: "{{steps.order.outputs.body.message}}"
        failure: "{{run.failure}}"
"#,
    );
    let output = sandbox.run(&[
        "run",
        "rb.yaml",
        "--input",
        &format!("base_url={}", server.uri()),
    ]);
    assert_eq!(output.code, 10, "{}\n{}", output.stdout, output.stderr);
    let requests = server.received_requests().await.unwrap_or_default();
    let report = requests
        .iter()
        .find(|request| request.url.path() == "/report")
        .unwrap_or_else(|| panic!("no report sent:\n{}", output.stdout));
    let body: serde_json::Value = serde_json::from_slice(&report.body).unwrap_or_default();
    assert_eq!(body["step"], "order");
    assert_eq!(body["status"], 422, "a number stays a number: {body}");
    assert_eq!(body["reason"], "insufficient buying power");
    assert!(
        body["failure"]
            .as_str()
            .is_some_and(|failure| failure.contains("expected status 200, got 422")),
        "{body}"
    );
}
