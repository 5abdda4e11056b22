//! Running lists of steps: `when`, retries, polling, failure policies, groups with `finally` and
//! operator-controlled repeats, compensation registration and the point of no return.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use runbook_dsl::{DurationValue, GroupStep, OnError, ResumePolicy, RetryOn, Step, StepKind};

use crate::context::{RunContext, Scope, StepState, StepTimes};
use crate::error::{StepError, StepErrorKind};
use crate::observer::{Observer, Position};
use crate::predicate::{Verdict, evaluate};
use crate::prompter::{Decision, PromptContext};
use crate::report::{Phase, StepOutcome, StepReport};
use crate::resume::CompletedStep;
use crate::runner::{Engine, millis};
use crate::steps::{self, StepEnv};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Why a list of steps stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A step failed and its policy was to abort (or the operator chose to).
    Failed { step: String },
    /// Ctrl-C.
    Interrupted,
}

/// Compensation registered by a step that succeeded.
struct Compensation {
    steps: Vec<Step>,
}

/// The mutable state of one run.
pub(crate) struct Run<'e, 'o> {
    engine: &'e Engine,
    context: RunContext,
    pub(crate) observer: &'o mut dyn Observer,
    pub(crate) reports: Vec<StepReport>,
    compensations: Vec<Compensation>,
    prompt_counts: HashMap<String, u32>,
    irreversible_done: Vec<String>,
    /// A step with `on_error: abort_run` failed: no repeat or retry is offered any more.
    fatal: bool,
    /// Steps already looked up in the resume plan (it applies to a step's first run only).
    resume_visited: std::collections::HashSet<String>,
    /// A resume could not get a decision about a step in doubt: this session changed nothing, so
    /// no compensation or failure path may run.
    pub(crate) undecided: bool,
}

impl<'e, 'o> Run<'e, 'o> {
    pub(crate) fn new(
        engine: &'e Engine,
        context: RunContext,
        observer: &'o mut dyn Observer,
    ) -> Self {
        Run {
            engine,
            context,
            observer,
            reports: Vec::new(),
            compensations: Vec::new(),
            prompt_counts: engine
                .options
                .resume
                .as_ref()
                .map(|plan| plan.started.clone())
                .unwrap_or_default(),
            irreversible_done: Vec::new(),
            fatal: false,
            resume_visited: std::collections::HashSet::new(),
            undecided: false,
        }
    }

    /// Makes `{{run.failed_step}}` and `{{run.failure}}` available to the cleanup that follows.
    pub(crate) fn mark_failed(&mut self, step: &str) {
        let failure = self
            .reports
            .iter()
            .rev()
            .find(|report| report.id == step)
            .and_then(|report| report.error.as_ref())
            .map(|error| error.message.clone())
            .unwrap_or_else(|| format!("step `{step}` failed"));
        self.context.run.failed_step = Some(step.to_owned());
        self.context.run.failure = Some(failure);
    }

    pub(crate) fn context_mark_interrupted(&mut self) {
        self.context.run.failed_step = Some("(interrupted)".to_owned());
        self.context.run.failure = Some("interrupted (Ctrl-C)".to_owned());
    }

    pub(crate) fn has_compensations(&self) -> bool {
        !self.compensations.is_empty()
    }

    /// The reports and the irreversible steps that completed.
    pub(crate) fn finish(self) -> (Vec<StepReport>, Vec<String>) {
        (self.reports, self.irreversible_done)
    }

    fn interrupted(&self) -> bool {
        self.engine.options.interrupt.is_set()
    }

