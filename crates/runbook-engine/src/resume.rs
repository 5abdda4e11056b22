//! What an earlier run completed, rebuilt from its journal's typed records, so `runbook resume`
//! repeats no completed side effect.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use runbook_dsl::{Runbook, Step};

use crate::journal::record::{JournalRecord, StepFinished, StepStarted};
use crate::journal::{JournalError, JournalRead};
use crate::prompter::Decision;
use crate::report::{Phase, StepOutcome, Stop};

/// A main-phase step that finished in an earlier session.
#[derive(Debug, Clone)]
pub struct CompletedStep {
    pub skipped: bool,
    /// It failed with `on_error: warn`: done, as a warning.
    pub warned: bool,
    pub outputs: Map<String, Value>,
    /// Outputs that held a secret and were not journaled.
    pub withheld: Vec<String>,
    /// Outputs too large to journal ([`crate::kept`]).
    pub too_large: Vec<String>,
    pub started_at: Option<jiff::Timestamp>,
    pub finished_at: Option<jiff::Timestamp>,
}

/// The state to continue from.
#[derive(Debug, Clone, Default)]
pub struct ResumePlan {
    pub completed: HashMap<String, CompletedStep>,
    /// Steps that started but are not known to have finished: their effect is unknown.
    pub in_doubt: HashSet<String>,
    /// How many times each step started in earlier sessions: a repeated prompt continues with the
    /// next answer set of an answers file, not the first.
    pub started: HashMap<String, u32>,
    /// The last outcome of each main-phase step, for `{{steps.ID.outcome}}` in an undo that a
    /// resume finishes.
    pub outcomes: HashMap<String, StepOutcome>,
    /// The last session was killed while it undid what the run did: the resume finishes that.
    pub cut_off_undo: Option<CutOffUndo>,
}

/// An undo that a SIGKILL (or a crash) cut off: the last session recorded why it stopped, began
/// compensation, and never ended.
#[derive(Debug, Clone)]
pub struct CutOffUndo {
    pub stop: Stop,
    /// `{{run.failure}}` as that session had it.
    pub failure: String,
    /// Compensation, failure-path and `finally` steps that finished in that session, in order:
    /// they are not run again.
    pub finished: Vec<StepFinished>,
}

/// What the last session did after it stopped, while the journal is replayed.
#[derive(Default)]
struct Session {
    stopped: Option<(Stop, String)>,
    undo_began: bool,
    finished: Vec<StepFinished>,
    ended: bool,
}

impl ResumePlan {
    /// Replays the journal's step records, in order.
    pub fn replay(journal: &JournalRead, runbook: &Runbook) -> ResumePlan {
        let mut replay = Replay::new(runbook);
        journal.records().for_each(|record| replay.add(record));
        replay.finish()
    }

    /// Replays a journal on disk, read as a stream.
    pub fn scan(path: &std::path::Path, runbook: &Runbook) -> Result<ResumePlan, JournalError> {
        let mut replay = Replay::new(runbook);
        crate::journal::scan_journal(path, |entry| replay.add(&entry.record))?;
        Ok(replay.finish())
    }
}

/// A resume plan being rebuilt, one record at a time.
struct Replay<'r> {
    /// For every step inside a group, the `finally` steps of the groups around it.
    cleanups: HashMap<&'r str, Vec<&'r str>>,
    plan: ResumePlan,
    /// What the session being replayed did after it stopped.
    session: Session,
}

impl<'r> Replay<'r> {
    fn new(runbook: &'r Runbook) -> Self {
        Replay {
            cleanups: enclosing_cleanups(&runbook.steps),
            plan: ResumePlan::default(),
            session: Session::default(),
        }
    }

