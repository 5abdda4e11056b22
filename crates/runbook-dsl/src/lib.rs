//! The runbook DSL: what a runbook file says, where it says it, and whether it makes sense.
//!
//! This crate knows no I/O runtime (no tokio, no HTTP client): loading is `&str -> RawRunbook`, checking
//! is `RawRunbook -> Runbook`. The engine accepts only a checked [`Runbook`], so everything that can be
//! known before a run (unknown references, bad JSONPath, bad templates) is reported by `runbook lint`.
//!
//! Pipeline: [`yaml::load_raw`] (syntax, shapes, types; every problem, and the parts that loaded)
//! -> [`check::check`] (meaning) -> [`Runbook`].

mod cache;
pub mod check;
pub mod decimal;
pub mod duration;
pub mod finding;
pub mod fragment;
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

/// [`load_and_check`], with `plugin:` steps checked against the linked plugins, and fragments
/// read from the file system.
pub fn load_and_check_with(
    source: &Source,
    catalog: &dyn runbook_plugin::Catalog,
) -> Result<Runbook, Vec<Finding>> {
    load_and_check_files(source, catalog, &fragment::FsFragments)
}

/// [`load_and_check_with`], with the fragments a `use:` names read from `files`. A finding inside
/// a fragment has its [`Finding::file`] set and a note at each `use:` that led there.
pub fn load_and_check_files(
    source: &Source,
    catalog: &dyn runbook_plugin::Catalog,
    files: &dyn fragment::FragmentFiles,
) -> Result<Runbook, Vec<Finding>> {
    let loaded = yaml::load_raw(source);
    let Some(raw) = &loaded.raw else {
        return Err(sorted(loaded.findings));
    };
    let expansion = fragment::expand(source, &[&raw.steps, &raw.on_failure, &raw.finally], files);
    let checked = check::check_expanded(raw, catalog, &loaded.dropped, &expansion, None);
    finish(loaded.findings, expansion, checked)
}

/// Loads and checks a fragment file on its own: its parameters stand in as inputs of a runbook
/// that has its steps. What `runbook lint` does with `NAME.fragment.yaml`.
pub fn load_and_check_fragment(
    source: &Source,
    catalog: &dyn runbook_plugin::Catalog,
    files: &dyn fragment::FragmentFiles,
) -> Result<Runbook, Vec<Finding>> {
    let (raw, findings, dropped) = yaml::load_raw_as::<raw::RawFragment>(source);
    let Some(raw) = raw else {
        return Err(sorted(findings));
    };
    let (runbook, frame) = fragment::as_runbook(raw);
    let expansion = fragment::expand(source, &[&runbook.steps, &runbook.finally], files);
    let checked = check::check_expanded(&runbook, catalog, &dropped, &expansion, Some(frame));
    let said = |findings: Vec<Finding>| -> Vec<Finding> {
        findings
            .into_iter()
            .map(fragment::as_parameter_finding)
            .collect()
    };
    match finish(findings, expansion, checked) {
        Ok(mut runbook) => {
            runbook.warnings = said(std::mem::take(&mut runbook.warnings));
            Ok(runbook)
        }
        Err(findings) => Err(said(findings)),
    }
}

/// Load findings plus the check pass's, sorted and pointed at their files.
fn finish(
    mut findings: Vec<Finding>,
    expansion: fragment::Expansion,
    checked: Result<Runbook, Vec<Finding>>,
) -> Result<Runbook, Vec<Finding>> {
    findings.extend(expansion.findings.iter().cloned());
    let map = &expansion.map;
    let attach = |findings: Vec<Finding>| -> Vec<Finding> {
        dedup(
            sorted(findings)
                .into_iter()
                .map(|f| map.attach(f))
                .collect(),
        )
    };
    match checked {
        Ok(mut runbook) if findings.is_empty() => {
            let warnings = std::mem::take(&mut runbook.warnings);
            runbook.warnings = attach(warnings);
            runbook.fragments = expansion.files;
            runbook.sources = expansion.map;
            Ok(runbook)
        }
        Ok(mut runbook) => {
            findings.append(&mut runbook.warnings);
            Err(attach(findings))
        }
        Err(more) => {
            findings.extend(more);
            Err(attach(findings))
        }
    }
}

fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_key(|finding| (finding.span.start, finding.span.end));
    findings
}

/// A fragment used twice reports each problem inside it twice: once is enough.
fn dedup(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    findings
        .into_iter()
        .filter(|finding| {
            let file = finding.file.as_ref().map(|file| file.path.clone());
            seen.insert((
                file,
                finding.span.start,
                finding.span.end,
                finding.code,
                finding.message.clone(),
            ))
        })
        .collect()
}
