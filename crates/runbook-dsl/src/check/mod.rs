//! The check pass: a raw runbook in, a [`Runbook`] or every finding out.
//!
//! Not every successful parse is a valid runbook. This pass resolves step ids and references, compiles
//! templates, JSONPaths and regexes, and validates values the types alone cannot (durations, methods,
//! status codes). It keeps going after a finding so `lint` reports everything at once.

mod audit;
mod conditions;
mod control;
mod fragment;
mod functions;
mod http;
mod inputs;
mod note;
mod plugin;
mod prompt;
mod references;
mod safety;
mod shell;
mod steps;
mod taint;

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, FindingCode};
use crate::model::{Metadata, Runbook, Steps};
use crate::raw::{InputType, Mode, RawRunbook, RawStep};
use crate::source::{Source, Span};
use crate::spanned::Spanned;
use crate::yaml::Dropped;
use steps::Placement;

pub(crate) use fragment::StandaloneFrame;

/// Checks a loaded runbook, with no plugins linked.
pub fn check(raw: &RawRunbook, source: &Source) -> Result<Runbook, Vec<Finding>> {
    check_with(raw, source, &runbook_plugin::NoPlugins)
}

/// Checks a loaded runbook; `plugin:` steps are checked against `catalog`.
pub fn check_with(
    raw: &RawRunbook,
    source: &Source,
    catalog: &dyn runbook_plugin::Catalog,
) -> Result<Runbook, Vec<Finding>> {
    check_loaded(raw, source, catalog, &Dropped::default())
}

/// [`check_with`] on a runbook some parts of which did not load (`dropped`, already reported):
/// references to them are not reported again. A runbook that uses fragments is checked with
/// [`crate::load_and_check_files`], which loads them.
pub fn check_loaded(
    raw: &RawRunbook,
    source: &Source,
    catalog: &dyn runbook_plugin::Catalog,
    dropped: &Dropped,
) -> Result<Runbook, Vec<Finding>> {
    let expansion = crate::fragment::expand(source, &[], &crate::fragment::NoFragments);
    check_expanded(raw, catalog, dropped, &expansion, None)
}

/// Checks a runbook whose fragments are loaded (`expansion`, whose combined text is what spans
/// point into). `standalone` is the frame of a fragment linted on its own (its parameters
/// standing in as inputs). Findings and spans are in the expansion's address space.
pub(crate) fn check_expanded(
    raw: &RawRunbook,
    catalog: &dyn runbook_plugin::Catalog,
    dropped: &Dropped,
    expansion: &crate::fragment::Expansion,
    standalone: Option<StandaloneFrame>,
) -> Result<Runbook, Vec<Finding>> {
    let source = &expansion.combined;
    let mut checker = Checker::new(source, raw, catalog, dropped, expansion);
    checker.frames.extend(standalone);
    let inputs = checker.check_inputs(raw);
    let steps = checker.check_step_list(&raw.steps, Placement::Sequence);
    checker.cleanup_depth += 1;
    let on_failure = checker.check_step_list(&raw.on_failure, Placement::Anywhere);
    let finally = checker.check_step_list(&raw.finally, Placement::Anywhere);
    checker.cleanup_depth -= 1;
    let meta = checker.check_metadata(raw);
    if !checker.findings.iter().any(Finding::is_error) {
        let lists: [&[crate::model::Step]; 3] = [&steps, &on_failure, &finally];
        let secret_outputs = taint::tainted_outputs(&lists);
        let mut warnings = checker.findings;
        let facts = safety::Facts::new(
            source,
            raw,
            [&steps, &on_failure, &finally],
            &inputs,
            &meta,
            &secret_outputs,
        );
        warnings.extend(safety::check_safety(&facts));
        warnings.sort_by_key(|finding| finding.span.start);
        Ok(Runbook::checked(
            source.path.clone(),
            meta,
            inputs,
            Steps {
                steps,
                on_failure,
                finally,
            },
            checker.env_refs,
            secret_outputs,
            warnings,
        ))
    } else {
        checker.findings.sort_by_key(|finding| finding.span.start);
        Err(checker.findings)
    }
}

/// How far before a value [`Checker::key_span`] looks for its key, in bytes.
const KEY_WINDOW: usize = 1024;

/// What a step makes available to the steps after it.
#[derive(Debug, Clone)]
struct StepInfo {
    index: usize,
    outputs: Vec<String>,
}

