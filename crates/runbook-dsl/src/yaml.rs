//! The one module that talks to the YAML parser (serde-saphyr, whose API moves fast).
//!
//! Budgets stop alias bombs and deep nesting before they cost memory; duplicate keys are errors;
//! only `true`/`false` are booleans (no YAML 1.1 `yes`/`no`/`on`: the "Norway problem").

use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, Options};

use crate::finding::{Finding, FindingCode};
use crate::raw::RawRunbook;
use crate::source::{Source, Span};
use crate::suggest::did_you_mean;

/// The largest runbook file accepted, in bytes. Real runbooks are a few kilobytes.
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;

/// Parses a runbook file into its raw (unchecked) form.
pub fn load_raw(source: &Source) -> Result<RawRunbook, Box<Finding>> {
    load_document(source)
}

/// Parses a file of the DSL family (a runbook, a rehearsal) into its raw type, with the same
/// budgets, refusals and findings.
pub fn load_document<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, Box<Finding>> {
    if source.text.len() > MAX_SOURCE_BYTES {
        return Err(Box::new(Finding::error(
            FindingCode::YamlSyntax,
            Span::new(0, 0),
            format!(
                "the file is {} bytes; runbooks are limited to {MAX_SOURCE_BYTES} bytes",
                source.text.len()
            ),
        )));
    }
    if let Some(finding) = unsupported_syntax(source) {
        return Err(Box::new(finding));
    }
    serde_saphyr::from_str_with_options::<T>(&source.text, options())
        .map_err(|error| Box::new(finding_from(source, &error)))
}

/// YAML features a runbook does not use, found in the event stream before deserializing: any
/// explicit tag (`!!binary` would silently decode base64 into a command, `!custom` means nothing
/// here) and a second document. Syntax errors are left to the deserializer, which reports them with
/// more context.
fn unsupported_syntax(source: &Source) -> Option<Finding> {
    use serde_saphyr::granit_parser::{Event, Parser};
    let mut documents = 0;
    for item in Parser::new_from_str(&source.text) {
        let Ok((event, span)) = item else {
            return None;
        };
        let at = || {
            let start = span
                .start
                .byte_offset()
                .unwrap_or_else(|| source.offset_of(span.start.line(), span.start.col() + 1));
            let end = span.end.byte_offset().unwrap_or(start).max(start);
            Span::new(start, end.min(source.text.len()))
        };
        let tagged = match &event {
            Event::Scalar(_, _, _, tag)
            | Event::SequenceStart(_, _, tag)
            | Event::MappingStart(_, _, tag) => tag.is_some(),
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Some(
                        Finding::error(
                            FindingCode::YamlSyntax,
                            at(),
                            "a second YAML document: a runbook file holds exactly one",
                        )
                        .with_label("a new document starts here")
                        .with_help("put each runbook in its own file, and remove this `---`"),
                    );
                }
                false
            }
            // `Event` is non-exhaustive: a future event carries no tag we know of.
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentEnd
            | Event::Alias(_)
            | Event::Anchor(..)
            | Event::UnresolvedAlias(_)
            | Event::SequenceEnd
            | Event::MappingEnd
            | _ => false,
        };
        if tagged {
            return Some(
                Finding::error(
                    FindingCode::YamlSyntax,
                    at(),
                    "YAML tags are not supported in runbooks",
                )
                .with_label("a tagged value")
                .with_help(
                    "remove the tag (`!!binary`, `!!str`, `!custom`, ...) and write the value \
                         as plain YAML; quote it to make it text",
                ),
            );
        }
    }
    None
}

/// Why a YAML document (not a runbook) could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadValueError {
    /// Over [`MAX_SOURCE_BYTES`].
    #[error("larger than {max} bytes ({size} bytes)")]
    TooLarge { size: usize, max: usize },
    /// The parser refused it (syntax, duplicate key, a budget); its message, without the snippet.
    #[error("{message}")]
    Yaml { message: String },
}

