//! Steps and rollbacks that can never run.
//!
//! - A step whose `when` is always false (every operand a literal, see [`super::constant`]).
//! - The steps after one that always stops the run: an `assert` whose condition is always false
//!   (or a group holding one), with no `when` and `on_error` abort. Only in the main steps and
//!   groups: cleanup lists run every step anyway.
//! - A `rollback` in `on_failure` or `finally` (compensation is registered only by main-phase
//!   steps), or on the step that runs last in the main phase (no later step can fail, and Ctrl-C
//!   is acted on only between steps). A step followed only by steps that cannot fail is not
//!   reported: Ctrl-C before the next step still runs the rollback.

use super::Facts;
use super::constant::evaluate;
use super::index::Area;
use crate::finding::{Finding, FindingCode};
use crate::model::{Action, OnError, Step, StepKind};

pub(super) fn check(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (at, node) in facts.index.nodes.iter().enumerate() {
        let step = node.step;
        if let Some(when) = &step.when
            && evaluate(when) == Some(false)
        {
            findings.push(
                Finding::warning(
                    FindingCode::UnreachableStep,
                    facts.key_span(when.span, "when"),
                    format!("the `when` of step `{}` is always false", step.id),
                )
                .with_label("compares values that are written out: never holds")
                .with_help("refer to the value that should decide (an input or an output), or remove the step"),
            );
        }
        if node.area == Area::Main
            && always_stops(step)
            && let Some(next) = node.siblings.get(node.position + 1)
        {
            findings.push(
                Finding::warning(
                    FindingCode::UnreachableStep,
                    id_span(facts, next),
                    format!(
                        "step `{}` can never run: step `{}` before it always fails",
                        next.id, step.id
                    ),
                )
                .with_label("unreachable")
                .with_help(format!(
                    "fix the condition of `{}` (it compares two written-out values), or remove \
                     the steps after it",
                    step.id
                )),
            );
        }
        if !step.rollback.is_empty()
            && let Some(why) = rollback_never_runs(facts, at)
        {
            findings.push(
                Finding::warning(
                    FindingCode::RollbackNeverRuns,
                    facts.step_key_span(step, "rollback"),
                    format!("the rollback of step `{}` can never run: {why}", step.id),
                )
                .with_label("never runs")
                .with_help(
                    "a rollback runs when a later main step fails; put the undo on the step whose \
                     later failure should undo it, or in `on_failure`",
                ),
            );
        }
    }
    findings
}

/// The span of a step's `id` value.
fn id_span(facts: &Facts, step: &Step) -> crate::source::Span {
    facts
        .index
        .get(&step.id)
        .and_then(|at| facts.index.node(at).raw)
        .map_or(step.span, |raw| facts.source.span(&raw.id.loc))
}

/// A step that fails on every run and stops it.
fn always_stops(step: &Step) -> bool {
    let stops = match step.on_error {
        OnError::Abort | OnError::AbortRun => true,
        OnError::Continue | OnError::Warn | OnError::Ask => false,
    };
    if step.when.is_some() || !stops {
        return false;
    }
    match &step.kind {
        StepKind::Action(Action::Assert(assert)) => assert
            .conditions
            .iter()
            .any(|condition| evaluate(condition) == Some(false)),
        StepKind::Group(group) => group.steps.iter().any(always_stops),
        // A `stop` step ends the run whenever it runs.
        StepKind::Action(Action::Stop(_)) => true,
        StepKind::Action(
            Action::Http(_)
            | Action::Shell(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Plugin(_)
            | Action::Note(_),
        ) => false,
    }
}

/// Why the rollback of the step at `at` can never run, if it cannot.
fn rollback_never_runs(facts: &Facts, at: usize) -> Option<&'static str> {
    if !facts.index.in_main_phase(at) {
        return Some("compensation is registered only by steps of the main `steps`");
    }
    // Something runs after the step in the main phase when a later sibling exists at some level,
    // or an enclosing group has a `finally` (whose failure fails the group).
    for node_at in facts.index.chain(at) {
        let node = facts.index.node(node_at);
        match node.area {
            Area::Main => {
                if node.position + 1 < node.siblings.len() {
                    return None;
                }
                if let Some(parent) = node.parent
                    && let Some(group) = facts.index.node(parent).step.kind.group()
                    && !group.finally.is_empty()
                {
                    return None;
                }
            }
            // A later `finally` step failing fails the group, which runs the compensation.
            Area::GroupFinally => {
                if node.position + 1 < node.siblings.len() {
                    return None;
                }
            }
            Area::Rollback | Area::OnFailure | Area::Finally => return None,
        }
    }
    Some("it is on the last step of the run, and no step after it can fail")
}
