use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    RawAudit, RawCondition, RawGroup, RawHttp, RawNote, RawPlugin, RawPoll, RawPrompt, RawRetry,
    RawShell, RawStop,
};
use crate::Spanned;

// The step kinds and conditions are boxed: unboxed, a step was 6.2 KB, and the deserializer moves
// each value a few times on its way into its parent (memcpy was an eighth of lint's instructions).
// A step holds one kind, so the boxes cost one allocation each and save copying the others.

/// One step. Exactly one step kind key (`http`, `shell`, `assert`, `prompt`, `group`, `audit`,
/// `plugin`, `note`, `stop`, `use`) says what it does; the other keys say how it runs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Unique id: lowercase letters, digits and `_`, starting with a letter. Later steps refer to this
    /// step's outputs as `{{steps.ID.outputs.NAME}}`.
    pub id: Spanned<String>,
    /// Human name shown in progress and reports; defaults to the id.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Longer explanation for the operator.
    #[serde(default)]
    pub description: Option<String>,
    /// Run the step only when this condition holds; otherwise it is skipped.
    #[serde(default)]
    pub when: Option<Box<Spanned<RawCondition>>>,
    /// Upper bound on one attempt of the step, e.g. `500ms`, `30s`, `2m`. Defaults: http 30s, shell 5m.
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    /// Make an HTTP request.
    #[serde(default)]
    pub http: Option<Box<Spanned<RawHttp>>>,
    /// Run a command with `sh -c`.
    #[serde(default)]
    pub shell: Option<Box<Spanned<RawShell>>>,
    /// Check conditions; the step fails with their messages when one does not hold.
    #[serde(default)]
    pub assert: Option<Spanned<Vec<Spanned<RawCondition>>>>,
    /// Ask the operator: instructions, a confirmation, a typed phrase, answers.
    #[serde(default)]
    pub prompt: Option<Box<Spanned<RawPrompt>>>,
    /// A group of steps with its own `finally`, optionally repeated under operator control.
    #[serde(default)]
    pub group: Option<Box<Spanned<RawGroup>>>,
    /// Write a structured event to the audit log.
    #[serde(default)]
    pub audit: Option<Box<Spanned<RawAudit>>>,
    /// Run an action of a linked plugin.
    #[serde(default)]
    pub plugin: Option<Box<Spanned<RawPlugin>>>,
    /// Tell the operator something (shown and recorded, secrets masked); it cannot fail the run.
    #[serde(default)]
    pub note: Option<Spanned<RawNote>>,
    /// End the run as failed with a message, e.g. `STOP: wrong environment`; compensation, the
    /// failure path and `finally` then run.
    #[serde(default)]
    pub stop: Option<Spanned<RawStop>>,
    /// Run the steps of a fragment file, a path relative to this file (e.g.
    /// `fragments/pause-trading.fragment.yaml`), with the arguments in `with:`.
    #[serde(default, rename = "use")]
    pub use_fragment: Option<Spanned<String>>,
    /// Arguments of a `use:` step: one per fragment parameter, each a literal or one
    /// `{{reference}}`.
    #[serde(default, rename = "with")]
    pub with: Option<Spanned<IndexMap<String, Spanned<serde_json::Value>>>>,
    /// Repeat this http or shell step until the condition holds (a wait). `{{outputs.NAME}}` refers
    /// to the latest attempt's outputs. Needs `poll`.
    #[serde(default)]
    pub until: Option<Box<Spanned<RawCondition>>>,
    /// How often and how long to repeat a step that has `until`.
    #[serde(default)]
    pub poll: Option<Box<Spanned<RawPoll>>>,
    /// Retry an http or shell step on transient failures.
    #[serde(default)]
    pub retry: Option<Box<Spanned<RawRetry>>>,
    /// What a failure of this step does: `abort` (default), `continue`, `warn` (the step's outcome
    /// is `warned` and the run goes on, ending `succeeded_with_warnings`), or `ask` the operator
    /// (retry / skip / abort).
    #[serde(default)]
    pub on_error: Option<Spanned<OnError>>,
    /// Compensating steps, registered when this step succeeds and run (newest first) if a later step
    /// fails.
    #[serde(default, deserialize_with = "crate::yaml::recover::steps")]
    pub rollback: Vec<Spanned<RawStep>>,
    /// The point of no return: once this step has run, what it did cannot be undone. Shown in progress
    /// and in the failure summary.
    #[serde(default)]
    pub irreversible: bool,
    /// The commit point: once this step passes, every registered compensation (rollbacks and phase
    /// undos) is disarmed; a later failure runs only `on_failure` and `finally`.
    #[serde(default)]
    pub commit: Option<Spanned<bool>>,
    /// What `runbook resume` does if this step was started but is not known to have finished:
    /// `rerun` (safe to repeat, e.g. a GET), `ask` the operator, or `never` re-run it (continue as if
    /// it had run; its outputs are then unavailable). Default: `rerun` for GET/HEAD requests, asserts
    /// and audit events, `ask` for everything else.
    #[serde(default)]
    pub resume: Option<Spanned<ResumePolicy>>,
}

/// What resume does with a step that was interrupted mid-way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResumePolicy {
    Rerun,
    Ask,
    Never,
}

/// What a step failure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop the run: compensation, the failure path and `finally` run.
    Abort,
    /// Record the failure and go on with the next step.
    Continue,
    /// Record the failure as a warning (outcome `warned`) and go on; the run ends
    /// `succeeded_with_warnings` (exit code 8) if nothing else fails.
    Warn,
    /// Ask the operator: retry the step, skip it, or abort.
    Ask,
    /// Stop the whole run, even inside a repeat group (no repeat is offered): for failures that
    /// must end the procedure, such as a key from the wrong environment.
    #[serde(rename = "abort_run")]
    AbortRun,
}

impl RawStep {
    /// Names of the step-kind keys present, for the exactly-one check.
    pub fn kind_keys(&self) -> Vec<&'static str> {
        let present = [
            ("http", self.http.is_some()),
            ("shell", self.shell.is_some()),
            ("assert", self.assert.is_some()),
            ("prompt", self.prompt.is_some()),
            ("group", self.group.is_some()),
            ("audit", self.audit.is_some()),
            ("plugin", self.plugin.is_some()),
            ("note", self.note.is_some()),
            ("stop", self.stop.is_some()),
            ("use", self.use_fragment.is_some()),
        ];
        present
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(name, _)| name)
            .collect()
    }
}
