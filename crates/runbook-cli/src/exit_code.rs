//! Named exit codes, one per failure class (documented in `docs/exit-codes.md`).

/// Everything passed.
pub const SUCCESS: u8 = 0;
/// A step failed: unexpected status or exit code, transport error, capture or render error.
pub const STEP_FAILED: u8 = 1;
/// Bad command line or inputs (clap also uses 2).
pub const USAGE: u8 = 2;
/// The runbook has lint findings or cannot be read.
pub const INVALID_RUNBOOK: u8 = 3;
/// An assertion did not hold.
pub const ASSERTION_FAILED: u8 = 4;
/// A step did not finish within its timeout.
pub const TIMEOUT: u8 = 5;
/// The operator declined a confirmation or did not type the confirmation phrase, with nothing to
/// roll back. (An abort chosen after a failed step keeps that failure's own code.)
pub const DECLINED: u8 = 6;
/// The steps completed, but at least one failed with `on_error: warn`: look at the warnings.
pub const WARNINGS: u8 = 8;
/// A step failed; compensation and the failure path then completed: the system is in the state the
/// runbook's failure path leaves it in.
pub const ROLLED_BACK: u8 = 10;
/// A step failed, and a compensation, failure-path or finally step failed too: manual work needed.
pub const ROLLBACK_FAILED: u8 = 11;
/// `runbook rehearse`: a scenario's outcome differs from what it declares.
pub const REHEARSAL_DIFFERS: u8 = 12;
/// Stopped by Ctrl-C (after running compensation, the failure path and finally, unless a second
/// signal came). SIGTERM and SIGHUP give 143 and 129: 128 plus the signal's number, see
/// `interrupt::exit_code_for`.
pub const INTERRUPTED: u8 = 130;
/// Another run holds the lock on this runbook or one of its secrets (sysexits' EX_TEMPFAIL: try
/// again later).
pub const LOCKED: u8 = 75;
/// stdout was closed before everything was written (`runbook lint | head`).
pub const BROKEN_PIPE: u8 = 141;
/// The machine would not let runbook keep its records: the state directory, journal, lock files or
/// audit log could not be created, written or locked (disk full, permissions, a read-only file
/// system). sysexits' EX_IOERR. Nothing was run, or the run stopped before its next step.
pub const ENVIRONMENT: u8 = 74;
/// A bug in runbook itself.
pub const INTERNAL: u8 = 70;
