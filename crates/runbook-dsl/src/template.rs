//! Templates: handlebars syntax, parsed once by the handlebars crate at check time.
//!
//! Runbooks allow only path expressions (`{{inputs.x}}`, `{{steps.ID.outputs.y}}`, `{{env.NAME}}`,
//! `{{outputs.y}}`): no helpers, no blocks, no triple braces. Handlebars' `{{#if missing}}` is silently
//! false even in strict mode and `{{{x}}}` bypasses escaping, so conditions are typed predicates
//! instead. The engine renders the parsed parts itself (single pass: a substituted value is never
//! parsed again) and treats an undefined or null value as an error, never as an empty string.

use handlebars::template::{Parameter, TemplateElement};

use crate::source::Span;

/// A string with `{{reference}}` parts, parsed.
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
    /// `run.id`, `run.actor`, `run.started_at`.
    Run { field: RunField },
    /// `outputs.NAME[.rest]`: the current step's own outputs (in its `assert` only).
    OwnOutput { output: String, rest: Vec<String> },
    /// `env.NAME`
    Env { name: String },
    /// Anything else: reported by the check pass.
    Unknown { segments: Vec<String> },
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

/// A template that failed to parse, or uses syntax runbooks do not allow.
#[derive(Debug, Clone)]
pub struct TemplateError {
    pub unsupported: bool,
    pub message: String,
    /// Byte range within the template text.
    pub at: (usize, usize),
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

    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.parts.iter().filter_map(|part| match part {
            Part::Ref(reference) => Some(reference),
            Part::Literal(_) => None,
        })
    }

    pub fn has_references(&self) -> bool {
        self.references().next().is_some()
    }
}

/// Parses `text`. `content_span` is where the text's first byte sits in the file, when it is known
/// to be copied verbatim (a plain or quoted single-line scalar); references then get exact spans.
pub fn parse_template(
    text: &str,
    node_span: Span,
    content_start: Option<usize>,
) -> Result<Template, TemplateError> {
    if !text.contains("{{") {
        return Ok(Template::literal(text, node_span));
    }
    if let Some(at) = text.find("{{{") {
        return Err(TemplateError {
            unsupported: true,
            message:
                "triple braces `{{{...}}}` are not allowed: runbook templates never escape, so \
                      write `{{...}}`"
                    .into(),
            at: (at, closing(text, at)),
        });
    }
    if let Some(at) = unclosed(text) {
        return Err(TemplateError {
            unsupported: false,
            message: "unclosed `{{`: a reference ends with `}}`".into(),
            at: (at, at + 2),
        });
    }
    let parsed = handlebars::Template::compile(text).map_err(|error| {
        let at = error
            .pos()
            .map(|(line, col)| char_offset(text, line, col))
            .unwrap_or(0);
        // handlebars' messages name grammar rules; keep only the position.
        TemplateError {
            unsupported: false,
            message: "template syntax error: write references as `{{inputs.name}}`".into(),
            at: (at, at),
        }
    })?;

    let mut parts = Vec::new();
    for (index, element) in parsed.elements.iter().enumerate() {
        let at = parsed
            .mapping
            .get(index)
            .map(|mapping| char_offset(text, mapping.0, mapping.1))
            .unwrap_or(0);
        let end = closing(text, at);
        let unsupported = |message: &str| TemplateError {
            unsupported: true,
            message: message.to_owned(),
            at: (at, end),
        };
        match element {
            TemplateElement::RawString(literal) => parts.push(Part::Literal(literal.clone())),
            TemplateElement::Comment(_) => {}
            TemplateElement::Expression(helper) => {
                if !helper.params.is_empty() || !helper.hash.is_empty() {
                    return Err(unsupported(
                        "helpers are not allowed in runbook templates: write a plain reference \
                         such as `{{inputs.name}}`",
                    ));
                }
                let written = text.get(at..end).unwrap_or("");
                if written.contains('~') {
                    return Err(unsupported(
                        "whitespace control (`{{~` / `~}}`) is not allowed: it silently eats the \
                         text around the reference; write `{{inputs.name}}`",
                    ));
                }
                let raw = match &helper.name {
                    Parameter::Path(path) => path_text(path),
                    Parameter::Name(name) => name.clone(),
                    Parameter::Literal(_) | Parameter::Subexpression(_) => {
                        return Err(unsupported(
                            "only references are allowed inside `{{ }}`, e.g. `{{inputs.name}}`",
                        ));
                    }
                    _ => return Err(unsupported("unsupported expression")),
                };
                let relative = raw.starts_with("../")
                    || raw.starts_with("./")
                    || raw.starts_with('@')
                    || raw == "this"
                    || raw.starts_with("this.")
                    || raw.starts_with("this/");
                if relative {
                    return Err(unsupported(
                        "only absolute references are allowed, e.g. `{{inputs.name}}` (no `../`, \
                         `this` or `@` variables)",
                    ));
                }
                let span = match content_start {
                    Some(start) => Span::new(start + at, start + end),
                    None => node_span,
                };
                parts.push(Part::Ref(Reference {
                    path: classify(&raw),
                    text: raw,
                    span,
                }));
            }
            TemplateElement::HtmlExpression(_) => {
                return Err(unsupported(
                    "triple braces `{{{...}}}` are not allowed: write `{{...}}`",
                ));
            }
            TemplateElement::HelperBlock(_) => {
                return Err(unsupported(
                    "blocks such as `{{#if}}` are not allowed: use a step's `when:` condition or an \
                     `assert` step",
                ));
            }
            _ => {
                return Err(unsupported(
                    "partials and decorators are not allowed in runbook templates",
                ));
            }
        }
    }
    Ok(Template {
        source: text.to_owned(),
        parts,
        span: node_span,
    })
}

