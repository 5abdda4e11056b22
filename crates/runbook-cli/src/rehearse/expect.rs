//! A scenario's verdict: what it declared, compared with what happened. Each difference says what
//! was expected and what happened instead.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use runbook_dsl::rehearsal::Scenario;
use runbook_engine::StepOutcome;

use super::scenario::Outcome;
use super::world::state_at;

/// One way the outcome differs from the declaration.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// What was compared: `status`, `exit_code`, `ran`, `state.trading_paused`, ...
    pub what: String,
    pub expected: String,
    pub actual: String,
}

/// Steps that ran (passed or failed) in any session.
pub fn ran(outcome: &Outcome) -> BTreeSet<String> {
    outcome
        .sessions
        .iter()
        .flat_map(|report| &report.steps)
        .filter(|step| matches!(step.outcome, StepOutcome::Passed | StepOutcome::Failed))
        .map(|step| step.id.clone())
        .collect()
}

/// Steps that failed in the last session's main phase or cleanup.
fn failed_steps(outcome: &Outcome) -> BTreeSet<String> {
    outcome
        .report
        .steps
        .iter()
        .filter(|step| step.outcome == StepOutcome::Failed)
        .map(|step| step.id.clone())
        .collect()
}

/// Audit events (`audit` steps' actions) written, in order.
pub fn events(outcome: &Outcome) -> Vec<String> {
    outcome
        .audit
        .iter()
        .filter(|record| record.get("type").and_then(Value::as_str) == Some("event"))
        .filter_map(|record| record.get("action").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

pub fn compare(scenario: &Scenario, outcome: &Outcome) -> Vec<Difference> {
    let expect = &scenario.expect;
    let mut out = Vec::new();
    let mut differ = |what: &str, expected: String, actual: String| {
        out.push(Difference {
            what: what.to_owned(),
            expected,
            actual,
        });
    };
    // A Ctrl-C or kill at a step that never started did not happen: the scenario tests nothing.
    if let Some(step) = &scenario.kill
        && outcome.killed_at.is_none()
    {
        differ(
            &format!("kill: {step}"),
            "killed as the step starts".into(),
            "the step never started".into(),
        );
    }
    if let Some(step) = &scenario.interrupt
        && !outcome.interrupted
    {
        differ(
            &format!("interrupt: {step}"),
            "Ctrl-C as the step starts".into(),
            "the step never started".into(),
        );
    }
    let report = &outcome.report;
    if let Some(status) = expect.status
        && status.as_str() != report.status.word()
    {
        differ(
            "status",
            status.as_str().into(),
            report.status.word().into(),
        );
    }
    if let Some(code) = expect.exit_code
        && code != outcome.exit_code
    {
        differ("exit_code", code.to_string(), outcome.exit_code.to_string());
    }
    // The run's failed step is the top-level one (a group); a step that failed inside it counts
    // too, so a scenario can name the step that actually went wrong.
    let failed = failed_steps(outcome);
    if let Some(step) = &expect.failed_step
        && Some(step) != report.failed_step.as_ref()
        && !failed.contains(step)
    {
        let actual = match (&report.failed_step, failed.is_empty()) {
            (None, _) => "(none: the run did not fail)".to_owned(),
            (Some(top), true) => top.clone(),
            (Some(top), false) => format!(
                "{top} (steps that failed: {})",
                failed.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        differ("failed_step", step.clone(), actual);
    }
    let ran = ran(outcome);
    for step in &expect.ran {
        if !ran.contains(step) {
            differ(&format!("ran: {step}"), "ran".into(), "did not run".into());
        }
    }
    for step in &expect.not_ran {
        if ran.contains(step) {
            differ(
                &format!("not_ran: {step}"),
                "did not run".into(),
                "ran".into(),
            );
        }
    }
    let events = events(outcome);
    for action in &expect.audit {
        if !events.contains(action) {
            differ(
                &format!("audit: {action}"),
                "written".into(),
                format!("not written (events: {})", list(&events)),
            );
        }
    }
    for action in &expect.no_audit {
        if events.contains(action) {
            differ(
                &format!("no_audit: {action}"),
                "not written".into(),
                "written".into(),
            );
        }
    }
    for (target, expected) in &expect.state {
        let actual = state_at(&outcome.state, target);
        if actual.as_ref() != Some(expected) {
            differ(
                &format!("state.{}", target.join(".")),
                expected.to_string(),
                actual.map_or_else(|| "(not set)".into(), |value| value.to_string()),
            );
        }
    }
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
