//! Finishing an undo that a SIGKILL (or a crash) cut off. The resumed session runs no main step:
//! it rebuilds what the run had registered (from the journal's completed steps, in the runbook's
//! order, exactly as they registered it: a phase's undo when the phase started, a step's rollback
//! when it passed, nothing before the last commit point), puts their outputs back for the undo's
//! templates, and skips the cleanup steps that had already finished.

use runbook_dsl::Step;

use super::Run;
use super::reports::new_report;
use crate::context::StepState;
use crate::error::StepError;
use crate::journal::record::StepFinished;
use crate::observer::Position;
use crate::report::{StepOutcome, StepReport};

impl Run<'_, '_> {
    /// Registers the compensation and restores the state of the main steps (at any depth) that the
    /// journal says ran, in the order they ran.
    pub(crate) fn rebuild_for_undo(&mut self, steps: &[Step]) {
        let engine = self.engine;
        let Some(plan) = engine.options.resume.as_ref() else {
            return;
        };
        for step in steps {
            let done = plan.completed.get(&step.id);
            if let Some(done) = done {
                let state = if done.skipped {
                    StepState::Skipped
                } else if done.warned {
                    StepState::Warned(Some(done.outputs.clone()))
                } else {
                    StepState::Completed(done.outputs.clone())
                };
                self.context.steps.insert(step.id.clone(), state);
                for name in &done.withheld {
                    self.context
                        .withheld
                        .insert((step.id.clone(), name.clone()));
                }
                for name in &done.too_large {
                    self.context
                        .too_large
                        .insert((step.id.clone(), name.clone()));
                }
                if let (Some(started_at), Some(finished_at)) = (done.started_at, done.finished_at) {
                    self.context.times.insert(
                        step.id.clone(),
                        crate::context::StepTimes {
                            started_at,
                            finished_at,
                        },
                    );
                }
            } else if let Some(outcome) = plan.outcomes.get(&step.id) {
                let state = match outcome {
                    StepOutcome::Failed => Some(StepState::Failed(None)),
                    StepOutcome::Warned => Some(StepState::Warned(None)),
                    StepOutcome::Skipped => Some(StepState::Skipped),
                    StepOutcome::Passed | StepOutcome::NotRun => None,
                };
                if let Some(state) = state {
                    self.context.steps.insert(step.id.clone(), state);
                }
            }
            if let Some(group) = step.kind.group() {
                if done.is_some() || plan.started.contains_key(&step.id) {
                    self.compensations.register_undo(step, group);
                }
                self.rebuild_for_undo(&group.steps);
                self.rebuild_for_undo(&group.finally);
            }
            if done.is_some_and(|done| !done.skipped && !done.warned) {
                self.compensations.register(step);
                if step.irreversible && !self.irreversible_done.contains(&step.id) {
                    self.irreversible_done.push(step.id.clone());
                }
                if step.commit {
                    // Recorded when it passed; here it only disarms again.
                    self.compensations.clear();
                    self.commit_point = Some(step.id.clone());
                }
            }
        }
    }

    /// When a resume finishes a cut-off undo: the journal's record of this cleanup step if it
    /// already finished then (it is reported again, not run again).
    pub(super) fn finished_before_cut_off(
        &mut self,
        step: &Step,
        at: &Position,
    ) -> Option<(StepReport, Option<StepError>)> {
        let index = self
            .cut_off_finished
            .iter()
            .position(|record| record.step == step.id && record.phase == at.phase)?;
        let record: StepFinished = self.cut_off_finished.remove(index);
        let mut report = new_report(step, at.phase, record.outcome);
        report.outputs = record.outputs.clone();
        report.secret_outputs = record.secret_outputs.clone();
        report.large_outputs = record.large_outputs.clone();
        report.started_at = record.started_at;
        report.finished_at = record.finished_at;
        report.duration_ms = record.duration_ms;
        report.restored = true;
        report.note = Some("finished before the run was cut off; not run again".into());
        let error = record
            .error
            .as_ref()
            .map(|recorded| crate::error::StepError::new(recorded.kind, recorded.message.clone()));
        report.error = error.clone();
        let state = match record.outcome {
            StepOutcome::Passed => StepState::Completed(record.outputs),
            StepOutcome::Failed => StepState::Failed(Some(record.outputs)),
            StepOutcome::Warned => StepState::Warned(Some(record.outputs)),
            StepOutcome::Skipped | StepOutcome::NotRun => StepState::Skipped,
        };
        self.context.steps.insert(step.id.clone(), state);
        self.observer.step_finished(step, at, &report);
        Some((report, error))
    }
}
