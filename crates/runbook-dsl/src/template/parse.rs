//! Parsing a template's text: literals and references as written, before the check pass says
//! whether each reference has a known shape.

use std::cell::RefCell;

use handlebars::template::{Parameter, TemplateElement};

use super::call::ParsedCall;
use super::{Part, RefPath, Reference, RunField, Template, TimingField};
use crate::source::Span;

/// A template as parsed: its references are paths as written, not yet known to mean anything.
#[derive(Debug, Clone)]
pub struct ParsedTemplate {
    /// The text as written.
    pub source: String,
    pub parts: Vec<ParsedPart>,
    /// The whole string in the file.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ParsedPart {
    Literal(String),
    Ref(ParsedRef),
    /// `{{function arg ...}}`
    Call(ParsedCall),
}

/// One `{{path}}` as written.
#[derive(Debug, Clone)]
pub struct ParsedRef {
    /// The path as written, e.g. `steps.account.outputs.equity`.
    pub text: String,
    /// The path split at `.` and `/` (`[...]` keeps a segment whole).
    pub segments: Vec<String>,
    /// The `{{...}}` in the file (or the whole string when it cannot be pinned down).
    pub span: Span,
}

impl ParsedRef {
    /// The checked reference, when the path has a known shape.
    pub fn classify(&self) -> Option<Reference> {
        classify(&self.segments).map(|path| Reference {
            path,
            text: self.text.clone(),
            span: self.span,
        })
    }
}

impl ParsedTemplate {
    /// The top-level references, as written (not those inside calls).
    pub fn references(&self) -> impl Iterator<Item = &ParsedRef> {
        self.parts.iter().filter_map(|part| match part {
            ParsedPart::Ref(reference) => Some(reference),
            ParsedPart::Literal(_) | ParsedPart::Call(_) => None,
        })
    }

    /// The template with every reference classified and every function known, or the texts of
    /// the references and functions that have no known meaning. Arity and argument types are the
    /// check pass's (it does this part by part, so it can report every finding at once).
    pub fn into_template(self) -> Result<Template, Vec<String>> {
        let mut parts = Vec::new();
        let mut unknown = Vec::new();
        for part in self.parts {
            match part {
                ParsedPart::Literal(text) => parts.push(Part::Literal(text)),
                ParsedPart::Ref(reference) => match reference.classify() {
                    Some(checked) => parts.push(Part::Ref(checked)),
                    None => unknown.push(reference.text),
                },
                ParsedPart::Call(call) => match call.classify() {
                    Ok(checked) => parts.push(Part::Call(checked)),
                    Err(more) => unknown.extend(more),
                },
            }
        }
        if unknown.is_empty() {
            Ok(Template {
                source: self.source,
                parts,
                span: self.span,
            })
        } else {
            Err(unknown)
        }
    }
}

/// Templates parsed so far on this thread, by text, with spans relative to the text: runbooks
/// repeat the same references (`{{inputs.base_url}}`) in step after step and file after file, and
/// handlebars' parser was a third of lint's time. Cleared when full, so memory stays bounded.
const CACHE_ENTRIES: usize = 4096;

thread_local! {
    static CACHE: RefCell<crate::cache::CacheMap<Result<ParsedTemplate, TemplateError>>> =
        RefCell::new(crate::cache::CacheMap::default());
}

/// Parses `text`. `content_span` is where the text's first byte sits in the file, when it is known
/// to be copied verbatim (a plain or quoted single-line scalar); references then get exact spans.
pub fn parse_template(
    text: &str,
    node_span: Span,
    content_start: Option<usize>,
) -> Result<ParsedTemplate, TemplateError> {
    if !has_open_braces(text) {
        return Ok(ParsedTemplate {
            source: text.to_owned(),
            parts: vec![ParsedPart::Literal(text.to_owned())],
            span: node_span,
        });
    }
    let relative = CACHE.with(|cache| {
        if let Some(hit) = cache.borrow().get(text) {
            return hit.clone();
        }
        let parsed = parse_uncached(text, Span::new(0, 0), Some(0));
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(text.to_owned(), parsed.clone());
        parsed
    })?;
    // A call's spans (its own, its arguments', nested calls') are not shifted here: a template
    // with calls is parsed again in place, which is rare and keeps every caret exact.
    if relative
        .parts
        .iter()
        .any(|part| matches!(part, ParsedPart::Call(_)))
    {
        return parse_uncached(text, node_span, content_start);
    }
    Ok(ParsedTemplate {
        source: relative.source,
        parts: relative
            .parts
            .into_iter()
            .map(|part| match part {
                ParsedPart::Literal(text) => ParsedPart::Literal(text),
                ParsedPart::Ref(reference) => ParsedPart::Ref(ParsedRef {
                    span: match content_start {
                        Some(start) => {
                            Span::new(start + reference.span.start, start + reference.span.end)
                        }
                        None => node_span,
                    },
                    ..reference
                }),
                ParsedPart::Call(call) => ParsedPart::Call(call),
            })
            .collect(),
        span: node_span,
    })
}

