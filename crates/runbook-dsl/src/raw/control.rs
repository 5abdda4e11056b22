use schemars::JsonSchema;
use serde::Deserialize;

use super::RawStep;
use crate::Spanned;

/// Steps run together, with cleanup that always runs and an optional operator-controlled loop.
///
/// ```yaml
/// group:
///   steps: [...]
///   finally: [...]
///   undo: [...]
///   repeat:
///     max_attempts: 3
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// The steps, run in order.
    #[serde(deserialize_with = "crate::yaml::recover::steps")]
    pub steps: Vec<Spanned<RawStep>>,
    /// Steps that run after the group's steps, whether they passed or failed (and before any
    /// repeat).
    #[serde(default, deserialize_with = "crate::yaml::recover::steps")]
    pub finally: Vec<Spanned<RawStep>>,
    /// The phase's undo: registered when the group STARTS (unlike a step's `rollback`, registered
    /// when the step passes), and run with the other compensation, newest registered first, if the
    /// run fails or is interrupted at or after that point (before a commit point).
    #[serde(default)]
    pub undo: Vec<Spanned<RawStep>>,
    /// Repeat the whole group when one of its steps fails, if the operator chooses to, up to
    /// `max_attempts` times in all.
    #[serde(default)]
    pub repeat: Option<Spanned<RawRepeat>>,
}

/// An operator-controlled loop over a group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRepeat {
    /// Most attempts in all, including the first (at least 1).
    pub max_attempts: Spanned<u32>,
}

/// Polling for `until`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPoll {
    /// Time between attempts, e.g. `2s` (or a template such as `"{{inputs.poll_interval}}"`).
    pub interval: Spanned<String>,
    /// Give up (fail closed) after this long, e.g. `90s` (or a template rendering to a duration).
    pub timeout: Spanned<String>,
    /// Multiply the interval by this after each attempt (e.g. `1.5`). Default 1 (fixed interval).
    #[serde(default)]
    pub backoff: Option<Spanned<f64>>,
    /// Upper bound on the interval when backing off.
    #[serde(default)]
    pub max_interval: Option<Spanned<String>>,
}

/// Retries on transient failures.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Most attempts in all, including the first (at least 1).
    pub attempts: Spanned<u32>,
    /// Wait before the first retry, e.g. `1s`. Default `1s`.
    #[serde(default)]
    pub delay: Option<Spanned<String>>,
    /// Multiply the delay by this after each retry. Default 2.
    #[serde(default)]
    pub backoff: Option<Spanned<f64>>,
    /// Upper bound on the delay. Default `30s`.
    #[serde(default)]
    pub max_delay: Option<Spanned<String>>,
    /// Which failures are retried: `transport`, `timeout`, `5xx`, `4xx`, a status code such as
    /// `429`, or `exit` (an unexpected exit code). Default: transport, timeout, 429, 5xx. A 429 or
    /// 503 with `Retry-After` waits as long as the server asks (up to `max_delay`).
    #[serde(default)]
    pub on: Option<Spanned<Vec<String>>>,
}
