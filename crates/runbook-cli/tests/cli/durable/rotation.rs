//! The rotation runbook that the SIGKILL tests kill at known points, and the checks that its
//! resumed run repeated no completed request and told the whole story in journal and audit log.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use super::harness::{
    Bench, Gate, assert_code, count, killed_by_signal, mount, ok, position, records, timestamp,
    until_count, until_exists,
};
use crate::control::recorded;
use crate::support::Finished;
use crate::support::{Output, group_alive, wait_until};

pub(super) const ROTATION: &str = r#"
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

pub(super) const ROTATION_STEPS: [&str; 8] = [
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
pub(super) enum KillPoint {
    /// In `verify` (a GET held by the server), after POST /pause and POST /orders completed.
    SlowStep,
    /// In `settle` (a shell loop), right after POST /orders.
    BetweenSteps,
    /// In `wait_paused`, while it polls GET /health.
    Polling,
}

impl KillPoint {
    pub(super) fn step(self) -> &'static str {
        match self {
            KillPoint::SlowStep => "verify",
            KillPoint::BetweenSteps => "settle",
            KillPoint::Polling => "wait_paused",
        }
    }
}

pub(super) struct Killed {
    pub(super) bench: Bench,
    pub(super) server: MockServer,
    pub(super) health: Gate,
    pub(super) slow: Gate,
    pub(super) run_id: String,
    pub(super) first: Finished,
    /// What the server had received when the process died.
    pub(super) at_kill: Vec<String>,
}

/// Runs ROTATION as `alice` and SIGKILLs it at `point`.
pub(super) async fn kill_rotation_at(point: KillPoint) -> Killed {
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
pub(super) fn resume_rotation(killed: &Killed, run_id_arg: &str) -> Output {
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
pub(super) async fn assert_counts(killed: &Killed, health: usize, slow: usize) {
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
pub(super) fn assert_full_story(killed: &Killed, point: KillPoint) {
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
