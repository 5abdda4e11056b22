//! Observers a rehearsal adds to a run: the tracker that tells the simulation which step runs
//! (and delivers Ctrl-C or the kill at a scenario's step), and the gate that silences the run's
//! records once the process is "dead".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use runbook_dsl::{Runbook, Step};
use runbook_engine::audit::{AuditError, AuditSink};
use runbook_engine::{
    CheckpointError, Decision, Interrupt, Observer, Phase, Position, Progress, RunEvent, RunReport,
    StepReport,
};

use super::world::{SharedWorld, lock};

/// Tells the world which step runs; delivers a scenario's Ctrl-C or kill as its step starts.
pub struct Tracker {
    pub world: SharedWorld,
    pub interrupt: Interrupt,
    pub interrupt_at: Option<String>,
    pub kill_at: Option<String>,
    pub killed: Arc<AtomicBool>,
    pub kill: Arc<tokio::sync::Notify>,
}

impl Observer for Tracker {
    fn run_started(&mut self, _: &Runbook) {}
    fn phase_started(&mut self, _: Phase, _: &str) {}
    fn step_started(&mut self, step: &Step, _: &Position) {
        lock(&self.world).step = Some(step.id.clone());
        if self.interrupt_at.as_deref() == Some(step.id.as_str()) && !self.interrupt.is_set() {
            self.interrupt.trigger();
        }
        if self.kill_at.as_deref() == Some(step.id.as_str()) && !self.killed.load(Ordering::SeqCst)
        {
            self.killed.store(true, Ordering::SeqCst);
            lock(&self.world).killed = true;
            self.kill.notify_one();
        }
    }
    fn checkpoint(&mut self, _: &Step, _: &Position) -> Result<(), CheckpointError> {
        Ok(())
    }
    fn step_progress(&mut self, _: &Step, _: &Progress) {}
    fn step_finished(&mut self, _: &Step, _: &Position, _: &StepReport) {}
    fn decision(&mut self, _: &Step, _: Decision) {}
    fn run_event(&mut self, _: &RunEvent<'_>) {}
    fn run_finished(&mut self, _: &RunReport) {}
}

/// Passes events on until the process is "killed"; after that, nothing reaches the records.
pub struct Gate<'a> {
    pub inner: &'a mut dyn Observer,
    pub killed: Arc<AtomicBool>,
}

impl Gate<'_> {
    fn open(&self) -> bool {
        !self.killed.load(Ordering::SeqCst)
    }
}

impl Observer for Gate<'_> {
    fn run_started(&mut self, runbook: &Runbook) {
        if self.open() {
            self.inner.run_started(runbook);
        }
    }
    fn phase_started(&mut self, phase: Phase, reason: &str) {
        if self.open() {
            self.inner.phase_started(phase, reason);
        }
    }
    fn step_started(&mut self, step: &Step, at: &Position) {
        if self.open() {
            self.inner.step_started(step, at);
        }
    }
    fn checkpoint(&mut self, step: &Step, at: &Position) -> Result<(), CheckpointError> {
        if self.open() {
            self.inner.checkpoint(step, at)
        } else {
            Ok(())
        }
    }
    fn step_progress(&mut self, step: &Step, progress: &Progress) {
        if self.open() {
            self.inner.step_progress(step, progress);
        }
    }
    fn step_finished(&mut self, step: &Step, at: &Position, report: &StepReport) {
        if self.open() {
            self.inner.step_finished(step, at, report);
        }
    }
    fn decision(&mut self, step: &Step, decision: Decision) {
        if self.open() {
            self.inner.decision(step, decision);
        }
    }
    fn run_event(&mut self, event: &RunEvent<'_>) {
        if self.open() {
            self.inner.run_event(event);
        }
    }
    fn run_finished(&mut self, report: &RunReport) {
        if self.open() {
            self.inner.run_finished(report);
        }
    }
}

/// Keeps the audit records in memory (for `expect: audit`) and passes them to a file, until the
/// process is "killed".
pub struct RecordingSink {
    pub records: Arc<Mutex<Vec<Value>>>,
    pub file: Option<runbook_engine::audit::FileSink>,
    pub killed: Arc<AtomicBool>,
}

impl AuditSink for RecordingSink {
    fn write(&mut self, record: &Value, sync: bool) -> Result<(), AuditError> {
        if self.killed.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(record.clone());
        match &mut self.file {
            Some(file) => file.write(record, sync),
            None => Ok(()),
        }
    }
}
