//! `prompt` steps end to end: answers files, the refusal to run without an operator, the guard on
//! answers files for operator-assisted runbooks, a leak test for secret answers, and the terminal
//! prompter driven through a pseudo-terminal (rexpect). Wiremock servers prove what ran.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod answer_rules;
mod answers;
mod helpers;
mod leak;
mod operator;
pub(crate) mod terminal;
