//! The check pass of a rehearsal file: resolves every step id, input and state name against the
//! runbook, compiles patterns and values, and finds what the runbook would reach that the
//! rehearsal does not simulate. Every finding at once, like `runbook lint`.

use std::collections::BTreeSet;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::expr::{Expr, Path, Root};
use super::model::*;
use super::raw::*;
use super::steps::StepIndex;
use crate::finding::{Finding, FindingCode};
use crate::source::{Source, Span};
use crate::suggest::did_you_mean;
use crate::{Runbook, Spanned};

/// What a reference may read in a route (HTTP) or a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Site {
    Route,
    Command,
    /// Scenario values and expectations: no request.
    Scenario,
}

const ROUTE_FIELDS: &[&str] = &["method", "path", "params", "query", "headers", "body"];
const COMMAND_FIELDS: &[&str] = &["args", "argv", "stdin", "env", "files"];

/// The shared state of one check.
pub(super) struct Checker<'a> {
    pub source: &'a Source,
    pub runbook: &'a Runbook,
    pub steps: StepIndex<'a>,
    pub state_names: Vec<String>,
    pub findings: Vec<Finding>,
}

impl<'a> Checker<'a> {
    pub fn new(source: &'a Source, runbook: &'a Runbook, state: &IndexMap<String, Value>) -> Self {
        Checker {
            source,
            runbook,
            steps: StepIndex::of(runbook),
            state_names: state.keys().cloned().collect(),
            findings: Vec::new(),
        }
    }

    pub fn span<T>(&self, spanned: &Spanned<T>) -> Span {
        self.source.span(&spanned.loc)
    }

    pub fn error(&mut self, code: FindingCode, span: Span, message: impl Into<String>) {
        self.findings.push(Finding::error(code, span, message));
    }

    /// A step id the runbook has.
    pub fn step(&mut self, id: &Spanned<String>) -> Option<String> {
        if self.steps.get(id).is_some() {
            return Some(id.value.clone());
        }
        let span = self.span(id);
        let suggestion = did_you_mean(id, self.steps.ids());
        self.findings.push(
            Finding::error(
                FindingCode::RehearsalUnknownStep,
                span,
                format!("the runbook has no step `{}`", id.value),
            )
            .with_label("no such step")
            .with_suggestion(suggestion),
        );
        None
    }

    /// An input the runbook declares.
    pub fn input(&mut self, name: &str, span: Span) -> bool {
        if self.runbook.input(name).is_some() {
            return true;
        }
        let suggestion = did_you_mean(name, self.runbook.inputs.iter().map(|i| i.name.as_str()));
        self.findings.push(
            Finding::error(
                FindingCode::RehearsalUnknownName,
                span,
                format!("the runbook has no input `{name}`"),
            )
            .with_label("no such input")
            .with_suggestion(suggestion),
        );
        false
    }

    /// A value with references, every one of which must resolve.
    pub fn expr(&mut self, value: &Value, site: Site, span: Span) -> Option<Expr> {
        match Expr::parse(value) {
            Ok(expr) => {
                let ok = expr
                    .paths()
                    .into_iter()
                    .all(|path| self.path_ok(path, site, span));
                ok.then_some(expr)
            }
            Err(message) => {
                self.error(FindingCode::RehearsalInvalid, span, message);
                None
            }
        }
    }

