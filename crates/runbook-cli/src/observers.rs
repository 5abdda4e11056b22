//! Several observers as one: the terminal, the journal, the audit log and the Ctrl-C state tracker
//! all see the same events, in that order.

use runbook_dsl::{Runbook, Step};
use runbook_engine::{Observer, Phase, Position, RunReport, StepReport};

pub struct Fanout<'a>(pub Vec<&'a mut dyn Observer>);

impl Observer for Fanout<'_> {
    fn run_started(&mut self, runbook: &Runbook) {
        self.0.iter_mut().for_each(|o| o.run_started(runbook));
    }
    fn phase_started(&mut self, phase: Phase, reason: &str) {
        self.0
            .iter_mut()
            .for_each(|o| o.phase_started(phase, reason));
    }
    fn step_started(&mut self, step: &Step, at: &Position) {
        self.0.iter_mut().for_each(|o| o.step_started(step, at));
    }
    fn checkpoint(&mut self, step: &Step, at: &Position) -> Result<(), String> {
        for observer in &mut self.0 {
            observer.checkpoint(step, at)?;
        }
        Ok(())
    }
    fn step_progress(&mut self, step: &Step, note: &str) {
        self.0.iter_mut().for_each(|o| o.step_progress(step, note));
    }
    fn step_finished(&mut self, step: &Step, at: &Position, report: &StepReport) {
        self.0
            .iter_mut()
            .for_each(|o| o.step_finished(step, at, report));
    }
    fn decision(&mut self, step: &Step, decision: &str) {
        self.0.iter_mut().for_each(|o| o.decision(step, decision));
    }
    fn run_finished(&mut self, report: &RunReport) {
        self.0.iter_mut().for_each(|o| o.run_finished(report));
    }
}