    /// Runs steps in order. In the main phase the first failure (per its policy) stops the list, and
    /// Ctrl-C stops it before the next step.
    pub(crate) fn run_list<'a>(
        &'a mut self,
        steps: &'a [Step],
        phase: Phase,
        depth: usize,
    ) -> Boxed<'a, Result<(), Stop>> {
        Box::pin(async move {
            for (index, step) in steps.iter().enumerate() {
                if phase == Phase::Main && self.interrupted() {
                    return Err(Stop::Interrupted);
                }
                let at = Position {
                    phase,
                    depth,
                    index: index + 1,
                    total: steps.len(),
                    cleanup: false,
                };
                self.run_step(step, &at).await?;
            }
            Ok(())
        })
    }

    /// Runs a cleanup list (compensation steps, failure path, finally): every step runs even when
    /// an earlier one failed. Returns whether all passed.
    pub(crate) async fn run_cleanup(&mut self, steps: &[Step], phase: Phase) -> bool {
        let mut all_passed = true;
        for (index, step) in steps.iter().enumerate() {
            let at = Position {
                phase,
                depth: 0,
                index: index + 1,
                total: steps.len(),
                cleanup: false,
            };
            all_passed &= self.run_step(step, &at).await.is_ok();
        }
        all_passed
    }

    /// Runs registered compensation, newest first. Returns whether all of it passed.
    pub(crate) async fn compensate(&mut self) -> bool {
        let mut all_passed = true;
        while let Some(compensation) = self.compensations.pop() {
            all_passed &= self.run_cleanup(&compensation.steps, Phase::Rollback).await;
        }
        all_passed
    }

    /// One step, with its failure policy.
    async fn run_step(&mut self, step: &Step, at: &Position) -> Result<(), Stop> {
        loop {
            let (report, error) = self.execute(step, at).await;
            let outcome = report.outcome;
            self.reports.push(report);
            match outcome {
                StepOutcome::Passed => {
                    if at.phase == Phase::Main {
                        if !step.rollback.is_empty() {
                            self.compensations.push(Compensation {
                                steps: step.rollback.clone(),
                            });
                        }
                        if step.irreversible && !self.irreversible_done.contains(&step.id) {
                            self.irreversible_done.push(step.id.clone());
                        }
                    }
                    return Ok(());
                }
                StepOutcome::Skipped | StepOutcome::NotRun => return Ok(()),
                StepOutcome::Failed => {}
            }
            let failed = Err(Stop::Failed {
                step: step.id.clone(),
            });
            if error
                .as_ref()
                .is_some_and(|e| e.kind == StepErrorKind::Interrupted)
            {
                return Err(Stop::Interrupted);
            }
            if at.phase != Phase::Main || self.fatal {
                return failed;
            }
            match step.on_error {
                OnError::Abort => return failed,
                OnError::AbortRun => {
                    self.fatal = true;
                    return failed;
                }
                OnError::Continue => return Ok(()),
                OnError::Ask => {
                    let question = format!(
                        "step `{}` failed: {}\nretry it, skip it, or abort the run?",
                        step.name,
                        error.as_ref().map_or("", |e| e.message.as_str())
                    );
                    match self
                        .decide(
                            step,
                            question,
                            &[Decision::Retry, Decision::Skip, Decision::Abort],
                        )
                        .await
                    {
                        Ok(Decision::Retry) => continue,
                        Ok(Decision::Skip) => {
                            let note = "failed; the operator chose to skip it";
                            if let Some(last) = self.reports.last_mut() {
                                last.outcome = StepOutcome::Skipped;
                                last.note = Some(note.into());
                            }
                            self.observer.step_progress(step, note);
                            // Later references to its outputs must fail, not see stale values.
                            self.context
                                .steps
                                .insert(step.id.clone(), StepState::Skipped);
                            return Ok(());
                        }
                        _ => return failed,
                    }
                }
            }
        }
    }

    /// Asks the operator; a prompt that cannot be answered counts as abort.
    async fn decide(
        &mut self,
        step: &Step,
        question: String,
        options: &[Decision],
    ) -> Result<Decision, String> {
        let context = PromptContext {
            step_id: step.id.clone(),
            step_name: step.name.clone(),
            occurrence: 1,
        };
        let options = options.to_vec();
        let decision = steps::prompt::ask(&self.engine.prompter, move |prompter| {
            prompter.decide(&context, &question, &options)
        });
        let interrupt = self.engine.options.interrupt.clone();
        tokio::select! {
            decision = decision => match decision {
                Ok(decision) => {
                    self.observer.decision(step, decision.word());
                    Ok(decision)
                }
                Err(error) => {
                    let message = self.context.redactor.redact(&error.message);
                    self.observer.step_progress(step, &format!("no decision ({message}): aborting"));
                    Err(message)
                }
            },
            _ = interrupt.wait() => Err("interrupted (Ctrl-C)".to_owned()),
        }
    }

    /// Executes a step once (a group: all of its attempts) and reports.
    async fn execute(&mut self, step: &Step, at: &Position) -> (StepReport, Option<StepError>) {
        let started = Instant::now();
        let mut report = new_report(step, at.phase, StepOutcome::Passed);
        // The earlier session's state applies once: a repeat of the group after a resume runs anew.
        let first_visit = at.phase == Phase::Main && self.resume_visited.insert(step.id.clone());
        if first_visit
            && let Some(done) = self
                .engine
                .options
                .resume
                .as_ref()
                .and_then(|plan| plan.completed.get(&step.id))
        {
            return self.restore(step, at, done.clone(), report).await;
        }
        if let Some(condition) = &step.when {
            match evaluate(condition, Scope::new(&self.context)) {
                Ok(Verdict::Holds) => {}
                Ok(Verdict::Fails(_)) => {
                    self.context
                        .steps
                        .insert(step.id.clone(), StepState::Skipped);
                    report.outcome = StepOutcome::Skipped;
                    report.note = Some("its `when` condition did not hold".into());
                    self.observer.step_finished(step, at, &report);
                    return (report, None);
                }
                Err(error) => {
                    self.observer.step_started(step, at);
                    let error = StepError::new(
                        StepErrorKind::Render,
                        format!("cannot evaluate `when`: {error}"),
                    );
                    return self.failed(step, at, report, error, started);
                }
            }
        }
        self.observer.step_started(step, at);
        let in_doubt = at.phase == Phase::Main
            && first_visit
            && !matches!(step.kind, StepKind::Group(_))
            && self
                .engine
                .options
                .resume
                .as_ref()
                .is_some_and(|plan| plan.in_doubt.contains(&step.id));
        if in_doubt {
            match self.in_doubt(step).await {
                Ok(true) => {
                    report.note = Some("re-run: it was interrupted before it finished".into())
                }
                Ok(false) => {
                    self.context
                        .steps
                        .insert(step.id.clone(), StepState::NotRerun);
                    report.outcome = StepOutcome::Skipped;
                    report.note = Some(
                        "interrupted in the earlier session and not re-run; its effect and outputs are unknown"
                            .into(),
                    );
                    self.observer.step_finished(step, at, &report);
                    return (report, None);
                }
                Err(error) => {
                    // Nothing was decided, nothing was done: leave the run as it was.
                    self.undecided = true;
                    return self.failed(step, at, report, error, started);
                }
            }
        }
        if let Err(message) = self.observer.checkpoint(step, at) {
            let error = StepError::new(StepErrorKind::Process, message);
            return self.failed(step, at, report, error, started);
        }
        let started_at = jiff::Timestamp::now();
        report.started_at = Some(started_at.to_string());
        let result = match &step.kind {
            StepKind::Group(group) => {
                let result = Box::pin(self.run_group(step, group, at)).await;
                report.attempts = result.1;
                result.0.map(|()| Map::new())
            }
            _ => {
                let (result, attempts) = self.attempts(step, at).await;
                report.attempts = attempts;
                result
            }
        };
        let finished_at = jiff::Timestamp::now();
        report.finished_at = Some(finished_at.to_string());
        self.context.times.insert(
            step.id.clone(),
            StepTimes {
                started_at,
                finished_at,
            },
        );
        match result {
            Ok(outputs) => {
                for (name, value) in &outputs {
                    let shown = self.context.redactor.redact_value(value);
                    if shown != *value {
                        report.secret_outputs.push(name.clone());
                    }
                    report.outputs.insert(name.clone(), shown);
                }
                self.context
                    .steps
                    .insert(step.id.clone(), StepState::Completed(outputs));
                report.duration_ms = millis(started.elapsed());
                self.observer.step_finished(step, at, &report);
                (report, None)
            }
            Err(error) => self.failed(step, at, report, error, started),
        }
    }

    /// A step completed in an earlier session: its outputs and times come back from the journal; it
    /// does not run again. Secret answers of a prompt are asked again (the journal never had them).
    async fn restore(
        &mut self,
        step: &Step,
        at: &Position,
        done: CompletedStep,
        mut report: StepReport,
    ) -> (StepReport, Option<StepError>) {
        let mut outputs = done.outputs.clone();
        let mut withheld = done.withheld.clone();
        if let StepKind::Prompt(prompt) = &step.kind {
            let to_ask: Vec<_> = prompt
                .answers
                .iter()
                .filter(|a| withheld.contains(&a.name))
                .cloned()
                .collect();
            for answer in &to_ask {
                let context = PromptContext {
                    step_id: step.id.clone(),
                    step_name: format!("{} (again: the journal keeps no secrets)", step.name),
                    // The answer set of the run being restored, asked again, not a new one.
                    occurrence: self
                        .prompt_counts
                        .get(&step.id)
                        .copied()
                        .unwrap_or(1)
                        .max(1),
                };
                let spec = answer.clone();
                let asked = steps::prompt::ask(&self.engine.prompter, move |prompter| {
                    let rules = spec.clone();
                    prompter.answer(&context, &spec, &move |text: &str| {
                        steps::prompt::validate(&rules, text)
                    })
                })
                .await;
                match asked {
                    Ok(text) => {
                        self.context.redactor.add(&text);
                        outputs.insert(answer.name.clone(), Value::String(text));
                        withheld.retain(|name| *name != answer.name);
                    }
                    Err(error) => {
                        let started = Instant::now();
                        return self.failed(step, at, report, error, started);
                    }
                }
            }
        }
        self.restore_state(&step.id, &withheld, &done);
        if let (Some(started_at), Some(finished_at)) = (done.started_at, done.finished_at) {
            report.started_at = Some(started_at.to_string());
            report.finished_at = Some(finished_at.to_string());
        }
        if let StepKind::Group(group) = &step.kind {
            self.restore_quietly(&group.steps);
            self.restore_quietly(&group.finally);
        }
        report.outcome = if done.skipped {
            self.context
                .steps
                .insert(step.id.clone(), StepState::Skipped);
            StepOutcome::Skipped
        } else {
            self.context
                .steps
                .insert(step.id.clone(), StepState::Completed(outputs.clone()));
            StepOutcome::Passed
        };
        report.outputs = outputs
            .iter()
            .map(|(name, value)| (name.clone(), self.context.redactor.redact_value(value)))
            .collect();
        report.note = Some("completed before the run was interrupted; not repeated".into());
        self.observer.step_finished(step, at, &report);
        (report, None)
    }

    /// Puts the journaled state of a completed group's steps back, without reports.
    fn restore_quietly(&mut self, steps: &[Step]) {
        let Some(plan) = self.engine.options.resume.as_ref() else {
            return;
        };
        for step in steps {
            if let Some(done) = plan.completed.get(&step.id) {
                let state = if done.skipped {
                    StepState::Skipped
                } else {
                    StepState::Completed(done.outputs.clone())
                };
                self.context.steps.insert(step.id.clone(), state);
                self.restore_state(&step.id, &done.withheld, done);
                self.resume_visited.insert(step.id.clone());
                // What it did still needs undoing if the run fails later.
                if !done.skipped {
                    if !step.rollback.is_empty() {
                        self.compensations.push(Compensation {
                            steps: step.rollback.clone(),
                        });
                    }
                    if step.irreversible && !self.irreversible_done.contains(&step.id) {
                        self.irreversible_done.push(step.id.clone());
                    }
                }
            }
            if let StepKind::Group(group) = &step.kind {
                self.restore_quietly(&group.steps);
                self.restore_quietly(&group.finally);
            }
        }
    }

    /// Puts a completed step's withheld outputs and times back into the context.
    fn restore_state(&mut self, step_id: &str, withheld: &[String], done: &CompletedStep) {
        for name in withheld {
            self.context
                .withheld
                .insert((step_id.to_owned(), name.clone()));
        }
        if let (Some(started_at), Some(finished_at)) = (done.started_at, done.finished_at) {
            self.context.times.insert(
                step_id.to_owned(),
                StepTimes {
                    started_at,
                    finished_at,
                },
            );
        }
    }

    /// A step that was running when the earlier session ended: re-run it or not, by its policy or
    /// the operator's choice. `Ok(true)` means re-run.
    async fn in_doubt(&mut self, step: &Step) -> Result<bool, StepError> {
        if let Some(dir) = &self.engine.options.process_dir
            && let Some(pgid) = crate::processes::still_running(dir, &step.id)
        {
            return Err(StepError::new(
                StepErrorKind::Process,
                format!(
                    "the command of step `{}` from the earlier session is still running (process \
                     group {pgid}); starting it again could do its work twice. Wait for it to \
                     finish (or stop it: kill -- -{pgid}), then resume again",
                    step.id
                ),
            ));
        }
        match step.resume {
            ResumePolicy::Rerun => Ok(true),
            ResumePolicy::Never => Ok(false),
            ResumePolicy::Ask => {
                let question = format!(
                    "step `{}` was running when the earlier session ended; whether it took effect is \
                     unknown.\nre-run it, skip it (treat it as done), or abort?",
                    step.name
                );
                match self
                    .decide(
                        step,
                        question,
                        &[Decision::Retry, Decision::Skip, Decision::Abort],
                    )
                    .await
                {
                    Ok(Decision::Retry) => Ok(true),
                    Ok(Decision::Skip) => Ok(false),
                    Err(reason) => Err(StepError::new(
                        StepErrorKind::Prompt,
                        format!("no decision about the interrupted step was available: {reason}"),
                    )),
                    Ok(Decision::Abort) => Err(StepError::new(
                        StepErrorKind::Declined,
                        "the operator chose to abort rather than decide about the interrupted step",
                    )),
                }
            }
        }
    }

    fn next_occurrence(&mut self, step_id: &str) -> u32 {
        let count = self.prompt_counts.entry(step_id.to_owned()).or_insert(0);
        *count += 1;
        *count
    }

    fn failed(
        &mut self,
        step: &Step,
        at: &Position,
        mut report: StepReport,
        error: StepError,
        started: Instant,
    ) -> (StepReport, Option<StepError>) {
        if let Some(outputs) = &error.outputs {
            for (name, value) in outputs {
                let shown = self.context.redactor.redact_value(value);
                if shown != *value {
                    report.secret_outputs.push(name.clone());
                }
                report.outputs.insert(name.clone(), shown);
            }
        }
        self.context
            .steps
            .insert(step.id.clone(), StepState::Failed(error.outputs.clone()));
        let error = error.map_message(|message| self.context.redactor.redact(message));
        report.outcome = StepOutcome::Failed;
        report.error = Some(error.clone());
        report.duration_ms = millis(started.elapsed());
        self.observer.step_finished(step, at, &report);
        (report, Some(error))
    }

    /// A leaf step with its retries and its `until` polling. Returns the result and the number of
    /// attempts made.
    async fn attempts(
        &mut self,
        step: &Step,
        at: &Position,
    ) -> (Result<Map<String, Value>, StepError>, u32) {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        let mut retry_delay = step.retry.as_ref().map(|retry| retry.delay);
        let poll = match &step.until {
            Some(until) => match resolve_poll(until, &self.context) {
                Ok(poll) => Some(poll),
                Err(error) => return (Err(error), 0),
            },
            None => None,
        };
        let mut poll_interval = poll.map(|poll| poll.interval);
        let mut last_error: Option<StepError> = None;
        loop {
            attempt += 1;
            let result = self.attempt_once(step, at).await;
            let result = match result {
                Err(error) if error.kind == StepErrorKind::Interrupted => {
                    return (Err(error), attempt);
                }
                other => other,
            };
            // A wait: keep polling until the condition holds, failing closed at its timeout.
            if let Some(until) = &step.until {
                let observed = match &result {
                    Ok(outputs) => {
                        let scope = Scope::with_own(&self.context, outputs);
                        match evaluate(&until.condition, scope) {
                            Ok(Verdict::Holds) => return (result, attempt),
                            Ok(Verdict::Fails(why)) => last_observed(&why),
                            Err(error) => error.to_string(),
                        }
                    }
                    Err(error) => {
                        last_error = Some(error.clone());
                        format!("error: {}", first_line(&error.message))
                    }
                };
                let observed = self.context.redactor.redact(&observed);
                let elapsed = started.elapsed();
                let Some(poll) = poll else {
                    return (
                        Err(StepError::new(
                            StepErrorKind::Render,
                            "internal: no poll settings",
                        )),
                        attempt,
                    );
                };
                let interval = poll_interval.unwrap_or(poll.interval);
                // Poll up to the deadline: the last wait is cut short so one final attempt happens
                // at the timeout, not an interval before it.
                if elapsed >= poll.timeout {
                    let mut message = format!(
                        "the condition did not hold within {} ({attempt} attempts); last observed: {observed}",
                        crate::steps::humanize_duration(poll.timeout)
                    );
                    if let Some(author) = &until.condition.message {
                        let author =
                            crate::render::render_string(author, Scope::new(&self.context))
                                .unwrap_or_else(|_| author.source.clone());
                        message = format!("{}: {message}", self.context.redactor.redact(&author));
                    }
                    if let Some(error) = &last_error {
                        message
                            .push_str(&format!("\n  last error: {}", first_line(&error.message)));
                    }
                    return (
                        Err(StepError::new(StepErrorKind::Timeout, message)),
                        attempt,
                    );
                }
                self.observer.step_progress(
                    step,
                    &format!(
                        "waiting: attempt {attempt}, {:.1}s, last observed: {observed}",
                        elapsed.as_secs_f64()
                    ),
                );
                let wait = interval.min(poll.timeout.saturating_sub(elapsed));
                if !self.sleep(at, wait).await {
                    return (Err(interrupted()), attempt);
                }
                poll_interval = Some(next_interval(interval, until.backoff, poll.max_interval));
                continue;
            }
            let error = match result {
                Ok(outputs) => return (Ok(outputs), attempt),
                Err(error) => error,
            };
            let Some(retry) = &step.retry else {
                return (Err(error), attempt);
            };
            if attempt >= retry.attempts || !retryable(&error, &retry.on) {
                return (Err(error), attempt);
            }
            let base = retry_delay.unwrap_or(retry.delay);
            let wait = error.retry_after.unwrap_or(base).min(retry.max_delay);
            let message = self.context.redactor.redact(first_line(&error.message));
            self.observer.step_progress(
                step,
                &format!(
                    "attempt {attempt} of {} failed ({message}); retrying in {}",
                    retry.attempts,
                    crate::steps::humanize_duration(wait)
                ),
            );
            if !self.sleep(at, wait).await {
                return (Err(interrupted()), attempt);
            }
            retry_delay = Some(next_interval(base, retry.backoff, retry.max_delay));
        }
    }

    /// One execution of a leaf step, cancelled by Ctrl-C in the main phase.
    async fn attempt_once(
        &mut self,
        step: &Step,
        at: &Position,
    ) -> Result<Map<String, Value>, StepError> {
        let occurrence = if matches!(step.kind, StepKind::Prompt(_)) {
            self.next_occurrence(&step.id)
        } else {
            1
        };
        let mut env = StepEnv {
            context: &self.context,
            http: &self.engine.http,
            prompter: &self.engine.prompter,
            occurrence,
            audit: self.engine.options.audit.as_ref(),
            plugins: self.engine.options.plugins.as_deref(),
            process_note: self
                .engine
                .options
                .process_dir
                .as_ref()
                .map(|dir| crate::processes::note_path(dir, &step.id)),
            new_secrets: Default::default(),
        };
        // The executors bound their own I/O; this outer bound also covers rendering and prompts are
        // exempt (a person may take a while).
        let limit = match step.kind {
            StepKind::Prompt(_) => None,
            _ => step
                .timeout
                .map(|timeout| timeout + Duration::from_millis(250)),
        };
        let interrupt = self.engine.options.interrupt.clone();
        let cancellable = at.cancellable();
        let work = async {
            match limit {
                Some(limit) => {
                    match tokio::time::timeout(limit, steps::execute(step, &mut env)).await {
                        Ok(result) => result,
                        Err(_) => Err(StepError::new(
                            StepErrorKind::Timeout,
                            format!(
                                "step did not finish within {}",
                                crate::steps::humanize_duration(limit)
                            ),
                        )),
                    }
                }
                None => steps::execute(step, &mut env).await,
            }
        };
        let result = tokio::select! {
            result = work => result,
            _ = interrupt.wait(), if cancellable => Err(interrupted()),
        };
        let new_secrets = std::mem::take(&mut env.new_secrets);
        self.context.redactor.merge(&new_secrets);
        result
    }

    /// Sleeps, unless Ctrl-C comes first (main phase). Returns false when interrupted.
    async fn sleep(&self, at: &Position, duration: Duration) -> bool {
        if !at.cancellable() {
            tokio::time::sleep(duration).await;
            return true;
        }
        let interrupt = self.engine.options.interrupt.clone();
        tokio::select! {
            _ = tokio::time::sleep(duration) => true,
            _ = interrupt.wait() => false,
        }
    }

    /// A group: its steps, then its `finally` (always), repeated while the operator chooses to retry
    /// and attempts remain. Returns the result and the attempts made.
    async fn run_group(
        &mut self,
        step: &Step,
        group: &GroupStep,
        at: &Position,
    ) -> (Result<(), StepError>, u32) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                self.observer.step_progress(
                    step,
                    &format!("attempt {attempt} of {}", group.max_attempts),
                );
            }
            let result = self.run_list(&group.steps, at.phase, at.depth + 1).await;
            let finally_passed = if group.finally.is_empty() {
                true
            } else {
                let mut passed = true;
                for (index, cleanup) in group.finally.iter().enumerate() {
                    let cleanup_at = Position {
                        phase: at.phase,
                        depth: at.depth + 1,
                        index: index + 1,
                        total: group.finally.len(),
                        cleanup: true,
                    };
                    // Group cleanup runs even after Ctrl-C: it exists to leave things safe.
                    let (report, _) = self.execute(cleanup, &cleanup_at).await;
                    passed &= report.outcome != StepOutcome::Failed;
                    self.reports.push(report);
                }
                passed
            };
            let failed_step = match result {
                Ok(()) if finally_passed => return (Ok(()), attempt),
                Ok(()) => {
                    return (
                        Err(StepError::new(
                            StepErrorKind::UnexpectedResult,
                            "a `finally` step of the group failed",
                        )),
                        attempt,
                    );
                }
                Err(Stop::Interrupted) => return (Err(interrupted()), attempt),
                Err(Stop::Failed { step }) => step,
            };
            // The group fails the way its step did (an assertion stays an assertion).
            let kind = self
                .reports
                .iter()
                .rev()
                .find(|report| report.id == failed_step)
                .and_then(|report| report.error.as_ref())
                .map_or(StepErrorKind::UnexpectedResult, |error| error.kind);
            let failure = StepError::new(
                kind,
                format!(
                    "step `{failed_step}` failed (attempt {attempt} of {})",
                    group.max_attempts
                ),
            );
            if self.fatal {
                let message = format!("{}; it stops the run (no repeat)", failure.message);
                return (Err(StepError::new(kind, message)), attempt);
            }
            if attempt >= group.max_attempts || self.interrupted() {
                return (Err(failure), attempt);
            }
            let question = format!(
                "`{}`: step `{failed_step}` failed (attempt {attempt} of {}).\nrepeat the group, or abort?",
                step.name, group.max_attempts
            );
            match self
                .decide(step, question, &[Decision::Retry, Decision::Abort])
                .await
            {
                Ok(Decision::Retry) => continue,
                Err(reason) => {
                    return (
                        Err(failure.map_message(|m| {
                            format!("{m}; no decision was available ({reason}), so the run stops")
                        })),
                        attempt,
                    );
                }
                Ok(_) => {
                    return (
                        Err(failure.map_message(|m| format!("{m}; the operator chose to abort"))),
                        attempt,
                    );
                }
            }
        }
    }
}

