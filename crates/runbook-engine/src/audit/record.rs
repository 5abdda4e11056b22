//! The audit log's records: one typed enum, the only way anything reaches the audit log. Each is
//! stamped with time and identity by [`super::AuditLog::record`]. Format: `docs/audit.md`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::StepErrorKind;
use crate::prompter::Decision;
use crate::report::{OperatorRecord, Phase, RunStatus, StepOutcome};

/// What an audit line says. Every text in it is already redacted.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuditRecord {
    RunStarted(RunOpened),
    RunResumed(RunOpened),
    /// Compensation begins.
    CompensationStarted {
        reason: String,
    },
    /// A prompt step passed; secret answers read as the mask.
    PromptAnswered {
        step: String,
        answers: Map<String, Value>,
    },
    StepFinished(StepRecord),
    /// A compensation step ended.
    Compensation(StepRecord),
    OperatorDecision {
        step: String,
        decision: Decision,
    },
    /// The steps stopped: which step, and its own message (`{{run.failure}}`), before compensation.
    RunStopped {
        failed_step: Option<String>,
        failure: String,
    },
    /// A commit point passed: compensation registered before it is disarmed.
    CommitPoint {
        step: String,
        disarmed: usize,
    },
    /// The operator's one confirmation of the runbook's preconditions, before the first step.
    Preconditions(crate::report::PreconditionsRecord),
    /// An `audit` step's event.
    Event {
        action: String,
        context: Value,
    },
    RunFinished {
        status: RunStatus,
        /// This session's duration.
        duration_ms: u64,
        failed_step: Option<String>,
        irreversible_done: Vec<String>,
        /// The last commit point that passed.
        #[serde(skip_serializing_if = "Option::is_none")]
        commit_point: Option<String>,
        /// Main steps whose failure was only a warning (`on_error: warn`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
        operator: OperatorRecord,
    },
}

impl AuditRecord {
    /// Whether the record is synced to disk at once: the run's end and the runbook's own events.
    /// Step records ride along with them.
    pub fn needs_sync(&self) -> bool {
        match self {
            AuditRecord::RunFinished { .. }
            | AuditRecord::Event { .. }
            | AuditRecord::CommitPoint { .. }
            | AuditRecord::Preconditions(_) => true,
            AuditRecord::RunStopped { .. } => false,
            AuditRecord::RunStarted(_)
            | AuditRecord::RunResumed(_)
            | AuditRecord::CompensationStarted { .. }
            | AuditRecord::PromptAnswered { .. }
            | AuditRecord::StepFinished(_)
            | AuditRecord::Compensation(_)
            | AuditRecord::OperatorDecision { .. } => false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunOpened {
    pub path: String,
    pub title: String,
    /// Inputs, secret ones masked.
    pub inputs: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step: String,
    pub name: String,
    pub kind: &'static str,
    pub phase: Phase,
    pub outcome: StepOutcome,
    pub duration_ms: u64,
    pub attempts: u32,
    pub irreversible: bool,
    pub error: Option<ErrorRecord>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorRecord {
    pub kind: StepErrorKind,
    pub message: String,
}
