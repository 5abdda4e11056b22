//! How a session ends: the report on stdout (`--output json`), warnings about records that could
//! not be written, and the exit code that names how the run ended.

use std::io::Write;

use runbook_engine::{RunReport, RunStatus, StepErrorKind, Stop};

use crate::exit_code;
use crate::failure::Failure;

/// What did not reach a record, to be said at the end.
pub(super) struct Undelivered {
    pub journal: Option<String>,
    pub audit: Option<String>,
    /// Records the collector did not accept (they are in the audit log file).
    pub collector: Vec<String>,
}

pub(super) fn finish(report: &RunReport, human: bool, lost: Undelivered) -> anyhow::Result<()> {
    if !human {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    }
    for error in [lost.journal, lost.audit].into_iter().flatten() {
        eprintln!("warning: {error}");
    }
    if !lost.collector.is_empty() {
        eprintln!(
            "warning: {} audit record(s) could not be delivered to the collector (they are in \
             the audit log file): {}",
            lost.collector.len(),
            lost.collector.join("; ")
        );
    }
    match exit_code_for(report) {
        exit_code::SUCCESS => Ok(()),
        code => Err(Failure::reported(code).into()),
    }
}

/// The exit code that names how the run ended.
pub(crate) fn exit_code_for(report: &RunReport) -> u8 {
    match report.status {
        RunStatus::Succeeded => exit_code::SUCCESS,
        RunStatus::SucceededWithWarnings => exit_code::WARNINGS,
        RunStatus::Interrupted => crate::interrupt::exit_code_for(match &report.stop {
            Some(Stop::Interrupted { signal, .. }) => *signal,
            _ => None,
        }),
        RunStatus::RollbackFailed => exit_code::ROLLBACK_FAILED,
        RunStatus::RolledBack => exit_code::ROLLED_BACK,
        RunStatus::Failed => match report.failure().map(|(_, error)| error.kind) {
            Some(StepErrorKind::Assertion) => exit_code::ASSERTION_FAILED,
            Some(StepErrorKind::Timeout) => exit_code::TIMEOUT,
            Some(StepErrorKind::Declined) => exit_code::DECLINED,
            // A `stop` step's failure (`stopped`) is a failure like the rest: its message says why.
            _ => exit_code::STEP_FAILED,
        },
    }
}
