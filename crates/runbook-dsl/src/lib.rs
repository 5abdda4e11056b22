//! The runbook DSL: what a runbook file says, where it says it, and whether it makes sense.
//!
//! This crate knows no I/O runtime (no tokio, no HTTP client): loading is `&str -> RawRunbook`, checking
//! is `RawRunbook -> Runbook`. The engine accepts only a checked [`Runbook`], so everything that can be
//! known before a run (unknown references, bad JSONPath, bad templates) is reported by `runbook lint`.
//!
//! Pipeline: [`yaml::load_raw`] (syntax, shapes, types; every problem, and the parts that loaded)
//! -> [`check::check`] (meaning) -> [`Runbook`].

pub mod check;
pub mod decimal;
pub mod duration;
pub mod finding;
pub mod lint;
pub mod model;
pub mod raw;
pub mod rehearsal;
pub mod schema;
pub mod source;
pub mod spanned;
pub mod suggest;
pub mod suppress;
pub mod template;
pub mod yaml;

pub use finding::{Finding, FindingCode, Severity, Stage};
pub use lint::{Linted, lint};
pub use model::*;
pub use source::{Source, Span};
pub use spanned::Spanned;

/// Loads and checks a runbook from source text: the whole of `runbook lint` for one file.
///
/// Returns the checked runbook (with its warnings), or every finding in source order: all load
/// problems (a YAML syntax error stops the load), then the check pass on whatever loaded.
pub fn load_and_check(source: &Source) -> Result<Runbook, Vec<Finding>> {
    load_and_check_with(source, &runbook_plugin::NoPlugins)
}

/// [`load_and_check`], with `plugin:` steps checked against the linked plugins.
pub fn load_and_check_with(
    source: &Source,
    catalog: &dyn runbook_plugin::Catalog,
) -> Result<Runbook, Vec<Finding>> {
    let loaded = yaml::load_raw(source);
    let mut findings = loaded.findings;
    let checked = match &loaded.raw {
        Some(raw) => Some(check::check_loaded(raw, source, catalog, &loaded.dropped)),
        None => None,
    };
    let result = match checked {
        Some(Ok(runbook)) if findings.is_empty() => return Ok(runbook),
        Some(Ok(runbook)) => {
            findings.extend(runbook.warnings);
            Err(findings)
        }
        Some(Err(more)) => {
            findings.extend(more);
            Err(findings)
        }
        None => Err(findings),
    };
    result.map_err(|mut findings| {
        findings.sort_by_key(|finding| (finding.span.start, finding.span.end));
        findings
    })
}
