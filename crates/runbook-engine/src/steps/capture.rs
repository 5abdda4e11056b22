//! Captures: named values taken from a JSON document (or response headers) by JSONPath.

use serde_json::{Map, Value};

use runbook_dsl::{Capture, CaptureSource, JsonPath};

use crate::error::{StepError, StepErrorKind};
use crate::redact::Redactor;

/// The document captures read: a parsed body, or one left as bytes.
pub(super) enum Document<'a> {
    /// The body parsed (`None`: it was not JSON).
    Parsed(Option<&'a Value>),
    /// A body never parsed into a tree ([`super::lazy_json`]): a plain path is read from the
    /// bytes directly, and so is any path without a filter ([`super::jsonpath_bytes`]), each
    /// value selected built on its own; a filter parses them, once, for as long as the captures
    /// run.
    Unparsed {
        bytes: &'a [u8],
        /// Whether the bytes are JSON, found out once.
        valid: std::cell::OnceCell<bool>,
        tree: std::cell::OnceCell<Option<Value>>,
    },
}

impl<'a> Document<'a> {
    pub(super) fn unparsed(bytes: &'a [u8]) -> Self {
        Document::Unparsed {
            bytes,
            valid: std::cell::OnceCell::new(),
            tree: std::cell::OnceCell::new(),
        }
    }

    /// The bytes, when the document is unparsed JSON that `path` can be read from without a tree.
    pub(super) fn readable_bytes(&self, path: &JsonPath) -> Option<&'a [u8]> {
        match self {
            Document::Parsed(_) => None,
            Document::Unparsed { bytes, valid, .. } => {
                let valid = *valid.get_or_init(|| super::lazy_json::validate(bytes).is_ok());
                (valid
                    && super::jsonpath_bytes::indexable(bytes)
                    && super::jsonpath_bytes::answerable(&path.query))
                .then_some(*bytes)
            }
        }
    }

    /// Every value `path` selects, or why none can be.
    fn select(&self, capture: &Capture, path: &JsonPath) -> Result<Vec<Value>, StepError> {
        let not_json = || {
            StepError::new(
                StepErrorKind::Capture,
                format!(
                    "capture `{}`: the body is not JSON, so JSONPath {} cannot apply",
                    capture.name, path.text
                ),
            )
        };
        let tree = match self {
            Document::Parsed(tree) => *tree,
            Document::Unparsed { bytes, tree, .. } => {
                if let Some(steps) = super::lazy_json::plain_path(&path.query) {
                    return super::lazy_json::select(bytes, &steps)
                        .map(|found| found.into_iter().collect())
                        .map_err(|_| not_json());
                }
                if let Some(bytes) = self.readable_bytes(path) {
                    let mut raws = Vec::new();
                    super::jsonpath_bytes::select_each(bytes, &path.query, &mut |raw| {
                        raws.push(raw);
                    })
                    .map_err(|_| not_json())?;
                    return raws
                        .into_iter()
                        .map(|raw| serde_json::from_str(raw).map_err(|_| not_json()))
                        .collect();
                }
                tree.get_or_init(|| serde_json::from_slice(bytes).ok())
                    .as_ref()
            }
        };
        let Some(document) = tree else {
            return Err(not_json());
        };
        let found =
            jsonpath_rust::query::js_path_process(&path.query, document).map_err(|error| {
                StepError::new(
                    StepErrorKind::Capture,
                    format!(
                        "capture `{}`: JSONPath {} failed: {error}",
                        capture.name, path.text
                    ),
                )
            })?;
        Ok(found.into_iter().map(|r| r.val().clone()).collect())
    }
}

/// Applies every capture and returns the captured values, by name; `json` is the parsed body
/// (None when it was not JSON), `headers` the response headers (lowercase names).
pub(super) fn apply(
    captures: &[Capture],
    json: Option<&Value>,
    headers: Option<&Map<String, Value>>,
    new_secrets: &mut Redactor,
) -> Result<Vec<(String, Value)>, StepError> {
    apply_to(captures, &Document::Parsed(json), headers, new_secrets)
}

/// [`apply`] over any [`Document`].
pub(super) fn apply_to<'c>(
    captures: impl IntoIterator<Item = &'c Capture>,
    document: &Document<'_>,
    headers: Option<&Map<String, Value>>,
    new_secrets: &mut Redactor,
) -> Result<Vec<(String, Value)>, StepError> {
    let mut captured = Vec::new();
    for capture in captures {
        let value =
            capture_one(capture, document, headers).map_err(|error| error.at(capture.span))?;
        if capture.secret {
            new_secrets.add_value(&value);
        }
        captured.push((capture.name.clone(), value));
    }
    Ok(captured)
}

fn capture_one(
    capture: &Capture,
    document: &Document<'_>,
    headers: Option<&Map<String, Value>>,
) -> Result<Value, StepError> {
    let value = match &capture.source {
        CaptureSource::JsonPath(path) => {
            let mut values = document.select(capture, path)?;
            if capture.all {
                Value::Array(values)
            } else if values.len() == 1 {
                values.remove(0)
            } else if values.is_empty() {
                return Err(StepError::new(
                    StepErrorKind::Capture,
                    format!(
                        "capture `{}`: JSONPath {} matched nothing",
                        capture.name, path.text
                    ),
                ));
            } else {
                return Err(StepError::new(
                    StepErrorKind::Capture,
                    format!(
                        "capture `{}`: JSONPath {} matched {} values; add `all: true` to capture them as a list",
                        capture.name,
                        path.text,
                        values.len()
                    ),
                ));
            }
        }
        CaptureSource::Header(name) => match headers.and_then(|headers| headers.get(name)) {
            Some(value) => value.clone(),
            None => {
                return Err(StepError::new(
                    StepErrorKind::Capture,
                    format!(
                        "capture `{}`: the response has no `{name}` header",
                        capture.name
                    ),
                ));
            }
        },
    };
    Ok(value)
}
