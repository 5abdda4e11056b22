//! Findings: what lint and load report, each with a code, a span and, where we can, help.

use crate::source::Span;

/// How bad a finding is. Errors make `lint` fail and stop `run` before any step starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Every kind of finding, with a stable code documented in `docs/diagnostics.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingCode {
    /// The file is not valid YAML (or is too deep, too large, or uses too many aliases).
    YamlSyntax,
    /// A mapping key appears twice.
    DuplicateKey,
    /// A field that the DSL does not have.
    UnknownField,
    /// A value of the wrong type or shape, or a required field missing.
    InvalidValue,
    /// A runbook `id` that is not lowercase letters, digits, `-` and `_`.
    InvalidRunbookId,
    /// An http `url` that is neither absolute (`http://`, `https://`) nor starts with a reference.
    RelativeUrl,
    /// `until` without `poll`: a wait must say how often and for how long.
    UntilWithoutPoll,
    /// `poll` without `until`: a wait must say what ends it.
    PollWithoutUntil,
    /// `until` or `retry` on a step kind that cannot be repeated (anything but http and shell).
    NotRepeatable,
    /// `retry.attempts: 0` or `repeat.max_attempts: 0`: the count includes the first attempt.
    ZeroAttempts,
    /// A `retry.on` entry that is not a failure class (`transport`, `timeout`, `4xx`, `5xx`,
    /// `exit`) nor a status code.
    UnknownRetryClass,
    /// A `poll.backoff` or `retry.backoff` factor outside 1 to 10.
    BackoffOutOfRange,
    /// A group with no steps.
    EmptyGroup,
    /// A `rollback` inside a rollback step.
    NestedRollback,
    /// A prompt with no `instructions`, `confirm`, `phrase` or `answers`.
    EmptyPrompt,
    /// A prompt step in a runbook whose `mode` is `automatic`.
    PromptInAutomaticRunbook,
    /// A prompt answer whose name is not an identifier, or is `confirmed` (the output of
    /// `confirm`).
    InvalidAnswerName,
    /// An answer's `choices` that are empty, or given for a secret answer.
    InvalidChoices,
    /// An audit duration's end that is not `STEP_ID.started` or `STEP_ID.finished`.
    InvalidStepEvent,
    /// A `shell.files` key that is not an environment variable name (uppercase, digits, `_`).
    InvalidFileVariable,
    /// Two steps share an id.
    DuplicateStepId,
    /// A step id that is not lowercase letters, digits and `_`.
    InvalidStepId,
    /// A step with no step kind, or with more than one.
    StepKind,
    /// A reference to an input that is not declared.
    UnknownInput,
    /// A reference to a step id that does not exist.
    UnknownStep,
    /// A reference to a step that runs later (or is the step itself).
    StepNotYetRun,
    /// A reference to an output the step does not produce.
    UnknownOutput,
    /// A reference whose first name is not `inputs`, `steps`, `env` or `outputs`.
    UnknownReference,
    /// Template syntax error.
    InvalidTemplate,
    /// Template syntax that runbooks do not allow (helpers, blocks, triple braces).
    UnsupportedTemplate,
    /// A JSONPath that does not parse.
    InvalidJsonPath,
    /// A regular expression that does not compile.
    InvalidRegex,
    /// A duration that does not parse (`500ms`, `30s`, `2m`).
    InvalidDuration,
    /// An unsupported HTTP method.
    InvalidMethod,
    /// A capture that names no source, two sources, or one the step kind lacks.
    InvalidCapture,
    /// A condition with no operator, several operators, or no `that`.
    InvalidCondition,
    /// An input whose default does not match its type, or a secret with a default.
    InvalidInput,
    /// A status code outside 100..=599.
    InvalidStatus,
    /// A template reference inside single quotes or a quoted here-document (`<<'EOF'`) in a shell
    /// command: it would not expand.
    QuotedShellReference,
    /// A warning: a secret (a secret input, answer or capture) in a prompt's `instructions`,
    /// `confirm` or `phrase`. It is shown masked, so the operator cannot read it.
    SecretInPrompt,
    /// A warning: a template reference in a shell command reaches a command that parses its
    /// arguments as shell code again (`eval`, `sh -c`, `su -c`, `ssh HOST ...`), so the value is
    /// shell syntax after all.
    ReparsedShellReference,
    /// A warning: a secret (or a value derived from one) in a shell `command`: it reaches the
    /// argv of the programs the command starts, which `ps` shows to every user of the machine.
    SecretInCommand,
    /// A warning: a secret in an http step's URL (its query string above all) or `query:`: URLs
    /// are written to server, proxy and browser-history logs.
    SecretInUrl,
    /// A warning: a secret sent in the URL, a header or the body of a plain `http://` request to
    /// a host that is not loopback: anyone on the path can read it.
    SecretOverPlainHttp,
    /// A warning: an `irreversible` step that is not preceded, on every path, by a prompt with
    /// `confirm` or `phrase`.
    IrreversibleWithoutConfirmation,
    /// A warning: a wait (`until` + `poll`) or a `retry` that can take longer than three times
    /// the runbook's `average_duration` (or whose length cannot be known before the run).
    LongWait,
    /// A warning: an `operator-assisted` runbook whose first side effect (shell, plugin, or an
    /// http request that is not GET, HEAD or OPTIONS) comes before any prompt.
    SideEffectBeforePrompt,
    /// A warning: a `when` or an assertion reads an output that may not exist (its step may have
    /// been skipped, failed with `on_error: continue`, or not run before a failure path).
    OutputMayNotExist,
    /// A warning: an input that nothing refers to.
    UnusedInput,
    /// A warning: a capture that nothing refers to.
    UnusedCapture,
    /// A warning: a step that can never run (after a step that always stops the run, or with a
    /// `when` that is always false).
    UnreachableStep,
    /// A warning: a `rollback` that can never run (on the last step of the run, or in a failure
    /// path or `finally`, where compensation is never registered).
    RollbackNeverRuns,
    /// A warning: `on_error: continue` on a step whose outputs later steps use.
    ContinueOnNeededStep,
    /// A plugin action that no linked plugin offers, or parameters it does not take or needs.
    UnknownPlugin,
    /// Both `json` and `text` bodies on one request.
    BodyConflict,
    /// A rehearsal names a step its runbook does not have (or answers a step that is not a
    /// prompt).
    RehearsalUnknownStep,
    /// A rehearsal names an input, state value, request field or capture that does not exist.
    RehearsalUnknownName,
    /// A rehearsal value of the wrong shape: a host, path or argument pattern, a fault, a
    /// scenario name used twice.
    RehearsalInvalid,
    /// A runbook step would reach a host or start a program that the rehearsal does not
    /// simulate.
    RehearsalEscape,
}

