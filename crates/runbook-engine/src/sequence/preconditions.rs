//! The runbook's preconditions ("maintenance window announced", "algos halted"), confirmed once by
//! the operator before the first step, so nothing happens until someone has said they hold.

use super::Run;
use crate::error::{StepError, StepErrorKind};
use crate::observer::RunEvent;
use crate::prompter::PromptContext;
use crate::report::PreconditionsRecord;
use crate::runner::PRECONDITIONS;
use crate::steps;

/// The confirmation, and why the run may not start when it was not given.
pub(crate) type Confirmed = (PreconditionsRecord, Option<StepError>);

impl Run<'_, '_> {
    /// Asks once (none when the runbook has no preconditions). A signal while asking counts as not
    /// confirmed, with kind `interrupted`.
    pub(crate) async fn confirm_preconditions(&mut self, items: &[String]) -> Option<Confirmed> {
        if items.is_empty() {
            return None;
        }
        let context = PromptContext {
            step_id: PRECONDITIONS.to_owned(),
            step_name: "Preconditions".to_owned(),
            occurrence: 1,
            redactor: self.context.redactor.clone(),
        };
        let list: Vec<String> = items.iter().map(|item| format!("  - {item}")).collect();
        let question = format!(
            "Before the first step, confirm that all of these hold:\n{}\nDo they all hold?",
            list.join("\n")
        );
        let asked = steps::prompt::ask(&self.engine.prompter, move |prompter| {
            prompter.confirm(&context, &question)
        });
        let interrupt = self.engine.options.interrupt.clone();
        let answer = tokio::select! {
            answer = asked => answer,
            _ = interrupt.wait() => Err(StepError::new(
                StepErrorKind::Interrupted,
                interrupt.describe(),
            )),
        };
        let error = match answer {
            Ok(true) => None,
            Ok(false) => Some(StepError::new(
                StepErrorKind::Declined,
                "the operator did not confirm the preconditions; nothing was done",
            )),
            Err(error) => Some(error.map_message(|message| {
                format!(
                    "the preconditions could not be confirmed ({}); nothing was done",
                    self.context.redactor.redact(message)
                )
            })),
        };
        let record = PreconditionsRecord {
            items: items.to_vec(),
            confirmed: error.is_none(),
            answered_by: self.engine.prompts.clone(),
            refusal: error.as_ref().map(|error| error.message.clone()),
        };
        self.observer.run_event(&RunEvent::Preconditions(&record));
        Some((record, error))
    }
}
