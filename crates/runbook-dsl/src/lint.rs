//! Lint = load + check + suppression comments: what `runbook lint` reports and `runbook run`
//! refuses to start with. One function, so both see the same findings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::finding::Finding;
use crate::fragment::{FragmentFiles, FsFragments};
use crate::model::Runbook;
use crate::source::Source;
use crate::suppress::{Filtered, apply_suppressions};

/// The outcome of linting one file.
#[derive(Debug)]
pub struct Linted {
    /// The checked runbook, when no error is left; its `warnings` are the unsuppressed ones.
    pub runbook: Option<Runbook>,
    /// What to report, what was silenced, and every suppression comment.
    pub filtered: Filtered,
}

impl Linted {
    pub fn findings(&self) -> &[Finding] {
        &self.filtered.findings
    }

    pub fn has_errors(&self) -> bool {
        self.filtered.findings.iter().any(Finding::is_error)
    }
}

/// Loads, checks and applies the suppression comments of one runbook file (fragments it uses are
/// read from the file system).
pub fn lint(source: &Source, catalog: &dyn runbook_plugin::Catalog) -> Linted {
    lint_files(source, catalog, &FsFragments)
}

/// [`lint`], with fragments read from `files`. A file named `NAME.fragment.yaml` is linted as a
/// fragment on its own ([`crate::load_and_check_fragment`]).
pub fn lint_files(
    source: &Source,
    catalog: &dyn runbook_plugin::Catalog,
    files: &dyn FragmentFiles,
) -> Linted {
    let checked = if crate::fragment::path::is_fragment(&source.path) {
        crate::load_and_check_fragment(source, catalog, files)
    } else {
        crate::load_and_check_files(source, catalog, files)
    };
    match checked {
        Ok(mut runbook) => {
            let warnings = std::mem::take(&mut runbook.warnings);
            // Every warning was computed, so a comment that silenced nothing is worth a warning.
            let filtered = suppress(source, warnings, true);
            let runbook = if filtered.findings.iter().any(Finding::is_error) {
                None
            } else {
                runbook.warnings = filtered.findings.clone();
                Some(runbook)
            };
            Linted { runbook, filtered }
        }
        // Errors stop the check pass before every warning is known: an "unused" comment may be
        // waiting for a warning that was never computed, so unused ones are not reported.
        Err(findings) => Linted {
            runbook: None,
            filtered: suppress(source, findings, false),
        },
    }
}

/// The linted file's comments apply to its own findings; a fragment's comments to the findings
/// inside that fragment (they are silenced where they are, and listed when the fragment itself is
/// linted).
fn suppress(source: &Source, findings: Vec<Finding>, report_unused: bool) -> Filtered {
    let mut own = Vec::new();
    let mut by_file: BTreeMap<PathBuf, (Arc<Source>, Vec<Finding>)> = BTreeMap::new();
    for finding in findings {
        match finding.file.clone() {
            Some(file) => by_file
                .entry(file.path.clone())
                .or_insert_with(|| (file, Vec::new()))
                .1
                .push(finding),
            None => own.push(finding),
        }
    }
    let mut filtered = apply_suppressions(source, own, report_unused);
    for (file, findings) in by_file.into_values() {
        let inner = apply_suppressions(&file, findings, false);
        filtered.findings.extend(
            inner
                .findings
                .into_iter()
                .filter(|finding| finding.file.is_some()),
        );
    }
    filtered
}
