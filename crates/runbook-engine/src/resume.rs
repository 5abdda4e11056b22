//! What an earlier run completed, rebuilt from its journal, so `runbook resume` repeats no completed
//! side effect.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::journal::JournalRead;

/// A main-phase step that finished in an earlier session.
#[derive(Debug, Clone)]
pub struct CompletedStep {
    pub skipped: bool,
    pub outputs: Map<String, Value>,
    /// Outputs that held a secret and were not journaled.
    pub withheld: Vec<String>,
    pub started_at: Option<jiff::Timestamp>,
    pub finished_at: Option<jiff::Timestamp>,
}

/// The state to continue from.
#[derive(Debug, Clone, Default)]
pub struct ResumePlan {
    pub completed: HashMap<String, CompletedStep>,
    /// Steps that started but are not known to have finished: their effect is unknown.
    pub in_doubt: HashSet<String>,
    /// Compensation already ran: the completed steps were undone, so continuing after them is wrong.
    pub compensated: bool,
    /// How many times each step started in earlier sessions: a repeated prompt continues with the
    /// next answer set of an answers file, not the first.
    pub started: HashMap<String, u32>,
}

impl ResumePlan {
    /// Replays the journal's step records, in order.
    pub fn from_journal(journal: &JournalRead) -> ResumePlan {
        let mut plan = ResumePlan::default();
        for record in &journal.records {
            let step = record["step"].as_str().unwrap_or_default().to_owned();
            let main = record["phase"] == "main";
            match record["type"].as_str() {
                Some("step_started") if main => {
                    *plan.started.entry(step.clone()).or_insert(0) += 1;
                    plan.completed.remove(&step);
                    plan.in_doubt.insert(step);
                }
                Some("step_finished") if main => {
                    // A step still in doubt that this session never started (no decision, an abort,
                    // or its earlier command still running) stays in doubt: the next resume checks
                    // again.
                    let never_started = record["outcome"] == "failed" && record["attempts"] == 0;
                    if never_started && plan.in_doubt.contains(&step) {
                        continue;
                    }
                    plan.in_doubt.remove(&step);
                    match record["outcome"].as_str() {
                        Some("passed") | Some("skipped") => {
                            let outputs = match &record["outputs"] {
                                Value::Object(outputs) => outputs.clone(),
                                _ => Map::new(),
                            };
                            let withheld = record["secret_outputs"]
                                .as_array()
                                .map(|names| {
                                    names
                                        .iter()
                                        .filter_map(|n| n.as_str().map(str::to_owned))
                                        .collect()
                                })
                                .unwrap_or_default();
                            let time =
                                |key: &str| record[key].as_str().and_then(|t| t.parse().ok());
                            plan.completed.insert(
                                step,
                                CompletedStep {
                                    skipped: record["outcome"] == "skipped",
                                    outputs,
                                    withheld,
                                    started_at: time("started_at"),
                                    finished_at: time("finished_at"),
                                },
                            );
                        }
                        _ => {
                            plan.completed.remove(&step);
                        }
                    }
                }
                Some("step_finished") if record["phase"] == "rollback" => plan.compensated = true,
                // The operator skipped a failed or interrupted step: it counts as done (skipped).
                Some("decision") if record["decision"] == "skip" => {
                    plan.in_doubt.remove(&step);
                    plan.completed.insert(
                        step,
                        CompletedStep {
                            skipped: true,
                            outputs: Map::new(),
                            withheld: Vec::new(),
                            started_at: None,
                            finished_at: None,
                        },
                    );
                }
                _ => {}
            }
        }
        plan
    }
}
