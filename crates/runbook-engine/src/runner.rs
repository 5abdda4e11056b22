//! The engine's entry point: the run's phases (steps, compensation, failure path, finally) and how
//! the run ended.

use std::time::{Duration, Instant};

use runbook_dsl::Runbook;

use crate::context::RunContext;
use crate::http_client::HttpClients;
use crate::inputs::ResolvedInputs;
use crate::interrupt::Interrupt;
use crate::observer::Observer;
use crate::prompter::{NoOperator, SharedPrompter, shared};
use crate::report::Stop;
use crate::report::{OperatorRecord, Phase, RunReport, RunStatus, StepOutcome};
use crate::sequence::Run;

/// Settings that do not come from the runbook.
#[derive(Clone, Default)]
pub struct EngineOptions {
    /// Environment variables visible to `{{env.NAME}}`; `None` reads the process environment.
    pub env: Option<Vec<(String, String)>>,
    /// Who answers prompts; `None` fails every prompt at once ([`NoOperator`]).
    pub prompter: Option<SharedPrompter>,
    /// Ctrl-C, as triggered by the front end.
    pub interrupt: Interrupt,
    /// How prompts are answered, for the report.
    pub operator: OperatorRecord,
    /// The audit log `audit` steps write to.
    pub audit: Option<crate::audit::SharedAudit>,
    /// The run's identity, for `{{run.*}}`.
    pub run: crate::context::RunInfo,
    /// Continue an earlier run: what it completed.
    pub resume: Option<crate::resume::ResumePlan>,
    /// Plugins linked into this build.
    pub plugins: Option<std::sync::Arc<runbook_plugin::Registry>>,
    /// Where running commands' process groups are noted (see [`crate::processes`]).
    pub process_dir: Option<std::path::PathBuf>,
    /// Where shell steps' `files:` are written: the run's own directory in the state directory,
    /// owner-only, so a killed run's files can be found and removed. A temporary directory when
    /// none.
    pub files_dir: Option<std::path::PathBuf>,
    /// A program (with its first arguments) that shell steps' `sh -c COMMAND` is started through:
    /// it sets up the process (the CLI's sets a parent-death signal) and `exec`s the rest of its
    /// arguments. Empty: `sh` is started directly.
    pub launcher: Vec<std::ffi::OsString>,
}

/// Executes checked runbooks.
pub struct Engine {
    pub(crate) options: EngineOptions,
    pub(crate) http: HttpClients,
    pub(crate) prompter: SharedPrompter,
    /// How prompts are answered, read once: a prompt abandoned by a signal may still hold the
    /// prompter's lock on its blocked thread, and the run's end must not wait for it.
    prompts: String,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineOptions::default())
    }
}

