use schemars::JsonSchema;
use serde::Deserialize;

/// A value to capture as a step output: a JSONPath string (shorthand), or a mapping.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawCapture {
    /// JSONPath into the JSON body (or JSON stdout), e.g. `$.account_number`.
    JsonPath(String),
    Spec(RawCaptureSpec),
}

/// Where to take a captured value from.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCaptureSpec {
    /// JSONPath into the JSON body (http) or JSON stdout (shell with `stdout: json`).
    #[serde(default)]
    pub jsonpath: Option<String>,
    /// Response header name (http only), case-insensitive.
    #[serde(default)]
    pub header: Option<String>,
    /// Always capture a list of every match, even when there is one or none. Without it the path must
    /// match exactly one value.
    #[serde(default)]
    pub all: bool,
    /// A secret capture is redacted from every output, like a secret input.
    #[serde(default)]
    pub secret: bool,
}
