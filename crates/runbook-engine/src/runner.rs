//! The run loop: steps in order, `when`, timeouts, results as data, progress to the observer.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use runbook_dsl::{Runbook, Step};

use crate::context::{RunContext, Scope, StepState};
use crate::error::{StepError, StepErrorKind};
use crate::http_client::HttpClients;
use crate::inputs::ResolvedInputs;
use crate::observer::Observer;
use crate::predicate::{Verdict, evaluate};
use crate::report::{RunReport, RunStatus, StepOutcome, StepReport};
use crate::steps::{self, StepEnv};

/// Settings that do not come from the runbook.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Environment variables visible to `{{env.NAME}}`; `None` reads the process environment.
    pub env: Option<Vec<(String, String)>>,
}

/// Executes checked runbooks.
#[derive(Debug, Default)]
pub struct Engine {
    options: EngineOptions,
    http: HttpClients,
}

impl Engine {
    pub fn new(options: EngineOptions) -> Self {
        Engine {
            options,
            http: HttpClients::default(),
        }
    }

    /// Runs every step in order; the first failure stops the run. Never panics on user data; every
    /// string in the report is redacted.
    pub async fn run(
        &self,
        runbook: &Runbook,
        inputs: ResolvedInputs,
        observer: &mut dyn Observer,
    ) -> RunReport {
        let started = Instant::now();
        let started_at = jiff::Timestamp::now().to_string();
        let report_inputs = inputs.for_report();
        let mut context = RunContext {
            inputs: inputs.values,
            redactor: inputs.redactor,
            ..RunContext::default()
        };
        for name in &runbook.env_refs {
            let value = match &self.options.env {
                Some(env) => env.iter().find(|(key, _)| key == name).map(|(_, v)| v.clone()),
                None => std::env::var(name).ok(),
            };
            if let Some(value) = value {
                context.env.insert(name.clone(), value);
            }
        }

        observer.run_started(runbook);
        let mut reports = Vec::with_capacity(runbook.steps.len());
        let mut failed_step = None;
        for (index, step) in runbook.steps.iter().enumerate() {
            if failed_step.is_some() {
                reports.push(not_run(step));
                continue;
            }
            observer.step_started(index, step);
            let report = self.run_step(step, &mut context).await;
            observer.step_finished(index, step, &report);
            if report.outcome == StepOutcome::Failed {
                failed_step = Some(step.id.clone());
            }
            reports.push(report);
        }
        let report = RunReport {
            runbook: runbook.meta.id.clone(),
            title: runbook.meta.title.clone(),
            path: runbook.path.display().to_string(),
            status: if failed_step.is_some() {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            },
            started_at,
            duration_ms: millis(started.elapsed()),
            inputs: report_inputs,
            steps: reports,
            failed_step,
        };
        observer.run_finished(&report);
        report
    }

    async fn run_step(&self, step: &Step, context: &mut RunContext) -> StepReport {
        let started = Instant::now();
        let mut report = StepReport {
            id: step.id.clone(),
            name: step.name.clone(),
            kind: step.kind.keyword(),
            outcome: StepOutcome::Passed,
            duration_ms: 0,
            outputs: Map::new(),
            error: None,
        };
        if let Some(condition) = &step.when {
            match evaluate(condition, Scope::new(context)) {
                Ok(Verdict::Holds) => {}
                Ok(Verdict::Fails(_)) => {
                    context.steps.insert(step.id.clone(), StepState::Skipped);
                    report.outcome = StepOutcome::Skipped;
                    return report;
                }
                Err(error) => {
                    let error = StepError::new(
                        StepErrorKind::Render,
                        format!("cannot evaluate `when`: {error}"),
                    );
                    return fail(report, error, context, started);
                }
            }
        }

        let mut env = StepEnv {
            context,
            http: &self.http,
            new_secrets: Default::default(),
        };
        // The executors apply the timeout to their own I/O too; this outer bound also covers
        // template rendering and anything else a step does.
        let outer = step.timeout.map(|timeout| timeout + Duration::from_millis(250));
        let result = match outer {
            Some(limit) => match tokio::time::timeout(limit, steps::execute(step, &mut env)).await {
                Ok(result) => result,
                Err(_) => Err(StepError::new(
                    StepErrorKind::Timeout,
                    format!("step did not finish within {}", crate::steps::humanize_duration(limit)),
                )),
            },
            None => steps::execute(step, &mut env).await,
        };
        let new_secrets = env.new_secrets;
        context.redactor.merge(&new_secrets);
        match result {
            Ok(outputs) => {
                report.outputs = redact_outputs(&outputs, context);
                context.steps.insert(step.id.clone(), StepState::Completed(outputs));
                report.duration_ms = millis(started.elapsed());
                report
            }
            Err(error) => fail(report, error, context, started),
        }
    }
}

fn fail(mut report: StepReport, error: StepError, context: &mut RunContext, started: Instant) -> StepReport {
    context.steps.insert(report.id.clone(), StepState::Failed);
    report.outcome = StepOutcome::Failed;
    report.error = Some(StepError::new(error.kind, context.redactor.redact(&error.message)));
    report.duration_ms = millis(started.elapsed());
    report
}

fn redact_outputs(outputs: &Map<String, Value>, context: &RunContext) -> Map<String, Value> {
    outputs
        .iter()
        .map(|(name, value)| (name.clone(), context.redactor.redact_value(value)))
        .collect()
}

fn not_run(step: &Step) -> StepReport {
    StepReport {
        id: step.id.clone(),
        name: step.name.clone(),
        kind: step.kind.keyword(),
        outcome: StepOutcome::NotRun,
        duration_ms: 0,
        outputs: Map::new(),
        error: None,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
