//! A failed main-phase step's `on_error` policy, and asking the operator when it says `ask`.

use runbook_dsl::{OnError, Step};

use super::Run;
use crate::context::StepState;
use crate::observer::Progress;
use crate::prompter::{Decision, PromptContext};
use crate::report::StepOutcome;
use crate::steps;

/// Why the operator's decision could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum NoDecision {
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) came while the question was open.
    #[error("{0}")]
    Interrupted(String),
    /// Nobody could answer (no terminal, no answers file, no decision in it); redacted.
    #[error("{0}")]
    Unavailable(String),
}

/// What follows a failed step.
pub(super) enum AfterFailure {
    /// Run it again (the operator chose to).
    Retry,
    /// Go on with the next step (`continue`, or the operator skipped it).
    Tolerate,
    /// The failure stops the list.
    Stop,
}

impl Run<'_, '_> {
    /// Applies the step's `on_error` to a failure whose (redacted) message is `message`.
    pub(super) async fn after_failure(&mut self, step: &Step, message: &str) -> AfterFailure {
        match step.on_error {
            OnError::Abort => AfterFailure::Stop,
            OnError::AbortRun => {
                self.fatal = true;
                AfterFailure::Stop
            }
            OnError::Continue => AfterFailure::Tolerate,
            // A failure `warn` applies to became a warning before it got here: this one could not
            // be (the journal could not be written, a step in doubt had no decision), so it stops.
            OnError::Warn => AfterFailure::Stop,
            OnError::Ask => {
                let question = format!(
                    "step `{}` failed: {message}\nretry it, skip it, or abort the run?",
                    step.name
                );
                let options = [Decision::Retry, Decision::Skip, Decision::Abort];
                match self.decide(step, question, &options).await {
                    Ok(Decision::Retry) => AfterFailure::Retry,
                    Ok(Decision::Skip) => {
                        self.skipped_by_operator(step);
                        AfterFailure::Tolerate
                    }
                    Ok(Decision::Abort) | Err(_) => AfterFailure::Stop,
                }
            }
        }
    }

    fn skipped_by_operator(&mut self, step: &Step) {
        let progress = Progress::SkippedByOperator;
        if let Some(last) = self.reports.last_mut() {
            last.outcome = StepOutcome::Skipped;
            last.note = Some(progress.to_string());
        }
        self.observer.step_progress(step, &progress);
        // Later references to its outputs must fail, not see stale values.
        self.context
            .steps
            .insert(step.id.clone(), StepState::Skipped);
    }

    /// Asks the operator; a prompt that cannot be answered counts as abort (`Err` says why).
    pub(super) async fn decide(
        &mut self,
        step: &Step,
        question: String,
        options: &[Decision],
    ) -> Result<Decision, NoDecision> {
        let context = PromptContext {
            step_id: step.id.clone(),
            step_name: step.name.clone(),
            occurrence: 1,
            redactor: self.context.redactor.clone(),
        };
        let options = options.to_vec();
        let decision = steps::prompt::ask(&self.engine.prompter, move |prompter| {
            prompter.decide(&context, &question, &options)
        });
        let interrupt = self.engine.options.interrupt.clone();
        tokio::select! {
            decision = decision => match decision {
                Ok(decision) => {
                    self.observer.decision(step, decision);
                    Ok(decision)
                }
                Err(error) => {
                    let reason = self.context.redactor.redact(&error.message);
                    let progress = Progress::NoDecision { reason: reason.clone() };
                    self.observer.step_progress(step, &progress);
                    Err(NoDecision::Unavailable(reason))
                }
            },
            _ = interrupt.wait() => Err(NoDecision::Interrupted(interrupt.describe())),
        }
    }
}
