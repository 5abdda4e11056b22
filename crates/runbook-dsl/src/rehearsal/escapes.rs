//! What a runbook would reach outside the process: the hosts its http and plugin steps call and
//! the programs its shell steps start. A rehearsal must simulate every one; one it does not is an
//! error naming the step, found before anything runs. Hosts and programs made at run time (from a
//! step's output) are caught then: the transport has no route, `PATH` has no such program.

use std::collections::BTreeSet;

use serde_json::Value;

use super::check::Checker;
use super::model::Rehearsal;
use super::raw::RawRehearsal;
use super::steps::StepIndex;
use crate::finding::{Finding, FindingCode};
use crate::template::{CommandWord, Part, RefPath, Template, command_words};
use crate::{Action, Runbook, Source, Span, StepKind, ValueTemplate};

/// Something outside the process a step reaches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// `host` or `host:port`, lowercase.
    Host(String),
    /// A program, by the name the command gives.
    Program(String),
    /// A program a rehearsal cannot know or replace: named by its path, made at run time, or
    /// code run by `eval` or `.`. Described.
    Unknowable(String),
}

/// A step and what it reaches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reached {
    pub step: String,
    pub reach: Reach,
}

/// What each step of `runbook` reaches, with input values from `input` (templates that read
/// anything else are left to run time).
pub fn reached(runbook: &Runbook, input: &dyn Fn(&str) -> Option<Value>) -> Vec<Reached> {
    let mut out = BTreeSet::new();
    for (step, _) in StepIndex::of(runbook).steps {
        let StepKind::Action(action) = &step.kind else {
            continue;
        };
        let mut add = |reach| {
            out.insert(Reached {
                step: step.id.clone(),
                reach,
            });
        };
        match action {
            Action::Http(http) => {
                if let Some(host) = render(&http.url, input).and_then(|url| host_of(&url)) {
                    add(Reach::Host(host));
                }
            }
            Action::Plugin(plugin) => {
                for (_, value) in &plugin.params {
                    let ValueTemplate::Template(template) = value else {
                        if let ValueTemplate::Literal(Value::String(text)) = value
                            && let Some(host) = host_of(text)
                        {
                            add(Reach::Host(host));
                        }
                        continue;
                    };
                    if let Some(host) = render(template, input).and_then(|url| host_of(&url)) {
                        add(Reach::Host(host));
                    }
                }
            }
            Action::Shell(shell) => {
                // By position among the template's values, as the scanner counts them: a call's
                // result is a value too, known only at run time.
                let refs: Vec<Option<&RefPath>> = shell
                    .command
                    .parts
                    .iter()
                    .filter_map(|part| match part {
                        Part::Literal(_) => None,
                        Part::Ref(reference) => Some(Some(&reference.path)),
                        Part::Call(_) => Some(None),
                    })
                    .collect();
                for word in command_words(&shell.command) {
                    match word {
                        CommandWord::Name(name) => add(program(&name)),
                        CommandWord::Reference(index) => {
                            let value = match refs.get(index) {
                                Some(Some(RefPath::Input { name, rest })) if rest.is_empty() => {
                                    input(name)
                                }
                                _ => None,
                            };
                            match value {
                                Some(Value::String(name)) => add(program(&name)),
                                _ => add(Reach::Unknowable(
                                    "a program named by a value known only at run time".into(),
                                )),
                            }
                        }
                        CommandWord::Dynamic => add(Reach::Unknowable(
                            "a program whose name is made at run time".into(),
                        )),
                    }
                }
            }
            Action::Assert(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Note(_)
            | Action::Stop(_) => {}
        }
    }
    out.into_iter().collect()
}

/// A program by name; by path it would bypass the stand-ins on `PATH`, and `eval` or `.` run
/// code no one can see before the run.
fn program(word: &str) -> Reach {
    if word.contains('/') {
        Reach::Unknowable(format!(
            "`{word}` by its path (stand-ins replace names, not paths)"
        ))
    } else if matches!(word, "eval" | "." | "source") {
        Reach::Unknowable(format!("code through `{word}`"))
    } else {
        Reach::Program(word.to_owned())
    }
}

/// The template's text with input values in place; `None` when it reads anything else.
fn render(template: &Template, input: &dyn Fn(&str) -> Option<Value>) -> Option<String> {
    let mut text = String::new();
    for part in &template.parts {
        match part {
            Part::Literal(literal) => text.push_str(literal),
            Part::Ref(reference) => match &reference.path {
                RefPath::Input { name, rest } if rest.is_empty() => match input(name)? {
                    Value::String(value) => text.push_str(&value),
                    Value::Number(number) => text.push_str(&number.to_string()),
                    Value::Bool(flag) => text.push_str(&flag.to_string()),
                    Value::Null | Value::Array(_) | Value::Object(_) => return None,
                },
                RefPath::Input { .. }
                | RefPath::StepOutput { .. }
                | RefPath::StepTiming { .. }
                | RefPath::StepOutcome { .. }
                | RefPath::Run { .. }
                | RefPath::OwnOutput { .. }
                | RefPath::Env { .. } => return None,
            },
            Part::Call(_) => return None,
        }
    }
    Some(text)
}

/// `host` or `host:port` of an http(s) URL (the port only when it is not the scheme's).
pub fn host_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    Some(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// The input values one check of what is reached uses: the rehearsal's, or a scenario's.
struct InputSet<'a> {
    scenario: Option<&'a str>,
    inputs: Vec<(String, Value)>,
    /// Where findings point.
    span: Span,
}

/// Every host and program a scenario would reach without a stand-in is an error naming the step.
pub(super) fn check(
    checker: &mut Checker<'_>,
    rehearsal: &Rehearsal,
    raw: &RawRehearsal,
    runbook_source: Option<&Source>,
) {
    let runbook = checker.runbook;
    let mut seen = BTreeSet::new();
    let mut sets = vec![InputSet {
        scenario: None,
        inputs: rehearsal.inputs.clone(),
        span: Span::new(0, 0),
    }];
    for scenario in rehearsal.scenarios.iter().filter(|s| !s.inputs.is_empty()) {
        let mut inputs = rehearsal.inputs.clone();
        inputs.extend(scenario.inputs.iter().cloned());
        let span = raw
            .scenarios
            .iter()
            .find(|raw| raw.name.value == scenario.name)
            .map_or(scenario.span, |raw| checker.span(&raw.name));
        sets.push(InputSet {
            scenario: Some(scenario.name.as_str()),
            inputs,
            span,
        });
    }
    for InputSet {
        scenario,
        inputs,
        span,
    } in sets
    {
        let lookup = |name: &str| -> Option<Value> {
            inputs
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .or_else(|| runbook.input(name).and_then(|input| input.default.clone()))
        };
        for found in reached(runbook, &lookup) {
            let simulated = match &found.reach {
                Reach::Host(host) => rehearsal.service(host).is_some(),
                Reach::Program(name) => rehearsal.command(name).is_some(),
                Reach::Unknowable(_) => false,
            };
            if simulated || !seen.insert(found.clone()) {
                continue;
            }
            let at = StepIndex::of(runbook)
                .get(&found.step)
                .map(|step| step.span)
                .zip(runbook_source)
                .map(|(step_span, source)| {
                    let (line, column) = source.line_col(step_span.start);
                    format!(" ({}:{line}:{column})", source.path.display())
                })
                .unwrap_or_default();
            let in_scenario = scenario
                .map(|name| format!(" in scenario `{name}`"))
                .unwrap_or_default();
            let (message, help) = match &found.reach {
                Reach::Host(host) => (
                    format!(
                        "step `{}`{at} calls `{host}`{in_scenario}, which the rehearsal does not simulate",
                        found.step
                    ),
                    format!(
                        "add `{host}:` under `services:` with the routes the step uses; a \
                         rehearsal never sends a request anywhere"
                    ),
                ),
                Reach::Unknowable(what) => (
                    format!(
                        "step `{}`{at} runs {what}{in_scenario}: a rehearsal cannot simulate it",
                        found.step
                    ),
                    "name each program the command runs plainly (`heroku ...`), or pass it as \
                     an input (`{{inputs.cli}} ...`) that the rehearsal sets"
                        .to_owned(),
                ),
                Reach::Program(name) => (
                    format!(
                        "step `{}`{at} runs `{name}`{in_scenario}, which the rehearsal does not simulate",
                        found.step
                    ),
                    format!(
                        "add `{name}:` under `commands:`; a rehearsal starts no program but `sh` \
                         and its stand-ins"
                    ),
                ),
            };
            checker.findings.push(
                Finding::error(FindingCode::RehearsalEscape, span, message)
                    .with_label("this rehearsal")
                    .with_help(help),
            );
        }
    }
}
