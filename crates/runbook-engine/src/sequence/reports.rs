//! Step reports: a new one for a step, and the reports of main-list steps that never ran.

use std::collections::HashSet;

use serde_json::Map;

use runbook_dsl::Step;

use crate::report::{Phase, StepOutcome, StepReport};

pub(crate) fn new_report(step: &Step, phase: Phase, outcome: StepOutcome) -> StepReport {
    StepReport {
        id: step.id.clone(),
        name: step.name.clone(),
        kind: step.kind.keyword(),
        composite: step.kind.group().is_some(),
        phase,
        outcome,
        duration_ms: 0,
        attempts: 0,
        irreversible: step.irreversible,
        outputs: Map::new(),
        secret_outputs: Vec::new(),
        large_outputs: Vec::new(),
        started_at: None,
        finished_at: None,
        error: None,
        note: None,
        restored: false,
    }
}

/// Reports for main-list steps (at any depth) that never started. Linear in steps plus reports.
pub(crate) fn not_run(steps: &[Step], reports: &[StepReport]) -> Vec<StepReport> {
    let reported: HashSet<&str> = reports.iter().map(|report| report.id.as_str()).collect();
    let skipped: HashSet<&str> = reports
        .iter()
        .filter(|report| report.outcome == StepOutcome::Skipped)
        .map(|report| report.id.as_str())
        .collect();
    let mut missing = Vec::new();
    collect_not_run(steps, &reported, &skipped, &mut missing);
    missing
}

fn collect_not_run(
    steps: &[Step],
    reported: &HashSet<&str>,
    skipped: &HashSet<&str>,
    out: &mut Vec<StepReport>,
) {
    for step in steps {
        if !reported.contains(step.id.as_str()) {
            out.push(new_report(step, Phase::Main, StepOutcome::NotRun));
        }
        // The steps of a group whose `when` did not hold were skipped with it, not left undone.
        if let Some(group) = step.kind.group()
            && !skipped.contains(step.id.as_str())
        {
            collect_not_run(&group.steps, reported, skipped, out);
            collect_not_run(&group.finally, reported, skipped, out);
        }
    }
}
