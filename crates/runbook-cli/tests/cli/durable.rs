//! Durable runs end to end (issue 4): the real binary is SIGKILLed at known points of a runbook that
//! talks to a wiremock server counting every request, then `runbook resume` finishes the run. The
//! server's counts prove no completed side effect was repeated; the journal (`runs/ID/journal.jsonl`)
//! and the audit log (`audit.jsonl`) in the shared state directory must tell the whole story. Also:
//! in-doubt policies, `runbook runs` / `runbook show`, a torn journal, a changed runbook, the run
//! lock (live and dead holders), secret canaries, and runs that must not be resumed.
//!
//! Blocking points are deterministic: an http step blocks on a [`Gate`] (a response held for a
//! minute until the test opens it), a shell step loops until a file exists. Nothing sleeps for a
//! fixed time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::control::recorded;
use crate::support::{Background as Running, Finished};
use crate::support::{
    KillGroupOnDrop, Output, Sandbox, finish, group_alive, poll_until, runbook, wait_until,
};

// ---------------------------------------------------------------------------------------------
// Helpers: a gated response, a sandbox with a state directory shared by every command, a run in
// the background that can be SIGKILLed.

/// A response that stays `closed` (by default: held for a minute) until the test opens it.
#[derive(Clone)]
struct Gate {
    open: Arc<AtomicBool>,
    closed: ResponseTemplate,
    opened: ResponseTemplate,
}

impl Gate {
    /// Holds the request (60 s) until opened; then answers `opened` at once.
    fn hanging(opened: ResponseTemplate) -> Gate {
        Gate::new(opened.clone().set_delay(Duration::from_secs(60)), opened)
    }

    fn new(closed: ResponseTemplate, opened: ResponseTemplate) -> Gate {
        Gate {
            open: Arc::new(AtomicBool::new(false)),
            closed,
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
            self.closed.clone()
        }
    }
}

pub(crate) async fn mount(
    server: &MockServer,
    verb: &str,
    at: &str,
    response: impl Respond + 'static,
) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

pub(crate) fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": true}))
}

/// How many of the recorded requests are `request` (`"POST /pause"`).
pub(crate) fn count(received: &[String], request: &str) -> usize {
    received.iter().filter(|r| *r == request).count()
}

/// Waits (at most 15 s) until the server has received `request` at least `n` times.
pub(crate) async fn until_count(server: &MockServer, request: &str, n: usize) {
    let started = Instant::now();
    loop {
        let received = recorded(server).await;
        if count(&received, request) >= n {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "waited in vain for {n} x {request}; received: {received:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (at most 15 s) until `path` exists.
async fn until_exists(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A runbook file in a sandbox, and one state directory for every command run on it.
struct Bench {
    sandbox: Sandbox,
    state: PathBuf,
}

impl Bench {
    fn new(yaml: &str) -> Bench {
        let sandbox = Sandbox::new();
        sandbox.write("rb.yaml", yaml);
        let state = sandbox.path().join(".state");
        Bench { sandbox, state }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.sandbox.path().join(name)
    }

    fn touch(&self, name: &str) {
        self.sandbox.write(name, "");
    }

    /// `runbook ARGS` in the sandbox, with this bench's state directory (overriding the fresh one
    /// `support::runbook()` sets) and no terminal.
    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = runbook();
        command
            .current_dir(self.sandbox.path())
            .env("RUNBOOK_STATE_DIR", &self.state)
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env_remove("COLUMNS")
            .args(args)
            .write_stdin("");
        for (key, value) in env {
            command.env(key, value);
        }
        finish(command)
    }

    /// `runbook ARGS` in the background.
    fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"));
        command
            .current_dir(self.sandbox.path())
            .args(args)
            .env("NO_COLOR", "1")
            .env("RUNBOOK_STATE_DIR", &self.state)
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env_remove("COLUMNS")
            .env_remove("RUST_LOG")
            .env_remove("RUNBOOK_ACTOR")
            .env_remove("RUNBOOK_AUDIT_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        Running::spawn(command)
    }

    /// `runbook runs --output json`.
    fn runs(&self) -> Vec<Value> {
        let output = self.cmd(&["runs", "--output", "json"], &[]);
        assert_eq!(output.code, 0, "runs: {}", output.stderr);
        let runs: Value = serde_json::from_str(&output.stdout)
            .unwrap_or_else(|error| panic!("runs --output json: {error}\n{}", output.stdout));
        runs.as_array().cloned().unwrap_or_default()
    }

    /// The id of the one run in the state directory.
    fn only_run_id(&self) -> String {
        let runs = self.runs();
        assert_eq!(runs.len(), 1, "{runs:#?}");
        runs[0]["run_id"].as_str().expect("run_id").to_owned()
    }

    fn journal_path(&self, run_id: &str) -> PathBuf {
        self.state.join("runs").join(run_id).join("journal.jsonl")
    }

    fn journal_text(&self, run_id: &str) -> String {
        std::fs::read_to_string(self.journal_path(run_id)).expect("read the journal")
    }

    /// The journal, which must be valid JSON lines (every line complete) numbered 1, 2, 3...
    fn journal(&self, run_id: &str) -> Vec<Value> {
        let records = json_lines(&self.journal_text(run_id), "journal");
        for (index, record) in records.iter().enumerate() {
            assert_eq!(
                record["seq"].as_u64(),
                Some(index as u64 + 1),
                "journal records are numbered without gaps: {records:#?}"
            );
        }
        records
    }

    fn audit_text(&self) -> String {
        std::fs::read_to_string(self.state.join("audit.jsonl")).expect("read the audit log")
    }

    fn audit(&self) -> Vec<Value> {
        json_lines(&self.audit_text(), "audit log")
    }
}

/// Parses JSON lines strictly: every line is a complete JSON object ending in a newline.
fn json_lines(text: &str, what: &str) -> Vec<Value> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the {what} ends with a complete line:\n{text}"
    );
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{what} line is not JSON ({error}): {line}"));
            assert!(value.is_object(), "{what} line is not an object: {line}");
            value
        })
        .collect()
}

fn assert_code(output: &Output, code: i32, what: &str) {
    assert_eq!(
        output.code, code,
        "{what}: exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

fn killed_by_signal(finished: &Finished) {
    assert_eq!(
        finished.code, None,
        "the run was killed, not exited: {finished:?}"
    );
}

/// Records of `kind` (and, for step records, of `step`).
fn records<'a>(records: &'a [Value], kind: &str, step: Option<&str>) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["type"] == kind && step.is_none_or(|s| r["step"] == s))
        .collect()
}

fn position(records: &[Value], kind: &str) -> usize {
    let found: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r["type"] == kind)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(found.len(), 1, "exactly one `{kind}` record: {records:#?}");
    found[0]
}

fn timestamp(value: &Value) -> jiff::Timestamp {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"))
        .parse()
        .unwrap_or_else(|error| panic!("not a timestamp ({error}): {value}"))
}

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL at several points of a multi-step runbook, then `runbook resume`.

const ROTATION: &str = r#"
id: durable-rotation
title: A rotation killed and resumed
inputs:
  base_url: {type: string}
