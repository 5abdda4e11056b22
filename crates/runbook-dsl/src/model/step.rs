use std::time::Duration;

use super::{
    AuditStep, Condition, GroupStep, HttpMethod, NoteStep, PluginStep, PromptStep, Retry, StopStep,
    Until, ValueTemplate,
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
    /// The commit point: when this main-phase step passes, registered compensation is disarmed.
    pub commit: bool,
    /// What resume does if this step was started but not known to finish.
    pub resume: ResumePolicy,
    /// Only the check pass makes steps.
    pub(crate) _checked: super::Checked,
}

/// What a step does: an action, or a group of steps. The engine runs groups itself and hands only
/// actions to the step executors, so an executor cannot be given a group.
// Built once per step at check time and never moved in a hot path: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum StepKind {
    Action(Action),
    Group(GroupStep),
}

/// A step that does one thing. Adding a kind must fail to compile until every dispatch handles it:
/// this module and the engine's executor dispatch are the only places that match on it.
#[derive(Debug, Clone)]
pub enum Action {
    Http(HttpStep),
    Shell(ShellStep),
    Assert(AssertStep),
    Prompt(PromptStep),
    Audit(AuditStep),
    Plugin(PluginStep),
    Note(NoteStep),
    Stop(StopStep),
}

impl StepKind {
    /// The DSL keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            StepKind::Action(action) => action.keyword(),
            StepKind::Group(group) if group.fragment.is_some() => "use",
            StepKind::Group(_) => "group",
        }
    }

    pub fn group(&self) -> Option<&GroupStep> {
        match self {
            StepKind::Group(group) => Some(group),
            StepKind::Action(_) => None,
        }
    }

    pub fn action(&self) -> Option<&Action> {
        match self {
            StepKind::Action(action) => Some(action),
            StepKind::Group(_) => None,
        }
    }

    /// The prompt, when the step is one.
    pub fn prompt(&self) -> Option<&PromptStep> {
        self.action().and_then(Action::prompt)
    }

    /// Every output a step of this kind offers to later steps.
    pub fn outputs(&self) -> Vec<String> {
        match self {
            StepKind::Action(action) => action.outputs(),
            StepKind::Group(_) => Vec::new(),
        }
    }

    pub fn captures(&self) -> &[Capture] {
        self.action().map_or(&[], Action::captures)
    }

    /// The resume policy a step gets when it declares none: re-run what is safe to repeat.
    pub fn default_resume(&self) -> ResumePolicy {
        match self {
            StepKind::Action(action) => action.default_resume(),
            StepKind::Group(_) => ResumePolicy::Ask,
        }
    }
}

impl Action {
    /// The DSL keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            Action::Http(_) => "http",
            Action::Shell(_) => "shell",
            Action::Assert(_) => "assert",
            Action::Prompt(_) => "prompt",
            Action::Audit(_) => "audit",
            Action::Plugin(_) => "plugin",
            Action::Note(_) => "note",
            Action::Stop(_) => "stop",
        }
    }

    pub fn prompt(&self) -> Option<&PromptStep> {
        match self {
            Action::Prompt(prompt) => Some(prompt),
            Action::Http(_)
            | Action::Shell(_)
            | Action::Assert(_)
            | Action::Audit(_)
            | Action::Plugin(_)
            | Action::Note(_)
            | Action::Stop(_) => None,
        }
    }

    /// Whether `until`/`poll` applies (a wait repeats a request or a command).
    pub fn can_poll(&self) -> bool {
        match self {
            Action::Http(_) | Action::Shell(_) => true,
            Action::Assert(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Plugin(_)
            | Action::Note(_)
            | Action::Stop(_) => false,
        }
    }

    /// Outputs every step of this kind produces, before captures.
    pub fn builtin_outputs(&self) -> &'static [&'static str] {
        match self {
            Action::Http(_) => HttpStep::BUILTIN_OUTPUTS,
            Action::Shell(_) => ShellStep::BUILTIN_OUTPUTS,
            Action::Assert(_) | Action::Prompt(_) | Action::Plugin(_) | Action::Stop(_) => &[],
            Action::Audit(_) => &["event"],
            Action::Note(_) => &["message"],
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
        match self {
            Action::Plugin(plugin) => outputs.extend(plugin.outputs.iter().cloned()),
            Action::Prompt(prompt) => {
                if prompt.confirm.is_some() {
                    outputs.push("confirmed".to_owned());
                }
                outputs.extend(prompt.answers.iter().map(|answer| answer.name.clone()));
            }
            Action::Http(_)
            | Action::Shell(_)
            | Action::Assert(_)
            | Action::Audit(_)
            | Action::Note(_)
            | Action::Stop(_) => {}
        }
        outputs
    }

    pub fn captures(&self) -> &[Capture] {
        match self {
            Action::Http(http) => &http.captures,
            Action::Shell(shell) => &shell.captures,
            Action::Assert(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Plugin(_)
            | Action::Note(_)
            | Action::Stop(_) => &[],
        }
    }

    /// The resume policy a step gets when it declares none: re-run what is safe to repeat.
    pub fn default_resume(&self) -> ResumePolicy {
        match self {
            Action::Http(http) if http.method.is_safe() => ResumePolicy::Rerun,
            // Telling the operator again, or stopping again, repeats no side effect.
            Action::Assert(_) | Action::Audit(_) | Action::Note(_) | Action::Stop(_) => {
                ResumePolicy::Rerun
            }
            Action::Http(_) | Action::Shell(_) | Action::Prompt(_) | Action::Plugin(_) => {
                ResumePolicy::Ask
            }
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
