//! `http` steps: one request, a checked status, captures and assertions on the response.

use std::time::Duration;

use serde_json::{Map, Value};

use runbook_dsl::{Body, HttpStep};

use super::body_bytes::{
    BodyReads, NOT_READ, body_reads, masked_start, outputs_of_unparsed, secrets, unparsed_excerpt,
};
use super::partial_json;
use super::{StepEnv, capture, check_own};
use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::http_client::url_for_messages;
use crate::render::{render_string, render_string_with, render_value};
use crate::transport::{HttpRequest, HttpResponse, TransportError};

pub(super) async fn execute(
    step: &HttpStep,
    timeout: Option<Duration>,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let scope = Scope::new(env.context);
    let (url, url_text) = render_url(step, scope)?;
    let timeout = timeout.unwrap_or(HttpStep::DEFAULT_TIMEOUT);
    let (headers, body) = headers_and_body(step, scope)?;
    let request = HttpRequest {
        method: step.method,
        url,
        headers,
        body,
        timeout,
        follow_redirects: step.follow_redirects,
        max_response_bytes: step.max_response_bytes,
    };

    // Described without user name, password, query and fragment; the redactor knows a secret's
    // percent-encoded forms, so one in the path is masked.
    let described = format!("{} {}", step.method.as_str(), url_for_messages(&url_text));
    let traced = crate::trace::HttpCall::start(&request, &[&env.context.redactor]);
    let response = env.http.send(request).await;
    if let Some(traced) = traced {
        traced.finish(&response, &[&env.context.redactor]);
    }
    let response = response.map_err(|error| transport_error(&described, &error))?;
    let HttpResponse {
        status,
        headers: received_headers,
        body: bytes,
    } = response;
    let mut headers = Map::new();
    for (name, value) in received_headers {
        headers.insert(name, Value::String(value));
    }
    let expected = if step.expect_status.is_empty() {
        (200..300).contains(&status)
    } else {
        step.expect_status.contains(&status)
    };
    if expected {
        match body_reads(env, bytes.len()) {
            BodyReads::Whole => {}
            BodyReads::Nothing => {
                return outputs_of_unparsed(step, status, headers, &bytes, None, env);
            }
            BodyReads::Paths(wanted) => {
                // Bytes that are not JSON go the whole way, which keeps them as text, as ever.
                if let Ok(tree) = partial_json::build(&bytes, &wanted) {
                    return outputs_of_unparsed(step, status, headers, &bytes, Some(tree), env);
                }
            }
        }
    }
    if !expected {
        return Err(unexpected_status(
            step, &described, status, headers, bytes, env,
        ));
    }
    outputs_of(step, Received::new(status, headers, bytes), env)
}

/// What came back. The body is parsed once and not copied: a 10 MiB body of small JSON values is
/// a tree twenty times that size.
struct Received {
    status: u16,
    headers: Map<String, Value>,
    /// The body: parsed when it is JSON, else its text.
    body: Value,
    /// Whether `body` is the parsed JSON (captures by JSONPath need it).
    is_json: bool,
}

impl Received {
    fn new(status: u16, headers: Map<String, Value>, bytes: Vec<u8>) -> Self {
        let json = if bytes.is_empty() {
            None
        } else {
            serde_json::from_slice::<Value>(&bytes).ok()
        };
        let (body, is_json) = match json {
            Some(json) => (json, true),
            None => (
                Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                false,
            ),
        };
        Received {
            status,
            headers,
            body,
            is_json,
        }
    }
}

