//! Findings: what lint and load report, each with a code, a span and, where we can, help.
//!
//! The rule catalog lives here, in one [`rules!`] invocation: every [`FindingCode`] with its stable
//! code, short name, default severity and one-line summary. The enum, [`FindingCode::ALL`] and every
//! accessor are generated from it, so adding a rule is one entry (plus its section in
//! `docs/lint-rules.md`, which a test checks against [`FindingCode::ALL`]).

use std::sync::Arc;

use crate::source::{Source, Span};

/// How bad a finding is. Errors make `lint` fail and stop `run` before any step starts; warnings
/// are shown and fail `lint` only with `--deny warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Which pass reports a rule: the first part of its code after `runbook::`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Loading: YAML syntax, shapes and types. A file with a load error has no runbook to check.
    Load,
    /// The check pass: meaning (references, templates, values, safety).
    Check,
    /// Lint's own bookkeeping: suppression comments.
    Lint,
    /// A rehearsal file, checked against its runbook.
    Rehearsal,
}

/// Generates [`FindingCode`] and its catalog from one table. Each entry:
/// `Variant => stage name, Severity, "summary";` with the variant's doc comment above it.
macro_rules! rules {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident => $stage:ident $name:ident, $severity:ident, $summary:literal;
    )+) => {
        /// Every kind of finding, with a stable code documented in `docs/lint-rules.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FindingCode {
            $($(#[doc = $doc])* $variant,)+
        }

        impl FindingCode {
            /// Every rule, in catalog order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)+];

            /// The stable code shown in diagnostics, e.g. `runbook::check::unknown_step`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => concat!(
                        "runbook::", stringify!($stage), "::", stringify!($name)
                    ),)+
                }
            }

            /// The short name, e.g. `unknown_step`: what suppressions and `--explain` take.
            pub fn name(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => stringify!($name),)+
                }
            }

            /// The severity this rule reports with.
            pub fn default_severity(self) -> Severity {
                match self {
                    $(FindingCode::$variant => Severity::$severity,)+
                }
            }

            /// What the rule catches, in a few words.
            pub fn summary(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $summary,)+
                }
            }

            /// The pass that reports it.
            pub fn stage(self) -> Stage {
                match self {
                    $(FindingCode::$variant => rules!(@stage $stage),)+
                }
            }
        }
    };
    (@stage load) => { Stage::Load };
    (@stage check) => { Stage::Check };
    (@stage lint) => { Stage::Lint };
    (@stage rehearsal) => { Stage::Rehearsal };
}

