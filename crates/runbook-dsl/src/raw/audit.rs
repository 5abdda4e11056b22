use indexmap::IndexMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::Spanned;

/// A structured event for the audit log, e.g. the SOP's `secret.rotate.completed`.
///
/// ```yaml
/// audit:
///   action: secret.rotate.completed
///   context:
///     secret_name: ALPACA_LIVE_API_KEY_ID
///     trading_paused_at: "{{steps.pause.finished_at}}"
///   durations:
///     downtime_seconds: {from: pause.finished, to: confirm_resumed.finished}
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    /// The event name, e.g. `secret.rotate.completed`. Templated.
    pub action: Spanned<String>,
    /// Event fields; every string is templated and a single reference keeps its type.
    #[serde(default)]
    pub context: IndexMap<String, Spanned<serde_json::Value>>,
    /// Seconds between two step events, computed by the engine: `{from: STEP.started|finished,
    /// to: STEP.started|finished}`.
    #[serde(default)]
    pub durations: IndexMap<String, Spanned<RawDuration>>,
}

/// Two step events.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDuration {
    /// `STEP.started` or `STEP.finished`.
    pub from: Spanned<String>,
    /// `STEP.started` or `STEP.finished`.
    pub to: Spanned<String>,
}
