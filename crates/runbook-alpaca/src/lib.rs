pub use runbook_plugin;
