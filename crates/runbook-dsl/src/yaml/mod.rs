//! Loading a runbook file: YAML text to the raw (unchecked) runbook, with every problem found.
//!
//! Two steps: [`tree`] builds the document as nodes with spans from the YAML parser's events (and
//! refuses what runbooks do not use: tags, merge keys, a second document, duplicate keys; and what
//! is hostile: deep nesting, alias bombs); [`de`] deserializes the raw types from the tree and keeps
//! going after an error, so one pass reports every load problem. Only `true`/`false` are booleans
//! (no YAML 1.1 `yes`/`no`/`on`: the "Norway problem").
//!
//! Answers files ([`load_value`]) are plain data and go straight through serde-saphyr.

mod access;
mod classify;
mod de;
mod error;
mod fast;
pub(crate) mod recover;
mod scalar;
mod tree;

use std::collections::BTreeSet;

use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, Options};

use crate::finding::{Finding, FindingCode};
use crate::raw::RawRunbook;
use crate::source::{Source, Span};
use classify::{classify, strip_location};

/// The largest runbook file accepted, in bytes. Real runbooks are a few kilobytes; the ceiling
/// bounds memory (loading is linear in the size), and leaves room for generated runbooks of tens of
/// thousands of steps.
pub const MAX_SOURCE_BYTES: usize = 32 * 1024 * 1024;

/// The largest answers file (or other plain YAML document) accepted, in bytes.
pub const MAX_VALUE_BYTES: usize = 4 * 1024 * 1024;

/// What loading a runbook file gave: the raw runbook if its required parts loaded, every load
/// problem, and what was left out because it was broken.
#[derive(Debug)]
pub struct Loaded {
    pub raw: Option<RawRunbook>,
    /// In no particular order; [`crate::load_and_check_with`] sorts all findings by position.
    pub findings: Vec<Finding>,
    pub dropped: Dropped,
}

/// Parts left out of the raw runbook because they did not load (each already reported), so the check
/// pass does not report references to them as unknown.
#[derive(Debug, Clone, Default)]
pub struct Dropped {
    /// Ids of steps that did not load (at any depth).
    pub steps: BTreeSet<String>,
    /// Names of inputs that did not load.
    pub inputs: BTreeSet<String>,
    /// `inputs:` as a whole did not load.
    pub all_inputs: bool,
}

/// Most top-level fields that loading leaves out before giving up on the file: one per field.
const MAX_TOP_LEVEL_REPAIRS: usize = 32;

/// Parses a runbook file into its raw (unchecked) form, reporting every load problem.
pub fn load_raw(source: &Source) -> Loaded {
    let (raw, findings, dropped) = load_raw_as::<RawRunbook>(source);
    Loaded {
        raw,
        findings,
        dropped,
    }
}

/// [`load_raw`] for any raw type of the runbook family with a runbook's recovery (a fragment).
pub(crate) fn load_raw_as<T: serde::de::DeserializeOwned>(
    source: &Source,
) -> (Option<T>, Vec<Finding>, Dropped) {
    if source.text.len() > MAX_SOURCE_BYTES {
        let finding = Finding::error(
            FindingCode::YamlSyntax,
            Span::new(0, 0),
            format!(
                "the file is {} bytes; runbooks are limited to {MAX_SOURCE_BYTES} bytes",
                source.text.len()
            ),
        );
        return (None, vec![finding], Dropped::default());
    }
    let built = tree::build(source);
    let Some(root) = built.root else {
        return (None, built.findings, Dropped::default());
    };
    let ctx = de::Ctx::new(source);
    for finding in built.findings {
        ctx.report(finding);
    }
    let raw = load_root(&root, &ctx);
    let (findings, dropped) = ctx.into_findings();
    (raw, findings, dropped)
}

/// The root is not a step: a broken top-level field (`mode: manual`) is left out and the rest
/// loaded again, so the check pass still runs on the steps. A required field that does not load
/// stops here (the check pass needs the id, the title and the steps).
fn load_root<T: serde::de::DeserializeOwned>(
    root: &tree::Node<'_>,
    ctx: &de::Ctx<'_>,
) -> Option<T> {
    let mut removed = Vec::new();
    loop {
        let attempt = T::deserialize(de::NodeDe {
            node: root,
            key: None,
            removed: &removed,
            ctx,
        });
        let error = match attempt {
            Ok(raw) => return Some(raw),
            Err(error) => ctx.record(error, root.span, None),
        };
        let tree::NodeKind::Map { entries, .. } = &root.kind else {
            return None;
        };
        match error.failed_key {
            Some((map, index))
                if map == de::address(root)
                    && !removed.contains(&index)
                    && removed.len() < MAX_TOP_LEVEL_REPAIRS =>
            {
                let entry = entries.get(index)?;
                if entry.key.scalar() == Some("inputs") {
                    ctx.dropped.borrow_mut().all_inputs = true;
                }
                ctx.drop_steps(&entry.value);
                removed.push(index);
            }
            _ => return None,
        }
    }
}

