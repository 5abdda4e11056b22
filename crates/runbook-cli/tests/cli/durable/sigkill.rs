//! SIGKILL at several points of a multi-step runbook, then `runbook resume`.

use std::time::Duration;

use super::harness::{Bench, count, killed_by_signal, records};
use super::rotation::{
    KillPoint, assert_counts, assert_full_story, kill_rotation_at, resume_rotation,
};
use crate::support::{KillGroupOnDrop, group_alive, poll_until, wait_until};

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
