//! Live progress, pushed to whoever runs the engine (the CLI's terminal renderer, the journal, the
//! audit log, a test recorder). Every method is required: an observer added later cannot silently
//! miss an event, and a new event does not compile until every observer decides what to do with it.

use std::fmt;
use std::time::Duration;

use runbook_dsl::{Runbook, Step};

use crate::prompter::Decision;
use crate::report::{Phase, PreconditionsRecord, RunReport, StepReport, Stop};

/// Where a step sits: its phase, nesting depth, and (for top-level steps) its position.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub phase: Phase,
    /// 0 for top-level steps, 1 inside a group, ...
    pub depth: usize,
    /// 1-based position among its siblings, and how many siblings there are.
    pub index: usize,
    pub total: usize,
    /// A group's `finally` step: it runs even after Ctrl-C, since it exists to leave things safe.
    pub cleanup: bool,
}

impl Position {
    /// Whether Ctrl-C cancels the step (main-phase steps that are not cleanup).
    pub fn cancellable(&self) -> bool {
        self.phase == Phase::Main && !self.cleanup
    }
}

/// Something worth showing while a step runs. Texts in it are redacted.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A wait's condition did not hold yet.
    Waiting {
        attempt: u32,
        elapsed: Duration,
        observed: String,
    },
    /// An attempt failed and the retry policy tries again after `wait`.
    Retrying {
        attempt: u32,
        of: u32,
        error: String,
        wait: Duration,
    },
    /// A group begins another attempt.
    GroupAttempt { attempt: u32, of: u32 },
    /// The operator chose to skip the failed step.
    SkippedByOperator,
    /// No decision could be had about a failure (no operator): the run stops.
    NoDecision { reason: String },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Waiting {
                attempt,
                elapsed,
                observed,
            } => write!(
                f,
                "waiting: attempt {attempt}, {}, last observed: {observed}",
                runbook_dsl::duration::format_elapsed(*elapsed)
            ),
            Progress::Retrying {
                attempt,
                of,
                error,
                wait,
            } => write!(
                f,
                "attempt {attempt} of {of} failed ({error}); retrying in {}",
                runbook_dsl::duration::format_duration(*wait)
            ),
            Progress::GroupAttempt { attempt, of } => write!(f, "attempt {attempt} of {of}"),
            Progress::SkippedByOperator => f.write_str("failed; the operator chose to skip it"),
            Progress::NoDecision { reason } => write!(f, "no decision ({reason}): aborting"),
        }
    }
}

/// Something that happened to the run as a whole, between steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunEvent<'a> {
    /// The operator was asked, once, to confirm the runbook's preconditions.
    Preconditions(&'a PreconditionsRecord),
    /// The steps stopped (a failure, a `stop` step, or a signal): compensation, the failure path
    /// and `finally` follow. `failure` is `{{run.failure}}` (redacted): the innermost failed
    /// step's own message.
    Stopped { stop: &'a Stop, failure: &'a str },
    /// A commit point passed: `disarmed` registered compensations will not run.
    CommitPassed { step: &'a str, disarmed: usize },
}

/// Why a step may not start: the record that must precede its side effects could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot write the journal {}: {reason}", path.display())]
    Journal {
        path: std::path::PathBuf,
        reason: String,
    },
}

/// Receives progress as the run goes.
pub trait Observer {
    fn run_started(&mut self, runbook: &Runbook);
    /// Compensation, the failure path or `finally` begins; `reason` says why.
    fn phase_started(&mut self, phase: Phase, reason: &str);
    fn step_started(&mut self, step: &Step, at: &Position);
    /// Called just before a step has side effects (after `step_started`): a durable record must be
    /// written now. An error stops the step before it runs.
    fn checkpoint(&mut self, step: &Step, at: &Position) -> Result<(), CheckpointError>;
    fn step_progress(&mut self, step: &Step, progress: &Progress);
    fn step_finished(&mut self, step: &Step, at: &Position, report: &StepReport);
    /// The operator decided about a failed or interrupted step.
    fn decision(&mut self, step: &Step, decision: Decision);
    /// Something happened to the run as a whole (see [`RunEvent`]).
    fn run_event(&mut self, event: &RunEvent<'_>);
    fn run_finished(&mut self, report: &RunReport);
}

/// Observes nothing.
#[derive(Debug, Default)]
pub struct NullObserver;

impl Observer for NullObserver {
    fn run_started(&mut self, _: &Runbook) {}
    fn phase_started(&mut self, _: Phase, _: &str) {}
    fn step_started(&mut self, _: &Step, _: &Position) {}
    fn checkpoint(&mut self, _: &Step, _: &Position) -> Result<(), CheckpointError> {
        Ok(())
    }
    fn step_progress(&mut self, _: &Step, _: &Progress) {}
    fn step_finished(&mut self, _: &Step, _: &Position, _: &StepReport) {}
    fn decision(&mut self, _: &Step, _: Decision) {}
    fn run_event(&mut self, _: &RunEvent<'_>) {}
    fn run_finished(&mut self, _: &RunReport) {}
}

/// Several observers as one, each seeing every event in order. A checkpoint error from any stops
/// the step.
pub struct Fanout<'a>(pub Vec<&'a mut dyn Observer>);

impl Observer for Fanout<'_> {
    fn run_started(&mut self, runbook: &Runbook) {
        self.0.iter_mut().for_each(|o| o.run_started(runbook));
    }
    fn phase_started(&mut self, phase: Phase, reason: &str) {
        self.0
            .iter_mut()
            .for_each(|o| o.phase_started(phase, reason));
    }
    fn step_started(&mut self, step: &Step, at: &Position) {
        self.0.iter_mut().for_each(|o| o.step_started(step, at));
    }
    fn checkpoint(&mut self, step: &Step, at: &Position) -> Result<(), CheckpointError> {
        for observer in &mut self.0 {
            observer.checkpoint(step, at)?;
        }
        Ok(())
    }
    fn step_progress(&mut self, step: &Step, progress: &Progress) {
        self.0
            .iter_mut()
            .for_each(|o| o.step_progress(step, progress));
    }
    fn step_finished(&mut self, step: &Step, at: &Position, report: &StepReport) {
        self.0
            .iter_mut()
            .for_each(|o| o.step_finished(step, at, report));
    }
    fn decision(&mut self, step: &Step, decision: Decision) {
        self.0.iter_mut().for_each(|o| o.decision(step, decision));
    }
    fn run_event(&mut self, event: &RunEvent<'_>) {
        self.0.iter_mut().for_each(|o| o.run_event(event));
    }
    fn run_finished(&mut self, report: &RunReport) {
        self.0.iter_mut().for_each(|o| o.run_finished(report));
    }
}
