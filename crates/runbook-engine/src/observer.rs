//! Live progress, pushed to whoever runs the engine (the CLI's terminal renderer, a test recorder).

use runbook_dsl::{Runbook, Step};

use crate::report::{Phase, RunReport, StepReport};

/// Where a step sits: its phase, nesting depth, and (for top-level steps) its position.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub phase: Phase,
    /// 0 for top-level steps, 1 inside a group, ...
    pub depth: usize,
    /// 1-based position among its siblings, and how many siblings there are.
    pub index: usize,
    pub total: usize,
    /// A group's `finally` step: it runs even after Ctrl-C, since it exists to leave things safe.
    pub cleanup: bool,
}

impl Position {
    /// Whether Ctrl-C cancels the step (main-phase steps that are not cleanup).
    pub fn cancellable(&self) -> bool {
        self.phase == Phase::Main && !self.cleanup
    }
}

/// Receives progress as the run goes. Every method has a no-op default.
pub trait Observer {
    fn run_started(&mut self, _runbook: &Runbook) {}
    /// Compensation, the failure path or `finally` begins; `reason` says why.
    fn phase_started(&mut self, _phase: Phase, _reason: &str) {}
    fn step_started(&mut self, _step: &Step, _at: &Position) {}
    /// Called just before a step has side effects (after `step_started`): a durable record must be
    /// written now. An error stops the step before it runs.
    fn checkpoint(&mut self, _step: &Step, _at: &Position) -> Result<(), String> {
        Ok(())
    }
    /// Something worth showing while a step runs: a poll's last observed value, a retry.
    fn step_progress(&mut self, _step: &Step, _note: &str) {}
    fn step_finished(&mut self, _step: &Step, _at: &Position, _report: &StepReport) {}
    /// The operator decided about a step: `retry`, `skip` or `abort`.
    fn decision(&mut self, _step: &Step, _decision: &str) {}
    fn run_finished(&mut self, _report: &RunReport) {}
}

/// Observes nothing.
#[derive(Debug, Default)]
pub struct NullObserver;

impl Observer for NullObserver {}