steps:
  - id: pause
    name: Pause trading
    http: {method: POST, url: "{{inputs.base_url}}/pause"}
  - id: wait_paused
    name: Wait until trading reports paused
    http:
      url: "{{inputs.base_url}}/health"
      capture:
        paused: $.paused
    until:
      that: "{{outputs.paused}}"
      equals: true
    poll: {interval: 100ms, timeout: 2m}
  - id: place_order
    name: Place the check order
    http:
      method: POST
      url: "{{inputs.base_url}}/orders"
      capture:
        order_id: $.id
    resume: never
  - id: settle
    name: Let it settle
    shell:
      command: "echo $$ > settle.pid; for i in $(seq 600); do [ -f settle.go ] && break; sleep 0.05; done"
    resume: rerun
  - id: verify
    name: Verify (slow)
    timeout: 2m
    http: {url: "{{inputs.base_url}}/slow"}
  - id: cancel_order
    name: Cancel the check order
    http:
      method: DELETE
      url: "{{inputs.base_url}}/orders/{{steps.place_order.outputs.order_id}}"
    resume: rerun
  - id: resume_trading
    name: Resume trading
    http: {method: POST, url: "{{inputs.base_url}}/resume"}
  - id: record
    audit:
      action: rotation.completed
      context:
        order: "{{steps.place_order.outputs.order_id}}"
      durations:
        downtime_seconds: {from: pause.finished, to: resume_trading.finished}
"#;

const ROTATION_STEPS: [&str; 8] = [
    "pause",
    "wait_paused",
    "place_order",
    "settle",
    "verify",
    "cancel_order",
    "resume_trading",
    "record",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillPoint {
    /// In `verify` (a GET held by the server), after POST /pause and POST /orders completed.
    SlowStep,
    /// In `settle` (a shell loop), right after POST /orders.
    BetweenSteps,
    /// In `wait_paused`, while it polls GET /health.
    Polling,
}

impl KillPoint {
    fn step(self) -> &'static str {
        match self {
            KillPoint::SlowStep => "verify",
            KillPoint::BetweenSteps => "settle",
            KillPoint::Polling => "wait_paused",
        }
    }
}

struct Killed {
    bench: Bench,
    server: MockServer,
    health: Gate,
    slow: Gate,
    run_id: String,
    first: Finished,
    /// What the server had received when the process died.
    at_kill: Vec<String>,
}

/// Runs ROTATION as `alice` and SIGKILLs it at `point`.
async fn kill_rotation_at(point: KillPoint) -> Killed {
    let server = MockServer::start().await;
    let health = Gate::new(
        ResponseTemplate::new(200).set_body_json(json!({"paused": false})),
        ResponseTemplate::new(200).set_body_json(json!({"paused": true})),
    );
    let slow = Gate::hanging(ok());
    mount(&server, "POST", "/pause", ok()).await;
    mount(&server, "GET", "/health", health.clone()).await;
    mount(
        &server,
        "POST",
        "/orders",
        ResponseTemplate::new(201).set_body_json(json!({"id": "ord-42"})),
    )
    .await;
    mount(&server, "GET", "/slow", slow.clone()).await;
    mount(&server, "DELETE", "/orders/ord-42", ok()).await;
    mount(&server, "POST", "/resume", ok()).await;

    let bench = Bench::new(ROTATION);
    if point != KillPoint::Polling {
        health.open();
    }
    if point != KillPoint::SlowStep {
        slow.open();
    }
    if point != KillPoint::BetweenSteps {
        bench.touch("settle.go");
    }
    let base = format!("base_url={}", server.uri());
    let running = bench.spawn(
        &["run", "rb.yaml", "--input", &base],
        &[("RUNBOOK_ACTOR", "alice")],
    );
    match point {
        KillPoint::SlowStep => until_count(&server, "GET /slow", 1).await,
        KillPoint::BetweenSteps => until_exists(&bench.file("settle.pid")).await,
        KillPoint::Polling => until_count(&server, "GET /health", 2).await,
    }
    let first = running.sigkill();
    killed_by_signal(&first);
    let at_kill = recorded(&server).await;
    let run_id = bench.only_run_id();
    Killed {
        bench,
        server,
        health,
        slow,
        run_id,
        first,
        at_kill,
    }
}

/// Opens every gate and resumes as `bob`; the resume must succeed.
fn resume_rotation(killed: &Killed, run_id_arg: &str) -> Output {
    killed.health.open();
    killed.slow.open();
    killed.bench.touch("settle.go");
    // The killed run's `settle` command outlived it; the gate above lets it finish. Resume checks
    // for such leftovers and refuses while they run, so let it end first.
    if let Some(group) = std::fs::read_to_string(killed.bench.file("settle.pid"))
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
    {
        wait_until(
            Duration::from_secs(15),
            "the killed run's `settle` command to end",
            || !group_alive(group),
        );
    }
    let resumed = killed
        .bench
        .cmd(&["resume", run_id_arg], &[("RUNBOOK_ACTOR", "bob")]);
    assert_code(&resumed, 0, "resume");
    resumed
}

/// Exact request counts per path after the resume.
async fn assert_counts(killed: &Killed, health: usize, slow: usize) {
    let received = recorded(&killed.server).await;
    let expected = [
        ("POST /pause", 1),
        ("GET /health", health),
        ("POST /orders", 1),
        ("GET /slow", slow),
        ("DELETE /orders/ord-42", 1),
        ("POST /resume", 1),
    ];
    for (request, n) in expected {
        assert_eq!(
            count(&received, request),
            n,
            "{request} count\nat kill: {:?}\nafter resume: {received:?}",
            killed.at_kill
        );
    }
    let total: usize = expected.iter().map(|(_, n)| n).sum();
    assert_eq!(received.len(), total, "no other requests: {received:?}");
}

