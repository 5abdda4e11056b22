//! Runs that must not be resumed, and a failed run that may.

use std::time::Duration;

use wiremock::{MockServer, ResponseTemplate};

use super::harness::{Bench, Gate, assert_code, mount, ok, records};
use super::in_doubt::in_doubt_runbook;
use crate::control::recorded;
use crate::support::{KillGroupOnDrop, group_alive, wait_until};

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
