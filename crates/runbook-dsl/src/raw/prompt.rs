use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::Spanned;

/// A human step: instructions, then any of a yes/no confirmation, a typed confirmation phrase, and
/// named answers (which become the step's outputs).
///
/// ```yaml
/// prompt:
///   instructions: |
///     1. Open the dashboard.
///     2. Click "Regenerate".
///   phrase: "LIVE {{inputs.account_number}}"
///   answers:
///     new_key_id: {label: New key ID, pattern: "^AK"}
///     new_secret: {label: New secret key, secret: true, confirm: true}
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPrompt {
    /// Shown first; multi-line, numbered lists render as written. Templated.
    #[serde(default)]
    pub instructions: Option<Spanned<String>>,
    /// A yes/no question; "no" fails the step (the operator declined). Templated.
    #[serde(default)]
    pub confirm: Option<Spanned<String>>,
    /// The operator must type exactly this to continue (e.g. `LIVE`). Templated.
    #[serde(default)]
    pub phrase: Option<Spanned<String>>,
    /// Named answers, asked in the order written; each becomes an output of the step.
    #[serde(default)]
    pub answers: IndexMap<String, Spanned<RawAnswer>>,
}

/// One answer to ask for.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAnswer {
    /// The question shown; defaults to the answer's name.
    #[serde(default)]
    pub label: Option<String>,
    /// Masked entry, never echoed; the value is redacted everywhere like a secret input.
    #[serde(default)]
    pub secret: bool,
    /// Ask twice and require both entries to match (for secrets typed by hand).
    #[serde(default)]
    pub confirm: bool,
    /// The answer must match this regular expression.
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    /// Accept an empty answer. Default: false.
    #[serde(default)]
    pub allow_empty: bool,
    /// Choose one of these instead of typing.
    #[serde(default)]
    pub choices: Option<Spanned<Vec<String>>>,
}
