//! Outputs read where they may not exist. A step's outputs exist only if it ran and passed (a
//! failed step keeps what it produced before failing, often nothing). A reader cannot count on
//! them when:
//! - the step, or a group it is in (below what reader and step share), has a `when`: it may
//!   have been skipped;
//! - it, or such a group, has `on_error: continue`: it may have failed and the run went on;
//! - the reader runs in a failure path, the runbook's `finally` or a group's `finally`, and the step
//!   in the main steps (or the group's steps): the failure may have come before it.
//!
//! A reader is guarded when it tests for the value itself: an `exists` condition on any of the
//! step's values in its `when` (or an enclosing group's) or in its own conditions, or a `when`
//! written exactly like the one of the step that may be skipped.
//!
//! Two rules share the analysis: [`OutputMayNotExist`](FindingCode::OutputMayNotExist) for a
//! `when` or an assertion (it fails the run, or decides wrongly, when the value is missing), at
//! the reference; [`ContinueOnNeededStep`](FindingCode::ContinueOnNeededStep) at the `on_error:
//! continue` of a step whose outputs a later step sends somewhere (a URL, a command, a body).

use std::collections::BTreeSet;

use super::Facts;
use super::index::Area;
use super::templates::{Role, existence_tests, outcome_tests, referenced_step, step_templates};
use crate::finding::{Finding, FindingCode};
use crate::model::{Condition, ConditionKind, OnError, Step, ValueTemplate};
use crate::template::{RefPath, Reference};

