//! Ctrl-C, SIGTERM and SIGHUP (a CI cancel, `timeout`, a closed SSH session): the first stops the
//! run at the next safe point (the engine then runs compensation, the failure path and finally);
//! a second one, of any of the three, exits at once, after saying what state the run is in.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::signal::unix::{SignalKind, signal};

use runbook_dsl::{Runbook, Step};
use runbook_engine::{
    CheckpointError, Decision, Interrupt, Observer, Phase, Position, Progress, RunEvent, RunReport,
    Signal, StepOutcome, StepReport,
};

use crate::exit_code;

/// What the run has done so far, kept for the second signal.
#[derive(Debug, Default)]
pub struct RunState {
    running: Option<(String, Phase)>,
    passed: Vec<String>,
    irreversible_done: Vec<String>,
    /// The run's `files:` directory, removed before an immediate exit (no destructor runs then).
    private_files: Option<PathBuf>,
}

impl RunState {
    pub fn with_private_files(files: PathBuf) -> RunState {
        RunState {
            private_files: Some(files),
            ..RunState::default()
        }
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        match &self.running {
            Some((step, phase)) => text.push_str(&format!(
                "stopped immediately while step `{step}` was running ({}); its effect is unknown",
                phase_name(*phase)
            )),
            None => text.push_str("stopped immediately between steps"),
        }
        if self.passed.is_empty() {
            text.push_str("\n  no step had completed");
        } else {
            text.push_str(&format!("\n  completed: {}", self.passed.join(", ")));
        }
        if !self.irreversible_done.is_empty() {
            text.push_str(&format!(
                "\n  irreversible, done: {}",
                self.irreversible_done.join(", ")
            ));
        }
        text.push_str(
            "\n  compensation, the failure path and finally did NOT run to completion (second \
             interrupt); the commands it had started were killed; check the systems this \
             runbook touches by hand",
        );
        text
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Main => "steps",
        Phase::Rollback => "rolling back",
        Phase::OnFailure => "failure path",
        Phase::Finally => "finally",
    }
}

/// The three signals that stop a run, as one stream.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal; `None` when they can no longer be received.
    async fn next(&mut self) -> Option<Signal> {
        tokio::select! {
            got = self.interrupt.recv() => got.map(|()| Signal::Interrupt),
            got = self.terminate.recv() => got.map(|()| Signal::Terminate),
            got = self.hangup.recv() => got.map(|()| Signal::Hangup),
        }
    }
}

/// The exit code for a run stopped by `signal`: 128 plus its number, as a shell reports it.
pub fn exit_code_for(signal: Option<Signal>) -> u8 {
    signal.map_or(exit_code::INTERRUPTED, |signal| {
        128u8.saturating_add(signal.number())
    })
}

/// Writes to stderr, ignoring failure: after SIGHUP the terminal may be gone, and `eprintln!`
/// would panic.
fn say(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Installs the handler for Ctrl-C, SIGTERM and SIGHUP on the current runtime. Installed, they no
/// longer end the process on their own.
pub fn install(interrupt: Interrupt, state: Arc<Mutex<RunState>>) {
    let Ok(mut signals) = Signals::new() else {
        say("warning: cannot handle Ctrl-C, SIGTERM or SIGHUP; they will end runbook at once");
        return;
    };
    tokio::spawn(async move {
        let Some(first) = signals.next().await else {
            return;
        };
        interrupt.trigger_with(first);
        match first {
            Signal::Interrupt => say(
                "\ninterrupt: stopping at the next safe point; compensation, the failure path and \
                 finally will run. Press Ctrl-C again to exit immediately.",
            ),
            Signal::Terminate | Signal::Hangup => say(&format!(
                "\ninterrupt: {} received: stopping at the next safe point; compensation, the \
                 failure path and finally will run. A second signal (or Ctrl-C) exits \
                 immediately.",
                first.label()
            )),
        }
        let Some(second) = signals.next().await else {
            return;
        };
        let (description, files) = state
            .lock()
            .map(|state| (state.describe(), state.private_files.clone()))
            .unwrap_or_else(|_| ("stopped immediately".to_owned(), None));
        // Exiting now runs no destructors: end the commands this run started first, and remove
        // the secret files they were given.
        runbook_engine::kill_running_commands();
        if let Some(files) = files {
            let _ = std::fs::remove_dir_all(files);
        }
        say(&format!(
            "\ninterrupt: {} again ({}): {description}",
            first.label(),
            second.label()
        ));
        std::process::exit(i32::from(exit_code_for(Some(first))));
    });
}

/// A panic in runbook ends the commands it runs and removes the run's `files:` before the
/// usual report: it is the last moment runbook can, whatever unwinds (or does not) next.
pub fn on_panic_end_commands(files: PathBuf) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        runbook_engine::kill_running_commands();
        let _ = std::fs::remove_dir_all(&files);
        previous(info);
    }));
}

/// Keeps [`RunState`] current.
pub struct Tracking {
    pub state: Arc<Mutex<RunState>>,
}

impl Observer for Tracking {
    fn run_started(&mut self, _: &Runbook) {}
    fn phase_started(&mut self, _: Phase, _: &str) {}
    fn checkpoint(&mut self, _: &Step, _: &Position) -> Result<(), CheckpointError> {
        Ok(())
    }
    fn step_progress(&mut self, _: &Step, _: &Progress) {}
    fn decision(&mut self, _: &Step, _: Decision) {}
    fn run_event(&mut self, _: &RunEvent<'_>) {}
    fn run_finished(&mut self, _: &RunReport) {}
    fn step_started(&mut self, step: &Step, at: &Position) {
        if let Ok(mut state) = self.state.lock() {
            state.running = Some((step.id.clone(), at.phase));
        }
    }
    fn step_finished(&mut self, step: &Step, _at: &Position, report: &StepReport) {
        if let Ok(mut state) = self.state.lock() {
            state.running = None;
            if report.outcome == StepOutcome::Passed {
                state.passed.push(step.id.clone());
                if step.irreversible {
                    state.irreversible_done.push(step.id.clone());
                }
            }
        }
    }
}
