//! Waits and retries measured against the runbook's own `average_duration`: a wait that can run
//! several times longer than the whole procedure usually takes keeps trading down (or a window
//! open) long after a human would have given up.
//!
//! The worst case of one step:
//! - a wait (`until` + `poll`): the poll timeout, plus one attempt (the last attempt starts at the
//!   deadline and runs up to the step's `timeout`);
//! - a `retry`: every attempt up to its `timeout`, plus the delays between them (each `delay` times
//!   `backoff` to the power of the retry, at most `max_delay`).
//!
//! A duration written as a template counts as the default of the input it names; any other
//! template (an input without a default, an output, the environment) is known only at run time, so
//! it counts as the longest duration a runbook may use (7 days). A group's operator-controlled
//! repeat is not multiplied in: each repeat is the operator's decision. Without `average_duration`
//! there is nothing to compare with, and the rule is silent.

use std::time::Duration;

use super::Facts;
use crate::duration::{MAX_DURATION, parse_duration};
use crate::finding::{Finding, FindingCode};
use crate::model::{Action, DurationValue, HttpStep, Input, Retry, ShellStep, Step, StepKind};
use crate::template::{RefPath, Template};

/// How many average durations a wait may take before it is worth a warning.
const FACTOR: u32 = 3;

pub(super) fn check(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(average) = facts
        .meta
        .average_duration
        .as_deref()
        .and_then(|text| parse_duration(text).ok())
    else {
        return findings;
    };
    let limit = average.saturating_mul(FACTOR);
    for node in &facts.index.nodes {
        let step = node.step;
        let Some(attempt) = attempt_timeout(step) else {
            continue;
        };
        // `until` takes precedence over `retry` in the engine: a failed attempt is polled again.
        if let Some(until) = &step.until {
            let (timeout, unknown) = resolve(&until.timeout, facts.inputs);
            let total = timeout.saturating_add(attempt);
            if total > limit {
                let span = node
                    .raw
                    .and_then(|raw| raw.poll.as_ref())
                    .map_or(step.span, |poll| facts.source.span(&poll.value.timeout.loc));
                findings.push(finding(span, "wait", total, average, unknown));
            }
        } else if let Some(retry) = &step.retry {
            let total = retry_total(retry, attempt);
            if total > limit {
                let span = node
                    .raw
                    .and_then(|raw| raw.retry.as_ref())
                    .map_or(step.span, |retry| {
                        facts.key_span(facts.source.span(&retry.loc), "retry")
                    });
                findings.push(finding(span, "retry", total, average, None));
            }
        }
    }
    findings
}

fn finding(
    span: crate::source::Span,
    what: &str,
    total: Duration,
    average: Duration,
    unknown: Option<&Template>,
) -> Finding {
    let message = match unknown {
        Some(template) => format!(
            "this {what}'s length comes from `{}`, unknown until the run: it can take up to {}, \
             more than {FACTOR} times the runbook's average_duration ({})",
            template.source,
            Compound(total),
            Compound(average)
        ),
        None => format!(
            "this {what} can take up to {}, more than {FACTOR} times the runbook's \
             average_duration ({})",
            Compound(total),
            Compound(average)
        ),
    };
    Finding::warning(FindingCode::LongWait, span, message)
        .with_label(format!("worst case {}", Compound(total)))
        .with_help(
            "shorten the timeout (or the attempts and delays), give a templated duration an input \
             default, or correct `average_duration` if the procedure really takes this long",
        )
}

/// A duration as hours, minutes and seconds (`30m30s`, `168h30s`): worst cases are sums, rarely a
/// whole number of one unit. Sub-second parts are rounded up.
struct Compound(Duration);

impl std::fmt::Display for Compound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
        let mut written = false;
        for (value, unit) in [(hours, "h"), (minutes, "m"), (seconds, "s")] {
            if value > 0 {
                write!(f, "{value}{unit}")?;
                written = true;
            }
        }
        if !written {
            f.write_str("0s")?;
        }
        Ok(())
    }
}

/// The longest one attempt of a repeatable step may take.
fn attempt_timeout(step: &Step) -> Option<Duration> {
    let default = match &step.kind {
        StepKind::Action(Action::Http(_)) => HttpStep::DEFAULT_TIMEOUT,
        StepKind::Action(Action::Shell(_)) => ShellStep::DEFAULT_TIMEOUT,
        StepKind::Action(
            Action::Assert(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Plugin(_)
            | Action::Note(_)
            | Action::Stop(_),
        )
        | StepKind::Group(_) => return None,
    };
    Some(step.timeout.unwrap_or(default))
}

/// Every attempt at its timeout, and the delays between them.
fn retry_total(retry: &Retry, attempt: Duration) -> Duration {
    let mut total = attempt.saturating_mul(retry.attempts);
    let mut delay = retry.delay.min(retry.max_delay);
    for _ in 1..retry.attempts {
        total = total.saturating_add(delay);
        delay = delay.mul_f64(retry.backoff).min(retry.max_delay);
        if total > MAX_DURATION {
            break;
        }
    }
    total
}

/// A duration's worst case, and the template that made it unknown.
fn resolve<'a>(value: &'a DurationValue, inputs: &[Input]) -> (Duration, Option<&'a Template>) {
    match value {
        DurationValue::Fixed(duration) => (*duration, None),
        DurationValue::Template(template) => match input_default(template, inputs) {
            Some(duration) => (duration, None),
            None => (MAX_DURATION, Some(template)),
        },
    }
}

/// The default of the input a template consists of, as a duration.
fn input_default(template: &Template, inputs: &[Input]) -> Option<Duration> {
    let reference = template.single_ref()?;
    let RefPath::Input { name, rest } = &reference.path else {
        return None;
    };
    if !rest.is_empty() {
        return None;
    }
    let input = inputs.iter().find(|input| input.name == *name)?;
    match input.default.as_ref()? {
        serde_json::Value::String(text) => parse_duration(text).ok(),
        serde_json::Value::Number(number) => parse_duration(&number.as_u64()?.to_string()).ok(),
        serde_json::Value::Null
        | serde_json::Value::Bool(_)
        | serde_json::Value::Array(_)
        | serde_json::Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_durations_read_as_written() {
        let show = |secs| Compound(Duration::from_secs(secs)).to_string();
        assert_eq!(show(1830), "30m30s");
        assert_eq!(show(604_830), "168h30s");
        assert_eq!(show(300), "5m");
        assert_eq!(show(0), "0s");
    }

    #[test]
    fn retry_total_counts_attempts_and_capped_delays() {
        let retry = Retry {
            attempts: 4,
            delay: Duration::from_secs(1),
            backoff: 2.0,
            max_delay: Duration::from_secs(3),
            on: Vec::new(),
        };
        // 4 attempts of 10s, then delays 1s + 2s + 3s (capped).
        assert_eq!(
            retry_total(&retry, Duration::from_secs(10)),
            Duration::from_secs(46)
        );
    }
}