    /// A path's first names exist where it reads.
    pub fn path_ok(&mut self, path: &Path, site: Site, span: Span) -> bool {
        let first = path
            .segments
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        match path.root {
            Root::State => self.state_name(first, span),
            Root::Inputs => self.input(first, span),
            Root::Request => {
                let fields = match site {
                    Site::Route => ROUTE_FIELDS,
                    Site::Command => COMMAND_FIELDS,
                    Site::Scenario => &[],
                };
                if fields.contains(&first) {
                    return true;
                }
                let message = if fields.is_empty() {
                    format!("`{}`: there is no request here", path.text)
                } else {
                    format!(
                        "`{}`: a request here has {}",
                        path.text,
                        fields
                            .iter()
                            .map(|f| format!("`request.{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let finding = Finding::error(FindingCode::RehearsalUnknownName, span, message)
                    .with_suggestion(did_you_mean(first, fields.iter().copied()));
                self.findings.push(finding);
                false
            }
        }
    }

    /// A state value declared under `state:`.
    pub fn state_name(&mut self, name: &str, span: Span) -> bool {
        if self.state_names.iter().any(|known| known == name) {
            return true;
        }
        let suggestion = did_you_mean(name, self.state_names.iter().map(String::as_str));
        self.findings.push(
            Finding::error(
                FindingCode::RehearsalUnknownName,
                span,
                format!("`{name}` is not a state value"),
            )
            .with_label("not declared under `state:`")
            .with_suggestion(suggestion)
            .with_help_if_none(format!(
                "declare it under `state:` with its initial value, e.g. `{name}: null`"
            )),
        );
        false
    }

    pub fn duration(&mut self, text: &Option<Spanned<String>>) -> Duration {
        let Some(text) = text else {
            return Duration::ZERO;
        };
        match crate::duration::parse_duration(text) {
            Ok(duration) => duration,
            Err(error) => {
                let span = self.span(text);
                self.error(FindingCode::InvalidDuration, span, error.to_string());
                Duration::ZERO
            }
        }
    }

    /// `when:` conditions.
    pub fn conditions(
        &mut self,
        when: &IndexMap<String, Value>,
        site: Site,
        span: Span,
    ) -> Vec<Condition> {
        let mut out = Vec::new();
        for (key, value) in when {
            let path = match Path::parse(key) {
                Ok(path) => path,
                Err(message) => {
                    self.error(FindingCode::RehearsalInvalid, span, message);
                    continue;
                }
            };
            if !self.path_ok(&path, site, span) {
                continue;
            }
            let operator = match value {
                Value::Object(fields) if fields.len() == 1 => fields.iter().next(),
                Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::String(_)
                | Value::Array(_)
                | Value::Object(_) => None,
            };
            let test = match operator {
                Some((name, operand)) if name == "not" => {
                    self.expr(operand, site, span).map(Test::Not)
                }
                Some((name, operand)) if name == "equals" => {
                    self.expr(operand, site, span).map(Test::Equals)
                }
                Some((name, Value::Bool(exists))) if name == "exists" => {
                    Some(Test::Exists(*exists))
                }
                Some((name, Value::Array(items))) if name == "one_of" => items
                    .iter()
                    .map(|item| self.expr(item, site, span))
                    .collect::<Option<Vec<_>>>()
                    .map(Test::OneOf),
                Some((name, _)) if matches!(name.as_str(), "exists" | "one_of") => {
                    self.error(
                        FindingCode::RehearsalInvalid,
                        span,
                        format!("`{key}`: `exists` takes true or false, `one_of` a list"),
                    );
                    None
                }
                Some(_) | None => self.expr(value, site, span).map(Test::Equals),
            };
            if let Some(test) = test {
                out.push(Condition { path, test });
            }
        }
        out
    }

    /// `set:` assignments.
    pub fn assignments(
        &mut self,
        set: &IndexMap<String, Value>,
        site: Site,
        span: Span,
    ) -> Vec<Assignment> {
        let mut out = Vec::new();
        for (key, value) in set {
            let target: Vec<String> = key
                .trim_start_matches("state.")
                .split('.')
                .map(str::to_owned)
                .collect();
            let first = target.first().cloned().unwrap_or_default();
            if !self.state_name(&first, span) {
                continue;
            }
            if let Some(value) = self.expr(value, site, span) {
                out.push(Assignment { target, value });
            }
        }
        out
    }

    pub fn status(&mut self, status: &Option<Spanned<u16>>) -> Option<u16> {
        let status = status.as_ref()?;
        if (100..=599).contains(&status.value) {
            Some(status.value)
        } else {
            let span = self.span(status);
            self.error(
                FindingCode::InvalidStatus,
                span,
                format!("{} is not an HTTP status (100 to 599)", status.value),
            );
            None
        }
    }
}

trait HelpIfNone {
    fn with_help_if_none(self, help: String) -> Self;
}

impl HelpIfNone for Finding {
    fn with_help_if_none(self, help: String) -> Self {
        if self.help.is_some() {
            self
        } else {
            self.with_help(help)
        }
    }
}

/// Checks a loaded rehearsal against its runbook.
pub fn check(
    raw: &RawRehearsal,
    source: &Source,
    runbook: &Runbook,
    runbook_source: Option<&Source>,
) -> Result<Rehearsal, Vec<Finding>> {
    let mut checker = Checker::new(source, runbook, &raw.state);
    let mut inputs = Vec::new();
    for (name, value) in &raw.inputs {
        let span = checker.span(value);
        if checker.input(name, span) {
            inputs.push((name.clone(), value.value.clone()));
        }
    }
    let services = super::sim::services(&mut checker, &raw.services);
    let commands = super::sim::commands(&mut checker, &raw.commands);
    let answers = match &raw.answers {
        Some(answers) => {
            let span = checker.span(answers);
            super::answers::check(&mut checker, &answers.value, span);
            answers.value.clone()
        }
        None => Value::Object(Map::new()),
    };
    let mut scenarios = Vec::new();
    let mut names = BTreeSet::new();
    for scenario in &raw.scenarios {
        if !names.insert(scenario.name.value.clone()) {
            let span = checker.span(&scenario.name);
            checker.error(
                FindingCode::RehearsalInvalid,
                span,
                format!("a second scenario named `{}`", scenario.name.value),
            );
        }
        if let Some(scenario) = super::scenario::check(&mut checker, scenario) {
            scenarios.push(scenario);
        }
    }
    let rehearsal = Rehearsal {
        path: source.path.clone(),
        runbook: runbook.path.clone(),
        inputs,
        state: raw.state.clone().into_iter().collect(),
        services,
        commands,
        answers,
        scenarios,
    };
    super::escapes::check(&mut checker, &rehearsal, raw, runbook_source);
    if checker.findings.iter().any(Finding::is_error) {
        return Err(checker.findings);
    }
    Ok(rehearsal)
}
