//! Turning a YAML parser's or deserializer's message into a finding an author can act on.
//!
//! serde and the parser speak of Rust types and parser states; these functions say what the author
//! writes instead, and add help where a message alone does not say what to do.

use crate::finding::{Finding, FindingCode};
use crate::source::Span;
use crate::suggest::did_you_mean;

/// Help for a value that starts with an unquoted `{{`.
pub(crate) const QUOTE_TEMPLATE: &str = "YAML reads `{` at the start of a value as a mapping: quote \
     the whole value, as in `url: \"{{inputs.base_url}}/v2/account\"`";

/// Whether a line has a value starting with an unquoted `{{` (`key: {{...` or `- {{...`).
pub(crate) fn has_unquoted_template(line: &str) -> bool {
    let value = match line.split_once(": ") {
        Some((_, value)) => value,
        None => line.trim_start().strip_prefix("- ").unwrap_or(""),
    };
    value.trim_start().starts_with("{{")
}

/// serde's messages name Rust types; say what an author writes instead.
pub(crate) fn friendly_type(message: &str) -> Option<&'static str> {
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
        _ if message.ends_with("ExitSpec") => {
            "an exit code from 0 to 255 (0) or a list of them ([0, 1])"
        }
        _ if message.ends_with("RawCapture") => {
            "a JSONPath (`$.field`) or a mapping such as `{jsonpath: $.field}` or `{header: X-Name}`"
        }
        _ => return None,
    })
}

/// serde-saphyr appends " at line N, column M"; the renderer shows the position itself.
pub(crate) fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

pub(crate) fn classify(message: &str, span: Span) -> Finding {
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
    if is_syntax(message) {
        return syntax_finding(message, span);
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
        return unknown_field(field, &expected, span);
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

fn is_syntax(message: &str) -> bool {
    message.starts_with("while parsing")
        || message.starts_with("while scanning")
        || message.contains("did not find expected")
        || message.contains("not allowed in this context")
        || message.starts_with("unclosed")
}

/// A message from the YAML parser itself (the file is not YAML), with help for the usual causes.
pub(crate) fn syntax_finding(message: &str, span: Span) -> Finding {
    if !is_syntax(message) {
        return Finding::error(FindingCode::YamlSyntax, span, message.to_owned());
    }
    let finding = Finding::error(FindingCode::YamlSyntax, span, message.to_owned())
        .with_label("the YAML parser stopped here");
    if message.contains("mapping values are not allowed") {
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
    }
}

/// `field` is not one of `expected` (the fields of the mapping it is in).
pub(crate) fn unknown_field(field: &str, expected: &[&str], span: Span) -> Finding {
    let finding = Finding::error(
        FindingCode::UnknownField,
        span,
        format!("unknown field `{field}`"),
    )
    .with_label("not a field here");
    match did_you_mean(field, expected.iter().copied()) {
        Some(candidate) => finding.with_help(format!("did you mean `{candidate}`?")),
        None if !expected.is_empty() => {
            finding.with_help(format!("expected one of: {}", expected.join(", ")))
        }
        None => finding,
    }
}