/// A wait's interval, timeout and interval cap, rendered when they are templates.
#[derive(Debug, Clone, Copy)]
struct Poll {
    interval: Duration,
    timeout: Duration,
    max_interval: Duration,
}

fn resolve_poll(until: &runbook_dsl::Until, context: &RunContext) -> Result<Poll, StepError> {
    let resolve = |value: &DurationValue, what: &str| match value {
        DurationValue::Fixed(duration) => Ok(*duration),
        DurationValue::Template(template) => {
            let text = crate::render::render_string(template, Scope::new(context))?;
            runbook_dsl::duration::parse_duration(&text).map_err(|message| {
                StepError::new(StepErrorKind::Render, format!("poll {what}: {message}"))
            })
        }
    };
    let interval = resolve(&until.interval, "interval")?;
    if interval.is_zero() {
        return Err(StepError::new(
            StepErrorKind::Render,
            "poll interval: must be more than zero",
        ));
    }
    Ok(Poll {
        interval,
        timeout: resolve(&until.timeout, "timeout")?,
        max_interval: resolve(&until.max_interval, "max_interval")?,
    })
}

fn interrupted() -> StepError {
    StepError::new(StepErrorKind::Interrupted, "interrupted (Ctrl-C)")
}

/// Whether a failure is one the retry policy covers.
fn retryable(error: &StepError, on: &[RetryOn]) -> bool {
    on.iter().any(|class| match class {
        RetryOn::Transport => error.kind == StepErrorKind::Transport,
        RetryOn::Timeout => error.kind == StepErrorKind::Timeout,
        RetryOn::Status(code) => error.status == Some(*code),
        RetryOn::ClientErrors => error.status.is_some_and(|s| (400..500).contains(&s)),
        RetryOn::ServerErrors => error.status.is_some_and(|s| (500..600).contains(&s)),
        RetryOn::Exit => error.kind == StepErrorKind::UnexpectedResult && error.status.is_none(),
    })
}

