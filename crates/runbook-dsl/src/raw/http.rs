use indexmap::IndexMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{RawCapture, RawCondition};
use crate::Spanned;

/// An HTTP request. Redirects are never followed to another origin; the response body is limited in
/// size; every request has a timeout.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// `GET` (default), `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS`.
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    /// Absolute `http://` or `https://` URL; templated.
    pub url: Spanned<String>,
    /// Request headers; values templated.
    #[serde(default)]
    pub headers: IndexMap<String, Spanned<String>>,
    /// Query parameters appended to the URL (encoded); values templated.
    #[serde(default)]
    pub query: IndexMap<String, Spanned<serde_json::Value>>,
    /// JSON body; every string in it is templated. Sets `Content-Type: application/json`.
    #[serde(default)]
    pub json: Option<Spanned<serde_json::Value>>,
    /// Text body; templated.
    #[serde(default)]
    pub text: Option<Spanned<String>>,
    /// Expected status: one code or a list. Default: any 2xx.
    #[serde(default)]
    pub expect_status: Option<Spanned<StatusSpec>>,
    /// Outputs captured from the response: `NAME: $.json.path` or `NAME: {header: X-Request-Id}`.
    #[serde(default)]
    pub capture: IndexMap<String, Spanned<RawCapture>>,
    /// Conditions on this response; `{{outputs.NAME}}` refers to this step's outputs.
    #[serde(default)]
    pub assert: Vec<Spanned<RawCondition>>,
    /// Follow redirects that stay on the same origin (scheme, host, port). Default: false.
    #[serde(default)]
    pub follow_redirects: bool,
    /// Do not keep the response body as an output (captures and `assert` still see it), so it
    /// never reaches the report or the journal: for APIs that echo configuration or secrets back
    /// (Heroku's config-vars answers with every variable of the app).
    #[serde(default)]
    pub discard_body: bool,
    /// Largest response body accepted, in bytes. Default: 10 MiB.
    #[serde(default)]
    pub max_response_bytes: Option<Spanned<u64>>,
}

/// One status code or a list of them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StatusSpec {
    One(u16),
    Any(Vec<u16>),
}

impl StatusSpec {
    pub fn codes(&self) -> Vec<u16> {
        match self {
            StatusSpec::One(code) => vec![*code],
            StatusSpec::Any(codes) => codes.clone(),
        }
    }
}
