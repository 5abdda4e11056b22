//! Everything the CLI shows a person: diagnostics, run progress, summaries.

pub mod diagnostic;
pub mod progress;
pub mod style;
