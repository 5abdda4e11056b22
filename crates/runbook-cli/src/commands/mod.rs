//! One file per subcommand.

pub mod completions;
pub mod graph;
pub mod lint;
pub mod new;
pub mod plan;
pub mod render;
pub mod resume;
pub mod run;
pub mod runs;
pub mod schema;
pub mod show;

use std::path::Path;

use runbook_dsl::Source;

use crate::failure::Failure;

/// Reads a runbook file; the error names the file and the reason.
pub fn read_source(path: &Path) -> Result<Source, Failure> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))?;
    if metadata.len() > runbook_dsl::yaml::MAX_SOURCE_BYTES as u64 {
        return Err(Failure::invalid_runbook(format!(
            "{} is {} bytes; runbooks are limited to {} bytes",
            path.display(),
            metadata.len(),
            runbook_dsl::yaml::MAX_SOURCE_BYTES
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))?;
    Ok(Source::new(path, text))
}
