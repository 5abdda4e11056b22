use schemars::JsonSchema;
use serde::Deserialize;

use crate::Spanned;

/// Text for the operator, shown and recorded (secrets masked). It cannot fail the run.
///
/// ```yaml
/// note:
///   message: "Expire the old key by hand: {{inputs.dashboard_url}}"
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNote {
    /// The text, templated. Multi-line text is shown as written.
    pub message: Spanned<String>,
}

/// Ends the run as failed with a message; compensation, the failure path and `finally` then run.
///
/// ```yaml
/// stop:
///   message: "STOP: wrong environment"
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStop {
    /// Why the run stops, templated; it becomes `{{run.failure}}`.
    pub message: Spanned<String>,
}
