//! What templates can see during a run: inputs, finished steps' outputs, referenced env vars.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::redact::Redactor;

/// The state of one step, as later templates see it.
#[derive(Debug, Clone)]
pub enum StepState {
    Completed(Map<String, Value>),
    Skipped,
    /// Failed; with what it produced before failing, when it produced anything.
    Failed(Option<Map<String, Value>>),
    /// Failed as a warning (`on_error: warn`); with what it produced before failing.
    Warned(Option<Map<String, Value>>),
    /// Interrupted in an earlier session and, by policy or the operator's choice, not re-run.
    NotRerun,
}

impl StepState {
    /// `{{steps.ID.outcome}}`. A step that was interrupted counts as failed; one resume did not
    /// re-run counts as skipped.
    pub fn outcome(&self) -> crate::report::StepOutcome {
        use crate::report::StepOutcome;
        match self {
            StepState::Completed(_) => StepOutcome::Passed,
            StepState::Skipped | StepState::NotRerun => StepOutcome::Skipped,
            StepState::Failed(_) => StepOutcome::Failed,
            StepState::Warned(_) => StepOutcome::Warned,
        }
    }
}

/// When a step last started and finished.
#[derive(Debug, Clone, Copy)]
pub struct StepTimes {
    pub started_at: jiff::Timestamp,
    pub finished_at: jiff::Timestamp,
}

/// Facts about the run, for `{{run.*}}` and audit records.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub id: String,
    pub actor: String,
    pub started_at: String,
    /// Set when the run has failed, before compensation, the failure path and finally run.
    pub failed_step: Option<String>,
    /// The failed step's message (already redacted).
    pub failure: Option<String>,
}

/// Everything a template may refer to, plus the secrets to redact.
#[derive(Debug, Default)]
pub struct RunContext {
    pub run: RunInfo,
    pub inputs: Map<String, Value>,
    pub steps: HashMap<String, StepState>,
    pub times: HashMap<String, StepTimes>,
    /// Outputs of steps completed before a resume that held a secret and were not journaled.
    pub withheld: std::collections::HashSet<(String, String)>,
    /// Outputs of steps completed before a resume that were too large to journal.
    pub too_large: std::collections::HashSet<(String, String)>,
    /// Outputs a later step's secret capture reads (the runbook's `secret_outputs`): masked whole
    /// and never journaled, from the moment they exist.
    pub tainted: std::collections::BTreeSet<(String, String)>,
    /// Only the variables the runbook references (`{{env.NAME}}`), read once at the start.
    pub env: HashMap<String, String>,
    pub redactor: Redactor,
}

/// A context plus, while a step checks its own result, that step's outputs.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub run: &'a RunContext,
    pub own: Option<&'a Map<String, Value>>,
    /// Secrets the step itself captured, not yet in the run's redactor (it gets them when the step
    /// ends): a function applied to one of them yields a secret too.
    pub own_secrets: Option<&'a Redactor>,
}

impl<'a> Scope<'a> {
    pub fn new(run: &'a RunContext) -> Self {
        Scope {
            run,
            own: None,
            own_secrets: None,
        }
    }

    pub fn with_own(run: &'a RunContext, own: &'a Map<String, Value>) -> Self {
        Scope {
            run,
            own: Some(own),
            own_secrets: None,
        }
    }

    /// A step's own outputs, and the secrets it captured in them.
    pub fn with_own_secrets(
        run: &'a RunContext,
        own: &'a Map<String, Value>,
        secrets: &'a Redactor,
    ) -> Self {
        Scope {
            run,
            own: Some(own),
            own_secrets: Some(secrets),
        }
    }
}
