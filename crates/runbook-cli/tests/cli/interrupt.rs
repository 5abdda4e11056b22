//! Ctrl-C end to end: SIGINT sent to the real binary while it waits, and a second SIGINT while it
//! cleans up. A wiremock server records which compensation, failure-path and finally steps ran.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use nix::unistd::Pid;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::control::{accept_posts, recorded};
use crate::support::{
    Background as Running, KillGroupOnDrop, Sandbox, group_alive, poll_until, wait_until_async,
};

/// `runbook run rb.yaml --input base_url=URI [extra...]`, stdin closed, stdout and stderr piped.
fn start(yaml: &str, server: &MockServer, extra: &[&str]) -> Running {
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", yaml);
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"));
    command
        .current_dir(sandbox.path())
        .args(["run", "rb.yaml", "--input"])
        .arg(format!("base_url={}", server.uri()))
        .args(extra)
        .env("NO_COLOR", "1")
        .env("RUNBOOK_STATE_DIR", crate::control::state_dir(&sandbox))
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .env_remove("RUST_LOG");
    Running::spawn(command).keeping(sandbox)
}

/// Polls the server until `done` holds for its recorded requests.
async fn until_received(server: &MockServer, what: &str, done: impl Fn(&[String]) -> bool) {
    let done = &done;
    wait_until_async(Duration::from_secs(15), what, || async move {
        let received = recorded(server).await;
        if done(&received) {
            Ok(())
        } else {
            Err(format!("{received:?}"))
        }
    })
    .await;
}

/// Trading never reports disabled: the wait would run for a minute.
async fn never_disabled(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"live_enabled": true})))
        .mount(server)
        .await;
}

const WAITING: &str = r#"
id: interrupted-wait
title: Interrupted while waiting
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
      interval: 200ms
      timeout: 60s
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
on_failure:
  - id: keep_paused
    http: {method: POST, url: "{{inputs.base_url}}/on_failure"}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
"#;

