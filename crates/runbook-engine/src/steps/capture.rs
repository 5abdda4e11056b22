//! Captures: named values taken from a JSON document (or response headers) by JSONPath.

use serde_json::{Map, Value};

use runbook_dsl::{Capture, CaptureSource};

use crate::error::{StepError, StepErrorKind};
use crate::redact::Redactor;

/// Applies every capture and returns the captured values, by name; `json` is the parsed body
/// (None when it was not JSON), `headers` the response headers (lowercase names).
pub(super) fn apply(
    captures: &[Capture],
    json: Option<&Value>,
    headers: Option<&Map<String, Value>>,
    new_secrets: &mut Redactor,
) -> Result<Vec<(String, Value)>, StepError> {
    let mut captured = Vec::with_capacity(captures.len());
    for capture in captures {
        let value = capture_one(capture, json, headers).map_err(|error| error.at(capture.span))?;
        if capture.secret {
            new_secrets.add_value(&value);
        }
        captured.push((capture.name.clone(), value));
    }
    Ok(captured)
}

fn capture_one(
    capture: &Capture,
    json: Option<&Value>,
    headers: Option<&Map<String, Value>>,
) -> Result<Value, StepError> {
    let value = match &capture.source {
        CaptureSource::JsonPath(path) => {
            let Some(document) = json else {
                return Err(StepError::new(
                    StepErrorKind::Capture,
                    format!(
                        "capture `{}`: the body is not JSON, so JSONPath {} cannot apply",
                        capture.name, path.text
                    ),
                ));
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
            let mut values: Vec<Value> = found.into_iter().map(|r| r.val().clone()).collect();
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
