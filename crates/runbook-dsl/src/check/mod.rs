//! The check pass: a raw runbook in, a [`Runbook`] or every finding out.
//!
//! Not every successful parse is a valid runbook. This pass resolves step ids and references, compiles
//! templates, JSONPaths and regexes, and validates values the types alone cannot (durations, methods,
//! status codes). It keeps going after a finding so `lint` reports everything at once.

mod conditions;
mod http;
mod inputs;
mod references;
mod shell;
mod steps;

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, FindingCode};
use crate::model::{Metadata, Runbook};
use crate::raw::{InputType, RawRunbook};
use crate::source::{Source, Span};
use crate::spanned::Spanned;

/// Checks a loaded runbook.
pub fn check(raw: &RawRunbook, source: &Source) -> Result<Runbook, Vec<Finding>> {
    let mut checker = Checker::new(source, raw);
    let inputs = checker.check_inputs(raw);
    let steps = checker.check_steps(raw);
    let meta = checker.check_metadata(raw);
    if checker.findings.is_empty() {
        Ok(Runbook {
            path: source.path.clone(),
            meta,
            inputs,
            steps,
            env_refs: checker.env_refs,
        })
    } else {
        checker.findings.sort_by_key(|finding| finding.span.start);
        Err(checker.findings)
    }
}

/// What a step makes available to the steps after it.
#[derive(Debug, Clone)]
struct StepInfo {
    index: usize,
    outputs: Vec<String>,
}

pub(crate) struct Checker<'a> {
    source: &'a Source,
    findings: Vec<Finding>,
    /// Declared inputs and their types.
    inputs: BTreeMap<String, InputType>,
    /// Every step id in the file with its position, known before any step is checked, so a reference
    /// to a later step says "not yet run" rather than "unknown".
    step_index: BTreeMap<String, usize>,
    /// Outputs of the steps checked so far.
    checked_steps: BTreeMap<String, StepInfo>,
    env_refs: BTreeSet<String>,
}

impl<'a> Checker<'a> {
    fn new(source: &'a Source, raw: &RawRunbook) -> Self {
        let mut step_index = BTreeMap::new();
        for (index, step) in raw.steps.iter().enumerate() {
            step_index.entry(step.value.id.value.clone()).or_insert(index);
        }
        Checker {
            source,
            findings: Vec::new(),
            inputs: BTreeMap::new(),
            step_index,
            checked_steps: BTreeMap::new(),
            env_refs: BTreeSet::new(),
        }
    }

    pub(crate) fn span<T>(&self, spanned: &Spanned<T>) -> Span {
        self.source.span(&spanned.loc)
    }

    pub(crate) fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    pub(crate) fn error(&mut self, code: FindingCode, span: Span, message: impl Into<String>) {
        self.findings.push(Finding::error(code, span, message));
    }

    fn check_metadata(&mut self, raw: &RawRunbook) -> Metadata {
        let id = &raw.id.value;
        if !is_identifier(id, &['-', '_']) {
            let span = self.span(&raw.id);
            self.report(
                Finding::error(
                    FindingCode::InvalidValue,
                    span,
                    format!("runbook id `{id}` must be lowercase letters, digits, `-` and `_`"),
                )
                .with_label("invalid id"),
            );
        }
        if let Some(duration) = &raw.average_duration
            && let Err(message) = crate::duration::parse_duration(&duration.value)
        {
            let span = self.span(duration);
            self.error(FindingCode::InvalidDuration, span, message);
        }
        Metadata {
            id: id.clone(),
            title: raw.title.value.clone(),
            description: raw.description.clone(),
            version: raw.version.as_ref().map(|v| v.value.clone()),
            mode: raw.mode.as_ref().map(|m| m.value),
            required_role: raw.required_role.clone(),
            average_duration: raw.average_duration.as_ref().map(|d| d.value.clone()),
            applies_to: raw.applies_to.clone(),
            when_to_run: raw.when_to_run.clone(),
            prerequisites: raw.prerequisites.clone(),
            references: raw.references.clone(),
            gotchas: raw.gotchas.clone(),
        }
    }
}

/// Lowercase ASCII letter first, then lowercase letters, digits and the given separators.
pub(crate) fn is_identifier(text: &str, separators: &[char]) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || separators.contains(&c))
}

#[cfg(test)]
mod tests;
