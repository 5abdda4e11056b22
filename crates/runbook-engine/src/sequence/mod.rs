//! Running lists of steps. [`Run`] holds one run's mutable state; its behaviour is split by concern:
//!
//! - [`list`]: lists of steps in order, and cleanup lists that run every step;
//! - [`policy`]: what a failed step's `on_error` (or the operator) decides;
//! - [`execute`]: one execution of one step: `when`, resume restore, checkpoint, dispatch;
//! - [`attempts`]: a leaf step's retries and `until` polling;
//! - [`group`]: groups, their `finally` and operator-controlled repeats;
//! - [`compensation`]: rollback registered by steps that passed, run newest first;
//! - [`restore`]: what a resumed run takes back from the journal, and steps left in doubt;
//! - [`reports`]: report construction, and the steps that never ran.

mod attempts;
mod compensation;
mod execute;
mod finish_undo;
mod group;
mod list;
mod policy;
mod preconditions;
pub(crate) mod reports;
mod restore;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::context::RunContext;
use crate::observer::Observer;
use crate::report::{StepReport, Stop};
use crate::runner::Engine;

pub(crate) use reports::not_run;

/// The mutable state of one run.
pub(crate) struct Run<'e, 'o> {
    engine: &'e Engine,
    /// The step outputs the runbook refers to, worked out the first time a step produces an
    /// output too large to keep in the report ([`crate::references`]).
    references: crate::references::References<'e>,
    context: RunContext,
    observer: &'o mut dyn Observer,
    reports: Vec<StepReport>,
    compensations: compensation::Compensations,
    prompt_counts: HashMap<String, u32>,
    irreversible_done: Vec<String>,
    /// A step with `on_error: abort_run` failed: no repeat or retry is offered any more.
    fatal: bool,
    /// Steps already looked up in the resume plan (it applies to a step's first run only).
    resume_visited: HashSet<String>,
    /// A resume could not get a decision about a step in doubt: this session changed nothing, so no
    /// compensation or failure path may run.
    undecided: bool,
    /// Main-phase steps that passed their checkpoint in this session: a group's `finally` runs
    /// afresh when its steps did anything new.
    executed: u64,
    /// The innermost step that Ctrl-C stopped, for `{{run.failed_step}}`.
    interrupted_at: Option<String>,
    /// What the last leaf attempt had to say about how it ended (a daemon it left running).
    step_note: Option<String>,
    /// What the report shows in place of outputs the last leaf attempt kept only in part
    /// ([`crate::steps::StandIn`]): taken when the step passes or fails.
    step_stand_ins: Vec<crate::steps::StandIn>,
    /// The last commit point that passed.
    commit_point: Option<String>,
    /// When this session finishes an undo a crash cut off: the cleanup steps that had finished.
    cut_off_finished: Vec<crate::journal::record::StepFinished>,
    /// `sh` in `PATH`, looked up by the run's first shell step.
    shell: crate::steps::ShellLookup,
}

impl<'e, 'o> Run<'e, 'o> {
    pub(crate) fn new(
        engine: &'e Engine,
        runbook: &'e runbook_dsl::Runbook,
        context: RunContext,
        observer: &'o mut dyn Observer,
    ) -> Self {
        Run {
            engine,
            references: crate::references::References::new(runbook),
            context,
            observer,
            reports: Vec::new(),
            compensations: compensation::Compensations::default(),
            prompt_counts: engine
                .options
                .resume
                .as_ref()
                .map(|plan| plan.started.clone())
                .unwrap_or_default(),
            irreversible_done: Vec::new(),
            fatal: false,
            resume_visited: HashSet::new(),
            undecided: false,
            executed: 0,
            interrupted_at: None,
            step_note: None,
            step_stand_ins: Vec::new(),
            commit_point: None,
            cut_off_finished: engine
                .options
                .resume
                .as_ref()
                .and_then(|plan| plan.cut_off_undo.as_ref())
                .map(|cut| cut.finished.clone())
                .unwrap_or_default(),
            shell: crate::steps::ShellLookup::new(),
        }
    }

    pub(crate) fn observer(&mut self) -> &mut dyn Observer {
        self.observer
    }

    pub(crate) fn reports(&self) -> &[StepReport] {
        &self.reports
    }

    /// Whether a resume stopped for lack of a decision about a step in doubt (it changed nothing).
    pub(crate) fn undecided(&self) -> bool {
        self.undecided
    }

    /// Makes `{{run.failed_step}}` and `{{run.failure}}` available to the cleanup that follows,
    /// and tells the observers (the journal keeps it, so a resume can finish an undo that was cut
    /// off). `known`: the failure as an earlier session recorded it.
    pub(crate) fn mark_stopped(&mut self, stop: &Stop, known: Option<&str>) {
        let failure = match (known, stop) {
            (Some(known), _) => known.to_owned(),
            (None, Stop::Failed { step }) => self.failure_message(step),
            (None, Stop::Interrupted { signal, .. }) => crate::interrupt::describe(*signal),
        };
        self.context.run.failed_step = stop.step().map(str::to_owned);
        self.observer
            .run_event(&crate::observer::RunEvent::Stopped {
                stop,
                failure: &failure,
            });
        self.context.run.failure = Some(failure);
    }

    /// Lets go of the large outputs no template refers to: nothing can read them again, and each
    /// can be a tree of hundreds of megabytes. Only outputs the report could not keep whole
    /// (`large_outputs`) are considered; small ones stay, whatever refers to them.
    fn drop_unreferenced(
        &mut self,
        step: &str,
        large: &[String],
        outputs: &mut Map<String, Value>,
    ) {
        if large.is_empty() {
            return;
        }
        for name in large {
            if !self.references.reads(step, name) {
                outputs.remove(name);
            }
        }
    }

    /// The message of the step that really failed: for a group, the innermost failed step's own
    /// message ("WRONG MODE: ..."), not the group's "step `x` failed (attempt 1 of 1)". A `use:`
    /// step runs its fragment as a group, so it is one here too.
    fn failure_message(&self, step: &str) -> String {
        let own = self.reports.iter().rev().find(|report| report.id == *step);
        let innermost = match own {
            Some(report) if report.composite => self.reports.iter().rev().find(|report| {
                report.phase == crate::report::Phase::Main
                    && !report.composite
                    && report.outcome == crate::report::StepOutcome::Failed
                    && report.error.is_some()
            }),
            Some(_) | None => None,
        };
        innermost
            .or(own)
            .and_then(|report| report.error.as_ref())
            .map(|error| error.message.clone())
            .unwrap_or_else(|| format!("step `{step}` failed"))
    }

    /// The reports, the irreversible steps that completed, and the last commit point.
    pub(crate) fn finish(self) -> (Vec<StepReport>, Vec<String>, Option<String>) {
        (self.reports, self.irreversible_done, self.commit_point)
    }

    fn interrupted(&self) -> bool {
        self.engine.options.interrupt.is_set()
    }

    /// The stop for Ctrl-C noticed at `step`: the innermost step it reached, if one noted it first.
    fn interrupted_stop(&mut self, step: &str) -> Stop {
        let step = self
            .interrupted_at
            .get_or_insert_with(|| step.to_owned())
            .clone();
        Stop::Interrupted {
            step: Some(step),
            signal: self.engine.options.interrupt.signal(),
        }
    }
}
