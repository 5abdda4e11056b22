//! Groups: their steps, then their `finally` (always, even after Ctrl-C), repeated while the
//! operator chooses to and attempts remain.

use runbook_dsl::{GroupStep, Step};

use super::Run;
use super::attempts::interrupted;
use super::policy::NoDecision;
use crate::error::{StepError, StepErrorKind};
use crate::observer::{Position, Progress};
use crate::prompter::Decision;
use crate::report::{StepOutcome, Stop};

impl Run<'_, '_> {
    /// Returns the result and the attempts made.
    pub(super) async fn run_group(
        &mut self,
        step: &Step,
        group: &GroupStep,
        at: &Position,
    ) -> (Result<(), StepError>, u32) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                let progress = Progress::GroupAttempt {
                    attempt,
                    of: group.max_attempts,
                };
                self.observer.step_progress(step, &progress);
            }
            let executed_before = self.executed;
            let result = self.run_list(&group.steps, at.phase, at.depth + 1).await;
            if result.is_err() && self.undecided {
                // A step in doubt could not be decided about (its earlier command still runs, or
                // nobody answered): this session leaves everything as it was, `finally` included.
                let error = StepError::new(
                    StepErrorKind::Process,
                    "a step of the group was left in doubt by the earlier session and could not \
                     be decided about; nothing else was done",
                );
                return (Err(error), attempt);
            }
            // A `finally` is for what this attempt did: when any step ran anew in this session, the
            // journal's record of an earlier `finally` (run, or skipped because nothing needed
            // cleaning) says nothing about the new work.
            let ran_anew = self.executed != executed_before;
            let finally_passed = self.run_group_finally(group, at, !ran_anew).await;
            let failed_step = match result {
                Ok(()) if finally_passed => return (Ok(()), attempt),
                Ok(()) => {
                    let error = StepError::new(
                        StepErrorKind::UnexpectedResult,
                        "a `finally` step of the group failed",
                    );
                    return (Err(error), attempt);
                }
                Err(Stop::Interrupted { .. }) => {
                    return (Err(interrupted(&self.engine.options.interrupt)), attempt);
                }
                Err(Stop::Failed { step }) => step,
            };
            let failure = self.group_failure(&failed_step, attempt, group.max_attempts);
            // Ctrl-C after the step failed (during the `finally` or the question): the run stops
            // as interrupted, and names the step that failed.
            if self.interrupted() {
                self.interrupted_at.get_or_insert(failed_step);
                return (Err(interrupted(&self.engine.options.interrupt)), attempt);
            }
            if self.fatal {
                let message = format!("{}; it stops the run (no repeat)", failure.message);
                return (Err(StepError::new(failure.kind, message)), attempt);
            }
            if attempt >= group.max_attempts {
                return (Err(failure), attempt);
            }
            let question = format!(
                "`{}`: step `{failed_step}` failed (attempt {attempt} of {}).\nrepeat the group, or abort?",
                step.name, group.max_attempts
            );
            match self
                .decide(step, question, &[Decision::Retry, Decision::Abort])
                .await
            {
                Ok(Decision::Retry) => continue,
                Err(NoDecision::Interrupted(_)) => {
                    return (Err(interrupted(&self.engine.options.interrupt)), attempt);
                }
                Err(NoDecision::Unavailable(reason)) => {
                    let failure = failure.map_message(|m| {
                        format!("{m}; no decision was available ({reason}), so the run stops")
                    });
                    return (Err(failure), attempt);
                }
                Ok(Decision::Abort | Decision::Skip) => {
                    let failure =
                        failure.map_message(|m| format!("{m}; the operator chose to abort"));
                    return (Err(failure), attempt);
                }
            }
        }
    }

    /// The group's `finally` steps, every one of them. Returns whether all passed.
    async fn run_group_finally(
        &mut self,
        group: &GroupStep,
        at: &Position,
        restorable: bool,
    ) -> bool {
        let mut passed = true;
        for (index, cleanup) in group.finally.iter().enumerate() {
            let cleanup_at = Position {
                phase: at.phase,
                depth: at.depth + 1,
                index: index + 1,
                total: group.finally.len(),
                cleanup: true,
            };
            let (report, _) = self.execute(cleanup, &cleanup_at, restorable).await;
            passed &= report.outcome != StepOutcome::Failed;
            self.reports.push(report);
        }
        passed
    }

    /// The group fails the way its step did (an assertion stays an assertion).
    fn group_failure(&self, failed_step: &str, attempt: u32, max_attempts: u32) -> StepError {
        let kind = self
            .reports
            .iter()
            .rev()
            .find(|report| report.id == failed_step)
            .and_then(|report| report.error.as_ref())
            .map_or(StepErrorKind::UnexpectedResult, |error| error.kind);
        StepError::new(
            kind,
            format!("step `{failed_step}` failed (attempt {attempt} of {max_attempts})"),
        )
    }
}
