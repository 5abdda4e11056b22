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
        operator: OperatorRecord,
    },
}

impl AuditRecord {
    /// Whether the record is synced to disk at once: the run's end and the runbook's own events.
    /// Step records ride along with them.
    pub fn needs_sync(&self) -> bool {
        match self {
            AuditRecord::RunFinished { .. } | AuditRecord::Event { .. } => true,
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