/// The offset of a `{{` with no `}}` after it.
fn unclosed(text: &str) -> Option<usize> {
    let mut rest = 0;
    while let Some(open) = text[rest..].find("{{") {
        let open = rest + open;
        match text[open + 2..].find("}}") {
            Some(close) => {
                let close = open + 2 + close;
                // `{{a {{b}}`: the first one never closes.
                if text[open + 2..close].contains("{{") {
                    return Some(open);
                }
                rest = close + 2;
            }
            None => return Some(open),
        }
    }
    None
}

fn path_text(path: &handlebars::Path) -> String {
    match path {
        handlebars::Path::Relative((_, raw)) => raw.clone(),
        handlebars::Path::Local((_, _, raw)) => raw.clone(),
    }
}

/// Splits a handlebars path (`a.b`, `a/b`, `a.[weird key]`) into segments and says what it points at.
pub fn classify(raw: &str) -> RefPath {
    let segments: Vec<String> = split_path(raw);
    let rest = |from: usize| segments.get(from..).unwrap_or_default().to_vec();
    match segments.first().map(String::as_str) {
        Some("inputs") if segments.len() >= 2 => RefPath::Input {
            name: segments[1].clone(),
            rest: rest(2),
        },
        Some("steps") if segments.len() >= 4 && segments[2] == "outputs" => RefPath::StepOutput {
            step: segments[1].clone(),
            output: segments[3].clone(),
            rest: rest(4),
        },
        Some("steps") if segments.len() == 3 && TimingField::parse(&segments[2]).is_some() => {
            RefPath::StepTiming {
                step: segments[1].clone(),
                field: TimingField::parse(&segments[2]).unwrap_or(TimingField::FinishedAt),
            }
        }
        Some("run") if segments.len() == 2 && RunField::parse(&segments[1]).is_some() => {
            RefPath::Run {
                field: RunField::parse(&segments[1]).unwrap_or(RunField::Id),
            }
        }
        Some("outputs") if segments.len() >= 2 => RefPath::OwnOutput {
            output: segments[1].clone(),
            rest: rest(2),
        },
        Some("env") if segments.len() == 2 => RefPath::Env {
            name: segments[1].clone(),
        },
        _ => RefPath::Unknown { segments },
    }
}

