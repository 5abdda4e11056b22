//! The plugins this binary links. Adding one is a dependency plus a `.with(...)` here.

use runbook_plugin::Registry;

/// Every linked plugin. Cheap to build (no I/O), so lint uses it too.
pub fn registry() -> Registry {
    Registry::default().with(runbook_alpaca::Alpaca)
}
