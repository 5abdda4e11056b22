//! Ctrl-C: the first stops the run at the next safe point (the engine then runs compensation, the
//! failure path and finally); the second exits at once, after saying what state the run is in.

use std::io::Write;
use std::sync::{Arc, Mutex};

use runbook_dsl::{Runbook, Step};
use runbook_engine::{
    CheckpointError, Decision, Interrupt, Observer, Phase, Position, Progress, RunReport,
    StepOutcome, StepReport,
};

use crate::exit_code;

/// What the run has done so far, kept for the second Ctrl-C.
#[derive(Debug, Default)]
pub struct RunState {
    running: Option<(String, Phase)>,
    passed: Vec<String>,
    irreversible_done: Vec<String>,
}

impl RunState {
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
             Ctrl-C); the commands it had started were killed; check the systems this runbook \
             touches by hand",
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

/// Installs the Ctrl-C handler on the current runtime.
pub fn install(interrupt: Interrupt, state: Arc<Mutex<RunState>>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        interrupt.trigger();
        eprintln!(
            "\ninterrupt: stopping at the next safe point; compensation, the failure path and \
             finally will run. Press Ctrl-C again to exit immediately."
        );
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        let description = state
            .lock()
            .map(|state| state.describe())
            .unwrap_or_else(|_| "stopped immediately".to_owned());
        // Exiting now runs no destructors: end the commands this run started first.
        runbook_engine::kill_running_commands();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "\ninterrupt: {description}");
        let _ = err.flush();
        std::process::exit(i32::from(exit_code::INTERRUPTED));
    });
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
