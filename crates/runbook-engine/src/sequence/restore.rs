//! What a resumed run takes back from the journal: completed steps (their outputs, times and
//! compensation; secret answers asked again), and the decision about steps left in doubt.

use serde_json::Value;

use serde_json::Map;

use runbook_dsl::{GroupStep, ResumePolicy, Step};

use super::Run;
use super::execute::Executed;
use crate::context::{StepState, StepTimes};
use crate::error::{StepError, StepErrorKind};
use crate::observer::Position;
use crate::prompter::{Decision, PromptContext};
use crate::report::{StepOutcome, StepReport};
use crate::resume::CompletedStep;
use crate::steps;

impl Run<'_, '_> {
    /// A step completed in an earlier session: its outputs and times come back from the journal; it
    /// does not run again. Secret answers of a prompt are asked again (the journal never had them).
    pub(super) async fn restore(
        &mut self,
        step: &Step,
        at: &Position,
        done: CompletedStep,
        mut report: StepReport,
    ) -> Executed {
        let (outputs, withheld) = match self.ask_withheld_again(step, &done).await {
            Ok(restored) => restored,
            Err(error) => {
                return self.failed(step, at, report, error, self.engine.options.clock.moment());
            }
        };
        self.restore_state(&step.id, &withheld, &done);
        report.started_at = done.started_at;
        report.finished_at = done.finished_at;
        if let Some(group) = step.kind.group() {
            // The phase started in the earlier session: its undo is armed before what its steps
            // registered, as it was then.
            self.compensations.register_undo(step, group);
            if let Err(error) = self.restore_quietly(group).await {
                return self.failed(step, at, report, error, self.engine.options.clock.moment());
            }
        }
        // What the earlier session withheld stays withheld: an answer asked again is a secret too,
        // and an output the journal never had must not be recorded as if it were its mask.
        report.secret_outputs = done.withheld.clone();
        report.large_outputs = done.too_large.clone();
        self.show_outputs(&mut report, &outputs, &[]);
        report.outcome = if done.skipped {
            self.context
                .steps
                .insert(step.id.clone(), StepState::Skipped);
            StepOutcome::Skipped
        } else if done.warned {
            self.context
                .steps
                .insert(step.id.clone(), StepState::Warned(Some(outputs)));
            StepOutcome::Warned
        } else {
            self.context
                .steps
                .insert(step.id.clone(), StepState::Completed(outputs));
            StepOutcome::Passed
        };
        report.restored = true;
        report.note = Some("completed before the run was interrupted; not repeated".into());
        self.observer.step_finished(step, at, &report);
        (report, None)
    }

    /// A secret answer of a restored prompt, asked again with the answer set of the run being
    /// restored (not a new one).
    async fn ask_again(
        &mut self,
        step: &Step,
        answer: &runbook_dsl::Answer,
    ) -> Result<String, StepError> {
        let context = PromptContext {
            step_id: step.id.clone(),
            step_name: format!("{} (again: the journal keeps no secrets)", step.name),
            occurrence: self
                .prompt_counts
                .get(&step.id)
                .copied()
                .unwrap_or(1)
                .max(1),
            redactor: self.context.redactor.clone(),
        };
        let spec = answer.clone();
        steps::prompt::ask(&self.engine.prompter, move |prompter| {
            let rules = spec.clone();
            prompter.answer(&context, &spec, &move |text: &str| {
                steps::prompt::validate(&rules, text)
            })
        })
        .await
    }

    /// A restored step's outputs and the names still withheld: a prompt's secret answers are asked
    /// again (the journal never had them).
    async fn ask_withheld_again(
        &mut self,
        step: &Step,
        done: &CompletedStep,
    ) -> Result<(Map<String, Value>, Vec<String>), StepError> {
        let mut outputs = done.outputs.clone();
        let mut withheld = done.withheld.clone();
        if let Some(prompt) = step.kind.prompt() {
            for answer in prompt
                .answers
                .iter()
                .filter(|a| done.withheld.contains(&a.name))
            {
                let text = self.ask_again(step, answer).await?;
                self.context.redactor.add(&text);
                outputs.insert(answer.name.clone(), Value::String(text));
                withheld.retain(|name| *name != answer.name);
            }
        }
        Ok((outputs, withheld))
    }

