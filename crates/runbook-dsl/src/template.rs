//! Templates: handlebars syntax, parsed once by the handlebars crate at check time.
//!
//! Runbooks allow path expressions (`{{inputs.x}}`, `{{steps.ID.outputs.y}}`, `{{env.NAME}}`,
//! `{{outputs.y}}`) and calls of a closed set of pure functions (`{{last 4 inputs.key_id}}`, see
//! [`function`]): no user-defined helpers, no blocks, no triple braces. Handlebars' `{{#if missing}}`
//! is silently false even in strict mode and `{{{x}}}` bypasses escaping, so conditions are typed
//! predicates instead. The engine renders the parsed parts itself (single pass: a substituted
//! value, or a function's result, is never parsed again) and treats an undefined or null value as
//! an error, never as an empty string.
//!
//! Two shapes: [`parse_template`] gives a [`ParsedTemplate`] whose references are paths as written;
//! the check pass turns it into a [`Template`] whose every reference is a known [`RefPath`] and
//! every call a known [`Function`] with admissible arguments (anything else is a finding), and only
//! that reaches the checked model and the engine.

mod call;
pub mod function;
mod parse;
mod parse_call;
mod shell;

pub use call::{Arg, Call, ParsedArg, ParsedCall};
pub use function::{Accepts, Function, MAX_CALL_DEPTH, ValueType};
pub use parse::{
    ParsedPart, ParsedRef, ParsedTemplate, TemplateError, TemplateErrorKind, classify,
    parse_template,
};
pub use shell::{CommandWord, ShellContext, ShellUse, command_words, shell_contexts, shell_uses};

use crate::source::Span;

/// A checked string with `{{reference}}` parts: every reference has a known shape.
#[derive(Debug, Clone)]
pub struct Template {
    /// The text as written.
    pub source: String,
    pub parts: Vec<Part>,
    /// The whole string in the file.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Part {
    Literal(String),
    Ref(Reference),
    /// `{{function arg ...}}`: its result is inserted like a reference's value.
    Call(Call),
}

/// One `{{path}}` in a template.
#[derive(Debug, Clone)]
pub struct Reference {
    pub path: RefPath,
    /// The path as written, e.g. `steps.account.outputs.equity`.
    pub text: String,
    /// The `{{...}}` in the file (or the whole string when it cannot be pinned down).
    pub span: Span,
}

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefPath {
    /// `inputs.NAME[.rest]`
    Input { name: String, rest: Vec<String> },
    /// `steps.ID.outputs.NAME[.rest]`
    StepOutput {
        step: String,
        output: String,
        rest: Vec<String>,
    },
    /// `steps.ID.started_at`, `steps.ID.finished_at` (RFC 3339, UTC) or `steps.ID.duration_ms`.
    StepTiming { step: String, field: TimingField },
    /// `steps.ID.outcome`: `passed`, `failed`, `skipped`, `warned` or `not_run` (a string).
    StepOutcome { step: String },
    /// `run.id`, `run.actor`, `run.started_at`.
    Run { field: RunField },
    /// `outputs.NAME[.rest]`: the current step's own outputs (in its `assert` only).
    OwnOutput { output: String, rest: Vec<String> },
    /// `env.NAME`
    Env { name: String },
}

/// When a step ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingField {
    StartedAt,
    FinishedAt,
    DurationMs,
}

impl TimingField {
    pub const NAMES: [&'static str; 3] = ["started_at", "finished_at", "duration_ms"];

    pub fn parse(name: &str) -> Option<TimingField> {
        match name {
            "started_at" => Some(TimingField::StartedAt),
            "finished_at" => Some(TimingField::FinishedAt),
            "duration_ms" => Some(TimingField::DurationMs),
            _ => None,
        }
    }
}

/// Facts about the run itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunField {
    Id,
    Actor,
    StartedAt,
    /// The step that stopped the run (in `on_failure` and `finally`).
    FailedStep,
    /// Why it stopped, as the operator saw it (secrets masked).
    Failure,
}

impl RunField {
    pub const NAMES: [&'static str; 5] = ["id", "actor", "started_at", "failed_step", "failure"];

    pub fn parse(name: &str) -> Option<RunField> {
        match name {
            "id" => Some(RunField::Id),
            "actor" => Some(RunField::Actor),
            "started_at" => Some(RunField::StartedAt),
            "failed_step" => Some(RunField::FailedStep),
            "failure" => Some(RunField::Failure),
            _ => None,
        }
    }
}

impl Template {
    /// A template with no references.
    pub fn literal(text: &str, span: Span) -> Self {
        Template {
            source: text.to_owned(),
            parts: vec![Part::Literal(text.to_owned())],
            span,
        }
    }

    /// The reference when the whole string is exactly one `{{reference}}`: it then yields the typed
    /// value (a number stays a number).
    pub fn single_ref(&self) -> Option<&Reference> {
        match self.parts.as_slice() {
            [Part::Ref(reference)] => Some(reference),
            _ => None,
        }
    }

    /// The call when the whole string is exactly one `{{function ...}}`: it then yields the typed
    /// result (`{{add x 1}}` is a number).
    pub fn single_call(&self) -> Option<&Call> {
        match self.parts.as_slice() {
            [Part::Call(call)] => Some(call),
            _ => None,
        }
    }

    /// Every reference, including those inside calls, in order.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.parts.iter().flat_map(|part| match part {
            Part::Ref(reference) => vec![reference],
            Part::Call(call) => call.references(),
            Part::Literal(_) => Vec::new(),
        })
    }

    /// The references whose value, or a secret derived from it, can reach the rendered text: all
    /// but those under `length` (see [`Function::derives_secret`]).
    pub fn revealing_references(&self) -> impl Iterator<Item = &Reference> {
        self.parts.iter().flat_map(|part| match part {
            Part::Ref(reference) => vec![reference],
            Part::Call(call) => call.revealing_references(),
            Part::Literal(_) => Vec::new(),
        })
    }

    /// Each `{{...}}` that inserts a value (a reference or a call), in order: its text as written
    /// (without braces) and where it is.
    pub fn insertions(&self) -> impl Iterator<Item = (&str, Span)> {
        self.parts.iter().filter_map(|part| match part {
            Part::Ref(reference) => Some((reference.text.as_str(), reference.span)),
            Part::Call(call) => Some((call.text.as_str(), call.span)),
            Part::Literal(_) => None,
        })
    }

    /// The text, when nothing is inserted at run time: the literal parts joined (inside a fragment,
    /// a parameter bound to a literal is one of them).
    pub fn literal_text(&self) -> Option<String> {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => Some(text.as_str()),
                Part::Ref(_) | Part::Call(_) => None,
            })
            .collect()
    }

    /// Whether anything is inserted at run time (otherwise the text is a plain literal).
    pub fn has_insertions(&self) -> bool {
        self.insertions().next().is_some()
    }
}