fn polled(received: &[String]) -> bool {
    received.iter().any(|request| request == "GET /status")
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_wait_runs_compensation_the_failure_path_and_finally() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    never_disabled(&server).await;
    let running = start(WAITING, &server, &[]);
    until_received(&server, "the first poll", polled).await;
    let interrupted_at = Instant::now();
    running.sigint();
    let finished = running.finish(Duration::from_secs(20)).await;
    let took = interrupted_at.elapsed();

    assert_eq!(
        finished.code,
        Some(130),
        "stdout:\n{}\nstderr:\n{}",
        finished.stdout,
        finished.stderr
    );
    assert!(
        took < Duration::from_secs(5),
        "stopped promptly, not at the 60s wait timeout: {took:?}"
    );
    let received = recorded(&server).await;
    let after_polls: Vec<&str> = received
        .iter()
        .map(String::as_str)
        .filter(|request| *request != "GET /status")
        .collect();
    assert_eq!(
        after_polls,
        vec![
            "POST /pause",
            "POST /unpause",
            "POST /on_failure",
            "POST /finally"
        ],
        "{received:?}"
    );
    assert_eq!(received.first().map(String::as_str), Some("POST /pause"));
    assert!(
        finished.stderr.contains("stopping at the next safe point"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stdout.contains("interrupted"),
        "the summary says the run was interrupted:\n{}",
        finished.stdout
    );
    assert!(
        finished.stdout.contains("unpause") && finished.stdout.contains("keep_paused"),
        "{}",
        finished.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_wait_reports_interrupted_in_json() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    never_disabled(&server).await;
    let running = start(WAITING, &server, &["--output", "json"]);
    until_received(&server, "the first poll", polled).await;
    running.sigint();
    let finished = running.finish(Duration::from_secs(20)).await;
    assert_eq!(finished.code, Some(130), "{}", finished.stderr);
    let report: serde_json::Value = serde_json::from_str(&finished.stdout)
        .unwrap_or_else(|error| panic!("{error}:\n{}", finished.stdout));
    assert_eq!(report["status"], "interrupted", "{report:#}");
    let wait = crate::control::step(&report, "wait_disabled");
    assert_eq!(wait["outcome"], "failed", "{report:#}");
    assert_eq!(wait["error"]["kind"], "interrupted", "{report:#}");
    assert_eq!(crate::control::step(&report, "after")["outcome"], "not_run");
    assert_eq!(
        crate::control::step(&report, "unpause")["phase"],
        "rollback"
    );
}

const GROUP_WAIT: &str = r#"
id: interrupted-group
title: Interrupted inside a group
inputs:
  base_url: {type: string}
steps:
  - id: check
    group:
      steps:
        - id: place_order
          http: {method: POST, url: "{{inputs.base_url}}/order"}
        - id: wait_filled
          http:
            url: "{{inputs.base_url}}/status"
            capture:
              live: $.live_enabled
          until:
            that: "{{outputs.live}}"
            equals: false
          poll: {interval: 200ms, timeout: 60s}
      finally:
        - id: cancel_order
          http: {method: POST, url: "{{inputs.base_url}}/order/cancel"}
      repeat: {max_attempts: 3}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_inside_a_group_still_cancels_the_check_order_and_does_not_repeat() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    never_disabled(&server).await;
    let running = start(GROUP_WAIT, &server, &[]);
    until_received(&server, "the first poll", polled).await;
    running.sigint();
    let finished = running.finish(Duration::from_secs(20)).await;
    assert_eq!(finished.code, Some(130), "{}", finished.stdout);
    let received = recorded(&server).await;
    let others: Vec<&str> = received
        .iter()
        .map(String::as_str)
        .filter(|request| *request != "GET /status")
        .collect();
    assert_eq!(
        others,
        vec!["POST /order", "POST /order/cancel", "POST /finally"],
        "{received:?}"
    );
}

/// The finally step that is running when the second Ctrl-C comes.
const SLOW_FINALLY: &str = r#"
id: interrupted-twice
title: Interrupted twice
inputs:
  base_url: {type: string}
steps:
  - id: pause
    irreversible: true
    http: {method: POST, url: "{{inputs.base_url}}/pause"}
  - id: wait_disabled
    http:
      url: "{{inputs.base_url}}/status"
      capture:
        live: $.live_enabled
    until:
      that: "{{outputs.live}}"
      equals: false
    poll: {interval: 200ms, timeout: 60s}
finally:
  - id: mark
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
  - id: slow_cleanup
    shell:
      command: echo $$ > slow_cleanup.pid; sleep 5
  - id: last
    http: {method: POST, url: "{{inputs.base_url}}/finally/last"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_exits_at_once_and_says_what_state_the_run_is_in() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    never_disabled(&server).await;
    let running = start(SLOW_FINALLY, &server, &[]);
    let pid_file = running.sandbox().path().join("slow_cleanup.pid");
    until_received(&server, "the first poll", polled).await;
    running.sigint();
    until_received(&server, "the finally marker", |received| {
        received.iter().any(|request| request == "POST /finally")
    })
    .await;
    // `slow_cleanup` has started once its shell wrote its pid.
    let started = Instant::now();
    while !pid_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "slow_cleanup never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second_at = Instant::now();
    running.sigint();
    let finished = running.finish(Duration::from_secs(20)).await;
    let took = second_at.elapsed();

    assert_eq!(
        finished.code,
        Some(130),
        "stdout:\n{}\nstderr:\n{}",
        finished.stdout,
        finished.stderr
    );
    assert!(
        took < Duration::from_secs(3),
        "exited at once, not after `sleep 5`: {took:?}"
    );
    let stderr = &finished.stderr;
    assert!(
        stderr.contains("stopped immediately while step `slow_cleanup` was running (finally)"),
        "{stderr}"
    );
    assert!(stderr.contains("completed: pause"), "{stderr}");
    assert!(stderr.contains("irreversible, done: pause"), "{stderr}");
    assert!(stderr.contains("did NOT run"), "{stderr}");
    // The step after the one that was running never started.
    let received = recorded(&server).await;
    assert!(
        !received
            .iter()
            .any(|request| request == "POST /finally/last"),
        "{received:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_does_not_leave_the_running_command_behind() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    never_disabled(&server).await;
    let running = start(SLOW_FINALLY, &server, &[]);
    let pid_file = running.sandbox().path().join("slow_cleanup.pid");
    until_received(&server, "the first poll", polled).await;
    running.sigint();
    let started = Instant::now();
    let group = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok())
        {
            break Pid::from_raw(pid);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "slow_cleanup never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    running.sigint();
    let finished = running.finish(Duration::from_secs(20)).await;
    assert_eq!(finished.code, Some(130), "{}", finished.stderr);
    // The shell is its process group's leader. runbook signals the group as it exits; the members
    // may take a moment to die, so wait for that (with a deadline) rather than a fixed time.
    let _leftover = KillGroupOnDrop(group.as_raw());
    let left_behind = !poll_until(Duration::from_secs(5), || !group_alive(group.as_raw()));
    assert!(
        !left_behind,
        "`sleep 5` (process group {group}) still runs after runbook exited"
    );
}

const PROMPTING: &str = r#"
id: interrupted-prompt
title: Interrupted at a prompt
inputs:
  base_url: {type: string}
steps:
  - id: pause
    http: {method: POST, url: "{{inputs.base_url}}/pause"}
    rollback:
      - id: unpause
        http: {method: POST, url: "{{inputs.base_url}}/unpause"}
  - id: confirm_live
    prompt:
      confirm: Is the dashboard on Live?
  - id: after
    http: {method: POST, url: "{{inputs.base_url}}/after"}
on_failure:
  - id: keep_paused
    http: {method: POST, url: "{{inputs.base_url}}/on_failure"}
finally:
  - id: cleanup
    http: {method: POST, url: "{{inputs.base_url}}/finally"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_at_a_terminal_prompt_interrupts_and_cleans_up() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", PROMPTING);
    let mut session = crate::prompts::terminal::spawn(&sandbox, &server.uri());
    session
        .exp_string("Is the dashboard on Live?")
        .expect("question shown");
    session.send_control('c').expect("Ctrl-C");
    let (rest, code) = crate::prompts::terminal::finish(&mut session);
    assert_eq!(code, 130, "{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    assert_eq!(
        recorded(&server).await,
        vec![
            "POST /pause",
            "POST /unpause",
            "POST /on_failure",
            "POST /finally"
        ]
    );
}

// Found by an attack on the release binary: a signal while a text or secret prompt waited at a
// terminal ran the cleanup and then hung for good (the blocked terminal read kept the prompter's
// lock, which the end of the run waited for; dropping the runtime waited for the read too): no
// `run_finished`, the lock held, a second signal ignored.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_at_a_secret_terminal_prompt_cleans_up_and_exits() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &PROMPTING.replace(
            "      confirm: Is the dashboard on Live?",
            "      answers:\n        new_key: {label: Paste the new key, secret: true}",
        ),
    );
    let mut session = crate::prompts::terminal::spawn(&sandbox, &server.uri());
    session
        .exp_string("Paste the new key")
        .expect("question shown");
    session
        .process_mut()
        .signal(rexpect::process::Signal::SIGTERM)
        .expect("SIGTERM");
    let (rest, code) = crate::prompts::terminal::finish(&mut session);
    assert_eq!(code, 143, "{rest}");
    assert_eq!(
        recorded(&server).await,
        vec![
            "POST /pause",
            "POST /unpause",
            "POST /on_failure",
            "POST /finally"
        ]
    );
    let state = std::path::PathBuf::from(crate::control::state_dir(&sandbox));
    let runs = std::fs::read_dir(state.join("runs"))
        .expect("runs")
        .filter_map(Result::ok)
        .collect::<Vec<_>>();
    let journal = std::fs::read_to_string(runs[0].path().join("journal.jsonl")).expect("journal");
    assert!(
        journal.contains("\"type\":\"run_finished\""),
        "the journal ends the session:\n{journal}"
    );
}
