use schemars::JsonSchema;
use serde::Deserialize;

use crate::Spanned;

/// A typed input of the runbook.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInput {
    /// The value's type; a value given on the command line is converted to it.
    #[serde(rename = "type", default)]
    pub kind: Option<Spanned<InputType>>,
    /// Value used when neither `--input` nor the environment variable sets it.
    #[serde(default)]
    pub default: Option<Spanned<serde_json::Value>>,
    /// What this input is, shown in errors and `--help`-like listings.
    #[serde(default)]
    pub description: Option<String>,
    /// Environment variable to read the value from when `--input` does not set it.
    #[serde(default)]
    pub env: Option<Spanned<String>>,
    /// A secret is never printed, logged or written to a report; it is passed to commands by
    /// environment only.
    #[serde(default)]
    pub secret: bool,
}

/// The type of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    String,
    Integer,
    Number,
    Boolean,
}

impl InputType {
    /// The type with its article, for messages: "a string", "an integer".
    pub fn with_article(self) -> &'static str {
        match self {
            InputType::String => "a string",
            InputType::Integer => "an integer",
            InputType::Number => "a number",
            InputType::Boolean => "a boolean",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Integer => "integer",
            InputType::Number => "number",
            InputType::Boolean => "boolean",
        }
    }
}
