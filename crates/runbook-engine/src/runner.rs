//! The engine's entry point: the run's phases (steps, compensation, failure path, finally) and how
//! the run ended.

use std::time::Duration;

use runbook_dsl::Runbook;

use crate::context::RunContext;
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
    /// The run's own folder in the state directory (its journal's), lent to plugins for files
    /// kept for the record. Unlike `files_dir`, nothing removes what is written there.
    pub run_dir: Option<std::path::PathBuf>,
    /// Shell steps' commands are SIGKILLed by the kernel when this process dies, even by SIGKILL
    /// (Linux's parent-death signal, set between `fork` and `exec`: see
    /// `steps/shell/death_signal.rs`; no effect elsewhere).
    ///
    /// The kernel sends the signal when the *thread* that spawned the command exits, not the
    /// process. Set it only when the run is driven by a thread that outlives every command it
    /// starts: a current-thread runtime's `block_on` on a long-lived thread (runbook's main
    /// thread: the CLI's runs and rehearsals). Commands are spawned by the step's future itself
    /// (`tokio::process::Command::spawn` forks on the calling thread), never through
    /// `spawn_blocking`, whose threads exit after 10 s idle and would take a running command with
    /// them; a multi-thread runtime's workers live until the runtime shuts down, which is fine too.
    pub commands_die_with_runbook: bool,
    /// Where HTTP requests go; `None`: the network ([`crate::transport::ReqwestTransport`]).
    pub transport: Option<crate::transport::SharedTransport>,
    /// Where time comes from: the system clock, or a rehearsal's virtual one.
    pub clock: crate::clock::SharedClock,
    /// The shell and environment shell steps run with; `None`: `sh` from `PATH`, with this
    /// process's environment.
    pub commands: Option<CommandEnvironment>,
}

/// How shell steps' commands are started when not from this process's own environment: a
/// rehearsal runs them with `PATH` holding only its stand-ins.
#[derive(Debug, Clone, Default)]
pub struct CommandEnvironment {
    /// The shell, by absolute path (`PATH` may not lead to one).
    pub shell: std::path::PathBuf,
    /// Start from an empty environment rather than this process's.
    pub clear: bool,
    /// Set last, so a step's own `env:` cannot override them (`PATH` above all).
    pub vars: Vec<(String, String)>,
}

/// Executes checked runbooks.
pub struct Engine {
    pub(crate) options: EngineOptions,
    pub(crate) http: crate::transport::SharedTransport,
    pub(crate) prompter: SharedPrompter,
    /// How prompts are answered, read once: a prompt abandoned by a signal may still hold the
    /// prompter's lock on its blocked thread, and the run's end must not wait for it.
    pub(crate) prompts: String,
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
            http: options.transport.clone().unwrap_or_else(|| {
                std::sync::Arc::new(crate::transport::ReqwestTransport::default())
            }),
            prompter,
            options,
        }
    }

    /// The clock this engine's runs use.
    pub fn clock(&self) -> &crate::clock::SharedClock {
        &self.options.clock
    }

    /// Runs the runbook: its steps; on failure, compensation (newest first) and the failure path;
    /// then `finally`, always. Never panics on user data; every string in the report is redacted.
    pub async fn run(
        &self,
        runbook: &Runbook,
        inputs: ResolvedInputs,
        observer: &mut dyn Observer,
    ) -> RunReport {
        let started = self.options.clock.moment();
        let started_at = self.options.clock.now().to_string();
        let report_inputs = inputs.for_report();
        let context = self.context(runbook, inputs, &started_at);

        observer.run_started(runbook);
        let mut run = Run::new(self, runbook, context, observer);
        let cut_off = self
            .options
            .resume
            .as_ref()
            .and_then(|plan| plan.cut_off_undo.clone());
        let (preconditions, refusal) = match &cut_off {
            // An undo to finish must not wait for anyone's confirmation.
            Some(_) => (None, None),
            None => match run.confirm_preconditions(&runbook.meta.preconditions).await {
                Some((record, refusal)) => (Some(record), refusal),
                None => (None, None),
            },
        };
        let refused = refusal.is_some();
        let (stop, ending) = if let Some(cut) = &cut_off {
            // A crash cut the undo off: no step runs again; what was registered is undone.
            run.rebuild_for_undo(&runbook.steps);
            let ending = undo(&mut run, runbook, &cut.stop, Some(&cut.failure)).await;
            (Some(cut.stop.clone()), ending)
        } else if let Some(refusal) = &refusal {
            // Nothing was done: no compensation, failure path or finally.
            let stop = if refusal.kind == crate::error::StepErrorKind::Interrupted {
                Stop::Interrupted {
                    step: Some(PRECONDITIONS.to_owned()),
                    signal: self.options.interrupt.signal(),
                }
            } else {
                Stop::Failed {
                    step: PRECONDITIONS.to_owned(),
                }
            };
            (Some(stop), Ending::default())
        } else {
            let main = run.run_list(&runbook.steps, Phase::Main, 0).await;
            let stop = main.err();
            let ending = match &stop {
                // A resume that could not get a decision changed nothing: no cleanup, it stays
                // resumable.
                Some(_) if run.undecided() => Ending::default(),
                Some(stop) => undo(&mut run, runbook, stop, None).await,
                None => Ending::default(),
            };
            (stop, ending)
        };
        let finally_failed = !run.undecided()
            && !refused
            && !runbook.finally.is_empty()
            && run_finally(&mut run, runbook, stop.is_none()).await;
        let warned = run
            .reports()
            .iter()
            .any(|step| step.phase == Phase::Main && step.outcome == StepOutcome::Warned);
        let status = match &stop {
            None if finally_failed => RunStatus::Failed,
            None if warned => RunStatus::SucceededWithWarnings,
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
        let (mut reports, irreversible_done, commit_point) = run.finish();
        if cut_off.is_none() {
            reports.extend(crate::sequence::not_run(&runbook.steps, &reports));
        }
        if let Some(refusal) = refusal {
            reports.insert(0, refused_report(refusal));
        }
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
            commit_point,
            preconditions,
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
/// `known_failure`: `{{run.failure}}` as an earlier session recorded it (finishing its undo).
async fn undo(
    run: &mut Run<'_, '_>,
    runbook: &Runbook,
    stop: &Stop,
    known_failure: Option<&str>,
) -> Ending {
    let reason = match stop {
        Stop::Interrupted { .. } => "interrupted".to_owned(),
        Stop::Failed { step } => format!("step `{step}` failed"),
    };
    run.mark_stopped(stop, known_failure);
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

/// The id the report gives the operator's confirmation of the preconditions when it was refused.
pub const PRECONDITIONS: &str = runbook_dsl::PRECONDITIONS_ID;

/// The report of preconditions that were not confirmed: the run's one failed "step".
fn refused_report(error: crate::error::StepError) -> crate::report::StepReport {
    crate::report::StepReport {
        id: PRECONDITIONS.to_owned(),
        name: "Preconditions".to_owned(),
        kind: PRECONDITIONS,
        composite: false,
        phase: Phase::Main,
        outcome: StepOutcome::Failed,
        duration_ms: 0,
        attempts: 1,
        irreversible: false,
        outputs: serde_json::Map::new(),
        secret_outputs: Vec::new(),
        large_outputs: Vec::new(),
        started_at: None,
        finished_at: None,
        error: Some(error),
        note: None,
        restored: false,
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