/// Whether `text` holds `{{`: most strings do not, and `str::contains` set up a substring
/// searcher for each (about 130 instructions a string, 2.4 M on 100 corpus files).
fn has_open_braces(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'{', bytes).any(|at| bytes.get(at + 1) == Some(&b'{'))
}

/// [`parse_template`] without the cache.
fn parse_uncached(
    text: &str,
    node_span: Span,
    content_start: Option<usize>,
) -> Result<ParsedTemplate, TemplateError> {
    if let Some(at) = text.find("{{{") {
        return Err(TemplateError {
            kind: TemplateErrorKind::TripleBraces,
            at: (at, closing(text, at)),
        });
    }
    if let Some(at) = unclosed(text) {
        return Err(TemplateError {
            kind: TemplateErrorKind::Unclosed,
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
            kind: TemplateErrorKind::Syntax,
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
        let unsupported = |kind: TemplateErrorKind| TemplateError {
            kind,
            at: (at, end),
        };
        match element {
            TemplateElement::RawString(literal) => {
                parts.push(ParsedPart::Literal(literal.clone()));
            }
            TemplateElement::Comment(_) => {}
            TemplateElement::Expression(helper) => {
                let written = text.get(at..end).unwrap_or("");
                if written.contains('~') {
                    return Err(unsupported(TemplateErrorKind::WhitespaceControl));
                }
                if !helper.hash.is_empty() {
                    return Err(unsupported(TemplateErrorKind::NamedArgument));
                }
                if !helper.params.is_empty() {
                    let locate = |from: usize, to: usize| match content_start {
                        Some(start) => Span::new(start + from, start + to),
                        None => node_span,
                    };
                    parts.push(ParsedPart::Call(super::parse_call::parse_call(
                        text, at, end, &locate,
                    )?));
                    continue;
                }
                let raw = match &helper.name {
                    Parameter::Path(path) => path_text(path),
                    Parameter::Name(name) => name.clone(),
                    Parameter::Literal(_) | Parameter::Subexpression(_) => {
                        return Err(unsupported(TemplateErrorKind::NotAReference));
                    }
                    _ => return Err(unsupported(TemplateErrorKind::NotAReference)),
                };
                if is_relative(&raw) {
                    return Err(unsupported(TemplateErrorKind::RelativeReference));
                }
                let span = match content_start {
                    Some(start) => Span::new(start + at, start + end),
                    None => node_span,
                };
                parts.push(ParsedPart::Ref(ParsedRef {
                    segments: split_path(&raw),
                    text: raw,
                    span,
                }));
            }
            TemplateElement::HtmlExpression(_) => {
                return Err(unsupported(TemplateErrorKind::TripleBraces));
            }
            TemplateElement::HelperBlock(_) => {
                return Err(unsupported(TemplateErrorKind::Block));
            }
            // `TemplateElement` is `#[non_exhaustive]`: whatever handlebars adds later is refused
            // too (the wildcard is required; every variant known today is listed).
            TemplateElement::DecoratorExpression(_)
            | TemplateElement::DecoratorBlock(_)
            | TemplateElement::PartialExpression(_)
            | TemplateElement::PartialBlock(_)
            | _ => {
                return Err(unsupported(TemplateErrorKind::PartialOrDecorator));
            }
        }
    }
    Ok(ParsedTemplate {
        source: text.to_owned(),
        parts,
        span: node_span,
    })
}

/// A template that failed to parse, or uses syntax runbooks do not allow, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct TemplateError {
    pub kind: TemplateErrorKind,
    /// Byte range within the template text.
    pub at: (usize, usize),
}

impl TemplateError {
    /// Valid handlebars that runbooks do not allow (as opposed to a syntax error).
    pub fn is_unsupported(&self) -> bool {
        match self.kind {
            TemplateErrorKind::Unclosed | TemplateErrorKind::Syntax => false,
            TemplateErrorKind::TripleBraces
            | TemplateErrorKind::NamedArgument
            | TemplateErrorKind::NotAFunction
            | TemplateErrorKind::UnsupportedArgument
            | TemplateErrorKind::TooDeep
            | TemplateErrorKind::WhitespaceControl
            | TemplateErrorKind::NotAReference
            | TemplateErrorKind::RelativeReference
            | TemplateErrorKind::Block
            | TemplateErrorKind::PartialOrDecorator => true,
        }
    }
}

/// What is wrong with a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// A `{{` with no `}}` after it.
    Unclosed,
    /// Anything else handlebars cannot parse (its own messages name grammar rules).
    Syntax,
    /// `{{{...}}}`, which in handlebars means "do not escape".
    TripleBraces,
    /// `{{function key=value}}`: handlebars' hash arguments.
    NamedArgument,
    /// `{{inputs.x 1}}`: something other than a function name before arguments.
    NotAFunction,
    /// A list or mapping literal as a function argument.
    UnsupportedArgument,
    /// Calls nested deeper than [`super::function::MAX_CALL_DEPTH`].
    TooDeep,
    /// `{{~x}}` or `{{x~}}`.
    WhitespaceControl,
    /// A literal, a subexpression or anything other than a path inside `{{ }}`.
    NotAReference,
    /// `../x`, `./x`, `this` or an `@` variable.
    RelativeReference,
    /// `{{#if}}...{{/if}}` and other blocks.
    Block,
    /// `{{> partial}}` or a decorator.
    PartialOrDecorator,
}