impl Engine {
    pub fn new(options: EngineOptions) -> Self {
        let prompter = options
            .prompter
            .clone()
            .unwrap_or_else(|| shared(NoOperator));
        let prompts = prompter
            .lock()
            .map(|prompter| prompter.kind().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        Engine {
            prompts,
            options,
            http: HttpClients::default(),
            prompter,
        }
    }

    /// Runs the runbook: its steps; on failure, compensation (newest first) and the failure path;
    /// then `finally`, always. Never panics on user data; every string in the report is redacted.
    pub async fn run(
        &self,
        runbook: &Runbook,
        inputs: ResolvedInputs,
        observer: &mut dyn Observer,
    ) -> RunReport {
        let started = Instant::now();
        let started_at = jiff::Timestamp::now().to_string();
        let report_inputs = inputs.for_report();
        let context = self.context(runbook, inputs, &started_at);

        observer.run_started(runbook);
        let mut run = Run::new(self, runbook, context, observer);
        let main = run.run_list(&runbook.steps, Phase::Main, 0).await;
        let stop = main.err();
        let ending = match &stop {
            // A resume that could not get a decision changed nothing: no cleanup, it stays
            // resumable.
            Some(_) if run.undecided() => Ending::default(),
            Some(stop) => undo(&mut run, runbook, stop).await,
            None => Ending::default(),
        };
        let finally_failed = !run.undecided()
            && !runbook.finally.is_empty()
            && run_finally(&mut run, runbook, stop.is_none()).await;
        let status = match &stop {
            None if finally_failed => RunStatus::Failed,
            None => RunStatus::Succeeded,
            Some(Stop::Interrupted { .. }) => RunStatus::Interrupted,
            Some(Stop::Failed { .. }) if ending.cleanup_failed || finally_failed => {
                RunStatus::RollbackFailed
            }
            Some(Stop::Failed { .. }) if ending.cleanup_ran => RunStatus::RolledBack,
            Some(Stop::Failed { .. }) => RunStatus::Failed,
        };
        let failed_step = match &stop {
            Some(stop) => stop.step().map(str::to_owned),
            None if finally_failed => run
                .reports()
                .iter()
                .find(|step| step.phase == Phase::Finally && step.outcome == StepOutcome::Failed)
                .map(|step| step.id.clone()),
            None => None,
        };
        let (mut reports, irreversible_done) = run.finish();
        reports.extend(crate::sequence::not_run(&runbook.steps, &reports));
        let report = RunReport {
            run_id: self.options.run.id.clone(),
            runbook: runbook.meta.id.clone(),
            title: runbook.meta.title.clone(),
            path: runbook.path.display().to_string(),
            status,
            started_at,
            duration_ms: millis(started.elapsed()),
            inputs: report_inputs,
            operator: OperatorRecord {
                prompts: self.prompts.clone(),
                ..self.options.operator.clone()
            },
            steps: reports,
            failed_step,
            stop,
            irreversible_done,
        };
        observer.run_finished(&report);
        report
    }

    /// What templates see at the start: the run's identity, the inputs, and only the environment
    /// variables the runbook references.
    fn context(&self, runbook: &Runbook, inputs: ResolvedInputs, started_at: &str) -> RunContext {
        let mut context = RunContext {
            run: crate::context::RunInfo {
                started_at: if self.options.run.started_at.is_empty() {
                    started_at.to_owned()
                } else {
                    self.options.run.started_at.clone()
                },
                ..self.options.run.clone()
            },
            inputs: inputs.values,
            redactor: inputs.redactor,
            tainted: runbook.secret_outputs.clone(),
            ..RunContext::default()
        };
        for name in &runbook.env_refs {
            let value = match &self.options.env {
                Some(env) => env
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, v)| v.clone()),
                None => std::env::var(name).ok(),
            };
            if let Some(value) = value {
                context.env.insert(name.clone(), value);
            }
        }
        context
    }
}

/// How the undo after a failure went.
#[derive(Debug, Default)]
struct Ending {
    /// Compensation or the failure path ran.
    cleanup_ran: bool,
    /// A compensation or failure-path step failed.
    cleanup_failed: bool,
}

/// After a failure or Ctrl-C: compensation (newest first), then the runbook's failure path.
async fn undo(run: &mut Run<'_, '_>, runbook: &Runbook, stop: &Stop) -> Ending {
    let reason = match stop {
        Stop::Interrupted { .. } => "interrupted".to_owned(),
        Stop::Failed { step } => format!("step `{step}` failed"),
    };
    run.mark_stopped(stop);
    let mut ending = Ending::default();
    if run.has_compensations() {
        run.observer().phase_started(Phase::Rollback, &reason);
        ending.cleanup_ran = true;
        ending.cleanup_failed |= !run.compensate().await;
    }
    if !runbook.on_failure.is_empty() {
        run.observer().phase_started(Phase::OnFailure, &reason);
        ending.cleanup_ran = true;
        ending.cleanup_failed |= !run.run_cleanup(&runbook.on_failure, Phase::OnFailure).await;
    }
    ending
}

/// The runbook's `finally`, always. Returns whether a step of it failed.
async fn run_finally(run: &mut Run<'_, '_>, runbook: &Runbook, steps_completed: bool) -> bool {
    let reason = if steps_completed {
        "the steps completed"
    } else {
        "always"
    };
    run.observer().phase_started(Phase::Finally, reason);
    !run.run_cleanup(&runbook.finally, Phase::Finally).await
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