rules! {
    /// The file is not valid YAML (or is too deep, too large, or uses too many aliases).
    YamlSyntax => load yaml_syntax, Error, "not valid YAML, or over a budget";
    /// A mapping key appears twice.
    DuplicateKey => load duplicate_key, Error, "a key appears twice in a mapping";
    /// A field that the DSL does not have.
    UnknownField => load unknown_field, Error, "a field the DSL does not have";
    /// A value of the wrong type or shape, or a required field missing.
    InvalidValue => load invalid_value, Error, "wrong type, shape or value; a required field missing";
    /// A runbook `id` that is not lowercase letters, digits, `-` and `_`.
    InvalidRunbookId => check invalid_runbook_id, Error, "the runbook `id` is not an identifier";
    /// An http `url` that is neither absolute (`http://`, `https://`) nor starts with a reference.
    RelativeUrl => check relative_url, Error, "an http `url` that is not absolute";
    /// `until` without `poll`: a wait must say how often and for how long.
    UntilWithoutPoll => check until_without_poll, Error, "`until` with no `poll`: a wait must say how often and how long";
    /// `poll` without `until`: a wait must say what ends it.
    PollWithoutUntil => check poll_without_until, Error, "`poll` with no `until`: a wait must say what ends it";
    /// `until` or `retry` on a step kind that cannot be repeated (anything but http and shell).
    NotRepeatable => check not_repeatable, Error, "`until` or `retry` on a step that cannot repeat";
    /// `retry.attempts: 0` or `repeat.max_attempts: 0`: the count includes the first attempt.
    ZeroAttempts => check zero_attempts, Error, "`attempts: 0` or `max_attempts: 0` (the count includes the first try)";
    /// A `retry.on` entry that is not a failure class (`transport`, `timeout`, `4xx`, `5xx`,
    /// `exit`) nor a status code.
    UnknownRetryClass => check unknown_retry_class, Error, "a `retry.on` entry that is not a failure class";
    /// A `poll.backoff` or `retry.backoff` factor outside 1 to 10.
    BackoffOutOfRange => check backoff_out_of_range, Error, "a backoff factor outside 1–10";
    /// A group with no steps.
    EmptyGroup => check empty_group, Error, "a group with no steps";
    /// A `rollback` inside a rollback step.
    NestedRollback => check nested_rollback, Error, "a `rollback` inside a rollback step";
    /// A prompt with no `instructions`, `confirm`, `phrase` or `answers`.
    EmptyPrompt => check empty_prompt, Error, "a prompt that asks nothing";
    /// A prompt step in a runbook whose `mode` is `automatic`.
    PromptInAutomaticRunbook => check prompt_in_automatic_runbook, Error, "a prompt in an `automatic` runbook";
    /// A prompt answer whose name is not an identifier, or is `confirmed` (the output of
    /// `confirm`).
    InvalidAnswerName => check invalid_answer_name, Error, "an answer name that is not an identifier, or `confirmed`";
    /// An answer's `choices` that are empty, or given for a secret answer.
    InvalidChoices => check invalid_choices, Error, "empty `choices`, or `choices` on a secret answer";
    /// An audit duration's end that is not `STEP_ID.started` or `STEP_ID.finished`.
    InvalidStepEvent => check invalid_step_event, Error, "an audit duration end that is not a step event";
    /// A `shell.files` key that is not an environment variable name (uppercase, digits, `_`).
    InvalidFileVariable => check invalid_file_variable, Error, "a `shell.files` name that is not an environment variable";
    /// Two steps share an id.
    DuplicateStepId => check duplicate_step_id, Error, "two steps share an id";
    /// A step id that is not lowercase letters, digits and `_`.
    InvalidStepId => check invalid_step_id, Error, "a step id that is not an identifier";
    /// A step with no step kind, or with more than one.
    StepKind => check step_kind, Error, "a step with no kind, or several";
    /// A reference to an input that is not declared.
    UnknownInput => check unknown_input, Error, "a reference to an input that is not declared";
    /// A reference to a step id that does not exist.
    UnknownStep => check unknown_step, Error, "a reference to a step id that does not exist";
    /// A reference to a step that runs later (or is the step itself).
    StepNotYetRun => check step_not_yet_run, Error, "a reference to a step that runs later, or to the step itself";
    /// A reference to an output the step does not produce.
    UnknownOutput => check unknown_output, Error, "a reference to an output the step does not produce";
    /// A reference whose first name is not `inputs`, `steps`, `env` or `outputs`.
    UnknownReference => check unknown_reference, Error, "a reference that does not start with `inputs.`, `steps.`, `outputs.` or `env.`";
    /// Template syntax error.
    InvalidTemplate => check invalid_template, Error, "a template that does not parse";
    /// Template syntax that runbooks do not allow (helpers, blocks, triple braces).
    UnsupportedTemplate => check unsupported_template, Error, "template blocks, helpers, partials or triple braces";
    /// A JSONPath that does not parse.
    InvalidJsonPath => check invalid_jsonpath, Error, "a JSONPath that does not parse";
    /// A regular expression that does not compile.
    InvalidRegex => check invalid_regex, Error, "a regex that does not compile";
    /// A duration that does not parse (`500ms`, `30s`, `2m`).
    InvalidDuration => check invalid_duration, Error, "a duration that does not parse, or longer than 7 days";
    /// An unsupported HTTP method.
    InvalidMethod => check invalid_method, Error, "an unsupported HTTP method";
    /// A capture that names no source, two sources, or one the step kind lacks.
    InvalidCapture => check invalid_capture, Error, "a capture without exactly one valid source";
    /// A condition with no operator, several operators, or no `that`.
    InvalidCondition => check invalid_condition, Error, "a condition with no operator, several, or no `that`";
    /// An input whose default does not match its type, or a secret with a default.
    InvalidInput => check invalid_input, Error, "bad input name or default; a secret with a default";
    /// A status code outside 100..=599.
    InvalidStatus => check invalid_status, Error, "a status code outside 100–599";
    /// A template reference inside single quotes or a quoted here-document (`<<'EOF'`) in a shell
    /// command: it would not expand.
    QuotedShellReference => check quoted_shell_reference, Error, "a reference in single quotes or a quoted here-document in a command";
    /// A warning: a secret (a secret input, answer or capture) in a prompt's `instructions`,
    /// `confirm` or `phrase`. It is shown masked, so the operator cannot read it.
    SecretInPrompt => check secret_in_prompt, Warning, "a secret in a prompt's text, where it is shown masked";
    /// A warning: a template reference in a shell command reaches a command that parses its
    /// arguments as shell code again (`eval`, `sh -c`, `su -c`, `ssh HOST ...`), so the value is
    /// shell syntax after all.
    ReparsedShellReference => check reparsed_shell_reference, Warning, "a reference that reaches `eval`, `sh -c` or `ssh HOST ...`";
    /// A plugin action that no linked plugin offers, or parameters it does not take or needs.
    UnknownPlugin => check unknown_plugin, Error, "an unknown plugin action or parameter";
    /// Both `json` and `text` bodies on one request.
    BodyConflict => check body_conflict, Error, "an http request with both a `json` and a `text` body";
    /// A function argument of a type the function does not take (a literal or a nested call's
    /// result), or a literal out of range (a negative count, an empty separator).
    FunctionArgument => check function_argument, Error, "a function argument of the wrong type or out of range";
    /// A function called with the wrong number of arguments.
    FunctionArity => check function_arity, Error, "a function called with the wrong number of arguments";
    /// A field that cannot have an effect on this step: `on_error` on a `note` (it cannot fail) or
    /// a `stop` (it always stops the run), `rollback` or `commit` on a `stop` (it never passes).
    IneffectiveField => check ineffective_field, Error, "a field that can have no effect on this step kind";
    /// `commit: true` outside the main steps (in a rollback, an undo, `on_failure` or `finally`),
    /// or on a step with a `rollback` (the commit would disarm it at once).
    MisplacedCommit => check misplaced_commit, Error, "`commit: true` outside the main steps, or on a step with a `rollback`";
    /// A template calls a function that does not exist.
    UnknownFunction => check unknown_function, Error, "a template calls a function that does not exist";
    /// A warning: `on_error: continue` on a step whose outputs later steps use.
    ContinueOnNeededStep => check continue_on_needed_step, Warning, "an `on_error: continue` on a step whose outputs later steps use";
    /// A warning: an `irreversible` step that is not preceded, on every path, by a prompt with
    /// `confirm` or `phrase`.
    IrreversibleWithoutConfirmation => check irreversible_without_confirmation, Warning, "an `irreversible` step with no confirmation prompt before it on every path";
    /// A warning: a wait (`until` + `poll`) or a `retry` that can take longer than three times
    /// the runbook's `average_duration` (or whose length cannot be known before the run).
    LongWait => check long_wait, Warning, "a wait or retry that can outlast the runbook several times over";
    /// A warning: a `when` or an assertion reads an output that may not exist (its step may have
    /// been skipped, failed with `on_error: continue`, or not run before a failure path).
    OutputMayNotExist => check output_may_not_exist, Warning, "a `when` or assertion on an output that may not exist";
    /// A warning: a `rollback` that can never run (on the last step of the run, or in a failure
    /// path or `finally`, where compensation is never registered).
    RollbackNeverRuns => check rollback_never_runs, Warning, "a `rollback` that can never run";
    /// A warning: a secret (or a value derived from one) in a shell `command`: it reaches the
    /// argv of the programs the command starts, which `ps` shows to every user of the machine.
    SecretInCommand => check secret_in_command, Warning, "a secret in a shell command line, visible in `ps`";
    /// A warning: a secret in an http step's URL (its query string above all) or `query:`: URLs
    /// are written to server, proxy and browser-history logs.
    SecretInUrl => check secret_in_url, Warning, "a secret in a URL or its query string";
    /// A warning: a secret sent in the URL, a header or the body of a plain `http://` request to
    /// a host that is not loopback: anyone on the path can read it.
    SecretOverPlainHttp => check secret_over_plain_http, Warning, "a secret sent over plain `http://` to a non-loopback host";
    /// A warning: an `operator-assisted` runbook whose first side effect (shell, plugin, or an
    /// http request that is not GET, HEAD or OPTIONS) comes before any prompt.
    SideEffectBeforePrompt => check side_effect_before_prompt, Warning, "an operator-assisted runbook that changes something before asking anything";
    /// A warning: a step that can never run (after a step that always stops the run, or with a
    /// `when` that is always false).
    UnreachableStep => check unreachable_step, Warning, "a step that can never run";
    /// A `use:` step whose fragment file cannot be read, or is not a fragment.
    FragmentNotFound => check fragment_not_found, Error, "a `use:` names a fragment file that cannot be read or is not a fragment";
    /// A `use:` path that is absolute, or leaves the folder of the runbook that is being run.
    FragmentPath => check fragment_path, Error, "a `use:` path that is absolute or leaves the runbook's folder";
    /// Fragments that use each other in a cycle, or nest or repeat beyond the limits.
    FragmentCycle => check fragment_cycle, Error, "fragments that use each other in a cycle, or beyond the nesting limits";
    /// A `with:` argument the fragment has no parameter for.
    UnknownFragmentArgument => check unknown_fragment_argument, Error, "a `with:` argument the fragment has no parameter for";
    /// A required fragment parameter (one with no `default`) that `with:` does not give.
    MissingFragmentArgument => check missing_fragment_argument, Error, "a required fragment parameter missing from `with:`";
    /// A `with:` argument of the wrong type, not a literal or a single reference, or a literal
    /// for a secret parameter.
    InvalidFragmentArgument => check invalid_fragment_argument, Error, "a `with:` argument of the wrong type or shape, or a literal for a secret parameter";
    /// A fragment reads something it cannot see: a parameter it does not declare, the runbook's
    /// `inputs`, or a step that is not its own.
    FragmentScope => check fragment_scope, Error, "a fragment reads an undeclared parameter, the runbook's inputs, or a step not its own";
    /// A warning: a capture that nothing refers to.
    UnusedCapture => check unused_capture, Warning, "a capture nothing refers to";
    /// A warning: an input that nothing refers to.
    UnusedInput => check unused_input, Warning, "an input nothing refers to";
    /// A rehearsal names a step its runbook does not have (or answers a step that is not a
    /// prompt).
    RehearsalUnknownStep => rehearsal unknown_rehearsal_step, Error, "a rehearsal names a step its runbook does not have";
    /// A rehearsal names an input, state value, request field or capture that does not exist.
    RehearsalUnknownName => rehearsal unknown_rehearsal_name, Error, "a rehearsal names an input, state value or field that does not exist";
    /// A rehearsal value of the wrong shape: a host, path or argument pattern, a fault, a
    /// scenario name used twice.
    RehearsalInvalid => rehearsal invalid_rehearsal, Error, "a rehearsal value of the wrong shape";
    /// A runbook step would reach a host or start a program that the rehearsal does not
    /// simulate.
    RehearsalEscape => rehearsal simulation_escape, Error, "a step would reach a host or program the rehearsal does not simulate";
    /// A `# runbook: allow ...` comment without a reason, naming an unknown rule or one that
    /// cannot be suppressed (errors), or that does not parse.
    InvalidSuppression => lint invalid_suppression, Error, "a suppression comment without a reason, or naming an unknown or unsuppressible rule";
    /// A `# runbook: allow RULE -- reason` comment that silenced nothing.
    UnusedSuppression => lint unused_suppression, Warning, "a suppression comment that silenced nothing";
}