impl std::fmt::Display for TemplateErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TemplateErrorKind::Unclosed => "unclosed `{{`: a reference ends with `}}`",
            TemplateErrorKind::Syntax => {
                "template syntax error: write references as `{{inputs.name}}`"
            }
            TemplateErrorKind::TripleBraces => {
                "triple braces `{{{...}}}` are not allowed: runbook templates never escape, so \
                 write `{{...}}`"
            }
            TemplateErrorKind::NamedArgument => {
                "named arguments (`key=value`) are not allowed: functions take their arguments in \
                 order, e.g. `{{last 4 inputs.key_id}}`"
            }
            TemplateErrorKind::NotAFunction => {
                "only a function name can take arguments, e.g. `{{upper inputs.name}}`; a \
                 reference stands alone in `{{ }}`"
            }
            TemplateErrorKind::UnsupportedArgument => {
                "a function argument is a reference, a string, a number, a boolean or a call in \
                 parentheses; list and mapping literals are not allowed"
            }
            TemplateErrorKind::TooDeep => {
                "function calls nest at most 4 deep; split the work across steps or simplify the \
                 expression"
            }
            TemplateErrorKind::WhitespaceControl => {
                "whitespace control (`{{~` / `~}}`) is not allowed: it silently eats the text \
                 around the reference; write `{{inputs.name}}`"
            }
            TemplateErrorKind::NotAReference => {
                "only references are allowed inside `{{ }}`, e.g. `{{inputs.name}}`"
            }
            TemplateErrorKind::RelativeReference => {
                "only absolute references are allowed, e.g. `{{inputs.name}}` (no `../`, `this` \
                 or `@` variables)"
            }
            TemplateErrorKind::Block => {
                "blocks such as `{{#if}}` are not allowed: use a step's `when:` condition or an \
                 `assert` step"
            }
            TemplateErrorKind::PartialOrDecorator => {
                "partials and decorators are not allowed in runbook templates"
            }
        })
    }
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

/// `../x`, `./x`, `this` or an `@` variable: names relative to a handlebars context runbooks do
/// not have.
pub(super) fn is_relative(raw: &str) -> bool {
    raw.starts_with("../")
        || raw.starts_with("./")
        || raw.starts_with('@')
        || raw == "this"
        || raw.starts_with("this.")
        || raw.starts_with("this/")
}

