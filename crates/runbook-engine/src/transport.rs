//! The point where a prepared HTTP request leaves the engine: a small trait, so `http` steps and
//! plugins' `Host::http` send through the same door, and a rehearsal can answer from simulated
//! services in process instead of the network.
//!
//! [`ReqwestTransport`] is the real one: the safe clients of [`crate::http_client`] (no
//! cross-origin redirects, no Referer), a timeout on every request and a bounded body.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use runbook_dsl::HttpMethod;

use crate::clock::BoxFuture;
use crate::http_client::{HttpClients, Transport};

/// A request ready to send: rendered, validated, nothing left to decide.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: url::Url,
    /// In the order the step lists them; names as written.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// The whole exchange must finish within this.
    pub timeout: Duration,
    /// Follow redirects within the same origin.
    pub follow_redirects: bool,
    /// The largest body accepted.
    pub max_response_bytes: u64,
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Lowercase names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why no response came back. Messages never include the URL: the caller names the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No TCP/TLS connection within `limit`.
    #[error("could not connect within {}", runbook_dsl::duration::format_duration(*limit))]
    ConnectTimeout { limit: Duration },
    /// No complete response within `limit`.
    #[error("no complete response within {}", runbook_dsl::duration::format_duration(*limit))]
    Timeout { limit: Duration },
    /// The body is larger than `limit` bytes.
    #[error("response body exceeds {limit} bytes (raise `max_response_bytes` if this is expected)")]
    TooLarge { limit: u64 },
    /// Anything else (DNS, refused, reset, TLS), with its root cause.
    #[error("request failed: {cause}")]
    Failed { cause: String },
    /// A rehearsal has no simulated service for this host: nothing was sent anywhere.
    #[error("no simulated service for host `{host}` in the rehearsal (nothing was sent)")]
    NotSimulated { host: String },
}

impl TransportError {
    pub fn is_timeout(&self) -> bool {
        match self {
            TransportError::ConnectTimeout { .. } | TransportError::Timeout { .. } => true,
            TransportError::TooLarge { .. }
            | TransportError::Failed { .. }
            | TransportError::NotSimulated { .. } => false,
        }
    }
}

/// Sends requests.
pub trait HttpTransport: Send + Sync {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;
}

pub type SharedTransport = Arc<dyn HttpTransport>;

/// The network, through reqwest.
#[derive(Debug, Default)]
pub struct ReqwestTransport {
    clients: HttpClients,
}

impl HttpTransport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let client = self
                .clients
                .get(request.follow_redirects, Transport::of(&request.url))
                .map_err(|error| TransportError::Failed {
                    cause: format!("cannot build the HTTP client: {error}"),
                })?;
            let timeout = request.timeout;
            let mut builder = client
                .request(method(request.method), request.url)
                .timeout(timeout);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(body) = request.body {
                builder = builder.body(body);
            }
            let response = builder
                .send()
                .await
                .map_err(|error| transport_error(&error, timeout))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = read_limited(response, request.max_response_bytes, timeout).await?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}

/// Reads the body, refusing more than `limit` bytes (a hostile or broken server cannot exhaust
/// memory).
async fn read_limited(
    mut response: reqwest::Response,
    limit: u64,
    timeout: Duration,
) -> Result<Vec<u8>, TransportError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(TransportError::TooLarge { limit });
    }
    // Sized once from the declared length (never beyond the limit): no doubling and copying.
    let declared = response.content_length().unwrap_or(0).min(limit);
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| transport_error(&error, timeout))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(TransportError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport_error(error: &reqwest::Error, timeout: Duration) -> TransportError {
    // The connect limit is shorter than most step timeouts: name the limit that was hit.
    if error.is_timeout() && error.is_connect() {
        return TransportError::ConnectTimeout {
            limit: timeout.min(crate::http_client::CONNECT_TIMEOUT),
        };
    }
    if error.is_timeout() {
        return TransportError::Timeout { limit: timeout };
    }
    let mut source = error.source();
    let mut root = None;
    while let Some(cause) = source {
        root = Some(cause.to_string());
        source = cause.source();
    }
    TransportError::Failed {
        cause: root.unwrap_or_else(|| error.to_string()),
    }
}

/// The reqwest method for a checked one: no parsing, no failure.
fn method(method: HttpMethod) -> reqwest::Method {
    match method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Head => reqwest::Method::HEAD,
        HttpMethod::Options => reqwest::Method::OPTIONS,
    }
}
