//! Why a step failed, as data: the kind picks the exit code, the message is for the operator.

use std::fmt;

/// Classes of step failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepErrorKind {
    /// A condition (`assert` step or a step's `assert`) did not hold.
    Assertion,
    /// An HTTP status or exit code other than the expected ones.
    UnexpectedResult,
    /// The step did not finish within its timeout.
    Timeout,
    /// The request could not be sent or the response not read (connection refused, TLS, DNS,
    /// redirect to another origin, response too large).
    Transport,
    /// The command could not be started.
    Process,
    /// A template referred to something that has no value at run time (a skipped step, a missing
    /// environment variable, a null).
    Render,
    /// A capture found nothing, or the body was not the JSON the capture needs.
    Capture,
    /// The operator declined a confirmation, mistyped the phrase, or chose to abort.
    Declined,
    /// A prompt could not be answered (no terminal and no answer in the answers file).
    Prompt,
    /// Ctrl-C: the step was cancelled.
    Interrupted,
    /// A `stop` step ended the run with its message.
    Stopped,
}

/// A step failure. The message has already been redacted.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize)]
pub struct StepError {
    pub kind: StepErrorKind,
    pub message: String,
    /// The HTTP status, when the failure was an unexpected one (retry decisions use it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the server asked us to wait (`Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<std::time::Duration>,
    /// What the step did produce before it failed (an HTTP status and body, an exit code and
    /// output), so the failure path can refer to it.
    #[serde(skip)]
    pub outputs: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    /// The conditions that did not hold, as data (an assertion failure).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<crate::predicate::ConditionFailure>,
    /// Where in the runbook the failure points: the condition, capture or template.
    #[serde(skip)]
    pub span: Option<runbook_dsl::source::Span>,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StepError {
    pub fn new(kind: StepErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
            outputs: None,
            conditions: Vec::new(),
            span: None,
        }
    }

    /// The same failure, pointing at `span` in the runbook (unless it points somewhere already).
    pub fn at(mut self, span: runbook_dsl::source::Span) -> Self {
        if self.span.is_none() && span != runbook_dsl::source::Span::UNKNOWN {
            self.span = Some(span);
        }
        self
    }

    /// The same failure, carrying the outputs the step produced before failing.
    pub fn with_outputs(mut self, outputs: serde_json::Map<String, serde_json::Value>) -> Self {
        self.outputs = Some(Box::new(outputs));
        self
    }

    /// The same failure with its message passed through `edit` (used for redaction).
    pub fn map_message(mut self, edit: impl FnOnce(&str) -> String) -> Self {
        self.message = edit(&self.message);
        self
    }
}
