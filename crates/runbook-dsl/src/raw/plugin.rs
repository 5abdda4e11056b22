use indexmap::IndexMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::Spanned;

/// Run an action of a plugin linked into `runbook` (e.g. `alpaca.account_snapshot`).
///
/// ```yaml
/// plugin:
///   use: alpaca.account_snapshot
///   with:
///     base_url: "{{inputs.alpaca_base_url}}"
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlugin {
    /// The action, `namespace.action`.
    #[serde(rename = "use")]
    pub action: Spanned<String>,
    /// Parameters; every string is templated and a single reference keeps its type.
    #[serde(default, rename = "with")]
    pub params: IndexMap<String, Spanned<serde_json::Value>>,
}
