//! Integration tests: the real `runbook` binary against fixture files, wiremock servers and real child
//! processes. One test binary, one module per area.

// Tests pick out the one value or record they are about; a wildcard arm is the point there. The
// crates themselves deny wildcard matches over enums.
#![allow(clippy::wildcard_enum_match_arm)]

mod bench;
mod support;

mod alpaca;
mod audit_isolation;
mod authoring;
mod control;
mod docs_snippets;
mod durable;
mod durable_regressions;
mod everyday_output;
mod examples;
mod fixtures;
mod flags;
mod fragments;
mod functions;
mod hardening;
mod http;
mod interrupt;
mod leaks;
mod lint_formats;
mod lint_rules_doc;
mod lint_walk;
mod payment_key_roll;
mod prompts;
mod readme_samples;
mod rehearse;
mod resume_regressions;
mod schema;
mod secrets;
mod shell;
mod signals;
mod torture;
mod traces;
