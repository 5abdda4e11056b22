//! Checks for how a step runs: `until`/`poll`, `retry`, and groups with `finally` and `repeat`.

use std::time::Duration;

use super::Checker;
use super::references::Scope;
use super::steps::Placement;
use crate::finding::{Finding, FindingCode};
use crate::model::{DurationValue, GroupStep, Retry, RetryOn, StepKind, Until};
use crate::raw::{RawGroup, RawStep};
use crate::spanned::Spanned;
use crate::suggest::did_you_mean;

impl Checker<'_> {
    /// `until` + `poll` and `retry`; both apply to http and shell steps only. `None` when a finding
    /// was reported.
    pub(super) fn check_modifiers(
        &mut self,
        scope: Scope,
        step: &RawStep,
        kind: Option<&StepKind>,
    ) -> Option<(Option<Until>, Option<Retry>)> {
        let repeatable = kind.is_none_or(|kind| kind.action().is_some_and(crate::Action::can_poll));
        let keyword = kind.map_or("this", StepKind::keyword);
        let mut ok = true;

        let until = match (&step.until, &step.poll) {
            (None, None) => None,
            (Some(until), None) => {
                let span = self.key_span(self.span(until), "until");
                self.report(
                    Finding::error(FindingCode::UntilWithoutPoll, span, "`until` needs `poll`")
                        .with_label("how often, and for how long?")
                        .with_help("add `poll: {interval: 2s, timeout: 90s}` to the step"),
                );
                ok = false;
                None
            }
            (None, Some(poll)) => {
                let span = self.key_span(self.span(poll), "poll");
                self.report(
                    Finding::error(
                        FindingCode::PollWithoutUntil,
                        span,
                        "`poll` without `until`",
                    )
                    .with_label("poll until what?")
                    .with_help("add `until:` with the condition that ends the wait"),
                );
                ok = false;
                None
            }
            (Some(until), Some(poll)) => {
                if !repeatable {
                    let span = self.key_span(self.span(until), "until");
                    self.report(
                        Finding::error(
                            FindingCode::NotRepeatable,
                            span,
                            format!(
                                "`until` applies to http and shell steps, not to {keyword} steps"
                            ),
                        )
                        .with_label("cannot repeat this step"),
                    );
                    ok = false;
                }
                let own = kind.map(StepKind::outputs).unwrap_or_default();
                let condition = self.condition(
                    until,
                    Scope {
                        own_outputs: Some(&own),
                        ..scope
                    },
                );
                let interval = self.duration_value(&poll.value.interval, scope);
                let timeout = self.duration_value(&poll.value.timeout, scope);
                let max_interval = match &poll.value.max_interval {
                    Some(max) => self.duration_value(max, scope),
                    None => match &interval {
                        Some(DurationValue::Fixed(interval)) => Some(DurationValue::Fixed(
                            (*interval).max(Duration::from_secs(30)),
                        )),
                        Some(DurationValue::Template(_)) => {
                            Some(DurationValue::Fixed(Duration::from_secs(30)))
                        }
                        None => None,
                    },
                };
                let backoff = self.factor(poll.value.backoff.as_ref(), 1.0);
                match (condition, interval, timeout, max_interval, backoff) {
                    (
                        Some(condition),
                        Some(interval),
                        Some(timeout),
                        Some(max_interval),
                        Some(backoff),
                    ) => {
                        if matches!(interval, DurationValue::Fixed(d) if d.is_zero()) {
                            let span = self.span(&poll.value.interval);
                            self.report(
                                Finding::error(
                                    FindingCode::InvalidDuration,
                                    span,
                                    "the poll interval must be more than zero",
                                )
                                .with_label("would poll in a busy loop"),
                            );
                            ok = false;
                        }
                        Some(Until {
                            condition,
                            interval,
                            timeout,
                            backoff,
                            max_interval,
                        })
                    }
                    _ => {
                        ok = false;
                        None
                    }
                }
            }
        };

        let retry = match &step.retry {
            None => None,
            Some(retry) => {
                let raw = &retry.value;
                if !repeatable {
                    let span = self.key_span(self.span(retry), "retry");
                    self.report(
                        Finding::error(
                            FindingCode::NotRepeatable,
                            span,
                            format!(
                                "`retry` applies to http and shell steps, not to {keyword} steps"
                            ),
                        )
                        .with_help("to let the operator retry, use `on_error: ask`"),
                    );
                    ok = false;
                }
                if raw.attempts.value == 0 {
                    let span = self.span(&raw.attempts);
                    self.report(
                        Finding::error(
                            FindingCode::ZeroAttempts,
                            span,
                            "`attempts` must be at least 1",
                        )
                        .with_label("counts the first attempt too"),
                    );
                    ok = false;
                }
                let delay = match &raw.delay {
                    Some(delay) => self.duration(delay),
                    None => Some(Duration::from_secs(1)),
                };
                let max_delay = match &raw.max_delay {
                    Some(max) => self.duration(max),
                    None => Some(Duration::from_secs(30)),
                };
                let backoff = self.factor(raw.backoff.as_ref(), 2.0);
                let on = match &raw.on {
                    None => Some(Retry::DEFAULT_ON.to_vec()),
                    Some(list) => {
                        let mut parsed = Vec::new();
                        for text in &list.value {
                            match RetryOn::parse(text) {
                                Some(on) => parsed.push(on),
                                None => {
                                    let span = self.locate_text(self.span(list), text);
                                    self.report(
                                        Finding::error(
                                            FindingCode::UnknownRetryClass,
                                            span,
                                            format!("`{text}` is not a retryable failure"),
                                        )
                                        .with_help(match did_you_mean(text, RetryOn::CLASSES) {
                                            Some(class) => format!("did you mean `{class}`?"),
                                            None => "use transport, timeout, 4xx, 5xx, exit, or a status code such as 429".to_owned(),
                                        }),
                                    );
                                }
                            }
                        }
                        (parsed.len() == list.value.len()).then_some(parsed)
                    }
                };
                match (delay, max_delay, backoff, on) {
                    (Some(delay), Some(max_delay), Some(backoff), Some(on)) => Some(Retry {
                        attempts: raw.attempts.value.max(1),
                        delay,
                        backoff,
                        max_delay,
                        on,
                    }),
                    _ => {
                        ok = false;
                        None
                    }
                }
            }
        };
        ok.then_some((until, retry))
    }

    /// A duration, or a template that renders to one at run time.
    fn duration_value(&mut self, field: &Spanned<String>, scope: Scope) -> Option<DurationValue> {
        if field.value.contains("{{") {
            let template = self.template(field, scope)?;
            // A fragment parameter bound to a literal: a duration known now, checked now.
            if let Some(text) = template.literal_text() {
                return match crate::duration::parse_duration(&text) {
                    Ok(duration) => Some(DurationValue::Fixed(duration)),
                    Err(error) => {
                        let span = self.span(field);
                        self.report(
                            Finding::error(FindingCode::InvalidDuration, span, error.to_string())
                                .with_label("not a duration"),
                        );
                        None
                    }
                };
            }
            return Some(DurationValue::Template(template));
        }
        self.duration(field).map(DurationValue::Fixed)
    }

    /// A multiplier of at least 1.
    fn factor(&mut self, field: Option<&Spanned<f64>>, default: f64) -> Option<f64> {
        match field {
            None => Some(default),
            Some(value) if value.value.is_finite() && value.value >= 1.0 && value.value <= 10.0 => {
                Some(value.value)
            }
            Some(value) => {
                let span = self.span(value);
                self.report(
                    Finding::error(
                        FindingCode::BackoffOutOfRange,
                        span,
                        format!("backoff {} is out of range", value.value),
                    )
                    .with_label("expected a number from 1 to 10"),
                );
                None
            }
        }
    }

    pub(super) fn check_group(&mut self, spanned: &Spanned<RawGroup>) -> Option<GroupStep> {
        let group = &spanned.value;
        let before = self.findings.len();
        if group.steps.is_empty() {
            let span = self.span(spanned);
            self.report(
                Finding::error(FindingCode::EmptyGroup, span, "the group has no steps")
                    .with_label("empty group"),
            );
        }
        let steps = self.check_step_list(&group.steps, Placement::Sequence);
        let finally = self.check_step_list(&group.finally, Placement::Sequence);
        // An undo runs after a failure at any later point, so, like the failure path, it may
        // refer to any step (one that did not run is a run-time error; branch on its outcome).
        self.cleanup_depth += 1;
        let undo = self.check_step_list(&group.undo, Placement::Anywhere);
        self.cleanup_depth -= 1;
        let max_attempts = match &group.repeat {
            None => 1,
            Some(repeat) if repeat.value.max_attempts.value == 0 => {
                let span = self.span(&repeat.value.max_attempts);
                self.report(
                    Finding::error(
                        FindingCode::ZeroAttempts,
                        span,
                        "`max_attempts` must be at least 1",
                    )
                    .with_label("counts the first attempt too"),
                );
                1
            }
            Some(repeat) => repeat.value.max_attempts.value,
        };
        (self.findings.len() == before).then_some(GroupStep {
            steps,
            finally,
            undo,
            max_attempts,
            fragment: None,
        })
    }
}
