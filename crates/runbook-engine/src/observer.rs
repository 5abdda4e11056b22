//! Live progress, pushed to whoever runs the engine (the CLI's terminal renderer, a test recorder).

use runbook_dsl::{Runbook, Step};

use crate::report::{RunReport, StepReport};

/// Receives progress as the run goes. Every method has a no-op default.
pub trait Observer {
    fn run_started(&mut self, _runbook: &Runbook) {}
    fn step_started(&mut self, _index: usize, _step: &Step) {}
    fn step_finished(&mut self, _index: usize, _step: &Step, _report: &StepReport) {}
    fn run_finished(&mut self, _report: &RunReport) {}
}

/// Observes nothing.
#[derive(Debug, Default)]
pub struct NullObserver;

impl Observer for NullObserver {}
