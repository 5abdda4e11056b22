//! A torn last journal line.

use super::harness::{assert_code, position};
use super::in_doubt::{in_doubt_runbook, kill_in_submit};

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
