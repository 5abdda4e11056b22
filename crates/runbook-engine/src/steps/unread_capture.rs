//! A list capture (`all: true`) that no template reads, over a response body left as bytes: its
//! values are read from the bytes one at a time ([`super::jsonpath_bytes`]) and counted, the start
//! of their text is kept for the report, and they are built only when the list is small enough
//! for the report to keep whole. A `$..*` over a 10 MiB body of small values selects more than a
//! million values; built, they were a list of some 500 MB that nothing would ever read, the
//! report only ever showing its first 64 KiB.
//!
//! A capture someone reads, a secret one (its values must be known to be masked) and one with a
//! filter are built as ever ([`super::capture`]).

use serde_json::Value;

use runbook_dsl::{Capture, CaptureSource};

use super::capture::Document;
use super::{StandIn, StepEnv, json_excerpt, jsonpath_bytes, partial_json};
use crate::error::{StepError, StepErrorKind};
use crate::kept::KEPT_BYTES;
use crate::redact::Redactor;

/// How much of the values' text the report shows.
const EXCERPT_BYTES: usize = 4 * 1024;

/// Whether `capture` is one whose values need not be built: a list no template reads, read from
/// the bytes of `document`.
pub(super) fn is_unread(capture: &Capture, document: &Document<'_>, env: &StepEnv<'_>) -> bool {
    let CaptureSource::JsonPath(path) = &capture.source else {
        return false;
    };
    capture.all
        && !capture.secret
        && env
            .readers
            .as_ref()
            .and_then(|readers| readers.paths(&capture.name))
            .is_some_and(|paths| paths.is_empty())
        && document.readable_bytes(path).is_some()
}

/// What is kept of an unread capture: its values, when few; else what the report shows.
pub(super) enum Kept {
    Whole(Value),
    StandIn(StandIn),
}

/// Reads the values of `capture` (one [`is_unread`] said yes to) from `document`; `secrets` mask
/// what the report shows.
pub(super) fn keep(
    capture: &Capture,
    document: &Document<'_>,
    secrets: &Redactor,
) -> Result<Kept, StepError> {
    let failed = |error: serde_json::Error| {
        StepError::new(
            StepErrorKind::Capture,
            format!("capture `{}`: the body is not JSON: {error}", capture.name),
        )
        .at(capture.span)
    };
    let cannot = || {
        StepError::new(
            StepErrorKind::Capture,
            format!("capture `{}` cannot be read from the bytes", capture.name),
        )
        .at(capture.span)
    };
    let CaptureSource::JsonPath(path) = &capture.source else {
        return Err(cannot());
    };
    let bytes = document.readable_bytes(path).ok_or_else(cannot)?;
    let mut list = Listed::new(secrets);
    jsonpath_bytes::select_each(bytes, &path.query, &mut |raw| list.push(raw)).map_err(failed)?;
    if let Some(raws) = &list.few {
        let values = raws
            .iter()
            .map(|raw| serde_json::from_str(raw))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(failed)?;
        let list = Value::Array(values);
        // Whole exactly when the report would keep the built list whole.
        if crate::kept::fits(&list) {
            return Ok(Kept::Whole(list));
        }
    }
    Ok(Kept::StandIn(StandIn {
        output: capture.name.clone(),
        shown: format!(
            "{}… (excerpt: {} values, {} bytes of JSON in the body; no template reads this \
             capture, so its values were not kept)",
            list.shown, list.count, list.size
        ),
        held_secret: list.held_secret,
    }))
}

/// The most of the values' text in the body for which they are built, to find out whether the
/// report would keep the list whole (its JSON within [`KEPT_BYTES`]): the body's text can be
/// indented, its JSON never longer than that text.
const FEW_TEXT_BYTES: u64 = 4 * KEPT_BYTES as u64;

/// The values of a list as they are read: counted, measured, the start of their text redacted.
struct Listed<'b, 'r> {
    secrets: &'r Redactor,
    /// The values, while their text is short enough that the list may be kept whole.
    few: Option<Vec<&'b str>>,
    count: usize,
    /// The length of the list's text so far (the values' text in the body), with `[` and `]`.
    size: u64,
    shown: String,
    held_secret: bool,
}

impl<'b, 'r> Listed<'b, 'r> {
    fn new(secrets: &'r Redactor) -> Self {
        Listed {
            secrets,
            few: Some(Vec::new()),
            count: 0,
            size: 2,
            shown: String::new(),
            held_secret: false,
        }
    }

    fn push(&mut self, text: &'b str) {
        self.size += text.len() as u64 + u64::from(self.count > 0);
        self.count += 1;
        if self.size > FEW_TEXT_BYTES {
            self.few = None;
        } else if let Some(few) = &mut self.few {
            few.push(text);
        }
        let room = EXCERPT_BYTES.saturating_sub(self.shown.len());
        if room > 0 {
            self.shown.push(if self.count == 1 { '[' } else { ',' });
            // Written as serde_json writes it, then masked before it is cut: a secret the body
            // escapes its own way, or one that crosses the cut, shows no part of itself.
            if let Some((start, _)) =
                json_excerpt::masked_start(text.as_bytes(), self.secrets, room)
            {
                self.shown.push_str(&start);
            }
        }
        self.held_secret =
            self.held_secret || partial_json::holds_secret(text.as_bytes(), self.secrets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(
        document: &str,
        query: &str,
        secrets: &Redactor,
    ) -> (Option<Vec<Value>>, String, bool) {
        let parsed = jsonpath_rust::parser::parse_json_path(query)
            .unwrap_or_else(|error| panic!("{query}: {error}"));
        let mut list = Listed::new(secrets);
        jsonpath_bytes::select_each(document.as_bytes(), &parsed, &mut |raw| list.push(raw))
            .unwrap_or_else(|error| panic!("{error}"));
        let few = list.few.map(|raws| {
            raws.iter()
                .map(|raw| serde_json::from_str(raw).unwrap_or_default())
                .collect()
        });
        (few, list.shown, list.held_secret)
    }

    #[test]
    fn a_small_list_is_built_and_a_large_one_only_shown_masked() {
        let mut secrets = Redactor::default();
        secrets.add("s3cret-token-value");
        let (few, _, held) = listed(r#"{"a": [1, "x", {"k": null}]}"#, "$.a[*]", &secrets);
        assert_eq!(
            few,
            Some(vec![
                Value::from(1),
                Value::from("x"),
                serde_json::json!({"k": null})
            ])
        );
        assert!(!held);

        let filler = "y".repeat(EXCERPT_BYTES - 40);
        let items: Vec<String> = (0..40)
            .map(|i| format!(r#"{{"n": {i}, "t": "{filler}s3cret-token-value{filler}"}}"#))
            .collect();
        let document = format!(r#"{{"items": [{}]}}"#, items.join(","));
        let (few, shown, held) = listed(&document, "$..*", &secrets);
        assert_eq!(few, None, "{} bytes were kept whole", document.len());
        assert!(held);
        assert!(!shown.contains("s3cret"), "a part of the secret shows");
        assert!(shown.starts_with(r#"[[{"n":0,"#), "{}", &shown[..40]);
        assert!(shown.len() < EXCERPT_BYTES + 100, "{}", shown.len());
    }
}
