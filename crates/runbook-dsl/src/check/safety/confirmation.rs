//! The operator's say before what cannot be undone: an `irreversible` step needs a confirmation
//! (`confirm` or `phrase`) on every path to it, and an operator-assisted runbook asks the operator
//! something before its first side effect (the header's `preconditions:` confirmation counts).
//!
//! "On every path" is judged on the structure: a step is preceded by a prompt when an earlier step
//! of the same list, or of an enclosing list before the enclosing group, is one that always runs
//! and stops the run when it does not pass (no `when`, `on_error` abort), or a group holding such
//! a step. A rollback step is preceded by what preceded the step it undoes, and that step itself.
//! Cleanup lists (`on_failure`, `finally`, a group's `finally`) run every step even after one
//! fails, so a prompt inside one guards nothing after it.

use super::Facts;
use super::index::Area;
use crate::finding::{Finding, FindingCode};
use crate::model::{Action, Mode, OnError, Step, StepKind};

pub(super) fn check(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    if facts.meta.mode == Some(Mode::Automatic) {
        // Nobody is there to confirm, and prompts are an error in automatic runbooks.
        return findings;
    }
    for (at, node) in facts.index.nodes.iter().enumerate() {
        if node.step.irreversible && !preceded_by(facts, at, is_confirmation) {
            findings.push(
                Finding::warning(
                    FindingCode::IrreversibleWithoutConfirmation,
                    facts.step_key_span(node.step, "irreversible"),
                    format!(
                        "irreversible step `{}` is not preceded by a confirmation on every path",
                        node.step.id
                    ),
                )
                .with_label("nothing asks the operator before this")
                .with_help(
                    "add a prompt step with `confirm:` or `phrase:` (no `when`, default \
                     `on_error`) before it, e.g. `prompt: {phrase: LIVE}`",
                ),
            );
        }
    }
    // Header `preconditions:` are confirmed once before the first step: that is the prompt.
    if facts.meta.mode == Some(Mode::OperatorAssisted)
        && facts.meta.preconditions.is_empty()
        && let Some(at) = first_side_effect(facts)
        && !preceded_by(facts, at, is_prompt)
    {
        let node = facts.index.node(at);
        let keyword = node.step.kind.keyword();
        findings.push(
            Finding::warning(
                FindingCode::SideEffectBeforePrompt,
                facts.step_key_span(node.step, keyword),
                format!(
                    "the first side effect of this operator-assisted runbook, step `{}`, runs \
                     before any prompt",
                    node.step.id
                ),
            )
            .with_label("runs as soon as the run starts")
            .with_help(
                "list the run's `preconditions:` in the header (window announced, operator on \
                 console), which the operator confirms before the first step, or start with a \
                 prompt that states what the run will change and asks to `confirm:` it",
            ),
        );
    }
    findings
}

/// A step that changes something outside the run: a command, a plugin action, or an http request
/// whose method is not safe (GET, HEAD, OPTIONS only read).
fn is_side_effect(step: &Step) -> bool {
    match &step.kind {
        StepKind::Action(Action::Http(http)) => !http.method.is_safe(),
        StepKind::Action(Action::Shell(_) | Action::Plugin(_)) => true,
        StepKind::Action(
            Action::Assert(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Note(_)
            | Action::Stop(_),
        )
        | StepKind::Group(_) => false,
    }
}

/// The first side effect of the main phase, in run order.
fn first_side_effect(facts: &Facts) -> Option<usize> {
    (0..facts.index.nodes.len()).find(|&at| {
        let node = facts.index.node(at);
        node.area != Area::Rollback && facts.index.in_main_phase(at) && is_side_effect(node.step)
    })
}

fn is_confirmation(step: &Step) -> bool {
    step.kind
        .prompt()
        .is_some_and(|prompt| prompt.confirm.is_some() || prompt.phrase.is_some())
}

fn is_prompt(step: &Step) -> bool {
    step.kind.prompt().is_some()
}

/// Whether a step that satisfies `wanted` certainly ran, and passed, before the step at `at`.
fn preceded_by(facts: &Facts, at: usize, wanted: fn(&Step) -> bool) -> bool {
    let mut current = at;
    loop {
        let node = facts.index.node(current);
        match node.area {
            Area::Main => {
                let earlier = &node.siblings[..node.position];
                if earlier.iter().any(|step| guarantees(step, wanted)) {
                    return true;
                }
            }
            // The group's steps may have failed before its `finally` runs.
            Area::GroupFinally => {}
            Area::Rollback => {
                // Runs only if the step it undoes passed.
                if let Some(owner) = node.parent
                    && guarantees(facts.index.node(owner).step, wanted)
                {
                    return true;
                }
            }
            // The failure may have come at the first step.
            Area::OnFailure | Area::Finally => return false,
        }
        match node.parent {
            Some(parent) => current = parent,
            None => return false,
        }
    }
}

/// Whether `step` passing means a step satisfying `wanted` ran and passed: it always runs and
/// stops the run when it fails, and it is such a step or a group holding one.
fn guarantees(step: &Step, wanted: fn(&Step) -> bool) -> bool {
    let stops_on_failure = match step.on_error {
        OnError::Abort | OnError::AbortRun => true,
        OnError::Continue | OnError::Warn | OnError::Ask => false,
    };
    if step.when.is_some() || !stops_on_failure {
        return false;
    }
    match &step.kind {
        StepKind::Group(group) => group.steps.iter().any(|inner| guarantees(inner, wanted)),
        StepKind::Action(_) => wanted(step),
    }
}
