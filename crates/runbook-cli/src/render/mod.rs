//! Everything the CLI shows a person: diagnostics, run progress, summaries.

pub mod diagnostic;
pub mod junit;
pub mod progress;
pub mod sarif;
pub mod style;