/// Why a step's values may be missing for a reader.
enum Absence<'a> {
    /// This step (the producer or a group around it) has a `when`.
    Skippable(&'a Step),
    /// This step (the producer or a group around it) has `on_error: continue`.
    Tolerated(&'a Step),
    /// The reader runs after a failure that may have come before the producer.
    AfterFailure,
}

pub(super) fn check(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    // The first reader outside conditions of each `on_error: continue` step.
    let mut needed: Vec<(usize, &Step, &Reference)> = Vec::new();
    for (reader, node) in facts.index.nodes.iter().enumerate() {
        let guards = guarded_steps(facts, reader);
        for (role, template) in step_templates(node.step) {
            for reference in template.references() {
                let Some(producer) = referenced_step(reference) else {
                    continue;
                };
                if guards.contains(producer) {
                    continue;
                }
                let Some(producer_at) = facts.index.get(producer) else {
                    continue;
                };
                if role.is_condition() {
                    if let Some(absence) = absence(facts, reader, producer_at) {
                        findings.push(may_not_exist(reference, producer, &absence, role));
                    }
                } else if matches!(reference.path, RefPath::StepOutput { .. })
                    && tolerates_failure(facts.index.node(producer_at).step.on_error)
                    && matches!(
                        absence(facts, reader, producer_at),
                        Some(Absence::Tolerated(step)) if step.id == producer
                    )
                    && !needed.iter().any(|(at, _, _)| *at == producer_at)
                {
                    needed.push((producer_at, node.step, reference));
                }
            }
        }
    }
    for (producer_at, reader, reference) in needed {
        let producer = facts.index.node(producer_at);
        let span = producer
            .raw
            .and_then(|raw| raw.on_error.as_ref())
            .map_or(producer.step.span, |on_error| {
                facts.source.span(&on_error.loc)
            });
        findings.push(
            Finding::warning(
                FindingCode::ContinueOnNeededStep,
                span,
                format!(
                    "step `{}` goes on after a failure, but step `{}` uses its output `{{{{{}}}}}`",
                    producer.step.id, reader.id, reference.text
                ),
            )
            .with_label("the run continues without its outputs")
            .with_help(format!(
                "remove `on_error: continue` if later steps need this step, or run `{}` only \
                 when the value exists: `when: {{that: \"{{{{{}}}}}\", exists: true}}`",
                reader.id, reference.text
            )),
        );
    }
    findings
}

fn may_not_exist(reference: &Reference, producer: &str, absence: &Absence, role: Role) -> Finding {
    let why = match absence {
        Absence::Skippable(step) if step.id == producer => {
            format!("step `{producer}` has a `when` and may have been skipped")
        }
        Absence::Skippable(step) => format!(
            "step `{producer}` is inside `{}`, which has a `when` and may have been skipped",
            step.id
        ),
        Absence::Tolerated(step) if step.id == producer => format!(
            "step `{producer}` has `on_error: {}` and may have failed",
            written(step.on_error)
        ),
        Absence::Tolerated(step) => format!(
            "step `{producer}` is inside `{}`, which has `on_error: {}`",
            step.id,
            written(step.on_error)
        ),
        Absence::AfterFailure => {
            format!(
                "this runs even after a failure, which may have come before step `{producer}` ran"
            )
        }
    };
    let what = if role == Role::When {
        "a `when`"
    } else {
        "an assertion"
    };
    Finding::warning(
        FindingCode::OutputMayNotExist,
        reference.span,
        format!(
            "{what} reads `{{{{{}}}}}`, which may not exist: {why}",
            reference.text
        ),
    )
    .with_label("may not exist")
    .with_help(format!(
        "test the step's outcome first: add `that: \"{{{{steps.{producer}.outcome}}}}\"` with \
         `equals: passed` to the `when` (with `all:` if it has one), or `that: \"{{{{{}}}}}\"` \
         with `exists: true`",
        reference.text
    ))
}

/// Steps whose values the reader at `reader` tests with `exists` (in its own conditions or the
/// `when` of a group around it): it is ready for them to be missing.
fn guarded_steps<'a>(facts: &Facts<'a>, reader: usize) -> BTreeSet<&'a str> {
    let mut guards = BTreeSet::new();
    let own = facts.index.node(reader).step;
    let own_conditions = own
        .kind
        .action()
        .map(|action| match action {
            crate::model::Action::Http(http) => http.asserts.iter().collect(),
            crate::model::Action::Shell(shell) => shell.asserts.iter().collect(),
            crate::model::Action::Assert(assert) => assert.conditions.iter().collect(),
            crate::model::Action::Prompt(_)
            | crate::model::Action::Audit(_)
            | crate::model::Action::Plugin(_)
            | crate::model::Action::Note(_)
            | crate::model::Action::Stop(_) => Vec::new(),
        })
        .unwrap_or_default();
    let whens = facts
        .index
        .chain(reader)
        .into_iter()
        .filter_map(|at| facts.index.node(at).step.when.as_ref());
    for condition in whens.chain(own_conditions) {
        guards.extend(outcome_tests(condition));
        guards.extend(
            existence_tests(condition)
                .into_iter()
                .filter_map(referenced_step),
        );
    }
    guards
}

/// Why the values of the step at `producer` may be missing when the step at `reader` runs.
fn absence<'a>(facts: &Facts<'a>, reader: usize, producer: usize) -> Option<Absence<'a>> {
    let readers = facts.index.chain(reader);
    let producers = facts.index.chain(producer);
    // The producer's chain below the first step both chains share (the closest common group).
    let shared = producers.iter().position(|at| readers.contains(at));
    let own = &producers[..shared.unwrap_or(producers.len())];
    // Empty: the producer encloses the reader (the reader is in its rollback, so it passed).
    let &producer_top = own.last()?;
    let reader_top = match shared {
        Some(shared) => {
            let common = producers[shared];
            let below = readers.iter().position(|&at| at == common)?;
            *readers[..below].last()?
        }
        None => *readers.last()?,
    };
    let ran_before = match (
        facts.index.node(producer_top).area,
        facts.index.node(reader_top).area,
    ) {
        // In the same list, or the reader undoes a step that passed after the producer ran.
        (Area::Main, Area::Main | Area::Rollback)
        | (Area::GroupFinally, Area::GroupFinally)
        | (Area::Rollback, Area::Rollback)
        | (Area::OnFailure, Area::OnFailure)
        | (Area::Finally, Area::Finally) => true,
        (
            Area::Main | Area::GroupFinally | Area::Rollback | Area::OnFailure | Area::Finally,
            Area::Main | Area::GroupFinally | Area::Rollback | Area::OnFailure | Area::Finally,
        ) => false,
    };
    if !ran_before {
        return Some(Absence::AfterFailure);
    }
    let reader_whens: Vec<&Condition> = readers
        .iter()
        .filter_map(|&at| facts.index.node(at).step.when.as_ref())
        .collect();
    for &at in own {
        let step = facts.index.node(at).step;
        if let Some(when) = &step.when
            && !reader_whens.iter().any(|other| same_condition(when, other))
        {
            return Some(Absence::Skippable(step));
        }
        if tolerates_failure(step.on_error) {
            return Some(Absence::Tolerated(step));
        }
    }
    None
}

