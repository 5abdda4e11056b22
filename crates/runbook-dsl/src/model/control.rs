use std::time::Duration;

use regex::Regex;

use super::{Condition, Step};
use crate::template::Template;

/// Repeat a step until a condition holds.
#[derive(Debug, Clone)]
pub struct Until {
    pub condition: Condition,
    pub interval: DurationValue,
    pub timeout: DurationValue,
    pub backoff: f64,
    pub max_interval: DurationValue,
}

/// A duration written in the runbook, or a template (`"{{inputs.health_timeout}}"`) that must
/// render to one at run time (so rehearsals can shorten a wait).
#[derive(Debug, Clone)]
pub enum DurationValue {
    Fixed(Duration),
    Template(Template),
}

/// Retry a step on transient failures.
#[derive(Debug, Clone)]
pub struct Retry {
    pub attempts: u32,
    pub delay: Duration,
    pub backoff: f64,
    pub max_delay: Duration,
    pub on: Vec<RetryOn>,
}

impl Retry {
    pub const DEFAULT_ON: [RetryOn; 4] = [
        RetryOn::Transport,
        RetryOn::Timeout,
        RetryOn::Status(429),
        RetryOn::ServerErrors,
    ];
}

/// A class of failure worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOn {
    Transport,
    Timeout,
    Status(u16),
    ClientErrors,
    ServerErrors,
    /// An unexpected exit code of a shell step.
    Exit,
}

impl RetryOn {
    /// The failure classes by name (a status code is the other way to name one).
    pub const CLASSES: [&'static str; 5] = ["transport", "timeout", "4xx", "5xx", "exit"];

    pub fn parse(text: &str) -> Option<RetryOn> {
        match text {
            "transport" => Some(RetryOn::Transport),
            "timeout" => Some(RetryOn::Timeout),
            "4xx" => Some(RetryOn::ClientErrors),
            "5xx" => Some(RetryOn::ServerErrors),
            "exit" => Some(RetryOn::Exit),
            other => other
                .parse::<u16>()
                .ok()
                .filter(|code| (100..=599).contains(code))
                .map(RetryOn::Status),
        }
    }
}

/// A human step.
#[derive(Debug, Clone)]
pub struct PromptStep {
    pub instructions: Option<Template>,
    pub confirm: Option<Template>,
    pub phrase: Option<Template>,
    pub answers: Vec<Answer>,
}

/// One answer the operator gives.
#[derive(Debug, Clone)]
pub struct Answer {
    pub name: String,
    pub label: String,
    pub secret: bool,
    pub confirm: bool,
    pub pattern: Option<Regex>,
    pub allow_empty: bool,
    pub choices: Option<Vec<String>>,
}

/// Steps run together, with their own cleanup and an optional operator-controlled loop.
#[derive(Debug, Clone)]
pub struct GroupStep {
    pub steps: Vec<Step>,
    pub finally: Vec<Step>,
    /// The phase's undo, registered as compensation when the group starts.
    pub undo: Vec<Step>,
    /// 1 means the group runs once.
    pub max_attempts: u32,
    /// The fragment whose steps these are, when the step is a `use:`.
    pub fragment: Option<FragmentUse>,
}

/// Where a `use:` step's steps come from.
#[derive(Debug, Clone)]
pub struct FragmentUse {
    /// The fragment file, relative to the runbook's folder.
    pub path: std::path::PathBuf,
    /// The fragment's `title`.
    pub title: String,
}

/// A structured audit event.
#[derive(Debug, Clone)]
pub struct AuditStep {
    pub action: Template,
    pub context: Vec<(String, super::ValueTemplate)>,
    pub durations: Vec<(String, StepEvent, StepEvent)>,
}

/// A moment in a step's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepEvent {
    pub step: String,
    pub finished: bool,
}

/// A plugin action call.
#[derive(Debug, Clone)]
pub struct PluginStep {
    pub action: String,
    pub params: Vec<(String, super::ValueTemplate)>,
    /// Outputs the action declares.
    pub outputs: Vec<String>,
    /// Parameters the action declares secret.
    pub secret_params: Vec<String>,
    /// The action declares it changes nothing (`ActionSpec::read_only`).
    pub read_only: bool,
}

/// Text shown to the operator and recorded; it cannot fail the run.
#[derive(Debug, Clone)]
pub struct NoteStep {
    pub message: Template,
}

/// Ends the run as failed with this message.
#[derive(Debug, Clone)]
pub struct StopStep {
    pub message: Template,
}
