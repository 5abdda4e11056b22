//! Everything the CLI shows a person: diagnostics, run progress, summaries.

pub mod describe;
pub mod diagnostic;
pub mod effect;
pub mod junit;
pub mod mermaid;
pub mod not_run;
pub mod performs;
pub mod plan;
pub mod plan_text;
pub mod progress;
pub mod runs_table;
pub mod sarif;
pub mod sop;
pub mod style;
pub mod width;