fn path_text(path: &handlebars::Path) -> String {
    match path {
        handlebars::Path::Relative((_, raw)) => raw.clone(),
        handlebars::Path::Local((_, _, raw)) => raw.clone(),
    }
}

/// What the segments of a path point at, or `None` when no reference has that shape.
pub fn classify(segments: &[String]) -> Option<RefPath> {
    let rest = |from: usize| segments.get(from..).unwrap_or_default().to_vec();
    let path = match segments.first().map(String::as_str) {
        Some("inputs") if segments.len() >= 2 => RefPath::Input {
            name: segments[1].clone(),
            rest: rest(2),
        },
        Some("steps") => {
            // A fragment's steps have dotted ids (`pause.kill_switch`: the using step's id, then
            // the step's): the id runs up to the first `outputs` that has a name after it, or up
            // to a last segment that is a timing or `outcome`.
            let end = (2..segments.len()).find(|&at| {
                let last = at + 1 == segments.len();
                (segments[at] == "outputs" && !last)
                    || (last
                        && (TimingField::parse(&segments[at]).is_some()
                            || segments[at] == "outcome"))
            })?;
            let step = segments[1..end].join(".");
            match segments[end].as_str() {
                "outputs" => RefPath::StepOutput {
                    step,
                    output: segments[end + 1].clone(),
                    rest: rest(end + 2),
                },
                "outcome" => RefPath::StepOutcome { step },
                timing => RefPath::StepTiming {
                    step,
                    field: TimingField::parse(timing)?,
                },
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
        _ => return None,
    };
    Some(path)
}

/// Splits a handlebars path (`a.b`, `a/b`, `a.[weird key]`) into segments.
pub(super) fn split_path(raw: &str) -> Vec<String> {
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

    fn parse(text: &str) -> Result<ParsedTemplate, TemplateError> {
        parse_template(text, Span::new(0, text.len()), Some(0))
    }

    fn checked(text: &str) -> Result<Template, String> {
        parse(text)
            .map_err(|e| e.to_string())?
            .into_template()
            .map_err(|unknown| format!("unknown references: {unknown:?}"))
    }

    #[test]
    fn splits_literals_and_references() -> Result<(), String> {
        let template = checked("{{inputs.base_url}}/v2/orders/{{steps.order.outputs.id}}")?;
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
        let template = checked("{{steps.orders.outputs.count}}")?;
        assert!(template.single_ref().is_some());
        Ok(())
    }

    #[test]
    fn rejects_blocks_helpers_and_triple_braces() {
        for text in [
            "{{#if inputs.x}}yes{{/if}}",
            "{{{inputs.x}}}",
            "{{lookup inputs key='x'}}",
            "{{upper [1, 2]}}",
            "{{a (b (c (d (e inputs.x))))}}",
            "{{> partial}}",
            "echo {{~inputs.x}}",
            "{{inputs.x~}}",
            "{{../inputs.x}}",
            "{{this}}",
            "{{@index}}",
        ] {
            let error = parse(text).err();
            assert!(
                error.is_some_and(|e| e.is_unsupported()),
                "{text} must be rejected"
            );
        }
    }

    #[test]
    fn reports_syntax_errors() {
        let error = parse("x {{inputs.a").err();
        assert!(error.is_some_and(|e| !e.is_unsupported()));
    }

    #[test]
    fn bracket_segments() {
        assert_eq!(
            classify(&split_path("steps.a.outputs.body.[0].id")),
            Some(RefPath::StepOutput {
                step: "a".into(),
                output: "body".into(),
                rest: vec!["0".into(), "id".into()]
            })
        );
    }

    #[test]
    fn unknown_shapes_are_not_classified() -> Result<(), String> {
        for text in [
            "{{input.x}}",
            "{{steps.a}}",
            "{{run.nope}}",
            "{{env.A.B}}",
            "{{inputs}}",
        ] {
            let parsed = parse(text).map_err(|e| e.to_string())?;
            let unknown = parsed.into_template().err().unwrap_or_default();
            assert_eq!(unknown.len(), 1, "{text}");
        }
        Ok(())
    }
}
