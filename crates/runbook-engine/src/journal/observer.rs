//! Writes the journal from the run's progress. A write failure stops the run at the next step: a run
//! that cannot be recorded must not go on changing things.

use runbook_dsl::{Runbook, Step};

use super::record::{
    Durability, JournalRecord, RecordedError, RunFinished, StepFinished, StepStarted,
};
use super::writer::JournalWriter;
use crate::effects::Effects;
use crate::observer::{CheckpointError, Observer, Position, Progress, RunEvent};
use crate::prompter::Decision;
use crate::report::{Phase, RunReport, StepReport};

pub struct JournalObserver {
    writer: JournalWriter,
    error: Option<CheckpointError>,
}

impl JournalObserver {
    pub fn new(writer: JournalWriter) -> Self {
        JournalObserver {
            writer,
            error: None,
        }
    }

    /// How many times the journal was synced to disk in this session.
    pub fn syncs(&self) -> u64 {
        self.writer.syncs()
    }

    /// The first write that failed, if any.
    pub fn error(&self) -> Option<&CheckpointError> {
        self.error.as_ref()
    }

    /// Appends `record` with its own durability ([`JournalRecord::durability`]).
    pub(crate) fn write(&mut self, record: JournalRecord) {
        let durability = record.durability();
        self.write_as(record, durability);
    }

    fn write_as(&mut self, record: JournalRecord, durability: Durability) {
        if let Err(error) = self.writer.append_as(record, durability) {
            self.error.get_or_insert(CheckpointError::Journal {
                path: self.writer.path().to_owned(),
                reason: error.to_string(),
            });
        }
    }
}

/// How durable a step's start record must be before the step runs: synced when the step can
/// change anything ([`Effects`]), otherwise only written (a killed process keeps it; a power cut
/// may lose it, and resume then runs the read-only step again, harmlessly).
pub fn checkpoint_durability(step: &Step) -> Durability {
    match Effects::of(step) {
        Effects::SideEffects => Durability::Synced,
        Effects::ReadOnly => Durability::Written,
    }
}

/// The journal's view of a step's report: outputs that hold a secret are named, never written.
pub fn step_finished_record(report: &StepReport) -> StepFinished {
    StepFinished {
        step: report.id.clone(),
        phase: report.phase,
        outcome: report.outcome,
        attempts: report.attempts,
        duration_ms: report.duration_ms,
        started_at: report.started_at,
        finished_at: report.finished_at,
        outputs: report
            .outputs
            .iter()
            .filter(|(name, _)| {
                !report.secret_outputs.contains(name) && !report.large_outputs.contains(name)
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        secret_outputs: report.secret_outputs.clone(),
        large_outputs: report
            .large_outputs
            .iter()
            .filter(|name| !report.secret_outputs.contains(name))
            .cloned()
            .collect(),
        error: report.error.as_ref().map(|error| RecordedError {
            kind: error.kind,
            message: error.message.clone(),
        }),
        note: report.note.clone(),
        restored: report.restored,
    }
}

impl Observer for JournalObserver {
    fn run_started(&mut self, _runbook: &Runbook) {
        // The start (or resume) record was written when the journal was opened.
    }

    fn phase_started(&mut self, phase: Phase, reason: &str) {
        self.write(JournalRecord::PhaseStarted {
            phase,
            reason: reason.to_owned(),
        });
    }

    fn step_started(&mut self, _step: &Step, _at: &Position) {
        // Recorded at the checkpoint, which comes after the decision to run the step.
    }

    fn checkpoint(&mut self, step: &Step, at: &Position) -> Result<(), CheckpointError> {
        let record = JournalRecord::StepStarted(StepStarted {
            step: step.id.clone(),
            phase: at.phase,
            depth: at.depth,
        });
        self.write_as(record, checkpoint_durability(step));
        match &self.error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn step_progress(&mut self, _step: &Step, _progress: &Progress) {}

    fn step_finished(&mut self, _step: &Step, _at: &Position, report: &StepReport) {
        self.write(JournalRecord::StepFinished(step_finished_record(report)));
    }

    fn decision(&mut self, step: &Step, decision: Decision) {
        self.write(JournalRecord::Decision {
            step: step.id.clone(),
            decision,
        });
    }

    fn run_event(&mut self, event: &RunEvent<'_>) {
        match event {
            RunEvent::Stopped { stop, failure } => self.write(JournalRecord::RunStopped {
                stop: (*stop).clone(),
                failure: (*failure).to_owned(),
            }),
            RunEvent::CommitPassed { step, .. } => self.write(JournalRecord::CommitPassed {
                step: (*step).to_owned(),
            }),
            // The report and the audit log keep it; resume asks again.
            RunEvent::Preconditions(_) => {}
        }
    }

    fn run_finished(&mut self, report: &RunReport) {
        self.write(JournalRecord::RunFinished(RunFinished {
            status: report.status,
            failed_step: report.failed_step.clone(),
            stop: report.stop.clone(),
            duration_ms: report.duration_ms,
            irreversible_done: report.irreversible_done.clone(),
        }));
    }
}