impl FindingCode {
    /// The stable code shown in diagnostics, e.g. `runbook::check::unknown_step`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::YamlSyntax => "runbook::load::yaml_syntax",
            FindingCode::DuplicateKey => "runbook::load::duplicate_key",
            FindingCode::UnknownField => "runbook::load::unknown_field",
            FindingCode::InvalidValue => "runbook::load::invalid_value",
            FindingCode::InvalidRunbookId => "runbook::check::invalid_runbook_id",
            FindingCode::RelativeUrl => "runbook::check::relative_url",
            FindingCode::UntilWithoutPoll => "runbook::check::until_without_poll",
            FindingCode::PollWithoutUntil => "runbook::check::poll_without_until",
            FindingCode::NotRepeatable => "runbook::check::not_repeatable",
            FindingCode::ZeroAttempts => "runbook::check::zero_attempts",
            FindingCode::UnknownRetryClass => "runbook::check::unknown_retry_class",
            FindingCode::BackoffOutOfRange => "runbook::check::backoff_out_of_range",
            FindingCode::EmptyGroup => "runbook::check::empty_group",
            FindingCode::NestedRollback => "runbook::check::nested_rollback",
            FindingCode::EmptyPrompt => "runbook::check::empty_prompt",
            FindingCode::PromptInAutomaticRunbook => "runbook::check::prompt_in_automatic_runbook",
            FindingCode::InvalidAnswerName => "runbook::check::invalid_answer_name",
            FindingCode::InvalidChoices => "runbook::check::invalid_choices",
            FindingCode::InvalidStepEvent => "runbook::check::invalid_step_event",
            FindingCode::InvalidFileVariable => "runbook::check::invalid_file_variable",
            FindingCode::DuplicateStepId => "runbook::check::duplicate_step_id",
            FindingCode::InvalidStepId => "runbook::check::invalid_step_id",
            FindingCode::StepKind => "runbook::check::step_kind",
            FindingCode::UnknownInput => "runbook::check::unknown_input",
            FindingCode::UnknownStep => "runbook::check::unknown_step",
            FindingCode::StepNotYetRun => "runbook::check::step_not_yet_run",
            FindingCode::UnknownOutput => "runbook::check::unknown_output",
            FindingCode::UnknownReference => "runbook::check::unknown_reference",
            FindingCode::InvalidTemplate => "runbook::check::invalid_template",
            FindingCode::UnsupportedTemplate => "runbook::check::unsupported_template",
            FindingCode::InvalidJsonPath => "runbook::check::invalid_jsonpath",
            FindingCode::InvalidRegex => "runbook::check::invalid_regex",
            FindingCode::InvalidDuration => "runbook::check::invalid_duration",
            FindingCode::InvalidMethod => "runbook::check::invalid_method",
            FindingCode::InvalidCapture => "runbook::check::invalid_capture",
            FindingCode::InvalidCondition => "runbook::check::invalid_condition",
            FindingCode::InvalidInput => "runbook::check::invalid_input",
            FindingCode::InvalidStatus => "runbook::check::invalid_status",
            FindingCode::QuotedShellReference => "runbook::check::quoted_shell_reference",
            FindingCode::SecretInPrompt => "runbook::check::secret_in_prompt",
            FindingCode::ReparsedShellReference => "runbook::check::reparsed_shell_reference",
            FindingCode::BodyConflict => "runbook::check::body_conflict",
            FindingCode::SecretInCommand => "runbook::check::secret_in_command",
            FindingCode::SecretInUrl => "runbook::check::secret_in_url",
            FindingCode::SecretOverPlainHttp => "runbook::check::secret_over_plain_http",
            FindingCode::IrreversibleWithoutConfirmation => {
                "runbook::check::irreversible_without_confirmation"
            }
            FindingCode::LongWait => "runbook::check::long_wait",
            FindingCode::SideEffectBeforePrompt => "runbook::check::side_effect_before_prompt",
            FindingCode::OutputMayNotExist => "runbook::check::output_may_not_exist",
            FindingCode::UnusedInput => "runbook::check::unused_input",
            FindingCode::UnusedCapture => "runbook::check::unused_capture",
            FindingCode::UnreachableStep => "runbook::check::unreachable_step",
            FindingCode::RollbackNeverRuns => "runbook::check::rollback_never_runs",
            FindingCode::ContinueOnNeededStep => "runbook::check::continue_on_needed_step",
            FindingCode::UnknownPlugin => "runbook::check::unknown_plugin",
            FindingCode::RehearsalUnknownStep => "runbook::rehearsal::unknown_step",
            FindingCode::RehearsalUnknownName => "runbook::rehearsal::unknown_name",
            FindingCode::RehearsalInvalid => "runbook::rehearsal::invalid",
            FindingCode::RehearsalEscape => "runbook::rehearsal::escape",
        }
    }
}

/// One problem in a runbook file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where: the field or value at fault.
    pub span: Span,
    /// Short text under the caret.
    pub label: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Finding {
    pub fn error(code: FindingCode, span: Span, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    /// A finding that does not stop the runbook from running.
    pub fn warning(code: FindingCode, span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, span, message)
        }
    }

    pub fn is_error(&self) -> bool {
        match self.severity {
            Severity::Error => true,
            Severity::Warning => false,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" when a close candidate exists.
    pub fn with_suggestion(self, suggestion: Option<&str>) -> Self {
        match suggestion {
            Some(candidate) => self.with_help(format!("did you mean `{candidate}`?")),
            None => self,
        }
    }
}
