//! A fragment file: a group of steps with typed parameters, used from runbooks with a `use:` step.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{InputType, RawStep};
use crate::Spanned;

/// A fragment: steps that several runbooks share ("pause trading and wait until health confirms"),
/// with typed parameters. A runbook runs it with a step `use: PATH` and `with:` arguments; the
/// fragment's steps read them as `{{params.NAME}}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFragment {
    /// The fragment's identifier, lowercase words joined by `-` or `_` (e.g. `pause-trading`).
    pub fragment: Spanned<String>,
    /// One-line human title; a step that uses the fragment without a `name` is shown with it.
    pub title: Spanned<String>,
    /// What the fragment does, and what the runbook using it must know.
    #[serde(default)]
    pub description: Option<String>,
    /// Typed parameters, given by the using step's `with:`. One without `default` is required.
    #[serde(default)]
    pub params: IndexMap<String, Spanned<RawParam>>,
    /// The steps, run in order. Their ids are the fragment's own: in the run they are
    /// `USE_ID.STEP_ID` (the using step's id, a dot, the step's id).
    #[serde(deserialize_with = "crate::yaml::recover::steps")]
    pub steps: Vec<Spanned<RawStep>>,
    /// Steps that run after `steps`, whether they passed or failed.
    #[serde(default, deserialize_with = "crate::yaml::recover::steps")]
    pub finally: Vec<Spanned<RawStep>>,
}

/// A typed parameter of a fragment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    /// The value's type (default `string`); a literal argument must have it.
    #[serde(rename = "type", default)]
    pub kind: Option<Spanned<InputType>>,
    /// Value used when `with:` does not give one. A parameter without a default is required.
    #[serde(default)]
    pub default: Option<Spanned<serde_json::Value>>,
    /// What this parameter is, shown in findings about it.
    #[serde(default)]
    pub description: Option<String>,
    /// A secret parameter must be given a reference to a secret (a secret input, answer or
    /// capture), never a value written in the file; it has no default.
    #[serde(default)]
    pub secret: bool,
}
