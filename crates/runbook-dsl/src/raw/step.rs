use schemars::JsonSchema;
use serde::Deserialize;

use super::{RawCondition, RawHttp, RawShell};
use crate::Spanned;

/// One step. Exactly one step kind key (`http`, `shell`, `assert`) says what it does.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Unique id: lowercase letters, digits and `_`, starting with a letter. Later steps refer to this
    /// step's outputs as `{{steps.ID.outputs.NAME}}`.
    pub id: Spanned<String>,
    /// Human name shown in progress and reports; defaults to the id.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Longer explanation for the operator.
    #[serde(default)]
    pub description: Option<String>,
    /// Run the step only when this condition holds; otherwise it is skipped.
    #[serde(default)]
    pub when: Option<Spanned<RawCondition>>,
    /// Upper bound on the step's duration, e.g. `500ms`, `30s`, `2m`. Defaults: http 30s, shell 5m.
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    /// Make an HTTP request.
    #[serde(default)]
    pub http: Option<Spanned<RawHttp>>,
    /// Run a command with `sh -c`.
    #[serde(default)]
    pub shell: Option<Spanned<RawShell>>,
    /// Check conditions; the step fails with their messages when one does not hold.
    #[serde(default)]
    pub assert: Option<Spanned<Vec<Spanned<RawCondition>>>>,
}

impl RawStep {
    /// Names of the step-kind keys present, for the exactly-one check.
    pub fn kind_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.http.is_some() {
            keys.push("http");
        }
        if self.shell.is_some() {
            keys.push("shell");
        }
        if self.assert.is_some() {
            keys.push("assert");
        }
        keys
    }
}
