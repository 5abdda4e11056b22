//! One execution of one step: a result restored from the journal, or `when`, the decision about a
//! step left in doubt, the checkpoint, the work itself, and the report.

use serde_json::{Map, Value};

use runbook_dsl::{Step, StepKind};

use super::Run;
use super::reports::new_report;
use crate::clock::Moment;
use crate::context::{Scope, StepState, StepTimes};
use crate::error::{StepError, StepErrorKind};
use crate::kept::Kept;
use crate::observer::Position;
use crate::predicate::{Verdict, evaluate};
use crate::report::{Phase, StepOutcome, StepReport};
use crate::runner::millis;
use crate::steps::StandIn;

/// A step's report, and its error when it failed.
pub(super) type Executed = (StepReport, Option<StepError>);

impl Run<'_, '_> {
    /// Executes a step once (a group: all of its attempts) and reports. `restorable`: a resumed run
    /// may take the step's result from the journal (its first visit only).
    pub(super) async fn execute(
        &mut self,
        step: &Step,
        at: &Position,
        restorable: bool,
    ) -> Executed {
        let started = self.engine.options.clock.moment();
        // Stand-ins belong to the attempt that made them and are taken when its step ends; this
        // one clear, before any kind runs, covers every path (restored, skipped, group, action).
        self.step_stand_ins.clear();
        let report = new_report(step, at.phase, StepOutcome::Passed);
        // The earlier session's state applies once: a repeat of the group after a resume runs anew.
        let first_visit = at.phase == Phase::Main && self.resume_visited.insert(step.id.clone());
        let from_journal = first_visit && restorable;
        if from_journal
            && let Some(done) = self
                .engine
                .options
                .resume
                .as_ref()
                .and_then(|plan| plan.completed.get(&step.id))
        {
            return self.restore(step, at, done.clone(), report).await;
        }
        if let Some(condition) = &step.when {
            match evaluate(condition, Scope::new(&self.context)) {
                Ok(Verdict::Holds) => {}
                Ok(Verdict::Fails(_)) => return self.skipped_by_when(step, at, report),
                Err(error) => {
                    self.observer.step_started(step, at);
                    let error = StepError::new(
                        StepErrorKind::Render,
                        format!("cannot evaluate `when`: {error}"),
                    );
                    return self.failed_or_warned(step, at, report, error, started);
                }
            }
        }
        self.observer.step_started(step, at);
        if from_journal && self.in_doubt_in_plan(step) {
            match self.in_doubt(step).await {
                Ok(true) => {
                    let mut report = report;
                    report.note = Some("re-run: it was interrupted before it finished".into());
                    return self.run_checked(step, at, report, started).await;
                }
                Ok(false) => return self.not_rerun(step, at, report),
                Err(error) => {
                    // Nothing was decided, nothing was done: leave the run as it was.
                    self.undecided = true;
                    return self.failed(step, at, report, error, started);
                }
            }
        }
        self.run_checked(step, at, report, started).await
    }

    fn skipped_by_when(&mut self, step: &Step, at: &Position, mut report: StepReport) -> Executed {
        self.context
            .steps
            .insert(step.id.clone(), StepState::Skipped);
        report.outcome = StepOutcome::Skipped;
        report.note = Some("its `when` condition did not hold".into());
        self.observer.step_finished(step, at, &report);
        (report, None)
    }

    /// Checkpoint (the journal's record before any side effect), then the work.
    async fn run_checked(
        &mut self,
        step: &Step,
        at: &Position,
        mut report: StepReport,
        started: Moment,
    ) -> Executed {
        if let Err(error) = self.observer.checkpoint(step, at) {
            let error = StepError::new(StepErrorKind::Process, error.to_string());
            return self.failed(step, at, report, error, started);
        }
        if at.phase == Phase::Main {
            self.executed += 1;
        }
        let started_at = self.engine.options.clock.now();
        report.started_at = Some(started_at);
        let result = match &step.kind {
            StepKind::Group(group) => {
                // A phase's undo is armed when the phase starts: a failure (or a signal) at any
                // point inside it or after it runs the undo.
                if at.phase == Phase::Main {
                    self.compensations.register_undo(step, group);
                }
                let (result, attempts) = Box::pin(self.run_group(step, group, at)).await;
                report.attempts = attempts;
                result.map(|()| Map::new())
            }
            StepKind::Action(action) => {
                self.step_note = None;
                let (result, attempts) = self.attempts(step, action, at).await;
                report.attempts = attempts;
                if let Some(note) = self.step_note.take() {
                    report.note = Some(match report.note.take() {
                        Some(earlier) => format!("{earlier}; {note}"),
                        None => note,
                    });
                }
                result
            }
        };
        let finished_at = self.engine.options.clock.now();
        report.finished_at = Some(finished_at);
        self.context.times.insert(
            step.id.clone(),
            StepTimes {
                started_at,
                finished_at,
            },
        );
        match result {
            Ok(outputs) => self.passed(step, at, report, outputs, started),
            Err(error) => self.failed_or_warned(step, at, report, error, started),
        }
    }

