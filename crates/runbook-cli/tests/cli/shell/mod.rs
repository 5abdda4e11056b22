//! `shell` steps end to end: the real binary running real child processes in a sandbox.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod exit_codes;
mod helpers;
mod inputs;
mod outputs;
mod processes;
mod quoting;