pub(crate) struct Checker<'a> {
    source: &'a Source,
    catalog: &'a dyn runbook_plugin::Catalog,
    findings: Vec<Finding>,
    /// Declared inputs and their types.
    inputs: BTreeMap<String, InputType>,
    /// Every step id in the file with its position, known before any step is checked, so a reference
    /// to a later step says "not yet run" rather than "unknown".
    step_index: BTreeMap<String, usize>,
    /// Outputs of the steps checked so far.
    checked_steps: BTreeMap<String, StepInfo>,
    env_refs: BTreeSet<String>,
    /// Ids seen so far (at any depth) and where, for duplicate detection.
    seen_ids: BTreeMap<String, Span>,
    /// The number the next checked step gets; the same order as [`number_steps`].
    next_index: usize,
    /// How many cleanup lists (rollback, undo, `on_failure`, `finally`) enclose the steps being
    /// checked: a commit point belongs to the main sequence only, and cleanup may ask for the
    /// outcome of any step.
    cleanup_depth: usize,
    mode: Option<Mode>,
    /// Steps and inputs that did not load (already reported): references to them are not.
    dropped: &'a Dropped,
    /// Did-you-mean work left for this file (step ids and inputs are as many as the file holds).
    suggest_budget: crate::suggest::Budget,
    /// The fragments the runbook uses, loaded.
    fragments: &'a crate::fragment::Expansion,
    /// The fragments whose steps are being checked, innermost last.
    frames: Vec<fragment::Frame>,
    /// Inputs declared `secret: true` (a secret fragment parameter needs one).
    secret_inputs: BTreeSet<String>,
}

impl<'a> Checker<'a> {
    fn new(
        source: &'a Source,
        raw: &RawRunbook,
        catalog: &'a dyn runbook_plugin::Catalog,
        dropped: &'a Dropped,
        fragments: &'a crate::fragment::Expansion,
    ) -> Self {
        let mut step_index = BTreeMap::new();
        let mut numbering = Numbering {
            next: 0,
            index: &mut step_index,
            fragments,
        };
        for list in [&raw.steps, &raw.on_failure, &raw.finally] {
            numbering.number(list, "");
        }
        Checker {
            source,
            catalog,
            findings: Vec::new(),
            inputs: BTreeMap::new(),
            step_index,
            checked_steps: BTreeMap::new(),
            env_refs: BTreeSet::new(),
            seen_ids: BTreeMap::new(),
            next_index: 0,
            cleanup_depth: 0,
            mode: raw.mode.as_ref().map(|mode| mode.value),
            dropped,
            suggest_budget: crate::suggest::Budget::default(),
            fragments,
            frames: Vec::new(),
            secret_inputs: raw
                .inputs
                .iter()
                .filter(|(_, input)| input.value.secret)
                .map(|(name, _)| name.clone())
                .collect(),
        }
    }

    pub(crate) fn span<T>(&self, spanned: &Spanned<T>) -> Span {
        self.source.span(&spanned.loc)
    }

    /// The span of the mapping key `key` whose value starts at `value` (map keys carry no span of
    /// their own): the nearest `key:` before the value, or the value itself.
    pub(crate) fn key_span(&self, value: Span, key: &str) -> Span {
        key_span(self.source, value, key)
    }

    pub(crate) fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn check_metadata(&mut self, raw: &RawRunbook) -> Metadata {
        let id = &raw.id.value;
        if !is_identifier(id, &['-', '_']) {
            let span = self.span(&raw.id);
            self.report(
                Finding::error(
                    FindingCode::InvalidRunbookId,
                    span,
                    format!("runbook id `{id}` must be lowercase letters, digits, `-` and `_`"),
                )
                .with_label("invalid id"),
            );
        }
        if let Some(duration) = &raw.average_duration {
            self.duration(duration);
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
            preconditions: self.check_preconditions(raw),
        }
    }
}

/// The span of the mapping key `key` whose value starts at `value`: the nearest `key:` before the
/// value, or the value itself.
pub(crate) fn key_span(source: &Source, value: Span, key: &str) -> Span {
    if !value.is_known() || key.is_empty() {
        return value;
    }
    let before = source.text.get(..value.start).unwrap_or("");
    // The key sits just before its value; a bounded window keeps this constant-time per call
    // whatever the file's size (a key not found there is reported at the value).
    let mut window_start = value.start.saturating_sub(key.len() + KEY_WINDOW);
    while !before.is_char_boundary(window_start) {
        window_start -= 1;
    }
    let mut search_end = before.len();
    while let Some(at) =
        memchr::memmem::rfind(&before.as_bytes()[window_start..search_end], key.as_bytes())
            .map(|at| at + window_start)
    {
        let after = before[at + key.len()..].trim_start_matches(['"', '\'']);
        let boundary = at == 0
            || !before[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if boundary && after.starts_with(':') {
            return Span::new(at, at + key.len());
        }
        search_end = at;
    }
    value
}

impl Checker<'_> {
    /// The header's preconditions: each a non-empty line the operator confirms.
    fn check_preconditions(&mut self, raw: &RawRunbook) -> Vec<String> {
        let mut out = Vec::new();
        for item in &raw.preconditions {
            if item.value.trim().is_empty() {
                let span = self.span(item);
                self.report(
                    Finding::error(
                        FindingCode::InvalidValue,
                        span,
                        "a precondition is empty: the operator would confirm nothing",
                    )
                    .with_label("empty precondition")
                    .with_help("say what must be true, e.g. `maintenance window announced`"),
                );
            }
            out.push(item.value.trim().to_owned());
        }
        out
    }
}

