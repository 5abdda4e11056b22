//! Lint = load + check + suppression comments: what `runbook lint` reports and `runbook run`
//! refuses to start with. One function, so both see the same findings.

use crate::finding::Finding;
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

/// Loads, checks and applies the suppression comments of one runbook file.
pub fn lint(source: &Source, catalog: &dyn runbook_plugin::Catalog) -> Linted {
    match crate::load_and_check_with(source, catalog) {
        Ok(mut runbook) => {
            let warnings = std::mem::take(&mut runbook.warnings);
            // Every warning was computed, so a comment that silenced nothing is worth a warning.
            let filtered = apply_suppressions(source, warnings, true);
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
            filtered: apply_suppressions(source, findings, false),
        },
    }
}