fn split_path(raw: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut in_brackets = false;
    for c in raw.chars() {
        match c {
            '[' if !in_brackets => in_brackets = true,
            ']' if in_brackets => in_brackets = false,
            '.' | '/' if !in_brackets => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// Byte offset of handlebars' 1-based (line, column) within `text`.
fn char_offset(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (index, text_line) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            let within: usize = text_line
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + within;
        }
        offset += text_line.len();
    }
    text.len()
}

/// End of the `{{...}}` that starts at `at` (exclusive), or `at` when there is none.
fn closing(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.find("}}"))
        .map(|end| {
            let mut end = at + end + 2;
            while text.get(end..).is_some_and(|rest| rest.starts_with('}')) {
                end += 1;
            }
            end
        })
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Template, TemplateError> {
        parse_template(text, Span::new(0, text.len()), Some(0))
    }

    #[test]
    fn splits_literals_and_references() -> Result<(), String> {
        let template = parse("{{inputs.base_url}}/v2/orders/{{steps.order.outputs.id}}")
            .map_err(|e| e.message)?;
        let refs: Vec<_> = template.references().map(|r| r.path.clone()).collect();
        assert_eq!(
            refs,
            vec![
                RefPath::Input {
                    name: "base_url".into(),
                    rest: vec![]
                },
                RefPath::StepOutput {
                    step: "order".into(),
                    output: "id".into(),
                    rest: vec![]
                },
            ]
        );
        let second = template.references().nth(1).map(|r| r.span);
        assert_eq!(second, Some(Span::new(30, 56)));
        assert!(template.single_ref().is_none());
        Ok(())
    }

    #[test]
    fn single_reference_is_recognised() -> Result<(), String> {
        let template = parse("{{steps.orders.outputs.count}}").map_err(|e| e.message)?;
        assert!(template.single_ref().is_some());
        Ok(())
    }

    #[test]
    fn rejects_blocks_helpers_and_triple_braces() {
        for text in [
            "{{#if inputs.x}}yes{{/if}}",
            "{{{inputs.x}}}",
            "{{lookup inputs 'x'}}",
            "{{> partial}}",
            "echo {{~inputs.x}}",
            "{{inputs.x~}}",
            "{{../inputs.x}}",
            "{{this}}",
            "{{@index}}",
        ] {
            let error = parse(text).err();
            assert!(
                error.is_some_and(|e| e.unsupported),
                "{text} must be rejected"
            );
        }
    }

    #[test]
    fn reports_syntax_errors() {
        let error = parse("x {{inputs.a").err();
        assert!(error.is_some_and(|e| !e.unsupported));
    }

    #[test]
    fn bracket_segments() {
        assert_eq!(
            classify("steps.a.outputs.body.[0].id"),
            RefPath::StepOutput {
                step: "a".into(),
                output: "body".into(),
                rest: vec!["0".into(), "id".into()]
            }
        );
    }
}

/// Where a reference sits in a shell command, which decides how it may be expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellContext {
    Unquoted,
    DoubleQuoted,
    /// Nothing expands inside single quotes.
    SingleQuoted,
}

/// The shell quoting context of each reference in `template`, in order, tracking `'`, `"` and
/// backslash escapes through the literal parts.
pub fn shell_contexts(template: &Template) -> Vec<ShellContext> {
    let mut in_single = false;
    let mut in_double = false;
    let mut escaped = false;
    let mut contexts = Vec::new();
    for part in &template.parts {
        match part {
            Part::Ref(_) => contexts.push(if in_single {
                ShellContext::SingleQuoted
            } else if in_double {
                ShellContext::DoubleQuoted
            } else {
                ShellContext::Unquoted
            }),
            Part::Literal(text) => {
                for c in text.chars() {
                    if escaped {
                        escaped = false;
                        continue;
                    }
                    match c {
                        '\\' if !in_single => escaped = true,
                        '\'' if !in_double => in_single = !in_single,
                        '"' if !in_single => in_double = !in_double,
                        _ => {}
                    }
                }
            }
        }
    }
    contexts
}