/// Parses any YAML document (an answers file, say) into a JSON value, with the same budgets.
pub fn load_value(text: &str) -> Result<serde_json::Value, LoadValueError> {
    if text.len() > MAX_SOURCE_BYTES {
        return Err(LoadValueError::TooLarge {
            size: text.len(),
            max: MAX_SOURCE_BYTES,
        });
    }
    let source = Source::new("", text);
    if let Some(finding) = unsupported_syntax(&source) {
        let (line, column) = source.line_col(finding.span.start);
        return Err(LoadValueError::Yaml {
            message: format!("{} at line {line}, column {column}", finding.message),
        });
    }
    serde_saphyr::from_str_with_options::<serde_json::Value>(text, options()).map_err(|error| {
        let finding = finding_from(&source, &error);
        let at = match error.location() {
            Some(location) => format!(" at line {}, column {}", location.line(), location.column()),
            None => String::new(),
        };
        LoadValueError::Yaml {
            message: format!("{}{at}", finding.message),
        }
    })
}

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = 48;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 100_000;
    budget.max_total_scalar_bytes = MAX_SOURCE_BYTES;
    budget.max_documents = 1;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.strict_booleans = true;
    options.merge_keys = MergeKeyPolicy::Error;
    options.reject_unsupported_tags = true;
    options.with_snippet = false;
    options
}

fn finding_from(source: &Source, error: &serde_saphyr::Error) -> Finding {
    let span = match error.location() {
        Some(location) => {
            let start = source.offset_of(location.line() as usize, location.column() as usize);
            let len = location
                .span()
                .byte_len()
                .filter(|len| *len < 1 << 20)
                .unwrap_or(0);
            Span::new(start, (start + len as usize).min(source.text.len()))
        }
        None => Span::new(0, 0),
    };
    let message = strip_location(&error.without_snippet().to_string());
    classify(&message, span)
}

/// serde's messages name Rust types; say what an author writes instead.
fn friendly_type(message: &str) -> Option<&'static str> {
    Some(match message {
        "invalid u64" | "invalid u32" | "invalid u16" | "invalid usize" => {
            "a whole number (0 or more)"
        }
        "invalid i32" | "invalid i64" => "a whole number",
        "invalid f64" | "invalid f32" => "a number",
        "invalid bool" | "invalid boolean" => "true or false",
        "expected string scalar" => {
            "text here; a plain value containing `: ` is read as a mapping, so quote it"
        }
        _ if message.ends_with("StatusSpec") => {
            "an HTTP status code (200) or a list of them ([200, 204])"
        }
        _ if message.ends_with("ExitSpec") => "an exit code (0) or a list of them ([0, 1])",
        _ if message.ends_with("RawCapture") => {
            "a JSONPath (`$.field`) or a mapping such as `{jsonpath: $.field}` or `{header: X-Name}`"
        }
        _ => return None,
    })
}

