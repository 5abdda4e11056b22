//! Writes lifecycle records from the run's (redacted) progress events.

use runbook_dsl::{Runbook, Step};
use serde_json::{Map, Value};

use super::record::{AuditRecord, ErrorRecord, RunOpened, StepRecord};
use super::{AuditError, SharedAudit};
use crate::observer::{CheckpointError, Observer, Position, Progress, RunEvent};
use crate::prompter::Decision;
use crate::report::{Phase, RunReport, StepOutcome, StepReport};

pub struct AuditObserver {
    pub audit: SharedAudit,
    pub inputs: Map<String, Value>,
    /// This session continues an earlier run (`runbook resume`).
    pub resumed: bool,
    /// The first write failure, reported at the end (an audit failure must not go unnoticed).
    pub error: Option<AuditError>,
}

impl AuditObserver {
    fn write(&mut self, record: AuditRecord) {
        let result = match self.audit.lock() {
            Ok(mut audit) => audit.record(&record).map(|_| ()),
            Err(_) => Err(AuditError::Unavailable),
        };
        if let Err(error) = result {
            self.error.get_or_insert(error);
        }
    }
}

impl Observer for AuditObserver {
    fn run_started(&mut self, runbook: &Runbook) {
        let path = std::fs::canonicalize(&runbook.path).unwrap_or_else(|_| runbook.path.clone());
        let opened = RunOpened {
            path: path.display().to_string(),
            title: runbook.meta.title.clone(),
            inputs: self.inputs.clone(),
        };
        self.write(if self.resumed {
            AuditRecord::RunResumed(opened)
        } else {
            AuditRecord::RunStarted(opened)
        });
    }

    fn phase_started(&mut self, phase: Phase, reason: &str) {
        match phase {
            Phase::Rollback => self.write(AuditRecord::CompensationStarted {
                reason: reason.to_owned(),
            }),
            Phase::Main | Phase::OnFailure | Phase::Finally => {}
        }
    }

    fn step_finished(&mut self, step: &Step, _at: &Position, report: &StepReport) {
        if step.kind.prompt().is_some() && report.outcome == StepOutcome::Passed {
            // Outputs are already redacted: a secret answer reads as the mask.
            self.write(AuditRecord::PromptAnswered {
                step: step.id.clone(),
                answers: report.outputs.clone(),
            });
        }
        let record = StepRecord {
            step: step.id.clone(),
            name: step.name.clone(),
            kind: report.kind,
            phase: report.phase,
            outcome: report.outcome,
            duration_ms: report.duration_ms,
            attempts: report.attempts,
            irreversible: step.irreversible,
            error: report.error.as_ref().map(|error| ErrorRecord {
                kind: error.kind,
                message: error.message.clone(),
            }),
            note: report.note.clone(),
        };
        self.write(match report.phase {
            Phase::Rollback => AuditRecord::Compensation(record),
            Phase::Main | Phase::OnFailure | Phase::Finally => AuditRecord::StepFinished(record),
        });
    }

    fn decision(&mut self, step: &Step, decision: Decision) {
        self.write(AuditRecord::OperatorDecision {
            step: step.id.clone(),
            decision,
        });
    }

    fn step_started(&mut self, _step: &Step, _at: &Position) {}

    fn checkpoint(&mut self, _step: &Step, _at: &Position) -> Result<(), CheckpointError> {
        Ok(())
    }

    fn step_progress(&mut self, _step: &Step, _progress: &Progress) {}

    fn run_event(&mut self, event: &RunEvent<'_>) {
        self.write(match event {
            RunEvent::Stopped { stop, failure } => AuditRecord::RunStopped {
                failed_step: stop.step().map(str::to_owned),
                failure: (*failure).to_owned(),
            },
            RunEvent::CommitPassed { step, disarmed } => AuditRecord::CommitPoint {
                step: (*step).to_owned(),
                disarmed: *disarmed,
            },
            RunEvent::Preconditions(record) => AuditRecord::Preconditions((*record).clone()),
        });
    }

    fn run_finished(&mut self, report: &RunReport) {
        self.write(AuditRecord::RunFinished {
            status: report.status,
            duration_ms: report.duration_ms,
            failed_step: report.failed_step.clone(),
            irreversible_done: report.irreversible_done.clone(),
            commit_point: report.commit_point.clone(),
            warnings: report.warnings().map(|step| step.id.clone()).collect(),
            operator: report.operator.clone(),
        });
    }
}