/// `on_error: continue` and `warn` both let the run go on after the step failed, without its
/// outputs.
fn tolerates_failure(on_error: OnError) -> bool {
    match on_error {
        OnError::Continue | OnError::Warn => true,
        OnError::Abort | OnError::AbortRun | OnError::Ask => false,
    }
}

/// `on_error` as the author writes it.
fn written(on_error: OnError) -> &'static str {
    match on_error {
        OnError::Abort => "abort",
        OnError::Continue => "continue",
        OnError::Warn => "warn",
        OnError::Ask => "ask",
        OnError::AbortRun => "abort_run",
    }
}

/// Whether two conditions say the same thing, as written (operands compared by their text).
fn same_condition(a: &Condition, b: &Condition) -> bool {
    let values = |a: &ValueTemplate, b: &ValueTemplate| a.describe() == b.describe();
    let lists = |a: &[Condition], b: &[Condition]| {
        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_condition(a, b))
    };
    match (&a.kind, &b.kind) {
        (
            ConditionKind::Compare { that, op, operand },
            ConditionKind::Compare {
                that: that_b,
                op: op_b,
                operand: operand_b,
            },
        ) => op == op_b && values(that, that_b) && values(operand, operand_b),
        (
            ConditionKind::Matches { that, regex },
            ConditionKind::Matches {
                that: that_b,
                regex: regex_b,
            },
        ) => values(that, that_b) && regex.as_str() == regex_b.as_str(),
        (
            ConditionKind::OneOf { that, options },
            ConditionKind::OneOf {
                that: that_b,
                options: options_b,
            },
        ) => {
            values(that, that_b)
                && options.len() == options_b.len()
                && options.iter().zip(options_b).all(|(a, b)| values(a, b))
        }
        (
            ConditionKind::Exists { that, expected },
            ConditionKind::Exists {
                that: that_b,
                expected: expected_b,
            },
        )
        | (
            ConditionKind::IsEmpty { that, expected },
            ConditionKind::IsEmpty {
                that: that_b,
                expected: expected_b,
            },
        ) => values(that, that_b) && expected == expected_b,
        (
            ConditionKind::Length { that, expected },
            ConditionKind::Length {
                that: that_b,
                expected: expected_b,
            },
        ) => values(that, that_b) && expected == expected_b,
        (ConditionKind::All(a), ConditionKind::All(b))
        | (ConditionKind::Any(a), ConditionKind::Any(b)) => lists(a, b),
        (ConditionKind::Not(a), ConditionKind::Not(b)) => same_condition(a, b),
        (
            ConditionKind::Compare { .. }
            | ConditionKind::Matches { .. }
            | ConditionKind::OneOf { .. }
            | ConditionKind::Exists { .. }
            | ConditionKind::IsEmpty { .. }
            | ConditionKind::Length { .. }
            | ConditionKind::All(_)
            | ConditionKind::Any(_)
            | ConditionKind::Not(_),
            _,
        ) => false,
    }
}
