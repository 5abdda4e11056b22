//! The journal's records: the durable contract behind `runbook resume`. This is the only definition
//! of the format; everything that reads or writes a journal goes through these types.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::StepErrorKind;
use crate::prompter::Decision;
use crate::report::{Phase, RunStatus, StepOutcome};

/// One line of a journal: its sequence number (1, 2, ... across every session of the run), when it
/// was written, and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub at: jiff::Timestamp,
    #[serde(flatten)]
    pub record: JournalRecord,
}

/// What a journal line says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JournalRecord {
    /// Once, first.
    RunStarted(RunStarted),
    /// At the start of each `runbook resume`.
    RunResumed(RunResumed),
    /// Compensation, the failure path or `finally` begins.
    PhaseStarted { phase: Phase, reason: String },
    /// Just before a step can have side effects (its checkpoint).
    StepStarted(StepStarted),
    /// A step ended (each execution of it, and each restore on resume).
    StepFinished(StepFinished),
    /// The operator decided about a failed or interrupted step.
    Decision { step: String, decision: Decision },
    /// The steps stopped (before compensation, the failure path and `finally`): why, and the
    /// failure as `{{run.failure}}` has it (redacted). A resume after a crash mid-undo reads it to
    /// finish that undo.
    RunStopped {
        stop: crate::report::Stop,
        failure: String,
    },
    /// A commit point passed: the compensation registered before it was disarmed.
    CommitPassed { step: String },
    /// The end of a session.
    RunFinished(RunFinished),
}

impl JournalRecord {
    /// When the record must reach the file and the disk, by default: the records that come before
    /// side effects (a step's start, a phase, a decision that changes what resume does) and the
    /// ends of sessions are synced; the journal's observer only writes the start of a read-only
    /// step ([`crate::effects`]). A step's outcome announces no side effect: a failure is written
    /// at once (an operator may now be asked about it, for as long as they take), a pass or a skip
    /// goes out with the next record, which the engine writes before anything else can happen.
    pub fn durability(&self) -> Durability {
        match self {
            // A new run's start goes to the disk with the first record that must (a step with
            // side effects is announced): until one does, a power cut loses a run that changed
            // nothing, and the journal reads as empty (`runbook runs`: "empty").
            JournalRecord::RunStarted(_) => Durability::Written,
            // Its end is synced when something before it was: then the outcome of the last step
            // with side effects goes with it. A run that changed nothing has nothing to keep.
            JournalRecord::RunFinished(_) => Durability::SyncedIfSynced,
            JournalRecord::RunResumed(_)
            | JournalRecord::PhaseStarted { .. }
            | JournalRecord::StepStarted(_)
            | JournalRecord::Decision { .. }
            | JournalRecord::RunStopped { .. }
            | JournalRecord::CommitPassed { .. } => Durability::Synced,
            JournalRecord::StepFinished(finished) => match finished.outcome {
                StepOutcome::Failed => Durability::Written,
                StepOutcome::Passed
                | StepOutcome::Warned
                | StepOutcome::Skipped
                | StepOutcome::NotRun => Durability::Deferred,
            },
        }
    }
}

/// When an appended record reaches the journal file, and the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Written and synced (`fdatasync`), with everything before it, before the append returns.
    Synced,
    /// Written to the file before the append returns: it survives the process being killed, and
    /// reaches the disk with the next synced record.
    Written,
    /// [`Durability::Synced`] when the writer synced a record before (in this session),
    /// otherwise [`Durability::Written`].
    SyncedIfSynced,
    /// Kept in memory and written together with the next record that is not deferred, in one
    /// `write`. Only for a step's outcome when the engine's next move is to write another record
    /// (the next step's start, the run's end): a process killed in that instant leaves the step
    /// looking "in doubt", the same safe reading as a power cut before the next sync.
    Deferred,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    pub run_id: String,
    /// The runbook's `id`.
    pub runbook: String,
    pub title: String,
    /// The runbook file, absolute.
    pub path: String,
    /// SHA-256 of the runbook file's text: resume notices a changed file.
    pub sha256: String,
    /// Each fragment file the runbook uses, with the SHA-256 of its text: resume notices a
    /// changed fragment as it notices a changed runbook. Absent in journals of runbooks without
    /// fragments (and in journals written before fragments existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fragments: Vec<FragmentHash>,
    /// Non-secret inputs with their resolved values.
    pub inputs: Map<String, Value>,
    /// Secret inputs, by name only.
    pub secret_inputs: Vec<String>,
    pub actor: String,
    pub host: String,
    pub pid: u32,
}

/// A fragment file as a run started with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentHash {
    /// The file, absolute.
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResumed {
    pub actor: String,
    pub host: String,
    pub pid: u32,
    /// What a torn last line held, when one was cut off.
    pub torn_line_dropped: Option<String>,
    #[serde(default)]
    pub allowed_changed_runbook: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStarted {
    pub step: String,
    pub phase: Phase,
    /// 0 for top-level steps, 1 inside a group, ...
    pub depth: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepFinished {
    pub step: String,
    pub phase: Phase,
    pub outcome: StepOutcome,
    /// Attempts made in this execution; 0 when the step did not start.
    pub attempts: u32,
    pub duration_ms: u64,
    pub started_at: Option<jiff::Timestamp>,
    pub finished_at: Option<jiff::Timestamp>,
    /// Outputs that hold no secret.
    pub outputs: Map<String, Value>,
    /// Outputs that held a secret: named, never written.
    #[serde(default)]
    pub secret_outputs: Vec<String>,
    /// Outputs too large to journal (their JSON over [`crate::kept::KEPT_BYTES`]): named, not
    /// written. A step that refers to one after a resume is told why it is missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub large_outputs: Vec<String>,
    pub error: Option<RecordedError>,
    pub note: Option<String>,
    /// The step completed in an earlier session and was not run again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restored: bool,
}

/// A step's failure as journaled (its message is redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedError {
    pub kind: StepErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinished {
    pub status: RunStatus,
    /// The step that stopped the run (failed, or running when it was interrupted).
    pub failed_step: Option<String>,
    /// Why the run stopped, when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<crate::report::Stop>,
    /// This session's duration.
    pub duration_ms: u64,
    pub irreversible_done: Vec<String>,
}
