//! Durable runs end to end (issue 4): the real binary is SIGKILLed at known points of a runbook that
//! talks to a wiremock server counting every request, then `runbook resume` finishes the run. The
//! server's counts prove no completed side effect was repeated; the journal (`runs/ID/journal.jsonl`)
//! and the audit log (`audit.jsonl`) in the shared state directory must tell the whole story. Also:
//! in-doubt policies, `runbook runs` / `runbook show`, a torn journal, a changed runbook, the run
//! lock (live and dead holders), secret canaries, and runs that must not be resumed.
//!
//! Blocking points are deterministic: an http step blocks on a [`Gate`] (a response held for a
//! minute until the test opens it), a shell step loops until a file exists. Nothing sleeps for a
//! fixed time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_collector;
mod canaries;
mod changed_runbook;
mod harness;
mod in_doubt;
mod listing;
mod lock;
mod not_resumable;
mod rotation;
mod sigkill;
mod torn_journal;

// Resume regressions reuse the counting wiremock helpers.
pub(crate) use harness::{count, mount, ok, until_count};