    fn add(&mut self, record: &JournalRecord) {
        let plan = &mut self.plan;
        let session = &mut self.session;
        let cleanups = &self.cleanups;
        match record {
            JournalRecord::RunStarted(_) | JournalRecord::RunResumed(_) => {
                *session = Session::default();
            }
            JournalRecord::RunFinished(_) => session.ended = true,
            JournalRecord::RunStopped { stop, failure } => {
                session.stopped = Some((stop.clone(), failure.clone()));
            }
            JournalRecord::PhaseStarted {
                phase: Phase::Rollback,
                ..
            } => session.undo_began = true,
            JournalRecord::StepFinished(finished)
                if finished.phase != Phase::Main && session.stopped.is_some() =>
            {
                session.finished.push(finished.clone());
            }
            JournalRecord::StepStarted(StepStarted {
                step,
                phase: Phase::Main,
                ..
            }) => {
                *plan.started.entry(step.clone()).or_insert(0) += 1;
                plan.completed.remove(step);
                plan.in_doubt.insert(step.clone());
                // A step of a group ran again, so that group's `finally` has to run again for
                // it: what an earlier `finally` did (or skipped) was for an earlier attempt.
                for cleanup in cleanups.get(step.as_str()).into_iter().flatten() {
                    plan.completed.remove(*cleanup);
                }
            }
            JournalRecord::StepFinished(finished) if finished.phase == Phase::Main => {
                plan.outcomes
                    .insert(finished.step.clone(), finished.outcome);
                plan.step_finished(finished)
            }
            // The operator skipped a failed or interrupted step: it counts as done (skipped).
            JournalRecord::Decision {
                step,
                decision: Decision::Skip,
            } => {
                plan.in_doubt.remove(step);
                plan.completed.insert(
                    step.clone(),
                    CompletedStep {
                        skipped: true,
                        warned: false,
                        outputs: Map::new(),
                        withheld: Vec::new(),
                        too_large: Vec::new(),
                        started_at: None,
                        finished_at: None,
                    },
                );
                plan.outcomes.insert(step.clone(), StepOutcome::Skipped);
            }
            JournalRecord::StepStarted(_)
            | JournalRecord::StepFinished(_)
            | JournalRecord::Decision { .. }
            | JournalRecord::PhaseStarted { .. }
            | JournalRecord::CommitPassed { .. } => {}
        }
    }

    /// The plan, with the last session's undo if it was cut off.
    fn finish(self) -> ResumePlan {
        let Replay {
            mut plan, session, ..
        } = self;
        if let (false, true, Some((stop, failure))) =
            (session.ended, session.undo_began, session.stopped)
        {
            plan.cut_off_undo = Some(CutOffUndo {
                stop,
                failure,
                finished: session.finished,
            });
        }
        plan
    }
}

impl ResumePlan {
    fn step_finished(&mut self, record: &StepFinished) {
        let step = &record.step;
        // A step still in doubt that a later session never started (no decision, an abort, or its
        // earlier command still running) stays in doubt: the next resume checks again.
        let never_started = record.outcome == StepOutcome::Failed && record.attempts == 0;
        if never_started && self.in_doubt.contains(step) {
            return;
        }
        self.in_doubt.remove(step);
        match record.outcome {
            StepOutcome::Passed | StepOutcome::Skipped | StepOutcome::Warned => {
                self.completed.insert(
                    step.clone(),
                    CompletedStep {
                        skipped: record.outcome == StepOutcome::Skipped,
                        warned: record.outcome == StepOutcome::Warned,
                        outputs: record.outputs.clone(),
                        withheld: record.secret_outputs.clone(),
                        too_large: record.large_outputs.clone(),
                        started_at: record.started_at,
                        finished_at: record.finished_at,
                    },
                );
            }
            StepOutcome::Failed | StepOutcome::NotRun => {
                self.completed.remove(step);
            }
        }
    }
}

/// For every step inside a group, the `finally` steps (at any depth) of each group around it.
fn enclosing_cleanups(steps: &[Step]) -> HashMap<&str, Vec<&str>> {
    let mut map: HashMap<&str, Vec<&str>> = HashMap::new();
    visit(steps, &mut Vec::new(), &mut map);
    map
}

fn visit<'a>(
    steps: &'a [Step],
    around: &mut Vec<&'a str>,
    map: &mut HashMap<&'a str, Vec<&'a str>>,
) {
    for step in steps {
        if !around.is_empty() {
            map.entry(step.id.as_str())
                .or_default()
                .extend(around.iter().copied());
        }
        if let Some(group) = step.kind.group() {
            let mut cleanup = Vec::new();
            all_ids(&group.finally, &mut cleanup);
            let depth = around.len();
            around.extend(cleanup);
            visit(&group.steps, around, map);
            around.truncate(depth);
            // A `finally` step's own nested steps belong to the groups around this one.
            visit(&group.finally, around, map);
        }
    }
}

fn all_ids<'a>(steps: &'a [Step], out: &mut Vec<&'a str>) {
    for step in steps {
        out.push(&step.id);
        if let Some(group) = step.kind.group() {
            all_ids(&group.steps, out);
            all_ids(&group.finally, out);
        }
    }
}