fn next_interval(current: Duration, factor: f64, max: Duration) -> Duration {
    Duration::from_secs_f64((current.as_secs_f64() * factor).min(max.as_secs_f64()))
}

/// The "actual: ..." part of a failed condition: what the wait last saw.
fn last_observed(why: &str) -> String {
    why.lines()
        .find_map(|line| line.trim().strip_prefix("actual: "))
        .map(|actual| actual.split(" from ").next().unwrap_or(actual).to_owned())
        .unwrap_or_else(|| first_line(why).to_owned())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn new_report(step: &Step, phase: Phase, outcome: StepOutcome) -> StepReport {
    StepReport {
        id: step.id.clone(),
        name: step.name.clone(),
        kind: step.kind.keyword(),
        phase,
        outcome,
        duration_ms: 0,
        attempts: 0,
        irreversible: step.irreversible,
        outputs: Map::new(),
        secret_outputs: Vec::new(),
        started_at: None,
        finished_at: None,
        error: None,
        note: None,
    }
}

/// Reports for main-list steps (at any depth) that never started.
pub(crate) fn not_run(steps: &[Step], reports: &[StepReport]) -> Vec<StepReport> {
    let mut missing = Vec::new();
    collect_not_run(steps, reports, &mut missing);
    missing
}

fn collect_not_run(steps: &[Step], reports: &[StepReport], out: &mut Vec<StepReport>) {
    for step in steps {
        if !reports.iter().any(|report| report.id == step.id) {
            out.push(new_report(step, Phase::Main, StepOutcome::NotRun));
        }
        // The steps of a group whose `when` did not hold were skipped with it, not left undone.
        let group_skipped = reports
            .iter()
            .any(|report| report.id == step.id && report.outcome == StepOutcome::Skipped);
        if let StepKind::Group(group) = &step.kind
            && !group_skipped
        {
            collect_not_run(&group.steps, reports, out);
            collect_not_run(&group.finally, reports, out);
        }
    }
}
