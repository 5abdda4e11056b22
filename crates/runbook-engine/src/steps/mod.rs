//! One module per step kind and the one exhaustive dispatch over them.

mod assert;
mod audit;
mod body_bytes;
mod capture;
mod http;
mod json_excerpt;
mod jsonpath_bytes;
mod lazy_json;
mod note;
mod partial_json;
mod plugin;
pub(crate) mod prompt;
mod shell;
mod stop;
mod unread_capture;

use serde_json::{Map, Value};

use runbook_dsl::{Action, Condition, Step};

use crate::context::{RunContext, Scope};
use crate::error::{StepError, StepErrorKind};
use crate::predicate::{Verdict, evaluate};
use crate::redact::Redactor;
use crate::transport::HttpTransport;

pub use shell::{ShellLookup, kill_running_commands};

/// What executing a step needs besides the step itself.
pub struct StepEnv<'a> {
    pub context: &'a RunContext,
    /// Where HTTP requests go: the network, or a rehearsal's simulated services.
    pub http: &'a dyn HttpTransport,
    pub prompter: &'a crate::prompter::SharedPrompter,
    /// How many times this step has prompted in this run, including now.
    pub occurrence: u32,
    /// The run's audit log, for `audit` steps.
    pub audit: Option<&'a crate::audit::SharedAudit>,
    /// Plugins linked into this build, for `plugin` steps.
    pub plugins: Option<&'a runbook_plugin::Registry>,
    /// Where a running command's process group is noted (`STEP.pgid`), so a resume after a crash
    /// can tell whether the command outlived the run.
    pub process_note: Option<std::path::PathBuf>,
    /// Where `files:` are written (see [`crate::runner::EngineOptions::files_dir`]).
    pub files_dir: Option<&'a std::path::Path>,
    /// The run's own folder in the state directory, lent to plugins (see
    /// [`crate::runner::EngineOptions::run_dir`]).
    pub run_dir: Option<&'a std::path::Path>,
    /// Whether commands get the parent-death signal (see
    /// [`crate::runner::EngineOptions::commands_die_with_runbook`]).
    pub die_with_runbook: bool,
    /// `sh` in runbook's `PATH`, looked up once per run (see [`ShellLookup`]).
    pub shell: &'a ShellLookup,
    /// The shell and environment commands run with, when not the process's own (a rehearsal).
    pub commands: Option<&'a crate::runner::CommandEnvironment>,
    /// Something worth knowing about how the step ended, for its report's note.
    pub note: Option<String>,
    /// Secrets discovered by this step (secret captures); the runner adds them to the run's redactor.
    pub new_secrets: Redactor,
    /// Which of this step's outputs later templates read (`None`: assume every one is read).
    pub readers: Option<crate::references::OutputReaders<'a>>,
    /// Outputs whose value in the run's context is partial: what the report shows instead.
    pub stand_ins: Vec<StandIn>,
}

/// What the report and the journal show in place of an output whose value in the run's context is
/// only the part templates read (a large response body read through plain paths,
/// [`partial_json`]): shown whole, the partial tree would pass for the body. The output counts as
/// large (`large_outputs`), as the whole tree would: the journal does not keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct StandIn {
    /// The output's name.
    pub output: String,
    /// What is shown: an excerpt of the bytes, already redacted.
    pub shown: String,
    /// Whether the whole value held a secret (the run then names it in `secret_outputs`, as it
    /// would have for the whole tree).
    pub held_secret: bool,
}

/// Runs one action to completion and returns its outputs. The one exhaustive dispatch over actions:
/// adding a kind fails to compile here until it is handled. Groups never get here (they are not
/// actions); the sequencer runs them.
pub async fn execute(
    step: &Step,
    action: &Action,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    match action {
        Action::Http(http) => http::execute(http, step.timeout, env).await,
        Action::Shell(shell) => shell::execute(shell, step.timeout, env).await,
        Action::Assert(conditions) => assert::execute(conditions, env),
        Action::Prompt(prompt) => {
            let context = crate::prompter::PromptContext {
                step_id: step.id.clone(),
                step_name: step.name.clone(),
                occurrence: env.occurrence,
                redactor: env.context.redactor.clone(),
            };
            prompt::execute(prompt, context, env).await
        }
        Action::Audit(audit) => audit::execute(audit, env),
        Action::Plugin(plugin) => plugin::execute(plugin, env).await,
        Action::Note(note) => note::execute(note, env),
        Action::Stop(stop) => stop::execute(stop, env),
    }
}

/// Evaluates a step's own `assert` against its outputs (`secrets`: what the step captured as
/// secret, not yet known to the run's redactor).
pub(crate) fn check_own(
    asserts: &[Condition],
    context: &RunContext,
    outputs: &Map<String, Value>,
    secrets: &Redactor,
) -> Result<(), StepError> {
    let scope = Scope::with_own_secrets(context, outputs, secrets);
    let mut failures = Vec::new();
    for condition in asserts {
        match evaluate(condition, scope) {
            Ok(Verdict::Holds) => {}
            Ok(Verdict::Fails(failure)) => failures.push(*failure),
            Err(error) => return Err(StepError::from(error).at(condition.span)),
        }
    }
    let Some(first) = failures.first() else {
        return Ok(());
    };
    let span = first.span;
    let text: Vec<String> = failures.iter().map(ToString::to_string).collect();
    let mut error = StepError::new(
        StepErrorKind::Assertion,
        format!("assertion failed:\n{}", text.join("\n")),
    )
    .at(span);
    error.conditions = failures;
    Err(error)
}

/// A bare [`StepEnv`] for the kind modules' own tests, and a generator for their generated cases.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::StepEnv;
    use crate::context::RunContext;

    /// A small deterministic generator (xorshift): generated documents, paths and queries
    /// without a dependency, the same cases on every run.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        pub(crate) fn below(&mut self, n: u64) -> usize {
            usize::try_from(self.next() % n).unwrap_or(0)
        }
    }

    pub(crate) fn env(context: &RunContext) -> StepEnv<'_> {
        // Leaked: a few bytes per test, so the env can borrow them for as long as it likes.
        let http: &'static crate::transport::ReqwestTransport =
            Box::leak(Box::new(crate::transport::ReqwestTransport::default()));
        let prompter: &'static crate::prompter::SharedPrompter = Box::leak(Box::new(
            crate::prompter::shared(crate::prompter::NoOperator),
        ));
        StepEnv {
            context,
            http,
            prompter,
            occurrence: 1,
            audit: None,
            plugins: None,
            process_note: None,
            files_dir: None,
            run_dir: None,
            die_with_runbook: false,
            shell: {
                static SHELL: super::ShellLookup = super::ShellLookup::new();
                &SHELL
            },
            commands: None,
            note: None,
            new_secrets: Default::default(),
            readers: None,
            stand_ins: Vec::new(),
        }
    }
}
