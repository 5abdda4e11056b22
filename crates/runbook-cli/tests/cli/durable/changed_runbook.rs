//! A runbook changed after the kill, and finding the runbook and state directory on resume.

use serde_json::Value;
use wiremock::MockServer;

use super::harness::{Bench, Gate, assert_code, count, killed_by_signal, mount, ok, until_count};
use super::in_doubt::{in_doubt_runbook, kill_in_submit};
use crate::control::recorded;
use crate::support::{Sandbox, finish, runbook};

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
