//! An http step's expected response whose body nothing reads as a whole tree (and that is larger
//! than a report keeps whole): the bytes stay as they came. Captures read them in place
//! ([`super::lazy_json`]); the `body` output is the part of the tree templates read
//! ([`super::partial_json`]) with an excerpt of the bytes shown in its place, or, when nothing
//! reads it, only that excerpt.

use serde_json::{Map, Value};

use runbook_dsl::{Capture, HttpStep};

use super::http::DISCARDED;
use super::partial_json::{self, Wanted};
use super::{StandIn, StepEnv, capture, check_own, json_excerpt, unread_capture};
use crate::error::StepError;

/// How templates read a body: whole (or it cannot be told), not at all, or only through paths.
pub(super) enum BodyReads {
    Whole,
    Nothing,
    Paths(Wanted),
}

/// How the step's own `assert` and `until` and later templates read the body
/// ([`crate::references`]). A body no larger than a report keeps whole is parsed whole anyway (it
/// costs little, and the report and journal show it as JSON).
pub(super) fn body_reads(env: &StepEnv<'_>, size: usize) -> BodyReads {
    if size <= crate::kept::KEPT_BYTES {
        return BodyReads::Whole;
    }
    let Some(paths) = env
        .readers
        .as_ref()
        .and_then(|readers| readers.paths("body"))
    else {
        return BodyReads::Whole;
    };
    if paths.is_empty() {
        return BodyReads::Nothing;
    }
    let wanted = Wanted::new(&paths);
    if wanted.is_whole() {
        BodyReads::Whole
    } else {
        BodyReads::Paths(wanted)
    }
}

/// The outputs of an expected response whose body nothing reads as a whole tree: captures read
/// the bytes ([`super::lazy_json`]); the body is never parsed whole (unless a capture's JSONPath
/// needs more than names and indices). The `body` output is `partial`, the part of the tree
/// templates read ([`partial_json`]), with a short redacted excerpt of the text to show in its
/// place; or, when nothing reads it, that excerpt.
pub(super) fn outputs_of_unparsed(
    step: &HttpStep,
    status: u16,
    headers: Map<String, Value>,
    bytes: &[u8],
    partial: Option<Value>,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let mut outputs = Map::new();
    outputs.insert("status".into(), Value::from(status));
    let document = capture::Document::unparsed(bytes);
    // Lists no template reads are read last, after the step's own `assert`: they can fail only
    // when the bytes are not JSON, which `is_unread` ruled out.
    let (unread, read): (Vec<&Capture>, Vec<&Capture>) = step
        .captures
        .iter()
        .partition(|capture| unread_capture::is_unread(capture, &document, env));
    let captured = capture::apply_to(read, &document, Some(&headers), &mut env.new_secrets)?;
    let is_partial = partial.is_some();
    let body = match partial {
        Some(tree) => tree,
        None if step.discard_body => Value::String(DISCARDED.to_owned()),
        None => Value::String(unparsed_excerpt(bytes, &secrets(env), NOT_READ)),
    };
    outputs.insert("body".into(), body);
    outputs.extend(captured);
    outputs.insert("headers".into(), Value::Object(headers));
    let checked = check_own(&step.asserts, env.context, &outputs, &env.new_secrets);
    if is_partial {
        if step.discard_body && checked.is_ok() {
            // As for a whole tree: the step's own `assert` read it, nothing after it does.
            outputs.insert("body".into(), Value::String(DISCARDED.to_owned()));
        } else {
            // After the step's own `assert`: a secret derived there is masked too.
            let secrets = secrets(env);
            let shown = if step.discard_body {
                DISCARDED.to_owned()
            } else {
                unparsed_excerpt(bytes, &secrets, PARTLY_READ)
            };
            env.stand_ins.push(StandIn {
                output: "body".into(),
                shown,
                held_secret: partial_json::holds_secret(bytes, &secrets),
            });
        }
    }
    if !unread.is_empty() {
        let secrets = secrets(env);
        for capture in unread {
            match unread_capture::keep(capture, &document, &secrets)? {
                unread_capture::Kept::Whole(values) => {
                    outputs.insert(capture.name.clone(), values);
                }
                unread_capture::Kept::StandIn(stand_in) => {
                    outputs.insert(capture.name.clone(), Value::String(stand_in.shown.clone()));
                    env.stand_ins.push(stand_in);
                }
            }
        }
    }
    checked.map_err(|error| error.with_outputs(outputs.clone()))?;
    Ok(outputs)
}

/// How much of a body left as bytes the report keeps.
const UNPARSED_EXCERPT_BYTES: usize = 4 * 1024;

/// What an excerpt says about a body no template reads.
pub(super) const NOT_READ: &str = "no template reads it, so it was neither parsed nor kept";

