use indexmap::IndexMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{RawInput, RawStep};
use crate::Spanned;

/// A runbook: an operational procedure as a checked, executable YAML file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRunbook {
    /// Stable identifier, lowercase words joined by `-` or `_` (e.g. `alpaca-live-rotation`).
    pub id: Spanned<String>,
    /// One-line human title.
    pub title: Spanned<String>,
    /// What this runbook does and why, for the operator reading it before running.
    #[serde(default)]
    pub description: Option<String>,
    /// Version of this runbook document (free text, e.g. `"1.2"`).
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    /// `operator-assisted` (a human at the terminal answers prompts) or `automatic`.
    #[serde(default)]
    pub mode: Option<Spanned<Mode>>,
    /// The role an operator must hold to run this (e.g. `superadmin`).
    #[serde(default)]
    pub required_role: Option<String>,
    /// Typical wall-clock duration, e.g. `15m`.
    #[serde(default)]
    pub average_duration: Option<Spanned<String>>,
    /// Names of the secrets this runbook rotates or touches (e.g. `ALPACA_LIVE_API_KEY_ID`).
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// When to run this runbook.
    #[serde(default)]
    pub when_to_run: Option<String>,
    /// What must be true before starting.
    #[serde(default)]
    pub prerequisites: Vec<String>,
    /// Links to vendor documentation and related runbooks.
    #[serde(default)]
    pub references: Vec<String>,
    /// Known pitfalls the operator should read first.
    #[serde(default)]
    pub gotchas: Vec<String>,
    /// What the operator must confirm, once, before the first step (e.g. "maintenance window
    /// announced"). In an answers file: `preconditions: {confirm: true}`.
    #[serde(default)]
    pub preconditions: Vec<Spanned<String>>,
    /// Typed inputs, set with `--input name=value`, from an environment variable, or by default.
    #[serde(default, deserialize_with = "crate::yaml::recover::inputs")]
    pub inputs: IndexMap<String, Spanned<RawInput>>,
    /// The steps, run in order.
    #[serde(deserialize_with = "crate::yaml::recover::steps")]
    pub steps: Vec<Spanned<RawStep>>,
    /// The failure path: steps run after compensation when the run fails (e.g. keep trading paused,
    /// write the failure audit event).
    #[serde(default, deserialize_with = "crate::yaml::recover::steps")]
    pub on_failure: Vec<Spanned<RawStep>>,
    /// Steps that always run last, whether the run succeeded, failed or was interrupted.
    #[serde(default, deserialize_with = "crate::yaml::recover::steps")]
    pub finally: Vec<Spanned<RawStep>>,
}

/// Who drives the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A human operator is at the terminal and answers prompts.
    OperatorAssisted,
    /// No human in the loop.
    Automatic,
}