impl FindingCode {
    /// The rule named `name`: its short name (`unknown_step`) or its full code
    /// (`runbook::check::unknown_step`).
    pub fn from_name(name: &str) -> Option<FindingCode> {
        FindingCode::ALL
            .iter()
            .copied()
            .find(|code| code.name() == name || code.as_str() == name)
    }

    /// Whether a `# runbook: allow` comment may silence this rule. Only check-pass warnings may:
    /// an error leaves no runbook the engine accepts (a load error leaves nothing to check at all),
    /// and lint's own findings about suppressions are not themselves suppressible.
    pub fn is_suppressible(self) -> bool {
        let warning = match self.default_severity() {
            Severity::Error => false,
            Severity::Warning => true,
        };
        let checked = match self.stage() {
            Stage::Check => true,
            Stage::Load | Stage::Lint | Stage::Rehearsal => false,
        };
        warning && checked
    }
}

/// One problem in a runbook file. Its severity is its rule's ([`FindingCode::default_severity`]).
#[derive(Debug, Clone)]
pub struct Finding {
    /// The file the span points into, when it is not the file being linted: a fragment the
    /// runbook uses. `None` is the linted file itself.
    pub file: Option<Arc<Source>>,
    /// More places worth showing, e.g. where a fragment with the problem is used.
    pub notes: Vec<Note>,
    pub code: FindingCode,
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
    /// A finding of rule `code`, with the rule's severity.
    pub fn new(code: FindingCode, span: Span, message: impl Into<String>) -> Self {
        Self {
            file: None,
            notes: Vec::new(),
            code,
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    /// A finding of an error rule ([`Finding::new`], saying so where it is reported).
    pub fn error(code: FindingCode, span: Span, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.default_severity(), Severity::Error, "{code:?}");
        Self::new(code, span, message)
    }

    /// A finding of a warning rule: it does not stop the runbook from running.
    pub fn warning(code: FindingCode, span: Span, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.default_severity(), Severity::Warning, "{code:?}");
        Self::new(code, span, message)
    }

