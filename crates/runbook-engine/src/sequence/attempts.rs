//! A leaf step's attempts: its `retry` policy for failures, and its `until` polling (a wait that
//! fails closed at its timeout). Every wait is cut short by Ctrl-C in the main phase.

use std::time::Duration;

use serde_json::{Map, Value};

use runbook_dsl::duration::format_duration;
use runbook_dsl::{Action, DurationValue, RetryOn, Step, Until};

use super::Run;
use crate::context::{RunContext, Scope};
use crate::error::{StepError, StepErrorKind};
use crate::observer::{Position, Progress};
use crate::predicate::{Verdict, evaluate};
use crate::steps::{self, StepEnv};

type Outputs = Result<Map<String, Value>, StepError>;

/// A wait's interval, timeout and interval cap, rendered when they are templates.
#[derive(Debug, Clone, Copy)]
struct Poll {
    interval: Duration,
    timeout: Duration,
    max_interval: Duration,
}

/// What one poll saw when its condition did not hold.
enum Observed {
    Holds,
    Not(String),
}

impl Run<'_, '_> {
    /// A leaf step with its retries and its `until` polling. Returns the result and the number of
    /// attempts made.
    pub(super) async fn attempts(
        &mut self,
        step: &Step,
        action: &Action,
        at: &Position,
    ) -> (Outputs, u32) {
        let started = self.engine.options.clock.moment();
        let poll = match &step.until {
            Some(until) => match resolve_poll(until, &self.context) {
                Ok(poll) => Some((until, poll)),
                Err(error) => return (Err(error), 0),
            },
            None => None,
        };
        let mut poll_interval = poll.map(|(_, poll)| poll.interval);
        let mut retry_delay = step.retry.as_ref().map(|retry| retry.delay);
        let mut last_error: Option<StepError> = None;
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            let result = self.attempt_once(step, action, at).await;
            if let Err(error) = &result
                && error.kind == StepErrorKind::Interrupted
            {
                return (result, attempt);
            }
            if let Some((until, poll)) = poll {
                let observed = match self.observe(until, &result) {
                    Observed::Holds => return (result, attempt),
                    Observed::Not(observed) => observed,
                };
                if let Err(error) = result {
                    last_error = Some(error);
                }
                let elapsed = started.elapsed();
                if elapsed >= poll.timeout {
                    let error = self.wait_timed_out(until, poll, attempt, &observed, &last_error);
                    return (Err(error), attempt);
                }
                let interval = poll_interval.unwrap_or(poll.interval);
                crate::trace::poll(
                    &step.id,
                    attempt,
                    elapsed,
                    &observed,
                    &self.context.redactor,
                );
                let progress = Progress::Waiting {
                    attempt,
                    elapsed,
                    observed,
                };
                self.observer.step_progress(step, &progress);
                // The last wait is cut short so one final attempt happens at the timeout, not an
                // interval before it.
                let wait = interval.min(poll.timeout.saturating_sub(elapsed));
                if !self.sleep(at, wait).await {
                    return (Err(interrupted(&self.engine.options.interrupt)), attempt);
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
            crate::trace::retry(
                &step.id,
                attempt,
                retry.attempts,
                first_line(&error.message),
                wait,
                &self.context.redactor,
            );
            let progress = Progress::Retrying {
                attempt,
                of: retry.attempts,
                error: self.context.redactor.redact(first_line(&error.message)),
                wait,
            };
            self.observer.step_progress(step, &progress);
            if !self.sleep(at, wait).await {
                return (Err(interrupted(&self.engine.options.interrupt)), attempt);
            }
            retry_delay = Some(next_interval(base, retry.backoff, retry.max_delay));
        }
    }

    /// Whether a poll's condition holds for this attempt's result, and if not, what it saw.
    fn observe(&self, until: &Until, result: &Outputs) -> Observed {
        let observed = match result {
            Ok(outputs) => {
                match evaluate(&until.condition, Scope::with_own(&self.context, outputs)) {
                    Ok(Verdict::Holds) => return Observed::Holds,
                    Ok(Verdict::Fails(failure)) => failure.observed(),
                    Err(error) => error.to_string(),
                }
            }
            Err(error) => format!("error: {}", first_line(&error.message)),
        };
        Observed::Not(self.context.redactor.redact(&observed))
    }

    fn wait_timed_out(
        &self,
        until: &Until,
        poll: Poll,
        attempt: u32,
        observed: &str,
        last_error: &Option<StepError>,
    ) -> StepError {
        let mut message = format!(
            "the condition did not hold within {} ({attempt} attempts); last observed: {observed}",
            format_duration(poll.timeout)
        );
        if let Some(author) = &until.condition.message {
            let author = crate::render::render_string(author, Scope::new(&self.context))
                .unwrap_or_else(|_| author.source.clone());
            message = format!("{}: {message}", self.context.redactor.redact(&author));
        }
        if let Some(error) = last_error {
            message.push_str(&format!("\n  last error: {}", first_line(&error.message)));
        }
        StepError::new(StepErrorKind::Timeout, message)
    }

    /// One execution of a leaf step, cancelled by Ctrl-C in the main phase.
    async fn attempt_once(&mut self, step: &Step, action: &Action, at: &Position) -> Outputs {
        let prompts = action.prompt().is_some();
        let occurrence = if prompts {
            self.next_occurrence(&step.id)
        } else {
            1
        };
        let mut env = StepEnv {
            context: &self.context,
            http: self.engine.http.as_ref(),
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
            files_dir: self.engine.options.files_dir.as_deref(),
            run_dir: self.engine.options.run_dir.as_deref(),
            die_with_runbook: self.engine.options.commands_die_with_runbook,
            shell: &self.shell,
            commands: self.engine.options.commands.as_ref(),
            note: None,
            new_secrets: Default::default(),
            readers: Some(crate::references::OutputReaders::new(
                &self.references,
                step,
            )),
            stand_ins: Vec::new(),
        };
        // The executors bound their own I/O; this outer bound also covers rendering. Prompts are
        // exempt (a person may take a while).
        let limit = match (prompts, step.timeout) {
            (false, Some(timeout)) => Some(timeout.saturating_add(Duration::from_millis(250))),
            (true, _) | (false, None) => None,
        };
        let interrupt = self.engine.options.interrupt.clone();
        let cancellable = at.cancellable();
        let work = async {
            let Some(limit) = limit else {
                return steps::execute(step, action, &mut env).await;
            };
            match tokio::time::timeout(limit, steps::execute(step, action, &mut env)).await {
                Ok(result) => result,
                Err(_) => Err(StepError::new(
                    StepErrorKind::Timeout,
                    format!("step did not finish within {}", format_duration(limit)),
                )),
            }
        };
        // Traces of the requests and commands of this attempt say which step they belong to.
        let work = tracing::Instrument::instrument(work, crate::trace::step_span(&step.id));
        let result = tokio::select! {
            result = work => result,
            _ = interrupt.wait(), if cancellable => Err(interrupted(&interrupt)),
        };
        let new_secrets = std::mem::take(&mut env.new_secrets);
        let note = env.note.take();
        let stand_ins = std::mem::take(&mut env.stand_ins);
        self.context.redactor.merge(&new_secrets);
        self.step_note = note;
        self.step_stand_ins = stand_ins;
        result
    }

    fn next_occurrence(&mut self, step_id: &str) -> u32 {
        let count = self.prompt_counts.entry(step_id.to_owned()).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }

    /// Sleeps, unless Ctrl-C comes first (main phase). Returns false when interrupted.
    pub(super) async fn sleep(&self, at: &Position, duration: Duration) -> bool {
        let clock = &self.engine.options.clock;
        if !at.cancellable() {
            clock.sleep(duration).await;
            return true;
        }
        let interrupt = self.engine.options.interrupt.clone();
        tokio::select! {
            _ = clock.sleep(duration) => true,
            _ = interrupt.wait() => false,
        }
    }
}

fn resolve_poll(until: &Until, context: &RunContext) -> Result<Poll, StepError> {
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

pub(super) fn interrupted(interrupt: &crate::interrupt::Interrupt) -> StepError {
    StepError::new(StepErrorKind::Interrupted, interrupt.describe())
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

/// The next interval of a backoff: `current * factor`, capped at `max`. Never panics, whatever the
/// durations and factor (a huge or non-finite product is capped; a negative or NaN one keeps
/// `current`).
pub(super) fn next_interval(current: Duration, factor: f64, max: Duration) -> Duration {
    let next = current.as_secs_f64() * factor;
    if next.is_nan() || next < 0.0 {
        return current.min(max);
    }
    Duration::try_from_secs_f64(next).map_or(max, |next| next.min(max))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_never_panics_and_stays_under_its_cap() {
        let max = Duration::from_secs(60);
        let huge = Duration::from_secs(u64::MAX);
        assert_eq!(next_interval(huge, 2.0, max), max);
        assert_eq!(next_interval(huge, 2.0, huge), huge);
        assert_eq!(
            next_interval(Duration::from_secs(1), f64::INFINITY, max),
            max
        );
        assert_eq!(
            next_interval(Duration::from_secs(1), f64::NAN, max),
            Duration::from_secs(1)
        );
        assert_eq!(
            next_interval(Duration::from_secs(1), -3.0, max),
            Duration::from_secs(1)
        );
        assert_eq!(
            next_interval(Duration::from_secs(2), 1.5, max),
            Duration::from_secs(3)
        );
    }
}
