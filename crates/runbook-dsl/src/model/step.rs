use std::time::Duration;

use super::{
    AuditStep, Condition, GroupStep, HttpMethod, PluginStep, PromptStep, Retry, Until,
    ValueTemplate,
};
use crate::raw::{OnError, ResumePolicy, StdoutMode};
use crate::source::Span;
use crate::template::Template;

/// A checked step.
#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub when: Option<Condition>,
    pub timeout: Option<Duration>,
    pub kind: StepKind,
    pub span: Span,
    /// Repeat until a condition holds (a wait).
    pub until: Option<Until>,
    pub retry: Option<Retry>,
    pub on_error: OnError,
    /// Compensation registered when this step succeeds.
    pub rollback: Vec<Step>,
    pub irreversible: bool,
    /// What resume does if this step was started but not known to finish.
    pub resume: ResumePolicy,
}

/// What a step does. Adding a kind must fail to compile until every dispatch handles it.
#[derive(Debug, Clone)]
pub enum StepKind {
    Http(HttpStep),
    Shell(ShellStep),
    Assert(AssertStep),
    Prompt(PromptStep),
    Group(GroupStep),
    Audit(AuditStep),
    Plugin(PluginStep),
}

impl StepKind {
    /// The DSL keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            StepKind::Http(_) => "http",
            StepKind::Shell(_) => "shell",
            StepKind::Assert(_) => "assert",
            StepKind::Prompt(_) => "prompt",
            StepKind::Group(_) => "group",
            StepKind::Audit(_) => "audit",
            StepKind::Plugin(_) => "plugin",
        }
    }

    /// Outputs every step of this kind produces, before captures.
    pub fn builtin_outputs(&self) -> &'static [&'static str] {
        match self {
            StepKind::Http(_) => HttpStep::BUILTIN_OUTPUTS,
            StepKind::Shell(_) => ShellStep::BUILTIN_OUTPUTS,
            StepKind::Assert(_) | StepKind::Prompt(_) | StepKind::Group(_) => &[],
            StepKind::Audit(_) => &["event"],
            StepKind::Plugin(_) => &[],
        }
    }

    /// Every output a step of this kind offers to later steps.
    pub fn outputs(&self) -> Vec<String> {
        let mut outputs: Vec<String> = self
            .builtin_outputs()
            .iter()
            .map(|name| (*name).to_owned())
            .chain(self.captures().iter().map(|capture| capture.name.clone()))
            .collect();
        if let StepKind::Plugin(plugin) = self {
            outputs.extend(plugin.outputs.iter().cloned());
        }
        if let StepKind::Prompt(prompt) = self {
            if prompt.confirm.is_some() {
                outputs.push("confirmed".to_owned());
            }
            outputs.extend(prompt.answers.iter().map(|answer| answer.name.clone()));
        }
        outputs
    }

    pub fn captures(&self) -> &[Capture] {
        match self {
            StepKind::Http(http) => &http.captures,
            StepKind::Shell(shell) => &shell.captures,
            StepKind::Assert(_)
            | StepKind::Prompt(_)
            | StepKind::Group(_)
            | StepKind::Audit(_)
            | StepKind::Plugin(_) => &[],
        }
    }

    /// The resume policy a step gets when it declares none: re-run what is safe to repeat.
    pub fn default_resume(&self) -> ResumePolicy {
        match self {
            StepKind::Http(http) if http.method.is_safe() => ResumePolicy::Rerun,
            StepKind::Assert(_) | StepKind::Audit(_) => ResumePolicy::Rerun,
            StepKind::Http(_)
            | StepKind::Shell(_)
            | StepKind::Prompt(_)
            | StepKind::Group(_)
            | StepKind::Plugin(_) => ResumePolicy::Ask,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpStep {
    pub method: HttpMethod,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub query: Vec<(String, ValueTemplate)>,
    pub body: Option<Body>,
    /// Empty means any 2xx.
    pub expect_status: Vec<u16>,
    pub captures: Vec<Capture>,
    pub asserts: Vec<Condition>,
    pub follow_redirects: bool,
    pub discard_body: bool,
    pub max_response_bytes: u64,
}

impl HttpStep {
    pub const BUILTIN_OUTPUTS: &'static [&'static str] = &["status", "body", "headers"];
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 10 * 1024 * 1024;
}

#[derive(Debug, Clone)]
pub enum Body {
    Json(ValueTemplate),
    Text(Template),
}

#[derive(Debug, Clone)]
pub struct ShellStep {
    pub command: Template,
    pub env: Vec<(String, Template)>,
    pub workdir: Option<Template>,
    pub stdin: Option<Template>,
    /// Private files: the environment variable that gets the path, and the content.
    pub files: Vec<(String, Template)>,
    pub expect_exit: Vec<i32>,
    pub stdout: StdoutMode,
    pub captures: Vec<Capture>,
    pub asserts: Vec<Condition>,
}

impl ShellStep {
    pub const BUILTIN_OUTPUTS: &'static [&'static str] = &["exit_code", "stdout", "stderr"];
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
}

#[derive(Debug, Clone)]
pub struct AssertStep {
    pub conditions: Vec<Condition>,
}

/// A named value taken from a step's result.
#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    pub source: CaptureSource,
    pub all: bool,
    pub secret: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    JsonPath(JsonPath),
    Header(String),
}

/// A JSONPath parsed at check time.
#[derive(Debug, Clone)]
pub struct JsonPath {
    pub text: String,
    pub query: jsonpath_rust::parser::model::JpQuery,
}