/// What an excerpt says about a body templates read only through plain paths.
const PARTLY_READ: &str = "templates read only parts of it, and only those were parsed and kept";

/// The run's secrets and those this step captured.
pub(super) fn secrets(env: &StepEnv<'_>) -> crate::redact::Redactor {
    let mut secrets = env.context.redactor.clone();
    secrets.merge(&env.new_secrets);
    secrets
}

/// The start of a body left as bytes, about `limit` bytes of it, masked by `secrets` before it is
/// cut. JSON is shown as serde_json writes it ([`json_excerpt`]), so a secret the body escapes its
/// own way (`\u002B` for `+`) is masked as in the parsed tree; other bytes as text.
pub(super) fn masked_start(
    bytes: &[u8],
    secrets: &crate::redact::Redactor,
    limit: usize,
) -> String {
    if let Some((start, _)) = json_excerpt::masked_start(bytes, secrets, limit) {
        return start;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        // Only the start is shown: convert no more than it, and the longest form of a secret
        // past it, so one that starts before the cut is whole (a cut character becomes U+FFFD).
        Err(_) => {
            let end = (2 * limit).saturating_add(secrets.longest_form());
            String::from_utf8_lossy(bytes.get(..end.min(bytes.len())).unwrap_or_default())
        }
    };
    // JSON at first and then not (cut off, a trailing comma): its escapes still hide secrets.
    let text = json_excerpt::decode_escapes(&text);
    secrets.redact_start(&text, limit).0
}

/// The start of a body left as bytes ([`masked_start`]), with its size and `why` it is an excerpt.
pub(super) fn unparsed_excerpt(
    bytes: &[u8],
    secrets: &crate::redact::Redactor,
    why: &str,
) -> String {
    format!(
        "{}… (excerpt: the body is {} bytes; {why})",
        masked_start(bytes, secrets, UNPARSED_EXCERPT_BYTES),
        bytes.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;
    use crate::steps::http::SNIPPET_BYTES;

    /// Before its fix: a body that is JSON for its first bytes and then is not (a trailing comma, a cut
    /// body) is quoted as raw text, so an escape the server chose is not undone and the secret
    /// shows, escaped but whole; the same body without the trailing comma is masked.
    #[test]
    fn a_body_that_turns_out_not_to_be_json_shows_no_escaped_form_of_a_secret() {
        let mut secrets = Redactor::default();
        secrets.add("tok+s3cret-value");
        let valid = r#"{"error":"bad key tok+\u00733cret-value"}"#;
        let shown = masked_start(valid.as_bytes(), &secrets, SNIPPET_BYTES);
        assert!(!shown.contains("3cret-value"), "{shown}");
        for body in [
            r#"{"error":"bad key tok+\u00733cret-value",}"#,
            r#"{"error":"bad key tok+\u00733cret-value","data":[1,2"#,
        ] {
            let shown = masked_start(body.as_bytes(), &secrets, SNIPPET_BYTES);
            assert!(!shown.contains("3cret-value"), "{shown}");
        }
    }

    /// Before its fix: a body that is not UTF-8 is converted only as far as twice the limit before it is
    /// masked, so a secret longer than the limit that starts before the cut is not whole in the
    /// converted text, is not masked, and its start shows. (Four-byte characters before it: the
    /// message's 300 characters reach 1,200 bytes.)
    #[test]
    fn a_long_secret_in_a_body_that_is_not_utf8_shows_no_part_of_itself() {
        let key = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".repeat(45)
        );
        assert!(key.len() > 1_400);
        let mut secrets = Redactor::default();
        secrets.add(&key);
        let mut body = "😀".repeat(280).into_bytes();
        body.extend_from_slice(key.as_bytes());
        body.extend_from_slice(b" \xff");
        let shown = masked_start(&body, &secrets, SNIPPET_BYTES);
        let shown: String = shown.chars().take(300).collect();
        assert!(!shown.contains("BEGIN PRIVATE"), "{shown}");
    }

    /// Before its fix: only the body's first JSON value is read, and what follows it is never looked at,
    /// so a body of two documents (NDJSON, or JSON then text) is quoted as its first value alone,
    /// with nothing to say the rest was left off; the parse the outputs use refuses it as JSON.
    #[test]
    fn a_body_with_more_after_its_first_json_value_is_not_quoted_as_that_value_alone() {
        let secrets = Redactor::default();
        for body in [
            "{\"id\":1}\n{\"error\":\"quota exceeded\"}\n",
            "{\"id\":1} quota exceeded",
        ] {
            assert!(serde_json::from_str::<Value>(body).is_err());
            let shown = masked_start(body.as_bytes(), &secrets, SNIPPET_BYTES);
            assert!(shown.contains("quota exceeded"), "{body:?}: {shown}");
        }
    }
}
