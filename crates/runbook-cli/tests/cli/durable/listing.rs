//! `runbook runs` and `runbook show` on an interrupted run.

use serde_json::Value;

use super::harness::assert_code;
use super::rotation::{KillPoint, kill_rotation_at, resume_rotation};

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
