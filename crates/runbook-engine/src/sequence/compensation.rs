//! Compensation: the `rollback` steps of main-phase steps that passed, registered as they pass and
//! run newest first when the run fails or is interrupted.

use runbook_dsl::Step;

use super::Run;
use crate::report::Phase;

/// Registered compensation, oldest first.
#[derive(Default)]
pub(super) struct Compensations(Vec<Vec<Step>>);

impl Compensations {
    /// Registers a passed step's rollback, if it has one.
    pub(super) fn register(&mut self, step: &Step) {
        if !step.rollback.is_empty() {
            self.0.push(step.rollback.clone());
        }
    }
}

impl Run<'_, '_> {
    pub(crate) fn has_compensations(&self) -> bool {
        !self.compensations.0.is_empty()
    }

    /// Runs registered compensation, newest first. Returns whether all of it passed.
    pub(crate) async fn compensate(&mut self) -> bool {
        let mut all_passed = true;
        while let Some(steps) = self.compensations.0.pop() {
            all_passed &= self.run_cleanup(&steps, Phase::Rollback).await;
        }
        all_passed
    }
}