/// The journal and the audit log tell the whole story of a run killed in `point.step()`.
fn assert_full_story(killed: &Killed, point: KillPoint) {
    let bench = &killed.bench;
    let run_id = &killed.run_id;
    let killed_step = point.step();
    let killed_index = ROTATION_STEPS
        .iter()
        .position(|s| *s == killed_step)
        .expect("step");
    let journal = bench.journal(run_id);

    // First session: started, the steps before the kill point finished, the killed one started.
    assert_eq!(journal[0]["type"], "run_started", "{journal:#?}");
    assert_eq!(journal[0]["run_id"], run_id.as_str());
    assert_eq!(journal[0]["actor"], "alice");
    assert_eq!(journal[0]["runbook"], "durable-rotation");
    assert_eq!(journal[0]["sha256"].as_str().map(str::len), Some(64));
    assert!(
        journal[0]["path"]
            .as_str()
            .is_some_and(|p| Path::new(p).is_absolute() && p.ends_with("rb.yaml")),
        "{:#}",
        journal[0]
    );
    let resumed_at = position(&journal, "run_resumed");
    assert_eq!(journal[resumed_at]["actor"], "bob");
    let (first, second) = journal.split_at(resumed_at);
    for step in &ROTATION_STEPS[..killed_index] {
        let finished = records(first, "step_finished", Some(step));
        assert_eq!(finished.len(), 1, "{step} finished before the kill");
        assert_eq!(finished[0]["outcome"], "passed", "{:#}", finished[0]);
    }
    assert_eq!(
        records(first, "step_started", Some(killed_step)).len(),
        1,
        "{killed_step} was running at the kill: {first:#?}"
    );
    assert!(
        records(first, "step_finished", Some(killed_step)).is_empty(),
        "{first:#?}"
    );
    for step in &ROTATION_STEPS[killed_index + 1..] {
        assert!(
            records(first, "step_started", Some(step)).is_empty(),
            "{step} never started before the kill"
        );
    }
    assert!(records(first, "run_finished", None).is_empty());

    // Second session: completed steps restored (not repeated), the killed step re-run, the rest run.
    for step in &ROTATION_STEPS[..killed_index] {
        let finished = records(second, "step_finished", Some(step));
        assert_eq!(
            finished.len(),
            1,
            "{step} reported once on resume: {second:#?}"
        );
        assert_eq!(finished[0]["outcome"], "passed");
        assert!(
            finished[0]["note"]
                .as_str()
                .is_some_and(|n| n.contains("not repeated")),
            "{:#}",
            finished[0]
        );
        assert!(
            records(second, "step_started", Some(step)).is_empty(),
            "{step} did not start again"
        );
    }
    let rerun = records(second, "step_finished", Some(killed_step));
    assert_eq!(rerun.len(), 1, "{second:#?}");
    assert_eq!(rerun[0]["outcome"], "passed");
    assert!(
        rerun[0]["note"]
            .as_str()
            .is_some_and(|n| n.contains("re-run")),
        "{:#}",
        rerun[0]
    );
    for step in &ROTATION_STEPS[killed_index + 1..] {
        let finished = records(second, "step_finished", Some(step));
        assert_eq!(finished.len(), 1, "{step}: {second:#?}");
        assert_eq!(finished[0]["outcome"], "passed");
        assert!(finished[0]["note"].is_null(), "{:#}", finished[0]);
    }
    // The order id captured before the kill was restored and used after it.
    let cancel = records(second, "step_finished", Some("cancel_order"));
    assert!(
        cancel[0]["outputs"]["status"] == 200,
        "cancel_order: {:#}",
        cancel[0]
    );
    let last = journal.last().expect("records");
    assert_eq!(last["type"], "run_finished", "{last:#}");
    assert_eq!(last["status"], "succeeded", "{last:#}");

    // The audit log: every record stamped; the run's start, each step's outcome, the event, the end.
    let audit = bench.audit();
    for record in &audit {
        assert_eq!(record["run_id"], run_id.as_str(), "{record:#}");
        assert_eq!(record["runbook"], "durable-rotation", "{record:#}");
        assert!(
            record["host"].as_str().is_some_and(|h| !h.is_empty()),
            "{record:#}"
        );
        timestamp(&record["ts"]);
    }
    assert_eq!(audit[0]["type"], "run_started", "{audit:#?}");
    assert_eq!(audit[0]["actor"], "alice");
    let last = audit.last().expect("records");
    assert_eq!(last["type"], "run_finished", "{last:#}");
    assert_eq!(last["status"], "succeeded", "{last:#}");
    assert_eq!(last["actor"], "bob", "{last:#}");
    for step in ROTATION_STEPS {
        let outcomes = records(&audit, "step_finished", Some(step));
        let final_outcome = outcomes
            .last()
            .unwrap_or_else(|| panic!("no step_finished for {step} in the audit log: {audit:#?}"));
        assert_eq!(final_outcome["outcome"], "passed", "{final_outcome:#}");
    }
    for step in &ROTATION_STEPS[..killed_index] {
        let first_session: Vec<_> = records(&audit, "step_finished", Some(step))
            .into_iter()
            .filter(|r| r["actor"] == "alice")
            .collect();
        assert_eq!(
            first_session.len(),
            1,
            "{step} audited in the first session"
        );
    }
    assert!(
        records(&audit, "step_finished", Some(killed_step))
            .iter()
            .all(|r| r["actor"] == "bob"),
        "the killed step has no outcome from the first session"
    );

    // The audit event: its downtime runs from `pause` finishing (first session) to
    // `resume_trading` finishing (second session), as the journal recorded them.
    let events = records(&audit, "event", None);
    assert_eq!(events.len(), 1, "{audit:#?}");
    let event = events[0];
    assert_eq!(event["action"], "rotation.completed");
    assert_eq!(event["context"]["order"], "ord-42", "{event:#}");
    let downtime = event["context"]["downtime_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("downtime_seconds is a number: {event:#}"));
    let paused = timestamp(&records(first, "step_finished", Some("pause"))[0]["finished_at"]);
    let resumed = timestamp(&journal[resumed_at]["at"]);
    let trading =
        timestamp(&records(second, "step_finished", Some("resume_trading"))[0]["finished_at"]);
    assert!(paused < resumed && resumed < trading, "spans both sessions");
    let expected = (trading.as_millisecond() - paused.as_millisecond()) as f64 / 1000.0;
    assert!(
        (downtime - expected).abs() <= 0.002,
        "downtime_seconds {downtime} = {expected} (from the journal)"
    );
    let gap = (resumed.as_millisecond() - paused.as_millisecond()) as f64 / 1000.0;
    assert!(
        downtime > gap,
        "downtime {downtime} covers the outage {gap}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_slow_step_then_resume_repeats_no_completed_request() {
    let killed = kill_rotation_at(KillPoint::SlowStep).await;
    assert_eq!(
        killed.at_kill,
        vec!["POST /pause", "GET /health", "POST /orders", "GET /slow"],
        "two side-effecting requests completed before the kill"
    );
    let resumed = resume_rotation(&killed, &killed.run_id);
    assert!(
        resumed.stdout.contains("resuming run") && resumed.stdout.contains(&killed.run_id),
        "{}",
        resumed.stdout
    );
    // GET /slow is the in-doubt step (a GET re-runs by default): the only repeated request.
    assert_counts(&killed, 1, 2).await;
    assert_full_story(&killed, KillPoint::SlowStep);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_between_steps_then_resume_repeats_no_completed_request() {
    let killed = kill_rotation_at(KillPoint::BetweenSteps).await;
    assert_eq!(
        killed.at_kill,
        vec!["POST /pause", "GET /health", "POST /orders"],
    );
    // A unique prefix of the run id is enough.
    let prefix = &killed.run_id[..killed.run_id.len() - 2];
    resume_rotation(&killed, prefix);
    assert_counts(&killed, 1, 1).await;
    assert_full_story(&killed, KillPoint::BetweenSteps);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_poll_then_resume_polls_again_and_repeats_nothing_else() {
    let killed = kill_rotation_at(KillPoint::Polling).await;
    let polls = count(&killed.at_kill, "GET /health");
    assert!(polls >= 2, "{:?}", killed.at_kill);
    assert_eq!(
        killed
            .at_kill
            .iter()
            .filter(|r| *r != "GET /health")
            .collect::<Vec<_>>(),
        vec!["POST /pause"]
    );
    resume_rotation(&killed, &killed.run_id);
    // The wait re-runs: one more poll, which now sees `paused: true`.
    assert_counts(&killed, polls + 1, 1).await;
    assert_full_story(&killed, KillPoint::Polling);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_says_when_a_run_was_resumed() {
    let killed = kill_rotation_at(KillPoint::SlowStep).await;
    resume_rotation(&killed, &killed.run_id);
    let audit = killed.bench.audit();
    let starts = records(&audit, "run_started", None);
    assert_eq!(
        starts.len(),
        1,
        "one start per run; the resume is its own record: {audit:#?}"
    );
    let resumed = records(&audit, "run_resumed", None);
    assert_eq!(resumed.len(), 1, "{audit:#?}");
    assert_eq!(resumed[0]["actor"], "bob");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_resumed_progress_says_what_was_not_repeated_and_what_ran_again() {
    let killed = kill_rotation_at(KillPoint::SlowStep).await;
    let resumed = resume_rotation(&killed, &killed.run_id);
    let line = |name: &str| {
        resumed
            .stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} in:\n{}", resumed.stdout))
            .to_owned()
    };
    for name in ["Pause trading", "Place the check order"] {
        assert!(line(name).contains("not repeated"), "{}", resumed.stdout);
    }
    assert!(
        line("Verify (slow)").contains("re-run"),
        "{}",
        resumed.stdout
    );
}

/// SIGKILL cannot be caught, but the step's command runs in its own process group and so outlives
/// runbook; a `rerun` on resume may then run concurrently with the original.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "gap: a shell step's command survives a SIGKILL of runbook (its own process group, no \
            parent-death signal), keeps running orphaned, and the journal does not record its \
            process group, so `runbook resume` cannot tell it is still running before re-running \
            or asking about it"]
async fn a_sigkilled_runs_shell_command_does_not_outlive_it() {
    let bench = Bench::new(
        r#"
id: orphan
title: A command running when runbook is killed
steps:
  - id: slow
    shell: {command: "echo $$ > slow.pid; sleep 20"}
"#,
    );
    let running = bench.spawn(&["run", "rb.yaml"], &[]);
    let pid_file = bench.file("slow.pid");
    let read_group = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok())
    };
    wait_until(Duration::from_secs(15), "`slow` to write its pid", || {
        read_group().is_some()
    });
    let group = read_group().expect("a pid");
    let _leftover = KillGroupOnDrop(group);
    killed_by_signal(&running.sigkill());
    let left_behind = !poll_until(Duration::from_secs(5), || !group_alive(group));
    assert!(
        !left_behind,
        "`sleep 20` (process group {group}) outlived runbook"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. `runbook runs` and `runbook show` on an interrupted run.

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_is_listed_shown_and_resumed() {
    let killed = kill_rotation_at(KillPoint::SlowStep).await;
    let bench = &killed.bench;
    let run_id = killed.run_id.as_str();
    assert!(
        killed.first.stdout.contains(run_id),
        "the run printed its id: {}",
        killed.first.stdout
    );

    let runs = bench.runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["state"], "interrupted", "{run:#}");
    assert_eq!(run["runbook"], "durable-rotation");
    assert_eq!(run["actor"], "alice");
    assert_eq!(run["last_step"], "verify (started)", "{run:#}");
    assert_eq!(run["steps_done"], 4, "{run:#}");
    assert_eq!(run["resumable"], true);

    let listed = bench.cmd(&["runs"], &[]);
    assert_code(&listed, 0, "runs");
    let line = listed
        .stdout
        .lines()
        .find(|line| line.starts_with(run_id))
        .unwrap_or_else(|| panic!("{run_id} listed:\n{}", listed.stdout));
    assert!(
        line.contains("durable-rotation") && line.contains("interrupted"),
        "{line}"
    );

    let shown = bench.cmd(&["show", run_id], &[]);
    assert_code(&shown, 0, "show");
    let text = &shown.stdout;
    assert!(text.contains(&format!("run {run_id}")), "{text}");
    assert!(text.contains("state     interrupted"), "{text}");
    for step in ["pause", "wait_paused", "place_order", "settle"] {
        assert!(
            text.lines()
                .any(|l| l.contains("passed") && l.trim_end().contains(&format!(" {step} ("))),
            "{step} shown as passed:\n{text}"
        );
    }
    assert!(text.contains("started  verify"), "{text}");
    assert!(
        text.trim_end()
            .ends_with(&format!("next: runbook resume {run_id}")),
        "{text}"
    );
    let as_json = bench.cmd(&["show", run_id, "--output", "json"], &[]);
    assert_code(&as_json, 0, "show --output json");
    let shown_records: Value = serde_json::from_str(&as_json.stdout).expect("JSON");
    assert_eq!(
        shown_records.as_array().map(Vec::len),
        Some(bench.journal(run_id).len())
    );

    resume_rotation(&killed, run_id);
    let runs = bench.runs();
    assert_eq!(runs[0]["state"], "succeeded", "{runs:#?}");
    assert_eq!(runs[0]["resumable"], false);
    // Every step once, though the four restored ones were recorded in both sessions.
    assert_eq!(runs[0]["steps_done"], 8, "{runs:#?}");
    let shown = bench.cmd(&["show", run_id], &[]);
    assert!(shown.stdout.contains("resumed by bob"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("run finished: succeeded"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains("next:"), "{}", shown.stdout);
}

// ---------------------------------------------------------------------------------------------
// 2. In-doubt steps: `resume: rerun | never | ask`.

fn in_doubt_runbook(policy: &str) -> String {
    format!(
        r#"
id: in-doubt
title: A step killed mid-way
inputs:
  base_url: {{type: string}}
steps:
  - id: before
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/before"}}
  - id: submit
    name: Submit the order
    timeout: 2m
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/submit"}}
    resume: {policy}
  - id: after
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/after"}}
"#
    )
}

struct Doubt {
    bench: Bench,
    server: MockServer,
    run_id: String,
}

/// Runs `yaml` (the in-doubt runbook or a variant) and SIGKILLs it while POST /submit is held,
/// then lets /submit answer at once.
async fn kill_in_submit(yaml: &str) -> Doubt {
    let server = MockServer::start().await;
    let submit = Gate::hanging(ok());
    mount(&server, "POST", "/before", ok()).await;
    mount(&server, "POST", "/submit", submit.clone()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(yaml);
    let base = format!("base_url={}", server.uri());
    let running = bench.spawn(&["run", "rb.yaml", "--input", &base], &[]);
    until_count(&server, "POST /submit", 1).await;
    let first = running.sigkill();
    killed_by_signal(&first);
    submit.open();
    let run_id = bench.only_run_id();
    Doubt {
        bench,
        server,
        run_id,
    }
}

impl Doubt {
    async fn counts(&self) -> [usize; 3] {
        let received = recorded(&self.server).await;
        [
            count(&received, "POST /before"),
            count(&received, "POST /submit"),
            count(&received, "POST /after"),
        ]
    }

    fn resume(&self, extra: &[&str]) -> Output {
        let mut args = vec!["resume", self.run_id.as_str()];
        args.extend_from_slice(extra);
        self.bench.cmd(&args, &[])
    }

    fn with_answers(&self, answers: &str) -> Output {
        self.bench.sandbox.write("doubt.answers.yaml", answers);
        self.resume(&["--answers", "doubt.answers.yaml", "--output", "json"])
    }

    /// The `submit` record the resumed session wrote.
    fn resumed_submit(&self) -> Value {
        let journal = self.bench.journal(&self.run_id);
        let resumed_at = position(&journal, "run_resumed");
        let finished = records(&journal[resumed_at..], "step_finished", Some("submit"));
        assert_eq!(finished.len(), 1, "{journal:#?}");
        finished[0].clone()
    }
}

fn report(output: &Output) -> Value {
    serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not a JSON report ({error}):\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_rerun_step_is_run_again() {
    let doubt = kill_in_submit(&in_doubt_runbook("rerun")).await;
    let resumed = doubt.resume(&[]);
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 2, 1]);
    let submit = doubt.resumed_submit();
    assert_eq!(submit["outcome"], "passed");
    assert!(
        submit["note"]
            .as_str()
            .is_some_and(|n| n.contains("re-run")),
        "{submit:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_never_step_is_not_run_again_and_is_reported_skipped() {
    let doubt = kill_in_submit(&in_doubt_runbook("never")).await;
    let resumed = doubt.resume(&["--output", "json"]);
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 1, 1]);
    let report = report(&resumed);
    let submit = crate::control::step(&report, "submit");
    assert_eq!(submit["outcome"], "skipped", "{report:#}");
    assert!(
        submit["note"]
            .as_str()
            .is_some_and(|n| n.contains("not re-run")),
        "{submit:#}"
    );
    let journaled = doubt.resumed_submit();
    assert_eq!(journaled["outcome"], "skipped");
    assert!(
        journaled["note"]
            .as_str()
            .is_some_and(|n| n.contains("not re-run")),
        "{journaled:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outputs_of_a_step_not_rerun_are_unknown_and_using_them_fails_clearly() {
    let yaml = in_doubt_runbook("never").replace(
        "/after\"}",
        "/after\", headers: {X-Submit-Status: \"{{steps.submit.outputs.status}}\"}}",
    );
    let doubt = kill_in_submit(&yaml).await;
    let resumed = doubt.resume(&[]);
    assert_code(&resumed, 1, "resume");
    let all = format!("{}{}", resumed.stdout, resumed.stderr);
    assert!(
        all.contains("steps.submit.outputs.status")
            && all.contains("was interrupted and was not re-run on resume"),
        "{all}"
    );
    assert_eq!(doubt.counts().await, [1, 1, 0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_is_rerun_when_the_answers_file_says_retry() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.with_answers("decisions:\n  submit: [retry]\n");
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 2, 1]);
    assert_eq!(
        crate::control::step(&report(&resumed), "submit")["outcome"],
        "passed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_is_not_rerun_when_the_answers_file_says_skip() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.with_answers("decisions:\n  submit: [skip]\n");
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 1, 1]);
    assert_eq!(
        crate::control::step(&report(&resumed), "submit")["outcome"],
        "skipped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_aborts_the_resume_when_the_answers_file_says_abort() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.with_answers("decisions:\n  submit: [abort]\n");
    assert_code(&resumed, 6, "resume");
    assert_eq!(doubt.counts().await, [1, 1, 0]);
}

/// The default for a POST is `ask`.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_with_nobody_to_ask_fails_clearly() {
    let yaml = in_doubt_runbook("ask").replace("    resume: ask\n", "");
    let doubt = kill_in_submit(&yaml).await;
    let resumed = doubt.resume(&[]);
    assert_ne!(resumed.code, 0, "{resumed:?}");
    let all = format!("{}{}", resumed.stdout, resumed.stderr);
    assert!(
        all.contains("no decision about the interrupted step"),
        "{all}"
    );
    assert!(
        all.contains("not a terminal") && all.contains("--answers"),
        "says why nobody was asked and what to do: {all}"
    );
    assert_eq!(
        doubt.counts().await,
        [1, 1, 0],
        "nothing re-run, nothing after"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undecided_in_doubt_step_is_still_in_doubt_on_the_next_resume() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.resume(&[]);
    assert_ne!(resumed.code, 0, "{resumed:?}");
    // Nobody decided: the second attempt must still not re-run POST /submit silently.
    let again = doubt.resume(&[]);
    assert_ne!(
        again.code, 0,
        "still needs a decision:\n{}\n{}",
        again.stdout, again.stderr
    );
    assert_eq!(doubt.counts().await, [1, 1, 0]);
    // With a decision it proceeds.
    let decided = doubt.with_answers("decisions:\n  submit: [skip]\n");
    assert_code(&decided, 0, "resume with a decision");
    assert_eq!(doubt.counts().await, [1, 1, 1]);
}

// ---------------------------------------------------------------------------------------------
// 4. A torn last line.

#[tokio::test(flavor = "multi_thread")]
async fn a_torn_last_journal_line_is_noted_dropped_and_the_run_resumes() {
    let doubt = kill_in_submit(&in_doubt_runbook("rerun")).await;
    let bench = &doubt.bench;
    let run_id = &doubt.run_id;
    let intact = bench.journal(run_id).len();
    // Power lost while `step_finished` for submit was being written.
    let mut text = bench.journal_text(run_id);
    text.push_str(&format!(
        r#"{{"seq":{},"at":"2026-01-01T00:00:00Z","type":"step_fini"#,
        intact + 1
    ));
    std::fs::write(bench.journal_path(run_id), &text).expect("tear the journal");

    let shown = bench.cmd(&["show", run_id], &[]);
    assert_code(&shown, 0, "show");
    assert!(
        shown.stdout.contains("cut off mid-write"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("next: runbook resume"),
        "{}",
        shown.stdout
    );
    assert_eq!(bench.runs()[0]["state"], "interrupted");

    let resumed = doubt.resume(&[]);
    assert_code(&resumed, 0, "resume");
    assert!(
        resumed
            .stderr
            .contains(&format!("note: run {run_id}'s journal: the last line"))
            && resumed.stderr.contains("cut off mid-write and is ignored"),
        "{}",
        resumed.stderr
    );
    assert_eq!(
        doubt.counts().await,
        [1, 2, 1],
        "submit stayed in doubt: re-run"
    );
    // Valid JSON lines again, numbered on from the last intact record.
    let journal = bench.journal(run_id);
    assert!(
        !bench.journal_text(run_id).contains("2026-01-01T00:00:00Z"),
        "the torn line is gone"
    );
    let resumed_at = position(&journal, "run_resumed");
    assert_eq!(resumed_at, intact, "{journal:#?}");
    assert!(
        journal[resumed_at]["torn_line_dropped"].is_string(),
        "{:#}",
        journal[resumed_at]
    );
    assert_eq!(journal.last().expect("records")["status"], "succeeded");
}

// ---------------------------------------------------------------------------------------------
// 5. A runbook changed after the kill.

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_runbook_is_refused_unless_allowed() {
    let doubt = kill_in_submit(&in_doubt_runbook("rerun")).await;
    let bench = &doubt.bench;
    let run_id = &doubt.run_id;
    let before = bench.journal_text(run_id);
    let mut yaml = std::fs::read_to_string(bench.file("rb.yaml")).expect("read");
    yaml.push_str("# edited after the run was killed\n");
    bench.sandbox.write("rb.yaml", &yaml);

    let refused = doubt.resume(&[]);
    assert_code(&refused, 2, "resume of a changed runbook");
    assert!(
        refused
            .stderr
            .contains(&format!("changed since run {run_id} started"))
            && refused.stderr.contains("--allow-changed-runbook"),
        "{}",
        refused.stderr
    );
    assert_eq!(doubt.counts().await, [1, 1, 0], "nothing ran");
    assert_eq!(
        bench.journal_text(run_id),
        before,
        "the journal is untouched"
    );

    let allowed = doubt.resume(&["--allow-changed-runbook"]);
    assert_code(&allowed, 0, "resume --allow-changed-runbook");
    assert_eq!(doubt.counts().await, [1, 2, 1]);
}

/// The journal keeps the runbook's absolute path: resume works from any directory.
#[tokio::test(flavor = "multi_thread")]
async fn resume_finds_the_runbook_from_another_directory() {
    let doubt = kill_in_submit(&in_doubt_runbook("rerun")).await;
    let elsewhere = Sandbox::new();
    let mut command = runbook();
    command
        .current_dir(elsewhere.path())
        .env("RUNBOOK_STATE_DIR", &doubt.bench.state)
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .args(["resume", doubt.run_id.as_str()]);
    let resumed = finish(command);
    assert_code(&resumed, 0, "resume from elsewhere");
    assert_eq!(doubt.counts().await, [1, 2, 1]);
}

/// `--state-dir` wins over `RUNBOOK_STATE_DIR`, for run, runs, show and resume alike.
#[tokio::test(flavor = "multi_thread")]
async fn the_state_directory_can_be_given_by_flag() {
    let server = MockServer::start().await;
    let submit = Gate::hanging(ok());
    mount(&server, "POST", "/before", ok()).await;
    mount(&server, "POST", "/submit", submit.clone()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(&in_doubt_runbook("rerun"));
    let flagged = bench.file("flagged-state");
    let flag = flagged.display().to_string();
    let base = format!("base_url={}", server.uri());
    let running = bench.spawn(
        &["run", "rb.yaml", "--input", &base, "--state-dir", &flag],
        &[],
    );
    until_count(&server, "POST /submit", 1).await;
    killed_by_signal(&running.sigkill());
    submit.open();
    assert!(bench.runs().is_empty(), "nothing in RUNBOOK_STATE_DIR");
    let listed = bench.cmd(&["runs", "--output", "json", "--state-dir", &flag], &[]);
    let runs: Value = serde_json::from_str(&listed.stdout).expect("JSON");
    let run_id = runs[0]["run_id"].as_str().expect("a run").to_owned();
    assert_eq!(runs[0]["state"], "interrupted");
    let shown = bench.cmd(&["show", &run_id, "--state-dir", &flag], &[]);
    assert_code(&shown, 0, "show --state-dir");
    let resumed = bench.cmd(&["resume", &run_id, "--state-dir", &flag], &[]);
    assert_code(&resumed, 0, "resume --state-dir");
    assert!(flagged.join("audit.jsonl").is_file());
    assert!(!bench.state.exists(), "RUNBOOK_STATE_DIR was not used");
    let received = recorded(&server).await;
    assert_eq!(count(&received, "POST /before"), 1);
    assert_eq!(count(&received, "POST /after"), 1);
}

// ---------------------------------------------------------------------------------------------
// 6. The run lock.

const HOLDER: &str = r#"
id: locked-a
title: Holds the lock
applies_to: [DURABLE_SHARED_SECRET]
steps:
  - id: hold
    shell:
      command: "echo $$ > hold.pid; for i in $(seq 600); do [ -f release ] && break; sleep 0.05; done"
"#;

const SAME_SECRET: &str = r#"
id: locked-b
title: Touches the same secret
applies_to: [OTHER_SECRET, DURABLE_SHARED_SECRET]
steps:
  - id: noop
    shell: {command: "true"}
"#;

const OTHER_SECRET: &str = r#"
id: locked-c
title: Touches another secret
applies_to: [OTHER_SECRET]
steps:
  - id: noop
    shell: {command: "true"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_held_by_a_live_run_refuses_a_second_run_and_says_who_holds_it() {
    let bench = Bench::new(HOLDER);
    bench.sandbox.write("b.yaml", SAME_SECRET);
    bench.sandbox.write("c.yaml", OTHER_SECRET);
    let running = bench.spawn(&["run", "rb.yaml"], &[("RUNBOOK_ACTOR", "alice")]);
    until_exists(&bench.file("hold.pid")).await;
    let run_id = bench.only_run_id();
    let started = &bench.journal(&run_id)[0];
    let host = started["host"].as_str().expect("host").to_owned();
    let pid = running.pid();
    let holder: Value = serde_json::from_str(
        &std::fs::read_to_string(bench.state.join("locks/runbook-locked-a.lock"))
            .expect("lock file"),
    )
    .expect("lock holder JSON");
    let since = holder["since"].as_str().expect("since").to_owned();
    let who = format!("alice@{host} (pid {pid}, run {run_id}) since {since}");

    let same = bench.cmd(&["run", "rb.yaml"], &[("RUNBOOK_ACTOR", "carol")]);
    assert_code(&same, 75, "a second run of the same runbook");
    assert!(
        same.stderr.contains("`runbook-locked-a` is locked by") && same.stderr.contains(&who),
        "names user, host, pid, run id and since ({who}):\n{}",
        same.stderr
    );

    let other = bench.cmd(&["run", "b.yaml"], &[]);
    assert_code(&other, 75, "a runbook touching the same secret");
    assert!(
        other
            .stderr
            .contains("`secret-DURABLE_SHARED_SECRET` is locked by")
            && other.stderr.contains(&who),
        "{}",
        other.stderr
    );

    // Resuming the live run is refused by the same lock.
    let resume = bench.cmd(&["resume", run_id.as_str()], &[]);
    assert_code(&resume, 75, "resume of a run that is still running");

    // The refused runs left no journal; the holder is listed as running.
    let runs = bench.runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0]["state"], "running", "{runs:#?}");
    let shown = bench.cmd(&["show", run_id.as_str()], &[]);
    assert!(
        shown.stdout.contains("the run is still in progress"),
        "{}",
        shown.stdout
    );

    // A runbook with disjoint secrets is not held up.
    let disjoint = bench.cmd(&["run", "c.yaml"], &[]);
    assert_code(&disjoint, 0, "a runbook touching other secrets");

    bench.touch("release");
    let first = running.finish(Duration::from_secs(20)).await;
    assert_eq!(first.code, Some(0), "{first:?}");
    // Released: the same runbook runs now, and nobody's lock is reported as taken over.
    let after = bench.cmd(&["run", "b.yaml"], &[]);
    assert_code(&after, 0, "after the holder finished");
    assert!(!after.stderr.contains("took over"), "{}", after.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_left_by_a_dead_process_is_taken_over() {
    let bench = Bench::new(HOLDER);
    let running = bench.spawn(&["run", "rb.yaml"], &[("RUNBOOK_ACTOR", "alice")]);
    until_exists(&bench.file("hold.pid")).await;
    let pid = running.pid();
    let dead_run = bench.only_run_id();
    killed_by_signal(&running.sigkill());
    // The killed run's shell is orphaned; let it (and the next run's) finish at once. A new run
    // refuses the lock while the dead run's command still runs, so wait for it to end.
    let group: i32 = std::fs::read_to_string(bench.file("hold.pid"))
        .expect("hold.pid")
        .trim()
        .parse()
        .expect("a pid");
    bench.touch("release");
    wait_until(
        Duration::from_secs(15),
        "the killed run's `hold` command to end",
        || !group_alive(group),
    );

    let next = bench.cmd(&["run", "rb.yaml"], &[("RUNBOOK_ACTOR", "bob")]);
    assert_code(&next, 0, "a run after the holder died");
    assert!(
        next.stderr.contains(&format!(
            "took over a lock left by run {dead_run} (pid {pid}, alice@"
        )) && next.stderr.contains("whose process is gone"),
        "{}",
        next.stderr
    );
    let runs = bench.runs();
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let state = |id: &str| {
        runs.iter()
            .find(|r| r["run_id"] == id)
            .map(|r| r["state"].clone())
    };
    assert_eq!(state(&dead_run), Some(json!("interrupted")), "{runs:#?}");
}

// ---------------------------------------------------------------------------------------------
// 7. Secret canaries, across a kill and a resume.

const KEY_CANARY: &str = "CANARY-KEY-7f3a9c20d1";
const TOKEN_CANARY: &str = "CANARY-TOKEN-51e0d2b8aa";

const CANARIES: &str = r#"
id: canaries
title: Secrets never reach the journal or the audit log
inputs:
  base_url: {type: string}
  api_key: {type: string, secret: true, env: DURABLE_CANARY_KEY}
steps:
  - id: enter
    prompt:
      answers:
        token: {secret: true}
  - id: call
    http:
      method: POST
      url: "{{inputs.base_url}}/call"
      headers:
        X-Api-Key: "{{inputs.api_key}}"
        X-Token: "{{steps.enter.outputs.token}}"
  - id: echo
    shell:
      command: "echo key={{inputs.api_key}} token={{steps.enter.outputs.token}}"
  - id: block
    timeout: 2m
    http: {url: "{{inputs.base_url}}/slow"}
  - id: after
    http:
      method: POST
      url: "{{inputs.base_url}}/after"
      headers:
        X-Api-Key: "{{inputs.api_key}}"
        X-Token: "{{steps.enter.outputs.token}}"
  - id: event
    audit:
      action: canary.checked
      context:
        key: "{{inputs.api_key}}"
        token: "{{steps.enter.outputs.token}}"
"#;

fn assert_no_canary(what: &str, text: &str) {
    for canary in [KEY_CANARY, TOKEN_CANARY] {
        assert!(
            !text.contains(canary),
            "{canary} leaked into {what}:\n{text}"
        );
    }
}

/// `(X-Api-Key, X-Token)` of every request to `at`.
async fn secret_headers(server: &MockServer, at: &str) -> Vec<(String, String)> {
    let header = |request: &Request, name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|r| r.url.path() == at)
        .map(|r| (header(r, "X-Api-Key"), header(r, "X-Token")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_canaries_stay_out_of_journal_audit_and_output_across_kill_and_resume() {
    let server = MockServer::start().await;
    let slow = Gate::hanging(ok());
    mount(&server, "POST", "/call", ok()).await;
    mount(&server, "GET", "/slow", slow.clone()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(CANARIES);
    bench.sandbox.write(
        "canary.answers.yaml",
        &format!("enter:\n  token: {TOKEN_CANARY}\n"),
    );
    let base = format!("base_url={}", server.uri());
    let running = bench.spawn(
        &[
            "run",
            "rb.yaml",
            "--input",
            &base,
            "--answers",
            "canary.answers.yaml",
        ],
        &[("DURABLE_CANARY_KEY", KEY_CANARY)],
    );
    until_count(&server, "GET /slow", 1).await;
    let first = running.sigkill();
    killed_by_signal(&first);
    slow.open();
    let run_id = bench.only_run_id();
    let secrets = (KEY_CANARY.to_owned(), TOKEN_CANARY.to_owned());
    assert_eq!(
        secret_headers(&server, "/call").await,
        vec![secrets.clone()]
    );

    // Without the secret input, the resume stops before doing anything.
    let journal_before = bench.journal_text(&run_id);
    let missing = bench.cmd(
        &["resume", &run_id, "--answers", "canary.answers.yaml"],
        &[],
    );
    assert_code(&missing, 2, "resume without the secret input");
    assert!(
        missing.stderr.contains("api_key") && missing.stderr.contains("DURABLE_CANARY_KEY"),
        "{}",
        missing.stderr
    );
    assert_eq!(bench.journal_text(&run_id), journal_before);

    // Given again (input from the environment, prompt answer from the answers file), it completes.
    let resumed = bench.cmd(
        &["resume", &run_id, "--answers", "canary.answers.yaml"],
        &[("DURABLE_CANARY_KEY", KEY_CANARY)],
    );
    assert_code(&resumed, 0, "resume");
    let received = recorded(&server).await;
    assert_eq!(count(&received, "POST /call"), 1, "{received:?}");
    assert_eq!(count(&received, "GET /slow"), 2, "{received:?}");
    assert_eq!(
        secret_headers(&server, "/after").await,
        vec![secrets],
        "the resumed session used the secrets given again"
    );
    let journal = bench.journal(&run_id);
    assert_eq!(journal[0]["secret_inputs"], json!(["api_key"]));
    assert!(journal[0]["inputs"].get("api_key").is_none());
    assert_eq!(journal.last().expect("records")["status"], "succeeded");
    let event = records(&bench.audit(), "event", None)[0].clone();
    assert_eq!(event["context"]["key"], "********", "{event:#}");
    assert_eq!(event["context"]["token"], "********", "{event:#}");

    assert_no_canary("the journal", &bench.journal_text(&run_id));
    assert_no_canary("the audit log", &bench.audit_text());
    for (what, text) in [
        ("the run's stdout", &first.stdout),
        ("the run's stderr", &first.stderr),
        ("the refused resume's output", &missing.stdout),
        ("the refused resume's stderr", &missing.stderr),
        ("the resume's stdout", &resumed.stdout),
        ("the resume's stderr", &resumed.stderr),
    ] {
        assert_no_canary(what, text);
    }
    let shown = bench.cmd(&["show", &run_id], &[]);
    assert_no_canary("show", &shown.stdout);
    let shown = bench.cmd(&["show", &run_id, "--output", "json"], &[]);
    assert_no_canary("show --output json", &shown.stdout);
    // Nothing else in the state directory holds them either.
    for entry in walk(&bench.state) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert_no_canary(
            &entry.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}

// ---------------------------------------------------------------------------------------------
// 8. Runs that must not be resumed, and a failed run that may.

#[tokio::test(flavor = "multi_thread")]
async fn a_succeeded_run_cannot_be_resumed() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/before", ok()).await;
    mount(&server, "POST", "/submit", ok()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(&in_doubt_runbook("never"));
    let base = format!("base_url={}", server.uri());
    assert_code(
        &bench.cmd(&["run", "rb.yaml", "--input", &base], &[]),
        0,
        "run",
    );
    let run_id = bench.only_run_id();
    let before = bench.journal_text(&run_id);
    let refused = bench.cmd(&["resume", &run_id], &[]);
    assert_code(&refused, 2, "resume of a succeeded run");
    assert!(
        refused.stderr.contains(&format!(
            "run {run_id} succeeded; there is nothing to resume"
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(recorded(&server).await.len(), 3, "nothing ran again");
    assert_eq!(bench.journal_text(&run_id), before);
}

const COMPENSATED: &str = r#"
id: compensated
title: Fails after a step with a rollback
inputs:
  base_url: {type: string}
steps:
  - id: pause
    http: {method: POST, url: "{{inputs.base_url}}/pause"}
    rollback:
      - id: unpause
        http: {method: POST, url: "{{inputs.base_url}}/unpause"}
  - id: flaky
    http: {method: POST, url: "{{inputs.base_url}}/flaky"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_compensation_ran_cannot_be_resumed() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/pause", ok()).await;
    mount(&server, "POST", "/unpause", ok()).await;
    mount(&server, "POST", "/flaky", ResponseTemplate::new(500)).await;
    let bench = Bench::new(COMPENSATED);
    let base = format!("base_url={}", server.uri());
    let first = bench.cmd(&["run", "rb.yaml", "--input", &base], &[]);
    assert_code(&first, 10, "run (rolled back)");
    let run_id = bench.only_run_id();
    assert_eq!(bench.runs()[0]["state"], "rolled_back");
    let before = bench.journal_text(&run_id);
    let audit = bench.audit();
    assert_eq!(records(&audit, "compensation_started", None).len(), 1);
    assert_eq!(
        records(&audit, "compensation", Some("unpause"))[0]["outcome"],
        "passed"
    );

    let refused = bench.cmd(&["resume", &run_id], &[]);
    assert_code(&refused, 2, "resume after compensation");
    assert!(
        refused.stderr.contains("already ran its compensation")
            && refused.stderr.contains("Start a new run"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        recorded(&server).await,
        vec!["POST /pause", "POST /flaky", "POST /unpause"],
        "nothing ran again"
    );
    assert_eq!(bench.journal_text(&run_id), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_resumes_at_the_failed_step() {
    let server = MockServer::start().await;
    let flaky = Gate::new(ResponseTemplate::new(503), ok());
    mount(&server, "POST", "/before", ok()).await;
    mount(&server, "POST", "/submit", flaky.clone()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(&in_doubt_runbook("ask"));
    let base = format!("base_url={}", server.uri());
    assert_code(
        &bench.cmd(&["run", "rb.yaml", "--input", &base], &[]),
        1,
        "run",
    );
    let run_id = bench.only_run_id();
    let runs = bench.runs();
    assert_eq!(runs[0]["state"], "failed", "{runs:#?}");
    assert_eq!(runs[0]["resumable"], true);
    let shown = bench.cmd(&["show", &run_id], &[]);
    assert!(
        shown
            .stdout
            .contains(&format!("next: runbook resume {run_id}")),
        "{}",
        shown.stdout
    );

    flaky.open();
    // The failed step finished (with a failure): it is not in doubt, so nobody is asked.
    let resumed = bench.cmd(&["resume", &run_id], &[]);
    assert_code(&resumed, 0, "resume");
    let received = recorded(&server).await;
    assert_eq!(
        received,
        vec![
            "POST /before",
            "POST /submit",
            "POST /submit",
            "POST /after"
        ]
    );
    assert_eq!(bench.runs()[0]["state"], "succeeded");
}

/// A command that outlived a SIGKILLed run is detected on resume: the step is not started a second
/// time while the first is still running, and nothing is cleaned up in that session.
///
/// The command waits for a file (`go`), not a fixed time: a `sleep` could end before the first
/// resume under load, and a fixed wait for it to end could be too short. The work runs in a
/// subshell: on Linux the shell itself dies with runbook (its parent-death signal), what it started
/// does not.
#[test]
fn resume_refuses_while_the_killed_runs_command_still_runs() {
    let sandbox = crate::support::Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"id: outlive
title: A command that outlives its run
steps:
  - id: slow
    resume: rerun
    shell:
      command: "echo $$ > slow.pid; (echo start >> log; for i in $(seq 600); do [ -f go ] && break; sleep 0.05; done; echo done >> log) & wait"
on_failure:
  - id: cleanup
    shell: {command: "echo cleanup >> log"}
"#,
    );
    let state = sandbox.path().join("state");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"))
        .current_dir(sandbox.path())
        .args(["run", "rb.yaml"])
        .env("RUNBOOK_STATE_DIR", &state)
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let log = sandbox.path().join("log");
    let pid_file = sandbox.path().join("slow.pid");
    let read_group = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok())
    };
    // runbook notes the command's process group just after starting it, so the command may
    // write its files first: wait for the note too, which is what resume checks.
    let noted = || {
        std::fs::read_dir(state.join("runs"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .any(|run| run.path().join("processes/slow.pgid").exists())
    };
    wait_until(
        Duration::from_secs(15),
        "`slow` to start and its process group note",
        || read_group().is_some() && log.exists() && noted(),
    );
    let group = read_group().expect("a pid");
    let _leftover = KillGroupOnDrop(group);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let resume = |sandbox: &crate::support::Sandbox| {
        let runs = sandbox.run_with_env(
            &["runs", "--output", "json"],
            &[("RUNBOOK_STATE_DIR", state.to_str().unwrap_or_default())],
        );
        let runs: serde_json::Value = serde_json::from_str(&runs.stdout).expect("runs json");
        let id = runs[0]["run_id"].as_str().unwrap_or_default().to_owned();
        sandbox.run_with_env(
            &["resume", &id],
            &[("RUNBOOK_STATE_DIR", state.to_str().unwrap_or_default())],
        )
    };
    let refused = resume(&sandbox);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stdout
            .contains("from the earlier session is still running"),
        "{}",
        refused.stdout
    );
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(text, "start\n", "not started again, no cleanup: {text}");

    // Once the leftover has finished (its whole process group), the step (rerun policy) runs and
    // the run completes.
    sandbox.write("go", "");
    wait_until(
        Duration::from_secs(15),
        "the killed run's command to end",
        || !group_alive(group),
    );
    let finished = resume(&sandbox);
    assert_eq!(finished.code, 0, "{}\n{}", finished.stdout, finished.stderr);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(text, "start\ndone\nstart\ndone\n", "{text}");
}

/// `--audit-url` POSTs every audit record, in order, to a collector, with the configured header;
/// secrets stay masked there too.
#[tokio::test(flavor = "multi_thread")]
async fn audit_records_are_posted_to_a_collector() {
    use wiremock::matchers::{header, method, path};
    let collector = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/audit"))
        .and(header("authorization", "Bearer collector-token"))
        .respond_with(wiremock::ResponseTemplate::new(204))
        .mount(&collector)
        .await;
    let sandbox = crate::support::Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"id: audited
title: Audited
inputs:
  token: {secret: true, env: AUDIT_TEST_TOKEN}
steps:
  - id: use
    shell:
      command: echo using {{inputs.token}}
  - id: event
    audit:
      action: demo.done
      context: {token_used: "{{steps.use.outputs.stdout}}"}
"#,
    );
    let url = format!("{}/audit", collector.uri());
    let output = sandbox.run_with_env(
        &["run", "rb.yaml", "--audit-url", &url],
        &[
            ("AUDIT_TEST_TOKEN", "canary-5d1f0a"),
            (
                "RUNBOOK_AUDIT_HEADER",
                "Authorization: Bearer collector-token",
            ),
        ],
    );
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    assert!(
        !output.stderr.contains("could not be delivered"),
        "{}",
        output.stderr
    );
    let received = collector.received_requests().await.unwrap_or_default();
    let kinds: Vec<String> = received
        .iter()
        .map(|request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
            body["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "step_finished",
            "event",
            "step_finished",
            "run_finished"
        ],
    );
    for request in &received {
        let body = String::from_utf8_lossy(&request.body);
        assert!(
            !body.contains("5d1f0a"),
            "secret reached the collector: {body}"
        );
    }

    // A collector that refuses is reported, and the run still completes with its file log.
    let refusing = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(500))
        .mount(&refusing)
        .await;
    let url = format!("{}/audit", refusing.uri());
    let output = sandbox.run_with_env(
        &["run", "rb.yaml", "--audit-url", &url],
        &[("AUDIT_TEST_TOKEN", "canary-5d1f0a")],
    );
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output
            .stderr
            .contains("5 audit record(s) could not be delivered"),
        "{}",
        output.stderr
    );
}