    pub fn severity(&self) -> Severity {
        self.code.default_severity()
    }

    pub fn is_error(&self) -> bool {
        match self.severity() {
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

/// A secondary place a finding points at ("the fragment is used here").
#[derive(Debug, Clone)]
pub struct Note {
    /// The file, when it is not the linted one.
    pub file: Option<Arc<Source>>,
    pub span: Span,
    pub message: String,
}

impl Finding {
    /// The file the span points into: [`Finding::file`], else `linted`.
    pub fn source<'a>(&'a self, linted: &'a Source) -> &'a Source {
        self.file.as_deref().unwrap_or(linted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_unique_and_round_trip() {
        let mut names = std::collections::BTreeSet::new();
        for &code in FindingCode::ALL {
            assert!(names.insert(code.name()), "duplicate name {}", code.name());
            assert!(code.as_str().ends_with(&format!("::{}", code.name())));
            assert_eq!(FindingCode::from_name(code.name()), Some(code));
            assert_eq!(FindingCode::from_name(code.as_str()), Some(code));
            assert!(!code.summary().is_empty());
        }
        assert_eq!(FindingCode::from_name("no_such_rule"), None);
    }

    #[test]
    fn only_check_warnings_are_suppressible() {
        assert!(FindingCode::SecretInPrompt.is_suppressible());
        assert!(!FindingCode::UnknownStep.is_suppressible());
        assert!(!FindingCode::YamlSyntax.is_suppressible());
        assert!(!FindingCode::UnusedSuppression.is_suppressible());
    }
}
