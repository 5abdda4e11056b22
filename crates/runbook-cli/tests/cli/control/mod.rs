//! Control flow end to end: rollback, the failure path, `finally`, repeat groups, failure policies,
//! waits, retries and the point of no return. Each runbook's steps are HTTP requests to a wiremock
//! server, so the server's recorded requests (in arrival order) prove what ran and in which order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod point_of_no_return;
mod policies;
mod repeat;
mod retries;
mod rollback;
mod waits;

// Other areas (durable runs, interrupts, prompts, signals) drive runbooks the same way.
pub(crate) use helpers::{
    accept_posts, assert_code, executions, indent, posts, recorded, report, respond, run_runbook,
    state_dir, step,
};
