//! What a journal says about its run: its state and whether it can be resumed. `runbook runs`,
//! `runbook show`, `runbook resume` and the end-of-run summary all ask this module, so they agree.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Serialize, Serializer};

use super::reader::{JournalEnd, JournalError, JournalRead, scan_journal};
use super::record::{Entry, JournalRecord, RunFinished, RunStarted, StepFinished, StepStarted};
use crate::report::{Phase, RunStatus, StepOutcome};

/// A run's state, from its journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// No session end after the last start, and that process is alive on this host.
    Running { pid: u32 },
    /// No session end after the last start, and that process is gone (killed, crashed, rebooted).
    Killed,
    /// The last session ended with this status.
    Finished(RunStatus),
    /// The journal has no start record.
    Empty,
}

impl RunState {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunState::Running { .. } => "running",
            // Documented as `interrupted`: to an operator a killed run and a Ctrl-C are both an
            // interruption; `show` tells them apart by the journal's last record.
            RunState::Killed => "interrupted",
            RunState::Finished(status) => status.word(),
            RunState::Empty => "empty",
        }
    }
}

impl Serialize for RunState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Whether `runbook resume` continues a run, and if not, why. The one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumability {
    Resumable,
    /// Its last session succeeded: nothing to continue.
    Succeeded,
    /// Compensation ran: what the run did was undone, so continuing after it would be wrong.
    Compensated,
    /// The last session was killed while it undid what the run did: `runbook resume` finishes that
    /// undo (and the failure path and `finally`), and nothing else.
    UndoCutOff,
    /// A process is still running it.
    Running {
        pid: u32,
    },
    /// The journal has no start record: there is no run to continue.
    NoStart,
}

impl Resumability {
    /// Decides from the last session's end (none when the process died), whether compensation
    /// ever ran, and whether the last session was cut off in the middle of it.
    pub fn decide(finished: Option<RunStatus>, compensated: bool, cut_off: bool) -> Resumability {
        match finished {
            Some(RunStatus::Succeeded | RunStatus::SucceededWithWarnings) => {
                Resumability::Succeeded
            }
            None if cut_off => Resumability::UndoCutOff,
            _ if compensated => Resumability::Compensated,
            Some(
                RunStatus::Failed
                | RunStatus::RolledBack
                | RunStatus::RollbackFailed
                | RunStatus::Interrupted,
            )
            | None => Resumability::Resumable,
        }
    }

    pub fn is_resumable(&self) -> bool {
        match self {
            Resumability::Resumable | Resumability::UndoCutOff => true,
            Resumability::Succeeded
            | Resumability::Compensated
            | Resumability::Running { .. }
            | Resumability::NoStart => false,
        }
    }

    /// What to do next, for `show` and the refusal of `resume`.
    pub fn advice(&self, run_id: &str) -> String {
        match self {
            Resumability::Resumable => format!("runbook resume {run_id}"),
            Resumability::UndoCutOff => format!(
                "runbook resume {run_id} (it was killed while undoing what it did: resume finishes \
                 that undo, then the failure path and finally; no step runs again)"
            ),
            Resumability::Succeeded => {
                format!("run {run_id} succeeded; there is nothing to resume")
            }
            Resumability::Compensated => format!(
                "run {run_id} already ran its compensation (rollback): the steps it completed were \
                 undone (or were being undone when it stopped), so it cannot be resumed. Start a \
                 new run (`runbook show {run_id}` says which undo steps finished)."
            ),
            Resumability::Running { pid } => format!(
                "run {run_id} is still in progress (process {pid} on this host); wait for it to \
                 finish, or stop it, then resume"
            ),
            Resumability::NoStart => format!(
                "run {run_id}'s journal has no start record, so there is no run to continue. Start \
                 a new run."
            ),
        }
    }
}

impl Serialize for Resumability {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(self.is_resumable())
    }
}

/// A run as its journal tells it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub runbook: String,
    pub title: String,
    pub path: String,
    pub started_at: Option<jiff::Timestamp>,
    pub actor: String,
    pub state: RunState,
    /// The step that stopped the run, or else the last step recorded, with what happened to it.
    pub last_step: Option<String>,
    /// Distinct main-phase steps that passed.
    pub steps_done: usize,
    pub resumable: Resumability,
}

impl RunSummary {
    /// The summary of a journal in memory.
    pub fn of(run_id: &str, journal: &JournalRead) -> RunSummary {
        let mut fold = SummaryFold::default();
        journal.entries.iter().for_each(|entry| fold.add(entry));
        fold.summary(run_id)
    }

    /// The summary of a journal on disk, read as a stream (memory does not grow with the
    /// journal), and where the journal ends.
    pub fn scan(run_id: &str, path: &Path) -> Result<(RunSummary, JournalEnd), JournalError> {
        let mut fold = SummaryFold::default();
        let end = scan_journal(path, |entry| fold.add(&entry))?;
        Ok((fold.summary(run_id), end))
    }
}

/// What the records say, gathered one record at a time in order: the summary of a journal of any
/// length without holding its records.
#[derive(Debug, Default)]
pub struct SummaryFold {
    /// The first start record, and when it was written.
    started: Option<(jiff::Timestamp, RunStarted)>,
    /// Host, pid and start of the last session.
    session: Option<(String, u32, jiff::Timestamp)>,
    /// The end of the last session, if it ended.
    finished: Option<RunFinished>,
    /// Compensation ran in some session.
    compensated: bool,
    /// The last session recorded why it stopped and began compensation (it ended, or was cut off,
    /// in the middle of an undo).
    cut_off: bool,
    /// The last session recorded why it stopped.
    stopped: bool,
    /// Main-phase steps that passed (at most one entry per step of the runbook).
    passed: BTreeSet<String>,
    /// The last main-phase step record, as `step (outcome)`.
    last_main: Option<String>,
}

