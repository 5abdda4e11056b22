//! Lists of steps: the main list stops at the first failure its policy does not tolerate (and at
//! Ctrl-C, before the next step); cleanup lists run every step.

use std::future::Future;
use std::pin::Pin;

use runbook_dsl::Step;

use super::Run;
use super::policy::AfterFailure;
use crate::error::StepErrorKind;
use crate::observer::Position;
use crate::report::{Phase, StepOutcome, Stop};

pub(super) type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

impl Run<'_, '_> {
    /// Runs steps in order. In the main phase the first failure (per its policy) stops the list, and
    /// Ctrl-C stops it before the next step.
    pub(crate) fn run_list<'a>(
        &'a mut self,
        steps: &'a [Step],
        phase: Phase,
        depth: usize,
    ) -> Boxed<'a, Result<(), Stop>> {
        Box::pin(async move {
            for (index, step) in steps.iter().enumerate() {
                if phase == Phase::Main && self.interrupted() {
                    return Err(self.interrupted_stop(&step.id));
                }
                let at = Position {
                    phase,
                    depth,
                    index: index + 1,
                    total: steps.len(),
                    cleanup: false,
                };
                self.run_step(step, &at, true).await?;
            }
            Ok(())
        })
    }

    /// Runs a cleanup list (compensation steps, failure path, finally): every step runs even when
    /// an earlier one failed. Returns whether all passed.
    pub(crate) async fn run_cleanup(&mut self, steps: &[Step], phase: Phase) -> bool {
        let mut all_passed = true;
        for (index, step) in steps.iter().enumerate() {
            let at = Position {
                phase,
                depth: 0,
                index: index + 1,
                total: steps.len(),
                cleanup: false,
            };
            if let Some((report, _)) = self.finished_before_cut_off(step, &at) {
                all_passed &= report.outcome != StepOutcome::Failed;
                self.reports.push(report);
                continue;
            }
            all_passed &= self.run_step(step, &at, false).await.is_ok();
        }
        all_passed
    }

    /// One step, with its failure policy. `restorable`: a resumed run may take the step's result
    /// from the journal instead of running it.
    pub(super) async fn run_step(
        &mut self,
        step: &Step,
        at: &Position,
        restorable: bool,
    ) -> Result<(), Stop> {
        loop {
            let (report, error) = self.execute(step, at, restorable).await;
            let outcome = report.outcome;
            self.reports.push(report);
            let error = match outcome {
                StepOutcome::Passed => {
                    if at.phase == Phase::Main {
                        self.step_passed(step);
                    }
                    return Ok(());
                }
                // A warning: the run goes on, and nothing it would undo is registered.
                StepOutcome::Skipped | StepOutcome::NotRun | StepOutcome::Warned => return Ok(()),
                StepOutcome::Failed => error,
            };
            if error
                .as_ref()
                .is_some_and(|e| e.kind == StepErrorKind::Interrupted)
            {
                return Err(self.interrupted_stop(&step.id));
            }
            let failed = Stop::Failed {
                step: step.id.clone(),
            };
            // A `stop` step ends the run: no `on_error`, retry or repeat of a group overrides it.
            if error
                .as_ref()
                .is_some_and(|e| e.kind == StepErrorKind::Stopped)
                && at.phase == Phase::Main
            {
                self.fatal = true;
                return Err(failed);
            }
            // A resume that could not decide about a step in doubt changes nothing more: no retry,
            // no repeat of an enclosing group (which would start the step again), no cleanup.
            if at.phase != Phase::Main || self.fatal || self.undecided {
                return Err(failed);
            }
            let message = error.as_ref().map_or("", |e| e.message.as_str());
            match self.after_failure(step, message).await {
                AfterFailure::Retry => continue,
                AfterFailure::Tolerate => return Ok(()),
                // Ctrl-C while the operator was deciding: the run was interrupted, not failed.
                AfterFailure::Stop if self.interrupted() => {
                    return Err(self.interrupted_stop(&step.id));
                }
                AfterFailure::Stop => return Err(failed),
            }
        }
    }

    /// What a main-phase step that passed leaves behind: its compensation, the point of no
    /// return when it was irreversible, and, at a commit point, nothing left to undo.
    pub(super) fn step_passed(&mut self, step: &Step) {
        self.compensations.register(step);
        if step.irreversible && !self.irreversible_done.contains(&step.id) {
            self.irreversible_done.push(step.id.clone());
        }
        if step.commit {
            self.commit(step);
        }
    }
}
