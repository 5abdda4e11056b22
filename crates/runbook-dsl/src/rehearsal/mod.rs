//! Rehearsal files: `NAME.rehearsal.yaml` beside a runbook, with simulated services, commands and
//! operator answers, and named scenarios that declare their outcome. Loaded like a runbook (same
//! YAML budgets, spans and findings), then checked against the runbook it rehearses; the engine
//! side (`runbook rehearse`) runs only a checked [`Rehearsal`]. Documented in
//! `docs/rehearsals.md`.

mod answers;
mod check;
pub mod escapes;
pub mod expr;
pub mod model;
pub mod raw;
mod scenario;
mod sim;
pub mod steps;

use std::path::{Path, PathBuf};

pub use model::*;
pub use raw::{ExpectedStatus, Format};

use crate::{Finding, Runbook, Source};

/// The suffix that makes a YAML file a rehearsal.
pub const SUFFIX: &str = ".rehearsal.yaml";

/// Whether `path` names a rehearsal file.
pub fn is_rehearsal(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.ends_with(SUFFIX) || name.ends_with(".rehearsal.yml"))
}

/// The rehearsal file beside a runbook: `NAME.rehearsal.yaml` for `NAME.yaml`.
pub fn rehearsal_path_for(runbook: &Path) -> PathBuf {
    let stem = runbook
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    runbook.with_file_name(format!("{stem}{SUFFIX}"))
}

/// Parses a rehearsal file (syntax, shapes, types).
pub fn load_raw(source: &Source) -> Result<raw::RawRehearsal, Box<Finding>> {
    crate::yaml::load_document(source)
}

/// The runbook a loaded rehearsal rehearses: its `runbook:` relative to the rehearsal file, or
/// `NAME.yaml` beside `NAME.rehearsal.yaml`.
pub fn runbook_path(rehearsal: &Path, raw: &raw::RawRehearsal) -> PathBuf {
    let dir = rehearsal.parent().unwrap_or(Path::new(""));
    match &raw.runbook {
        Some(path) => dir.join(&path.value),
        None => {
            let name = rehearsal
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = name
                .strip_suffix(SUFFIX)
                .or_else(|| name.strip_suffix(".rehearsal.yml"))
                .unwrap_or(&name);
            dir.join(format!("{stem}.yaml"))
        }
    }
}

/// Checks a loaded rehearsal against its runbook (and the runbook's source, to name where a step
/// that escapes the simulation is).
pub fn check(
    raw: &raw::RawRehearsal,
    source: &Source,
    runbook: &Runbook,
    runbook_source: Option<&Source>,
) -> Result<Rehearsal, Vec<Finding>> {
    check::check(raw, source, runbook, runbook_source)
}
