//! The Alpaca plugin: what the live key rotation needs beyond plain HTTP.
//!
//! - `alpaca.account_snapshot` fetches `/v2/account` with given credentials, optionally saves it to
//!   an owner-only file with a UTC timestamp in its name, and exposes its fields as outputs.
//! - `alpaca.compare_accounts` compares two snapshots: ids exactly, money fields as decimals (never
//!   floats), exact unless a tolerance is stated; it names every differing field with both values and
//!   recognises a paper account where a live one was expected.
//!
//! The plugin depends on the SDK (`runbook-plugin`) only; `docs/plugins.md` uses it as the worked
//! example.

mod compare;
mod snapshot;

use serde_json::{Map, Value};

use runbook_plugin::{ActionSpec, BoxFuture, Host, Plugin, PluginError};

pub use compare::{Difference, Verdict, compare_accounts};

/// The Alpaca plugin.
#[derive(Debug, Default, Clone, Copy)]
pub struct Alpaca;

impl Plugin for Alpaca {
    fn namespace(&self) -> &'static str {
        "alpaca"
    }

    fn actions(&self) -> &'static [ActionSpec] {
        &[snapshot::SPEC, compare::SPEC]
    }

    fn run<'a>(
        &'a self,
        action: &'a str,
        params: Map<String, Value>,
        host: &'a dyn Host,
    ) -> BoxFuture<'a, Result<Map<String, Value>, PluginError>> {
        Box::pin(async move {
            match action {
                "alpaca.account_snapshot" => snapshot::run(params, host).await,
                "alpaca.compare_accounts" => compare::run(&params),
                other => Err(PluginError::invalid(format!(
                    "the alpaca plugin has no action `{other}`"
                ))),
            }
        })
    }
}

/// Alpaca paper account numbers start with `PA` (observed, undocumented); live ones do not.
pub fn is_paper_account(account_number: &str) -> bool {
    account_number.starts_with("PA")
}
