//! The sequencer driven in-process: `Engine::run` on runbooks written in YAML, with a recording
//! observer and a scripted prompter. Shell steps count their executions in files of a temp dir.

// Tests pick out the one event or variant they are about; a wildcard arm is the point there.
#![allow(clippy::wildcard_enum_match_arm)]

mod script;
mod support;

mod attempts;
mod captures;
mod compensation;
mod groups;
mod interrupt;
mod large;
mod order;
mod outcomes;
mod partial;
mod phases;
mod resume;
mod unexpected;
