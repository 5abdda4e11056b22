//! The run lock: live and dead holders.

use std::time::Duration;

use serde_json::{Value, json};

use super::harness::{Bench, assert_code, killed_by_signal, until_exists};
use crate::support::{group_alive, wait_until};

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
