//! The run report: what happened, as data. `--output json` prints it; the terminal summarises it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::StepError;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    /// The steps completed, and at least one failed with `on_error: warn` (outcome `warned`).
    SucceededWithWarnings,
    /// A step failed; there was nothing to compensate and no failure path.
    Failed,
    /// A step failed; compensation and the failure path then completed.
    RolledBack,
    /// A step failed, and a compensation or failure-path step failed too: manual work is needed.
    RollbackFailed,
    /// Ctrl-C stopped the run at a safe point; compensation, failure path and finally ran.
    Interrupted,
}

impl RunStatus {
    /// The name the journal and `--output json` use.
    pub fn word(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::SucceededWithWarnings => "succeeded_with_warnings",
            RunStatus::Failed => "failed",
            RunStatus::RolledBack => "rolled_back",
            RunStatus::RollbackFailed => "rollback_failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// Which part of the run a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The steps (including groups and their `finally`).
    Main,
    /// Compensation: rollback steps of steps that had succeeded, newest first.
    Rollback,
    /// The runbook's failure path.
    OnFailure,
    /// The runbook's `finally`.
    Finally,
}

impl Phase {
    /// The name the journal and `--output json` use.
    pub fn word(self) -> &'static str {
        match self {
            Phase::Main => "main",
            Phase::Rollback => "rollback",
            Phase::OnFailure => "on_failure",
            Phase::Finally => "finally",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
    /// Its `when` condition did not hold, or the operator chose to skip it after a failure.
    Skipped,
    /// The run stopped before it started.
    NotRun,
    /// It failed, and its `on_error: warn` (or, for a `note`, its nature) made the failure a
    /// warning: the run went on.
    Warned,
}

impl StepOutcome {
    /// The name the journal and `--output json` use.
    pub fn word(self) -> &'static str {
        match self {
            StepOutcome::Passed => "passed",
            StepOutcome::Failed => "failed",
            StepOutcome::Skipped => "skipped",
            StepOutcome::NotRun => "not_run",
            StepOutcome::Warned => "warned",
        }
    }
}

/// One execution of a step. Outputs and messages are redacted. A step that runs more than once (a
/// repeated group, an operator retry) has one report per execution.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    /// The step runs other steps (a `group`, or a fragment through `use:`): when it fails, one of
    /// them failed, and that one's message is the failure's.
    #[serde(skip)]
    pub composite: bool,
    pub phase: Phase,
    pub outcome: StepOutcome,
    pub duration_ms: u64,
    /// Attempts made (retries and polls count); 0 when the step did not start.
    pub attempts: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub irreversible: bool,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub outputs: Map<String, Value>,
    /// Outputs that hold a secret (shown masked; never journaled).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secret_outputs: Vec<String>,
    /// Outputs too large to keep whole ([`crate::kept`]): `outputs` has an excerpt; the journal
    /// names them and does not keep them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub large_outputs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// Why it was skipped, or what the operator decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// It completed in an earlier session and was taken from the journal, not run again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restored: bool,
}

/// Why a run stopped before its steps completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Stop {
    /// A step failed and its policy (or the operator) stopped the run.
    Failed { step: String },
    /// Ctrl-C, SIGTERM or SIGHUP: `step` is the step that was running, or about to start, when it
    /// came (none when every step had already run). `signal` is absent in records written before
    /// signals were named (they were all Ctrl-C).
    Interrupted {
        step: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<crate::interrupt::Signal>,
    },
}

impl Stop {
    /// The step that stopped the run.
    pub fn step(&self) -> Option<&str> {
        match self {
            Stop::Failed { step } => Some(step),
            Stop::Interrupted { step, .. } => step.as_deref(),
        }
    }

    /// Why, in words (`{{run.failure}}` uses the failed step's own message instead).
    pub fn cause(&self) -> &'static str {
        match self {
            Stop::Failed { .. } => "failed",
            Stop::Interrupted { .. } => "interrupted",
        }
    }
}

/// How prompts were answered in this run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OperatorRecord {
    /// `terminal`, `answers file` or `none`.
    pub prompts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers_file: Option<String>,
    /// An operator-assisted runbook was answered from a file on a real run, by explicit request.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub answers_file_replaced_operator: bool,
}

/// The whole run. Inputs marked secret appear masked.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's id (its journal's name in the state directory); empty when not journaled.
    pub run_id: String,
    pub runbook: String,
    pub title: String,
    pub path: String,
    pub status: RunStatus,
    pub started_at: String,
    pub duration_ms: u64,
    pub inputs: Map<String, Value>,
    pub operator: OperatorRecord,
    pub steps: Vec<StepReport>,
    /// The step that stopped the run, if any (the same as `stop`'s step, or a failed `finally`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Why the steps did not complete, if they did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Irreversible steps that completed: what this run can no longer undo.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub irreversible_done: Vec<String>,
    /// The last commit point that passed: compensation registered before it was disarmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_point: Option<String>,
    /// The header's preconditions and whether the operator confirmed them (absent when the
    /// runbook has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<PreconditionsRecord>,
}

/// The operator's one confirmation of the runbook's preconditions, before the first step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreconditionsRecord {
    pub items: Vec<String>,
    pub confirmed: bool,
    /// Who answered: `terminal`, `answers file` or `none`.
    pub answered_by: String,
    /// Why the run did not start, when they were not confirmed (redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

impl RunReport {
    /// The failure that stopped the run (the first main-phase failure that was not tolerated).
    pub fn failure(&self) -> Option<(&StepReport, &StepError)> {
        let wanted = self.failed_step.as_deref()?;
        self.steps
            .iter()
            .rev()
            .filter(|step| step.id == wanted)
            .find_map(|step| step.error.as_ref().map(|error| (step, error)))
    }

    pub fn count(&self, outcome: StepOutcome) -> usize {
        self.steps.iter().filter(|s| s.outcome == outcome).count()
    }

    /// Main-phase steps whose failure was a warning.
    pub fn warnings(&self) -> impl Iterator<Item = &StepReport> {
        self.steps
            .iter()
            .filter(|step| step.outcome == StepOutcome::Warned && step.phase == Phase::Main)
    }

    /// Reports of compensation and failure-path steps that failed.
    pub fn cleanup_failures(&self) -> impl Iterator<Item = &StepReport> {
        self.steps
            .iter()
            .filter(|step| step.outcome == StepOutcome::Failed && step.phase != Phase::Main)
    }
}
