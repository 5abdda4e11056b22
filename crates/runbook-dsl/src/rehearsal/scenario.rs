//! The checked form of a scenario: its overrides, faults (each at a step that can receive it),
//! the step where Ctrl-C or a kill comes, and what it expects.

use serde_json::Value;

use super::check::{Checker, Site};
use super::model::*;
use super::raw::*;
use super::steps::kind_of;
use crate::finding::FindingCode;
use crate::{Action, Spanned, StepKind};

pub(super) fn check(checker: &mut Checker<'_>, raw: &Spanned<RawScenario>) -> Option<Scenario> {
    let span = checker.span(raw);
    let mut inputs = Vec::new();
    for (name, value) in &raw.inputs {
        let at = checker.span(value);
        if checker.input(name, at) {
            inputs.push((name.clone(), value.value.clone()));
        }
    }
    for name in raw.state.keys() {
        checker.state_name(name, span);
    }
    let answers = match &raw.answers {
        Some(answers) => {
            let at = checker.span(answers);
            super::answers::check(checker, &answers.value, at);
            match &answers.value {
                Value::Object(map) => Some(map.clone()),
                Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::String(_)
                | Value::Array(_) => None,
            }
        }
        None => None,
    };
    let faults = raw
        .faults
        .iter()
        .filter_map(|fault| self::fault(checker, fault))
        .collect();
    let interrupt = raw.interrupt.as_ref().and_then(|at| checker.step(&at.at));
    let kill = raw.kill.as_ref().and_then(|at| checker.step(&at.at));
    if interrupt.is_some() && kill.is_some() {
        checker.error(
            FindingCode::RehearsalInvalid,
            span,
            "a scenario has `interrupt` or `kill`, not both",
        );
    }
    let expect = self::expect(checker, &raw.expect);
    Some(Scenario {
        name: raw.name.value.clone(),
        description: raw.description.clone(),
        inputs,
        state: raw.state.clone().into_iter().collect(),
        answers,
        faults,
        interrupt,
        kill,
        expect,
        span,
    })
}

fn fault(checker: &mut Checker<'_>, raw: &Spanned<RawFault>) -> Option<Fault> {
    let span = checker.span(raw);
    let id = checker.step(&raw.at)?;
    let step = checker.steps.get(&id)?;
    let (sends_http, runs_commands) = match &step.kind {
        StepKind::Action(Action::Http(_) | Action::Plugin(_)) => (true, false),
        StepKind::Action(Action::Shell(_)) => (false, true),
        StepKind::Action(
            Action::Assert(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Note(_)
            | Action::Stop(_),
        )
        | StepKind::Group(_) => (false, false),
    };
    let mut kinds = Vec::new();
    if let Some(http) = &raw.http {
        kinds.push(FaultKind::Http {
            status: checker.status(&http.status),
            headers: http
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    let value =
                        checker.expr(&Value::String(value.clone()), Site::Scenario, span)?;
                    Some((name.to_ascii_lowercase(), value))
                })
                .collect(),
            body: http
                .body
                .as_ref()
                .and_then(|body| checker.expr(body, Site::Scenario, span)),
            latency: checker.duration(&http.latency),
        });
    }
    if raw.timeout == Some(true) {
        kinds.push(FaultKind::Timeout);
    }
    if let Some(command) = &raw.command {
        kinds.push(FaultKind::Command {
            exit: command.exit,
            stdout: command.stdout.clone(),
            stderr: command.stderr.clone(),
        });
    }
    if raw.never_converges == Some(true) {
        kinds.push(FaultKind::NeverConverges);
    }
    if kinds.len() != 1 {
        checker.error(
            FindingCode::RehearsalInvalid,
            span,
            "a fault is exactly one of `http`, `timeout: true`, `command` or `never_converges: true`",
        );
        return None;
    }
    let kind = kinds.pop()?;
    let fits = match &kind {
        FaultKind::Http { .. } | FaultKind::Timeout => sends_http,
        FaultKind::Command { .. } => runs_commands,
        FaultKind::NeverConverges => sends_http || runs_commands,
    };
    if !fits {
        let what = match &kind {
            FaultKind::Http { .. } | FaultKind::Timeout => "an http or plugin step",
            FaultKind::Command { .. } => "a shell step",
            FaultKind::NeverConverges => "an http, plugin or shell step",
        };
        let at = checker.span(&raw.at);
        checker.error(
            FindingCode::RehearsalInvalid,
            at,
            format!(
                "this fault needs {what}; `{id}` is {} step",
                match kind_of(step) {
                    kind @ ("http" | "assert" | "audit") => format!("an {kind}"),
                    kind => format!("a {kind}"),
                }
            ),
        );
        return None;
    }
    let times = match &raw.times {
        Some(times) if times.value == 0 => {
            let at = checker.span(times);
            checker.error(
                FindingCode::RehearsalInvalid,
                at,
                "`times: 0` injects nothing; leave the fault out, or give 1 or more",
            );
            return None;
        }
        Some(times) => Some(times.value),
        None => None,
    };
    Some(Fault {
        step: id,
        kind,
        times,
    })
}

fn expect(checker: &mut Checker<'_>, raw: &Spanned<RawExpect>) -> Expect {
    let span = checker.span(raw);
    let steps = |checker: &mut Checker<'_>, ids: &[Spanned<String>]| -> Vec<String> {
        ids.iter().filter_map(|id| checker.step(id)).collect()
    };
    let mut state = Vec::new();
    for (key, value) in &raw.state {
        let target: Vec<String> = key
            .trim_start_matches("state.")
            .split('.')
            .map(str::to_owned)
            .collect();
        let first = target.first().cloned().unwrap_or_default();
        if checker.state_name(&first, span) {
            state.push((target, value.clone()));
        }
    }
    Expect {
        status: raw.status.as_ref().map(|status| status.value),
        exit_code: raw.exit_code,
        failed_step: raw.failed_step.as_ref().and_then(|id| checker.step(id)),
        ran: steps(checker, &raw.ran),
        not_ran: steps(checker, &raw.not_ran),
        audit: raw.audit.clone(),
        no_audit: raw.no_audit.clone(),
        state,
    }
}