impl SummaryFold {
    pub fn add(&mut self, entry: &Entry) {
        match &entry.record {
            JournalRecord::RunStarted(start) => {
                self.session = Some((start.host.clone(), start.pid, entry.at));
                if self.started.is_none() {
                    self.started = Some((entry.at, start.clone()));
                }
            }
            JournalRecord::RunResumed(resumed) => {
                self.session = Some((resumed.host.clone(), resumed.pid, entry.at));
                self.finished = None;
                self.stopped = false;
                self.cut_off = false;
            }
            JournalRecord::RunStopped { .. } => self.stopped = true,
            JournalRecord::RunFinished(end) => self.finished = Some(end.clone()),
            JournalRecord::StepStarted(StepStarted { step, phase, .. }) => {
                if *phase == Phase::Main {
                    self.last_main = Some(format!("{step} (started)"));
                }
            }
            JournalRecord::StepFinished(StepFinished {
                step,
                phase,
                outcome,
                ..
            }) => match phase {
                Phase::Main => {
                    if *outcome == StepOutcome::Passed && !self.passed.contains(step) {
                        self.passed.insert(step.clone());
                    }
                    self.last_main = Some(format!("{step} ({})", outcome.word()));
                }
                Phase::Rollback => self.compensated = true,
                Phase::OnFailure | Phase::Finally => {}
            },
            // Compensation began: what the run did was being undone, even if the session died
            // before an undo step finished.
            JournalRecord::PhaseStarted {
                phase: Phase::Rollback,
                ..
            } => {
                self.compensated = true;
                // Only a session that recorded why it stopped can have its undo finished.
                self.cut_off = self.stopped;
            }
            JournalRecord::PhaseStarted { .. }
            | JournalRecord::Decision { .. }
            | JournalRecord::CommitPassed { .. } => {}
        }
    }

    pub fn summary(self, run_id: &str) -> RunSummary {
        let mut summary = RunSummary {
            run_id: run_id.to_owned(),
            runbook: String::new(),
            title: String::new(),
            path: String::new(),
            started_at: None,
            actor: String::new(),
            state: RunState::Empty,
            last_step: None,
            steps_done: 0,
            resumable: Resumability::NoStart,
        };
        let Some((at, started)) = self.started else {
            return summary;
        };
        summary.runbook = started.runbook;
        summary.title = started.title;
        summary.path = started.path;
        summary.actor = started.actor;
        summary.started_at = Some(at);
        summary.steps_done = self.passed.len();
        let finished = self.finished.as_ref();
        summary.state = match (finished, &self.session) {
            (Some(end), _) => RunState::Finished(end.status),
            (None, Some((host, pid, since))) if process_alive(host, *pid, *since) => {
                RunState::Running { pid: *pid }
            }
            (None, _) => RunState::Killed,
        };
        summary.last_step = match finished.and_then(|end| end.failed_step.as_ref()) {
            Some(step) => Some(format!(
                "{step} ({})",
                finished
                    .and_then(|end| end.stop.as_ref())
                    .map_or("failed", |stop| stop.cause())
            )),
            None => self.last_main,
        };
        summary.resumable = match summary.state {
            RunState::Running { pid } => Resumability::Running { pid },
            RunState::Empty => Resumability::NoStart,
            RunState::Killed | RunState::Finished(_) => Resumability::decide(
                finished.map(|end| end.status),
                self.compensated,
                self.cut_off,
            ),
        };
        summary
    }
}

/// Whether the process that wrote a session is alive: same host, the pid answers signal 0, and (where
/// /proc tells) that process started before the session did, so a reused pid does not count.
fn process_alive(host: &str, pid: u32, since: jiff::Timestamp) -> bool {
    if host != crate::audit::host_name() || pid == std::process::id() {
        return false;
    }
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None).is_err() {
        return false;
    }
    // The boot time in /proc/stat has second precision and can drift: allow a margin.
    let margin = jiff::SignedDuration::from_secs(5);
    process_start(pid)
        .is_none_or(|started| started <= since.saturating_add(margin).unwrap_or(since))
}

/// When a process started, from /proc (Linux); None where that cannot be read.
fn process_start(pid: u32) -> Option<jiff::Timestamp> {
    let fields = crate::processes::stat_fields(Path::new(&format!("/proc/{pid}")))?;
    let ticks: i64 = fields.get(19)?.parse().ok()?;
    let boot: i64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // USER_HZ, the unit of starttime, is 100 on every Linux architecture.
    jiff::Timestamp::from_second(boot.checked_add(ticks / 100)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_start_time_is_read_and_a_later_session_means_a_reused_pid() {
        let Some(started) = process_start(std::process::id()) else {
            // Not Linux, or no /proc: the check falls back to signal 0 alone.
            return;
        };
        let now = jiff::Timestamp::now();
        assert!(started <= now, "{started} is after {now}");
        let child = std::process::Command::new("sleep").arg("5").spawn();
        let Ok(mut child) = child else { return };
        let host = crate::audit::host_name();
        // The session began before the process did: the pid belongs to someone else now.
        let long_ago = now - jiff::SignedDuration::from_hours(1);
        assert!(!process_alive(&host, child.id(), long_ago));
        assert!(process_alive(&host, child.id(), now));
        let _ = child.kill();
        let _ = child.wait();
    }
}
