//! Inputs and captures nothing refers to: usually a typo'd or forgotten reference, or a leftover.
//!
//! A capture counts as used when any template of the runbook refers to it: a later step, its own
//! step's `assert` or `until` (`{{outputs.NAME}}`), or an `audit` step's context. A capture kept
//! only for the JSON report or the journal is not a use: what the audit trail should say belongs
//! in an `audit` step, which names it. Prompt answers and plugin outputs are not captures and are
//! not checked.

use std::collections::BTreeSet;

use super::Facts;
use super::templates::step_templates;
use crate::finding::{Finding, FindingCode};
use crate::template::RefPath;

pub(super) fn check(facts: &Facts) -> Vec<Finding> {
    let mut used_inputs: BTreeSet<&str> = BTreeSet::new();
    let mut used_outputs: BTreeSet<(&str, &str)> = BTreeSet::new();
    for node in &facts.index.nodes {
        for (_, template) in step_templates(node.step) {
            for reference in template.references() {
                match &reference.path {
                    RefPath::Input { name, .. } => {
                        used_inputs.insert(name);
                    }
                    RefPath::StepOutput { step, output, .. } => {
                        used_outputs.insert((step, output));
                    }
                    RefPath::OwnOutput { output, .. } => {
                        used_outputs.insert((&node.step.id, output));
                    }
                    RefPath::StepTiming { .. }
                    | RefPath::StepOutcome { .. }
                    | RefPath::Run { .. }
                    | RefPath::Env { .. } => {}
                }
            }
        }
    }
    let mut findings = Vec::new();
    for input in facts.inputs {
        if !used_inputs.contains(input.name.as_str()) {
            findings.push(
                Finding::warning(
                    FindingCode::UnusedInput,
                    facts.key_span(input.span, &input.name),
                    format!("input `{}` is never used", input.name),
                )
                .with_label("no template refers to it")
                .with_help(format!(
                    "refer to it as `{{{{inputs.{}}}}}` where it is meant to be used, or remove it",
                    input.name
                )),
            );
        }
    }
    for node in &facts.index.nodes {
        for capture in node.step.kind.captures() {
            if !used_outputs.contains(&(node.step.id.as_str(), capture.name.as_str())) {
                findings.push(
                    Finding::warning(
                        FindingCode::UnusedCapture,
                        capture.span,
                        format!(
                            "capture `{}` of step `{}` is never used",
                            capture.name, node.step.id
                        ),
                    )
                    .with_label("no template refers to it")
                    .with_help(format!(
                        "use it (`{{{{steps.{}.outputs.{}}}}}`, or in an `audit` step's context if \
                         it belongs in the audit trail), or remove it",
                        node.step.id, capture.name
                    )),
                );
            }
        }
    }
    findings
}
