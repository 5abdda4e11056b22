//! What a journal says about its run, for `runbook runs` and `runbook show`.

use serde_json::Value;

use runbook_engine::journal::JournalRead;

/// A run as its journal tells it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub runbook: String,
    pub path: String,
    pub started_at: String,
    pub actor: String,
    /// `succeeded`, `failed`, `rolled_back`, ..., `running`, or `interrupted` (process gone).
    pub state: String,
    pub last_step: Option<String>,
    pub steps_done: usize,
    pub resumable: bool,
}

pub fn summarize(run_id: &str, journal: &JournalRead) -> RunSummary {
    let started = journal.first("run_started").cloned().unwrap_or(Value::Null);
    let text = |value: &Value| value.as_str().unwrap_or("").to_owned();
    let last_start = journal
        .records
        .iter()
        .rev()
        .find(|r| r["type"] == "run_started" || r["type"] == "run_resumed");
    let finished_after_last_start = journal.last("run_finished").filter(|finished| {
        last_start.is_none_or(|start| finished["seq"].as_u64() > start["seq"].as_u64())
    });
    let state = match finished_after_last_start {
        Some(finished) => text(&finished["status"]),
        None => {
            let pid = last_start
                .and_then(|r| r["pid"].as_u64())
                .and_then(|p| i32::try_from(p).ok());
            let same_host =
                last_start.is_some_and(|r| r["host"] == runbook_engine::audit::host_name());
            let alive = pid.is_some_and(|pid| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
            });
            if same_host && alive {
                "running".to_owned()
            } else {
                "interrupted".to_owned()
            }
        }
    };
    let last_step = journal
        .records
        .iter()
        .rev()
        .find(|r| r["type"] == "step_finished" || r["type"] == "step_started")
        .map(|r| {
            let verb = if r["type"] == "step_started" {
                "started".to_owned()
            } else {
                text(&r["outcome"])
            };
            format!("{} ({verb})", text(&r["step"]))
        });
    // Distinct steps: a step restored by a resume is recorded again but done once.
    let steps_done = journal
        .records
        .iter()
        .filter(|r| {
            r["type"] == "step_finished" && r["phase"] == "main" && r["outcome"] == "passed"
        })
        .filter_map(|r| r["step"].as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    // After compensation the completed steps were undone: resume refuses such a run.
    let compensated = journal
        .records
        .iter()
        .any(|r| r["type"] == "step_finished" && r["phase"] == "rollback");
    let resumable = matches!(state.as_str(), "interrupted" | "failed") && !compensated;
    RunSummary {
        run_id: run_id.to_owned(),
        runbook: text(&started["runbook"]),
        path: text(&started["path"]),
        started_at: text(&started["at"]),
        actor: text(&started["actor"]),
        state,
        last_step,
        steps_done,
        resumable,
    }
}