/// serde-saphyr appends " at line N, column M"; the renderer shows the position itself.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn classify(message: &str, span: Span) -> Finding {
    if message.contains("merge key") {
        return Finding::error(
            FindingCode::YamlSyntax,
            span,
            "YAML merge keys (`<<`) are not supported in runbooks",
        )
        .with_label("a merge key")
        .with_help("write the fields out in full: a step should read the same wherever it is");
    }
    if message.contains("budget") {
        return Finding::error(
            FindingCode::YamlSyntax,
            span,
            "the file exceeds a YAML safety limit (nesting deeper than 48, more than 1000 aliases \
             or anchors, or more than 100000 nodes)",
        )
        .with_label("stopped here")
        .with_help("runbooks never need this much; a file that does is malformed or hostile");
    }
    // Parser errors first: they also say "expected", but they are about syntax, not types.
    let syntax = message.starts_with("while parsing")
        || message.starts_with("while scanning")
        || message.contains("did not find expected")
        || message.contains("not allowed in this context")
        || message.starts_with("unclosed");
    if syntax {
        let finding = Finding::error(FindingCode::YamlSyntax, span, message.to_owned())
            .with_label("the YAML parser stopped here");
        return if message.contains("mapping values are not allowed") {
            finding.with_help(
                "a plain value cannot contain `: `; quote it, or write a long command as a block \
                 scalar (`command: >-` and the command on the next lines)",
            )
        } else if message.contains("flow mapping") || message.contains("flow sequence") {
            finding.with_help(
                "a `{` or `[` opened above is not closed; the error shows where the parser noticed",
            )
        } else {
            finding
        };
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, expected) = match rest.split_once(", expected ") {
            Some((field, expected)) => (field, expected),
            None => (rest, ""),
        };
        let field = field.trim_matches('`');
        let expected: Vec<&str> = expected
            .trim_start_matches("one of ")
            .split(", ")
            .map(|name| name.trim_matches('`'))
            .filter(|name| !name.is_empty())
            .collect();
        let finding = Finding::error(
            FindingCode::UnknownField,
            span,
            format!("unknown field `{field}`"),
        )
        .with_label("not a field here");
        return match did_you_mean(field, expected.iter().copied()) {
            Some(candidate) => finding.with_help(format!("did you mean `{candidate}`?")),
            None if !expected.is_empty() => {
                finding.with_help(format!("expected one of: {}", expected.join(", ")))
            }
            None => finding,
        };
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest);
        return Finding::error(
            FindingCode::DuplicateKey,
            span,
            format!("duplicate key `{key}`"),
        )
        .with_label("already set above")
        .with_help("each key may appear once in a mapping; remove one of them");
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return Finding::error(
            FindingCode::InvalidValue,
            span,
            format!("missing required field `{field}`"),
        )
        .with_label(format!("`{field}` is required here"));
    }
    if let Some(expected) = friendly_type(message) {
        return Finding::error(
            FindingCode::InvalidValue,
            span,
            format!("expected {expected}"),
        )
        .with_label("wrong type or value");
    }
    let is_shape = message.starts_with("invalid ")
        || message.contains("expected")
        || message.starts_with("unknown variant")
        || message.starts_with("data did not match");
    if is_shape {
        let friendly = message.replace(
            "data did not match any variant of untagged enum",
            "value has the wrong shape for",
        );
        return Finding::error(FindingCode::InvalidValue, span, friendly)
            .with_label("wrong type or value");
    }
    Finding::error(FindingCode::YamlSyntax, span, message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<RawRunbook, Box<Finding>> {
        load_raw(&Source::new("t.yaml", text))
    }

    #[test]
    fn unknown_field_suggests_the_closest() {
        let finding =
            load("id: a\ntitle: b\nsteps:\n  - id: x\n    shel: {command: 'true'}\n").err();
        let finding = finding.map(|f| *f);
        assert!(matches!(
            finding,
            Some(Finding {
                code: FindingCode::UnknownField,
                ref help,
                ..
            }) if help.as_deref() == Some("did you mean `shell`?")
        ));
    }

    #[test]
    fn duplicate_keys_are_rejected_at_the_key() {
        let text = "id: a\ntitle: b\ntitle: c\nsteps: []\n";
        let finding = load(text).err().map(|f| *f);
        assert!(matches!(
            finding,
            Some(Finding { code: FindingCode::DuplicateKey, span, .. }) if span.start == 15
        ));
    }

    #[test]
    fn alias_bombs_fail_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = level - 1;
            text.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        text.push_str("id: a\ntitle: b\nsteps: []\n");
        assert!(load(&text).is_err());
    }

    #[test]
    fn answers_files_refuse_tags_and_second_documents_by_name() {
        let second = load_value("a: 1\n---\nb: 2\n").err().map(|e| e.to_string());
        assert_eq!(
            second.as_deref(),
            Some("a second YAML document: a runbook file holds exactly one at line 2, column 1")
        );
        let tagged = load_value("a: !!binary eA==\n")
            .err()
            .map(|e| e.to_string());
        assert!(
            tagged
                .as_deref()
                .is_some_and(|m| m.starts_with("YAML tags are not supported")),
            "{tagged:?}"
        );
        let duplicate = load_value("a: 1\na: 2\n").err().map(|e| e.to_string());
        assert_eq!(
            duplicate.as_deref(),
            Some("duplicate key `a` at line 2, column 1")
        );
    }

    #[test]
    fn yes_is_not_a_boolean() {
        let text = "id: a\ntitle: b\ninputs:\n  k:\n    secret: yes\nsteps: []\n";
        assert!(load(text).is_err());
    }
}
