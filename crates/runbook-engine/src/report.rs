//! The run report: what happened, as data. `--output json` prints it; the terminal summarises it.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::StepError;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
    /// Its `when` condition did not hold.
    Skipped,
    /// An earlier step failed, so it never started.
    NotRun,
}

/// One step's result. Outputs and messages are redacted.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub outcome: StepOutcome,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub outputs: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

/// The whole run. Inputs marked secret appear masked.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub runbook: String,
    pub title: String,
    pub path: String,
    pub status: RunStatus,
    pub started_at: String,
    pub duration_ms: u64,
    pub inputs: Map<String, Value>,
    pub steps: Vec<StepReport>,
    /// The step that stopped the run, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
}

impl RunReport {
    /// The failure that stopped the run.
    pub fn failure(&self) -> Option<(&StepReport, &StepError)> {
        self.steps
            .iter()
            .find_map(|step| step.error.as_ref().map(|error| (step, error)))
    }

    pub fn count(&self, outcome: StepOutcome) -> usize {
        self.steps.iter().filter(|s| s.outcome == outcome).count()
    }
}