    /// A failure of the step's own work: a warning when `on_error: warn` says so (main steps) or
    /// when the step is a `note` (anywhere: a note cannot fail the run). A signal or a `stop` is
    /// never a warning.
    fn failed_or_warned(
        &mut self,
        step: &Step,
        at: &Position,
        report: StepReport,
        error: StepError,
        started: Moment,
    ) -> Executed {
        let note = step
            .kind
            .action()
            .is_some_and(|action| matches!(action, runbook_dsl::Action::Note(_)));
        let by_policy = at.phase == Phase::Main && step.on_error == runbook_dsl::OnError::Warn;
        let warning = (note || by_policy)
            && !self.undecided
            && !matches!(
                error.kind,
                StepErrorKind::Interrupted | StepErrorKind::Stopped
            );
        self.record_failure(step, at, report, error, started, warning)
    }

    fn passed(
        &mut self,
        step: &Step,
        at: &Position,
        mut report: StepReport,
        outputs: Map<String, Value>,
        started: Moment,
    ) -> Executed {
        let mut outputs = outputs;
        let stand_ins = std::mem::take(&mut self.step_stand_ins);
        self.show_outputs(&mut report, &outputs, &stand_ins);
        self.drop_unreferenced(&step.id, &report.large_outputs, &mut outputs);
        // A note's text is what the step is for: the report, journal and audit log carry it (masked).
        if step
            .kind
            .action()
            .is_some_and(|action| matches!(action, runbook_dsl::Action::Note(_)))
            && let Some(Value::String(message)) = report.outputs.get("message")
        {
            report.note = Some(message.clone());
        }
        self.context
            .steps
            .insert(step.id.clone(), StepState::Completed(outputs));
        report.duration_ms = millis(started.elapsed());
        self.observer.step_finished(step, at, &report);
        (report, None)
    }

    pub(super) fn failed(
        &mut self,
        step: &Step,
        at: &Position,
        report: StepReport,
        error: StepError,
        started: Moment,
    ) -> Executed {
        self.record_failure(step, at, report, error, started, false)
    }

    /// A failure, or (`warning`) a failure that is only a warning: outcome `warned`, the run goes on.
    fn record_failure(
        &mut self,
        step: &Step,
        at: &Position,
        mut report: StepReport,
        mut error: StepError,
        started: Moment,
        warning: bool,
    ) -> Executed {
        // The outputs move to the context: the report and the error that travel on do not carry
        // a second copy of them.
        let stand_ins = std::mem::take(&mut self.step_stand_ins);
        let produced = error.outputs.take().map(|outputs| {
            let mut outputs = *outputs;
            self.show_outputs(&mut report, &outputs, &stand_ins);
            self.drop_unreferenced(&step.id, &report.large_outputs, &mut outputs);
            outputs
        });
        let state = if warning {
            StepState::Warned(produced)
        } else {
            StepState::Failed(produced)
        };
        self.context.steps.insert(step.id.clone(), state);
        let error = error.map_message(|message| self.context.redactor.redact(message));
        report.outcome = if warning {
            StepOutcome::Warned
        } else {
            StepOutcome::Failed
        };
        report.error = Some(error.clone());
        report.duration_ms = millis(started.elapsed());
        self.observer.step_finished(step, at, &report);
        (report, Some(error))
    }

    /// Puts outputs in the report, masked; an output that holds a secret is named in
    /// `secret_outputs` so the journal never writes it, and a large one is kept as an excerpt and
    /// named in `large_outputs` ([`crate::kept`]).
    /// An output a later secret capture reads is masked whole: its secret is not known yet. An
    /// output the context keeps only in part is shown as its stand-in, and counts as large.
    pub(super) fn show_outputs(
        &self,
        report: &mut StepReport,
        outputs: &Map<String, Value>,
        stand_ins: &[StandIn],
    ) {
        let redactor = &self.context.redactor;
        for (name, value) in outputs {
            // Most runs taint nothing: no key pair is built to find that out.
            let tainted = !self.context.tainted.is_empty()
                && self
                    .context
                    .tainted
                    .contains(&(report.id.clone(), name.clone()));
            let stand_in = stand_ins.iter().find(|stand_in| stand_in.output == *name);
            let (shown, held_secret) = if tainted {
                let shown = Value::String(crate::redact::MASK.to_owned());
                let differs = shown != *value;
                (shown, differs)
            } else if let Some(stand_in) = stand_in {
                if !report.large_outputs.contains(name) {
                    report.large_outputs.push(name.clone());
                }
                (Value::String(stand_in.shown.clone()), stand_in.held_secret)
            } else {
                match crate::kept::keep(value, redactor) {
                    Kept::Whole(shown) => {
                        let differs = shown != *value;
                        (shown, differs)
                    }
                    Kept::Excerpt(text) => {
                        if !report.large_outputs.contains(name) {
                            report.large_outputs.push(name.clone());
                        }
                        (Value::String(text), redactor.finds_secret_in_value(value))
                    }
                }
            };
            if held_secret && !report.secret_outputs.contains(name) {
                report.secret_outputs.push(name.clone());
            }
            report.outputs.insert(name.clone(), shown);
        }
    }
}