    /// Puts the journaled state of a completed group's steps (at any depth) back, without reports.
    async fn restore_quietly(&mut self, group: &GroupStep) -> Result<(), StepError> {
        let Some(plan) = self.engine.options.resume.as_ref() else {
            return Ok(());
        };
        for step in steps_within(group) {
            let Some(done) = plan.completed.get(&step.id) else {
                continue;
            };
            let (outputs, withheld) = self.ask_withheld_again(step, done).await?;
            let state = if done.skipped {
                StepState::Skipped
            } else if done.warned {
                StepState::Warned(Some(outputs))
            } else {
                StepState::Completed(outputs)
            };
            self.context.steps.insert(step.id.clone(), state);
            self.restore_state(&step.id, &withheld, done);
            self.resume_visited.insert(step.id.clone());
            // What it did still needs undoing if the run fails later.
            if let Some(inner) = step.kind.group() {
                self.compensations.register_undo(step, inner);
            }
            if !done.skipped && !done.warned {
                self.step_passed(step);
            }
        }
        Ok(())
    }

    /// Puts a completed step's withheld outputs and times back into the context.
    fn restore_state(&mut self, step_id: &str, withheld: &[String], done: &CompletedStep) {
        for name in withheld {
            self.context
                .withheld
                .insert((step_id.to_owned(), name.clone()));
        }
        for name in &done.too_large {
            self.context
                .too_large
                .insert((step_id.to_owned(), name.clone()));
        }
        if let (Some(started_at), Some(finished_at)) = (done.started_at, done.finished_at) {
            self.context.times.insert(
                step_id.to_owned(),
                StepTimes {
                    started_at,
                    finished_at,
                },
            );
        }
    }

    /// Whether the plan says this step started in an earlier session and never finished. A group is
    /// never in doubt itself: its steps are.
    pub(super) fn in_doubt_in_plan(&self, step: &Step) -> bool {
        step.kind.action().is_some()
            && self
                .engine
                .options
                .resume
                .as_ref()
                .is_some_and(|plan| plan.in_doubt.contains(&step.id))
    }

    /// A step left in doubt that is not run again: its effect and outputs are unknown.
    pub(super) fn not_rerun(
        &mut self,
        step: &Step,
        at: &Position,
        mut report: StepReport,
    ) -> Executed {
        self.context
            .steps
            .insert(step.id.clone(), StepState::NotRerun);
        report.outcome = StepOutcome::Skipped;
        report.note = Some(
            "interrupted in the earlier session and not re-run; its effect and outputs are unknown"
                .into(),
        );
        self.observer.step_finished(step, at, &report);
        (report, None)
    }

    /// A step that was running when the earlier session ended: re-run it or not, by its policy or
    /// the operator's choice. `Ok(true)` means re-run.
    pub(super) async fn in_doubt(&mut self, step: &Step) -> Result<bool, StepError> {
        if let Some(dir) = &self.engine.options.process_dir
            && let Some(pgid) = crate::processes::still_running(dir, &step.id)
        {
            return Err(StepError::new(
                StepErrorKind::Process,
                format!(
                    "the command of step `{}` from the earlier session is still running (process \
                     group {pgid}); starting it again could do its work twice. Wait for it to \
                     finish (or stop it: kill -- -{pgid}), then resume again",
                    step.id
                ),
            ));
        }
        match step.resume {
            ResumePolicy::Rerun => Ok(true),
            ResumePolicy::Never => Ok(false),
            ResumePolicy::Ask => {
                let question = format!(
                    "step `{}` was running when the earlier session ended; whether it took effect is \
                     unknown.\nre-run it, skip it (treat it as done), or abort?",
                    step.name
                );
                let options = [Decision::Retry, Decision::Skip, Decision::Abort];
                match self.decide(step, question, &options).await {
                    Ok(Decision::Retry) => Ok(true),
                    Ok(Decision::Skip) => Ok(false),
                    Err(reason) => Err(StepError::new(
                        StepErrorKind::Prompt,
                        format!("no decision about the interrupted step was available: {reason}"),
                    )),
                    Ok(Decision::Abort) => Err(StepError::new(
                        StepErrorKind::Declined,
                        "the operator chose to abort rather than decide about the interrupted step",
                    )),
                }
            }
        }
    }
}

/// A group's steps and `finally` steps at any depth, in the order they run.
fn steps_within(group: &GroupStep) -> Vec<&Step> {
    let mut out = Vec::new();
    let mut pending: Vec<&Step> = group.steps.iter().chain(&group.finally).rev().collect();
    while let Some(step) = pending.pop() {
        out.push(step);
        if let Some(inner) = step.kind.group() {
            pending.extend(inner.steps.iter().chain(&inner.finally).rev());
        }
    }
    out
}
