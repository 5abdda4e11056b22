//! Compensation: the `rollback` steps of main-phase steps that passed (registered as they pass) and
//! the `undo` of phases (groups) that started (registered as they start), run newest registered
//! first when the run fails or is interrupted. A commit point disarms everything registered so far.
//!
//! Registering a phase's undo when the phase starts, and a step's rollback when the step passes, is
//! what lets an author say "if the failure happened at or after step X, do Y before Z": X.. is a
//! phase with undo Y, and Z is the undo of an earlier step or phase. Ctrl-C registers nothing, so
//! a signal at any point runs the same undo as a failure at that point.

use runbook_dsl::{GroupStep, Step};

use super::Run;
use crate::observer::RunEvent;
use crate::report::Phase;

/// What registered a compensation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A step that passed: its `rollback`.
    Rollback,
    /// A group that started: its `undo`.
    PhaseUndo,
}

/// One registered compensation.
#[derive(Debug)]
struct Registered {
    owner: String,
    source: Source,
    steps: Vec<Step>,
}

/// Registered compensation, oldest first.
#[derive(Default)]
pub(super) struct Compensations(Vec<Registered>);

impl Compensations {
    /// Registers a passed step's rollback, if it has one.
    pub(super) fn register(&mut self, step: &Step) {
        if !step.rollback.is_empty() {
            self.0.push(Registered {
                owner: step.id.clone(),
                source: Source::Rollback,
                steps: step.rollback.clone(),
            });
        }
    }

    /// Registers a starting phase's undo, if it has one and it is not armed already (a repeated
    /// group starts again; its undo is needed once).
    pub(super) fn register_undo(&mut self, step: &Step, group: &GroupStep) {
        let armed = self
            .0
            .iter()
            .any(|r| r.owner == step.id && r.source == Source::PhaseUndo);
        if !group.undo.is_empty() && !armed {
            self.0.push(Registered {
                owner: step.id.clone(),
                source: Source::PhaseUndo,
                steps: group.undo.clone(),
            });
        }
    }

    /// Disarms everything registered so far; returns how many compensations that was.
    fn disarm(&mut self) -> usize {
        let count = self.0.len();
        self.0.clear();
        count
    }

    /// Disarms everything, quietly (a commit point replayed from the journal).
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

impl Run<'_, '_> {
    pub(crate) fn has_compensations(&self) -> bool {
        !self.compensations.0.is_empty()
    }

    /// A commit point passed: nothing registered before it may run any more.
    pub(super) fn commit(&mut self, step: &Step) {
        let disarmed = self.compensations.disarm();
        self.commit_point = Some(step.id.clone());
        self.observer.run_event(&RunEvent::CommitPassed {
            step: &step.id,
            disarmed,
        });
    }

    /// Runs registered compensation, newest first. Returns whether all of it passed.
    pub(crate) async fn compensate(&mut self) -> bool {
        let mut all_passed = true;
        while let Some(registered) = self.compensations.0.pop() {
            all_passed &= self.run_cleanup(&registered.steps, Phase::Rollback).await;
        }
        all_passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml_id: &str, group: bool) -> (Step, Option<GroupStep>) {
        let text = if group {
            format!(
                "id: t\ntitle: t\nsteps:\n  - id: {yaml_id}\n    group:\n      steps:\n        - id: {yaml_id}_inner\n          assert: [{{that: 1, equals: 1}}]\n      undo:\n        - id: {yaml_id}_undo\n          assert: [{{that: 1, equals: 1}}]\n"
            )
        } else {
            format!(
                "id: t\ntitle: t\nsteps:\n  - id: {yaml_id}\n    assert: [{{that: 1, equals: 1}}]\n    rollback:\n      - id: {yaml_id}_back\n        assert: [{{that: 1, equals: 1}}]\n"
            )
        };
        let source = runbook_dsl::Source::new(std::path::PathBuf::from("t.yaml"), text);
        let runbook =
            runbook_dsl::load_and_check(&source).unwrap_or_else(|findings| panic!("{findings:#?}"));
        let step = runbook.steps[0].clone();
        let group = step.kind.group().cloned();
        (step, group)
    }

    #[test]
    fn a_phase_undo_is_armed_once_and_a_commit_disarms_everything() {
        let mut registered = Compensations::default();
        let (phase, group) = step("phase", true);
        let group = group.unwrap_or_else(|| panic!("a group"));
        registered.register_undo(&phase, &group);
        registered.register_undo(&phase, &group);
        let (plain, _) = step("plain", false);
        registered.register(&plain);
        let owners: Vec<(&str, Source)> = registered
            .0
            .iter()
            .map(|r| (r.owner.as_str(), r.source))
            .collect();
        assert_eq!(
            owners,
            [("phase", Source::PhaseUndo), ("plain", Source::Rollback)]
        );
        assert_eq!(registered.disarm(), 2);
        assert!(registered.0.is_empty());
    }
}
