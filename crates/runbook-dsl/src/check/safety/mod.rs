//! Safety rules: warnings about runbooks that check but are risky to run.
//!
//! They run after the check pass has produced a checked runbook (so every reference is known to
//! resolve), on the checked steps plus the raw file for the spans the checked model does not keep
//! (`on_error:`, `irreversible:`, `poll.timeout`, ...). Each rule is a function from [`Facts`] to
//! findings, all of severity warning; a runbook with errors gets none of them (its errors come
//! first, and the rules assume a consistent model).
//!
//! - [`secrets`]: secrets in command lines, URLs, plain-http requests and prompt text;
//! - [`confirmation`]: irreversible steps and side effects that no prompt precedes;
//! - [`waits`]: waits and retries that can outlast the runbook's `average_duration` many times;
//! - [`availability`]: outputs read where they may not exist, `on_error: continue` on a needed
//!   step;
//! - [`unused`]: inputs and captures nothing refers to;
//! - [`reachability`]: steps that never run, rollbacks that never run.

mod availability;
mod confirmation;
mod constant;
mod index;
mod reachability;
mod secrets;
mod templates;
mod unused;
mod waits;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crate::finding::Finding;
use crate::model::{Input, Metadata, Step};
use crate::raw::RawRunbook;
use crate::source::{Source, Span};

pub(super) use index::StepIndex;

/// Everything the rules look at.
pub(super) struct Facts<'a> {
    pub(super) source: &'a Source,
    pub(super) inputs: &'a [Input],
    pub(super) meta: &'a Metadata,
    /// Outputs that hold a secret before a later capture makes it known (`check/taint.rs`).
    pub(super) secret_outputs: &'a BTreeSet<(String, String)>,
    pub(super) index: StepIndex<'a>,
}

impl<'a> Facts<'a> {
    pub(super) fn new(
        source: &'a Source,
        raw: &'a RawRunbook,
        lists: [&'a [Step]; 3],
        inputs: &'a [Input],
        meta: &'a Metadata,
        secret_outputs: &'a BTreeSet<(String, String)>,
    ) -> Self {
        Facts {
            source,
            inputs,
            meta,
            secret_outputs,
            index: StepIndex::new(lists, raw),
        }
    }

    /// The span of the `key:` whose value is at `value`.
    pub(super) fn key_span(&self, value: Span, key: &str) -> Span {
        super::key_span(self.source, value, key)
    }

    /// The span of the key `key:` of `step`'s own mapping (not of a step nested in it), found by
    /// indentation: for fields the checked model keeps no span of, such as `irreversible: true`.
    /// The step's start when the key is not found (a flow mapping, say).
    pub(super) fn step_key_span(&self, step: &Step, key: &str) -> Span {
        let fallback = Span::new(step.span.start, step.span.start);
        let text = &self.source.text;
        let Some(start) = step.span.is_known().then_some(step.span.start) else {
            return fallback;
        };
        let line_start = text[..start.min(text.len())]
            .rfind('\n')
            .map_or(0, |at| at + 1);
        let indent = start - line_start;
        let mut offset = start;
        let mut first = true;
        for line in text[start.min(text.len())..].split_inclusive('\n') {
            let line_offset = offset;
            offset += line.len();
            let (column, rest) = if first {
                first = false;
                (indent, line)
            } else {
                let trimmed = line.trim_start_matches(' ');
                (line.len() - trimmed.len(), trimmed)
            };
            if rest.trim().is_empty() || rest.starts_with('#') {
                continue;
            }
            if column < indent {
                break;
            }
            if column == indent
                && let Some(after) = rest.strip_prefix(key)
                && after.trim_start().starts_with(':')
            {
                let key_start = line_offset + (line.len() - rest.len());
                return Span::new(key_start, key_start + key.len());
            }
        }
        fallback
    }
}

/// Every safety warning for a checked runbook, in file order.
pub(super) fn check_safety(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(secrets::check(facts));
    findings.extend(confirmation::check(facts));
    findings.extend(waits::check(facts));
    findings.extend(availability::check(facts));
    findings.extend(unused::check(facts));
    findings.extend(reachability::check(facts));
    findings
}