/// The URL: template values in the path, query and fragment encoded as data; `query:` appended.
fn render_url(step: &HttpStep, scope: Scope) -> Result<(url::Url, String), StepError> {
    let url_text = render_string_with(&step.url, scope, encode_for_url)?;
    let mut url = url::Url::parse(&url_text).map_err(|error| {
        StepError::new(
            StepErrorKind::Render,
            format!("`{url_text}` is not a valid URL: {error}"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(StepError::new(
            StepErrorKind::Render,
            format!("`{url_text}` is not an http:// or https:// URL"),
        ));
    }
    for (name, value) in &step.query {
        let value = render_value(value, scope)?;
        let text = match value {
            Value::String(text) => text,
            Value::Null => {
                return Err(StepError::new(
                    StepErrorKind::Render,
                    format!("query parameter `{name}` is null"),
                ));
            }
            other @ (Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_)) => {
                other.to_string()
            }
        };
        url.query_pairs_mut().append_pair(name, &text);
    }
    Ok((url, url_text))
}

/// Header names and values, in order.
type Headers = Vec<(String, String)>;

/// The request's headers (a `content-type` added for a JSON body) and body, rendered.
fn headers_and_body(
    step: &HttpStep,
    scope: Scope,
) -> Result<(Headers, Option<Vec<u8>>), StepError> {
    let mut has_content_type = false;
    let mut headers = Vec::with_capacity(step.headers.len() + 1);
    for (name, value) in &step.headers {
        let value = render_string(value, scope)?;
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        if reqwest::header::HeaderValue::from_str(&value).is_err() {
            return Err(StepError::new(
                StepErrorKind::Render,
                format!(
                    "header `{name}` has a value that is not valid in HTTP (control characters?)"
                ),
            ));
        }
        headers.push((name.clone(), value));
    }
    let body = match &step.body {
        Some(Body::Json(value)) => {
            let body = render_value(value, scope)?;
            if !has_content_type {
                headers.push(("content-type".into(), "application/json".into()));
            }
            Some(body.to_string().into_bytes())
        }
        Some(Body::Text(template)) => Some(render_string(template, scope)?.into_bytes()),
        None => None,
    };
    Ok((headers, body))
}

/// A status the step does not expect: what was wanted and got, a redirect not followed, the start
/// of the body (masked), and what the failure path may refer to.
fn unexpected_status(
    step: &HttpStep,
    described: &str,
    status: u16,
    headers: Map<String, Value>,
    bytes: Vec<u8>,
    env: &StepEnv<'_>,
) -> StepError {
    let wanted = if step.expect_status.is_empty() {
        "a 2xx status".to_owned()
    } else {
        format!(
            "status {}",
            step.expect_status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    let mut message = format!("{described}: expected {wanted}, got {status}");
    if (300..400).contains(&status)
        && let Some(Value::String(location)) = headers.get("location")
    {
        let why = if step.follow_redirects {
            "it leads to another origin, or the limit of 5 redirects was reached"
        } else {
            "redirects are only followed within the same origin, with `follow_redirects: true`"
        };
        message.push_str(&format!(
            "\n  redirect to {location} was not followed ({why})"
        ));
    }
    if !bytes.is_empty() {
        // Masked before it is cut, so a secret across the cut cannot show in part; JSON as
        // serde_json writes it, so a secret the server escaped its own way is masked too.
        let shown = masked_start(bytes.as_slice(), &secrets(env), SNIPPET_BYTES);
        message.push_str(&format!("\n  body: {}", snippet(&shown)));
    }
    let mut error = StepError::new(StepErrorKind::UnexpectedResult, message);
    error.status = Some(status);
    error.retry_after = headers
        .get("retry-after")
        .and_then(Value::as_str)
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut produced = Map::new();
    produced.insert("status".into(), Value::from(status));
    let body = if step.discard_body {
        Value::String(DISCARDED.into())
    } else if matches!(body_reads(env, bytes.len()), BodyReads::Nothing) {
        // As for an expected response: a large body no template reads is not parsed.
        Value::String(unparsed_excerpt(&bytes, &secrets(env), NOT_READ))
    } else {
        Received::new(status, Map::new(), bytes).body
    };
    produced.insert("body".into(), body);
    produced.insert("headers".into(), Value::Object(headers));
    error.with_outputs(produced)
}

/// The outputs of an expected response: status, body, captures and headers, after the step's own
/// assertions.
fn outputs_of(
    step: &HttpStep,
    response: Received,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let Received {
        status,
        headers,
        body,
        is_json,
        ..
    } = response;
    let mut outputs = Map::new();
    outputs.insert("status".into(), Value::from(status));
    // Captures read the body where it lies; it moves into the outputs afterwards, uncopied.
    let captured = capture::apply(
        &step.captures,
        is_json.then_some(&body),
        Some(&headers),
        &mut env.new_secrets,
    )?;
    outputs.insert("body".into(), body);
    outputs.extend(captured);
    outputs.insert("headers".into(), Value::Object(headers));
    check_own(&step.asserts, env.context, &outputs, &env.new_secrets)
        .map_err(|error| error.with_outputs(outputs.clone()))?;
    if step.discard_body {
        outputs.insert("body".into(), Value::String(DISCARDED.into()));
    }
    Ok(outputs)
}

/// The `body` output of a step with `discard_body`.
pub(super) const DISCARDED: &str = "(discarded: discard_body)";

fn transport_error(described: &str, error: &TransportError) -> StepError {
    let kind = if error.is_timeout() {
        StepErrorKind::Timeout
    } else {
        StepErrorKind::Transport
    };
    let message = match error {
        TransportError::ConnectTimeout { .. } => {
            format!("{described}: {error} (the TCP/TLS connect limit)")
        }
        TransportError::Timeout { .. }
        | TransportError::TooLarge { .. }
        | TransportError::Failed { .. }
        | TransportError::NotSimulated { .. } => format!("{described}: {error}"),
    };
    StepError::new(kind, message)
}

/// A reference's text as it is put into a URL. Once the text before it has reached the path (a
/// `/` after `scheme://host`), the query or the fragment, the value is data: every byte but the
/// unreserved ones (`A-Z a-z 0-9 - . _ ~`) is percent-encoded, so a `/`, `?`, `#` or `&` in it can
/// neither end the path nor start a parameter. Before that (`{{inputs.base_url}}/v2/...`, or a
/// host) it is URL syntax and goes in as it is.
fn encode_for_url(before: &str, text: String) -> String {
    let after_scheme = before.split_once("://").map_or(before, |(_, rest)| rest);
    let is_data = before.contains(['?', '#']) || after_scheme.contains('/');
    if !is_data {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// About what [`snippet`] shows, in bytes: 300 characters of up to four bytes.
pub(super) const SNIPPET_BYTES: usize = 1_200;

fn snippet(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() > 300 {
        format!("{}…", trimmed.chars().take(300).collect::<String>())
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod url_tests {
    use super::encode_for_url;

    #[test]
    fn a_value_in_the_path_or_query_is_data() {
        assert_eq!(encode_for_url("", "http://h/a".into()), "http://h/a");
        assert_eq!(encode_for_url("http://h", ":8".into()), ":8");
        assert_eq!(
            encode_for_url("http://h/x/", "a#b?c/d".into()),
            "a%23b%3Fc%2Fd"
        );
        assert_eq!(
            encode_for_url("http://h/x?q=", "a&b=c d".into()),
            "a%26b%3Dc%20d"
        );
    }
}