/// Why a YAML document (not a runbook) could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadValueError {
    /// Over [`MAX_SOURCE_BYTES`].
    #[error("larger than {max} bytes ({size} bytes)")]
    TooLarge { size: usize, max: usize },
    /// The parser refused it (syntax, duplicate key, a budget); its message, without the snippet.
    #[error("{message}")]
    Yaml { message: String },
}

/// Tags and second documents, which the tree refuses and serde-saphyr would accept.
fn unsupported(message: &str) -> bool {
    message.starts_with("YAML tags") || message.starts_with("a second YAML document")
}

/// Parses another file of the DSL family (a rehearsal) into its raw type, through the same tree
/// and deserializer as runbooks (so `Spanned` values carry their place), with the same refusals
/// (tags, a second document, merge keys, duplicate keys). Unlike [`load_raw`] it does not repair
/// and go on: the first problem, by position, is the answer.
pub fn load_document<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, Box<Finding>> {
    if source.text.len() > MAX_VALUE_BYTES {
        return Err(Box::new(Finding::error(
            FindingCode::YamlSyntax,
            Span::new(0, 0),
            format!(
                "the file is {} bytes; the limit is {MAX_VALUE_BYTES} bytes",
                source.text.len()
            ),
        )));
    }
    let built = tree::build(source);
    let first = |findings: Vec<Finding>| {
        findings
            .into_iter()
            .min_by_key(|finding| finding.span.start)
            .map(Box::new)
    };
    let Some(root) = built.root else {
        return Err(first(built.findings).unwrap_or_else(|| {
            Box::new(Finding::error(
                FindingCode::YamlSyntax,
                Span::new(0, 0),
                "the file holds no YAML document",
            ))
        }));
    };
    if let Some(finding) = first(built.findings) {
        return Err(finding);
    }
    let ctx = de::Ctx::new(source);
    let removed = Vec::new();
    let loaded = T::deserialize(de::NodeDe {
        node: &root,
        key: None,
        removed: &removed,
        ctx: &ctx,
    });
    let loaded = loaded.map_err(|error| ctx.record(error, root.span, None));
    let (findings, _) = ctx.into_findings();
    match (loaded, first(findings)) {
        (Ok(value), None) => Ok(value),
        (_, Some(finding)) => Err(finding),
        (Err(_), None) => Err(Box::new(Finding::error(
            FindingCode::InvalidValue,
            root.span,
            "the file does not have the expected shape",
        ))),
    }
}

/// Parses any YAML document (an answers file, say) into a JSON value, with the same budgets.
pub fn load_value(text: &str) -> Result<serde_json::Value, LoadValueError> {
    if text.len() > MAX_VALUE_BYTES {
        return Err(LoadValueError::TooLarge {
            size: text.len(),
            max: MAX_VALUE_BYTES,
        });
    }
    let source = Source::new("", text);
    if let Some(finding) = tree::build(&source)
        .findings
        .into_iter()
        .find(|finding| unsupported(&finding.message))
    {
        let (line, column) = source.line_col(finding.span.start);
        return Err(LoadValueError::Yaml {
            message: format!("{} at line {line}, column {column}", finding.message),
        });
    }
    serde_saphyr::from_str_with_options::<serde_json::Value>(text, options()).map_err(|error| {
        let finding = finding_from(&source, &error);
        let at = match error.location() {
            Some(location) => format!(" at line {}, column {}", location.line(), location.column()),
            None => String::new(),
        };
        LoadValueError::Yaml {
            message: format!("{}{at}", finding.message),
        }
    })
}

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = 48;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 100_000;
    budget.max_total_scalar_bytes = MAX_VALUE_BYTES;
    budget.max_documents = 1;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.strict_booleans = true;
    options.merge_keys = MergeKeyPolicy::Error;
    options.reject_unsupported_tags = true;
    options.with_snippet = false;
    options
}

fn finding_from(source: &Source, error: &serde_saphyr::Error) -> Finding {
    let span = match error.location() {
        Some(location) => {
            let start = source.offset_of(location.line() as usize, location.column() as usize);
            let len = location
                .span()
                .byte_len()
                .filter(|len| *len < 1 << 20)
                .unwrap_or(0);
            Span::new(start, (start + len as usize).min(source.text.len()))
        }
        None => Span::new(0, 0),
    };
    let message = strip_location(&error.without_snippet().to_string());
    classify(&message, span)
}

#[cfg(test)]
mod tests;