/// Numbers steps in the order the check pass visits them: each step, then its group's (or its
/// fragment's) steps and `finally`, then its rollback.
struct Numbering<'n> {
    next: usize,
    index: &'n mut BTreeMap<String, usize>,
    fragments: &'n crate::fragment::Expansion,
}

impl Numbering<'_> {
    fn number(&mut self, steps: &[Spanned<RawStep>], prefix: &str) {
        for step in steps {
            let id = format!("{prefix}{}", step.value.id.value);
            self.index.entry(id.clone()).or_insert(self.next);
            self.next += 1;
            if let Some(group) = &step.value.group {
                self.number(&group.value.steps, prefix);
                self.number(&group.value.finally, prefix);
                self.number(&group.value.undo, prefix);
            }
            let fragments = self.fragments;
            if let Some(used) = step
                .value
                .use_fragment
                .as_ref()
                .and_then(|path| path.loc.bytes)
                .and_then(|(offset, _)| fragments.uses.get(&offset))
            {
                let inner = format!("{id}.");
                self.number(&used.raw.steps, &inner);
                self.number(&used.raw.finally, &inner);
            }
            self.number(&step.value.rollback, prefix);
        }
    }
}

impl Checker<'_> {
    /// Compiles a regular expression field, reporting where it does not compile.
    pub(crate) fn regex(&mut self, pattern: &Spanned<String>) -> Option<regex::Regex> {
        match compile_regex(&pattern.value) {
            Ok(regex) => Some(regex),
            Err(error) => {
                let span = self.span(pattern);
                // The useful line of the error ("unclosed character class"), without "error: ".
                let full = error.to_string();
                let last = full.lines().last().unwrap_or(&full).trim();
                let detail = last.strip_prefix("error: ").unwrap_or(last);
                self.report(
                    Finding::error(
                        FindingCode::InvalidRegex,
                        span,
                        format!("invalid regular expression: {detail}"),
                    )
                    .with_label("does not compile"),
                );
                None
            }
        }
    }
}

/// Regexes compiled so far on this thread: the same patterns (`^PA[0-9A-Z]+$`) recur across steps
/// and files, and a `Regex` is cheap to clone. Cleared when full, so memory stays bounded.
const REGEX_CACHE_ENTRIES: usize = 1024;

thread_local! {
    static REGEXES: std::cell::RefCell<crate::cache::CacheMap<regex::Regex>> =
        std::cell::RefCell::new(crate::cache::CacheMap::default());
}

fn compile_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    REGEXES.with(|cache| {
        if let Some(regex) = cache.borrow().get(pattern) {
            return Ok(regex.clone());
        }
        let regex = regex::Regex::new(pattern)?;
        let mut cache = cache.borrow_mut();
        if cache.len() >= REGEX_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), regex.clone());
        Ok(regex)
    })
}

/// JSONPaths parsed so far on this thread (`None`: does not parse). Generated and hand-written
/// runbooks repeat the same paths (`$.account_number`, `$.id`) step after step, and jsonpath-rust's
/// pest parser cost about 21,000 instructions a path. Cleared when full, and long paths are not
/// kept (no real path is that long), so memory stays bounded whatever the files hold.
const JSONPATH_CACHE_ENTRIES: usize = 1024;
const JSONPATH_CACHE_MAX_LEN: usize = 256;

thread_local! {
    static JSONPATHS: std::cell::RefCell<
        crate::cache::CacheMap<Option<jsonpath_rust::parser::model::JpQuery>>,
    > = std::cell::RefCell::new(crate::cache::CacheMap::default());
}

fn parse_jsonpath(text: &str) -> Option<jsonpath_rust::parser::model::JpQuery> {
    if text.len() > JSONPATH_CACHE_MAX_LEN {
        return jsonpath_rust::parser::parse_json_path(text).ok();
    }
    JSONPATHS.with(|cache| {
        if let Some(query) = cache.borrow().get(text) {
            return query.clone();
        }
        let query = jsonpath_rust::parser::parse_json_path(text).ok();
        let mut cache = cache.borrow_mut();
        if cache.len() >= JSONPATH_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(text.to_owned(), query.clone());
        query
    })
}

/// Lowercase ASCII letter first, then lowercase letters, digits and the given separators.
pub(crate) fn is_identifier(text: &str, separators: &[char]) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || separators.contains(&c))
}

#[cfg(test)]
mod tests;
