//! How the authoring commands (`plan`, `render`, `graph`) write a checked runbook's parts as text:
//! templates, structured values, conditions, durations, loops. One place, so the three views of a
//! runbook always agree on how a step reads.
//!
//! A template is shown either as written (`{{inputs.heroku_app}}`: the SOP and the graph, where a
//! secret appears only as its name) or resolved against the inputs known before a run (the plan):
//! known values substituted, secret inputs masked, everything only the run can know kept symbolic
//! (`<steps.snapshot.outputs.account_number>`).

use std::collections::BTreeMap;
use std::time::Duration;

use runbook_dsl::model::{Condition, ConditionKind, DurationValue, Retry, RetryOn, Until};
use runbook_dsl::template::{Part, RefPath, Template};
use runbook_dsl::{Body, ValueTemplate};
use serde_json::Value;

/// What the plan knows of one input before the run.
#[derive(Debug, Clone)]
pub enum Known {
    /// A non-secret value: from `--input`, the environment or the default.
    Value(Value),
    /// A secret input that has a value: it is never read into the plan, only its presence.
    Secret,
    /// No value yet: the run would refuse to start (or ask, for a secret at a terminal).
    Missing,
}

/// How templates are shown.
#[derive(Debug, Clone, Copy)]
pub enum Shown<'a> {
    /// As written in the file.
    AsWritten,
    /// With the inputs known before the run.
    Resolved(&'a BTreeMap<String, Known>),
}

impl Shown<'_> {
    /// The template as this view shows it.
    pub fn template(self, template: &Template) -> String {
        let known = match self {
            Shown::AsWritten => return template.source.clone(),
            Shown::Resolved(known) => known,
        };
        let mut out = String::new();
        for part in &template.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Ref(reference) => match &reference.path {
                    RefPath::Input { name, rest } if rest.is_empty() => match known.get(name) {
                        Some(Known::Value(value)) => out.push_str(&plain(value)),
                        Some(Known::Secret) => out.push_str(&format!("<secret inputs.{name}>")),
                        Some(Known::Missing) | None => {
                            out.push_str(&format!("<inputs.{name}: no value>"));
                        }
                    },
                    RefPath::Input { .. }
                    | RefPath::StepOutput { .. }
                    | RefPath::StepTiming { .. }
                    | RefPath::StepOutcome { .. }
                    | RefPath::Run { .. }
                    | RefPath::OwnOutput { .. }
                    // The environment can hold anything, secrets included: never read here.
                    | RefPath::Env { .. } => out.push_str(&format!("<{}>", reference.text)),
                },
                // Functions run at run time; their arguments may be secret.
                Part::Call(call) => out.push_str(&format!("<{}>", call.text)),
            }
        }
        out
    }

    /// A structured value (a JSON body, a query value, a condition operand) on one line.
    pub fn value(self, value: &ValueTemplate) -> String {
        match value {
            ValueTemplate::Literal(Value::String(text)) => quoted(text),
            ValueTemplate::Literal(other) => other.to_string(),
            ValueTemplate::Template(template) => quoted(&self.template(template)),
            ValueTemplate::Array(items) => {
                let items: Vec<String> = items.iter().map(|item| self.value(item)).collect();
                format!("[{}]", items.join(", "))
            }
            ValueTemplate::Object(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(key, item)| format!("{}: {}", quoted(key), self.value(item)))
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
        }
    }

    /// A request body: `json {...}` or `body "..."`.
    pub fn body(self, body: &Body) -> String {
        match body {
            Body::Json(value) => format!("json {}", self.value(value)),
            Body::Text(text) => format!("body {}", quoted(&self.template(text))),
        }
    }

    /// A condition in words: `"{{outputs.status}}" one_of [401, 403]`.
    pub fn condition(self, condition: &Condition) -> String {
        match &condition.kind {
            ConditionKind::Compare { that, op, operand } => {
                format!(
                    "{} {} {}",
                    self.value(that),
                    op.keyword(),
                    self.value(operand)
                )
            }
            ConditionKind::Matches { that, regex } => {
                format!("{} matches /{}/", self.value(that), regex.as_str())
            }
            ConditionKind::OneOf { that, options } => {
                let options: Vec<String> = options.iter().map(|o| self.value(o)).collect();
                format!("{} one_of [{}]", self.value(that), options.join(", "))
            }
            ConditionKind::Exists { that, expected } => format!(
                "{} {}",
                self.value(that),
                if *expected {
                    "exists"
                } else {
                    "does not exist"
                }
            ),
            ConditionKind::IsEmpty { that, expected } => format!(
                "{} {}",
                self.value(that),
                if *expected {
                    "is empty"
                } else {
                    "is not empty"
                }
            ),
            ConditionKind::Length { that, expected } => {
                format!("{} has length {expected}", self.value(that))
            }
            ConditionKind::All(items) => format!("all of ({})", self.conditions(items)),
            ConditionKind::Any(items) => format!("any of ({})", self.conditions(items)),
            ConditionKind::Not(inner) => format!("not ({})", self.condition(inner)),
        }
    }

    fn conditions(self, items: &[Condition]) -> String {
        let items: Vec<String> = items.iter().map(|item| self.condition(item)).collect();
        items.join("; ")
    }

    /// A duration that may be a template (`{{inputs.health_timeout}}`).
    pub fn duration(self, value: &DurationValue) -> String {
        match value {
            DurationValue::Fixed(duration) => duration_text(*duration),
            DurationValue::Template(template) => self.template(template),
        }
    }

    /// A wait: `until X, polled every 3s (x1.5, at most 15s), for up to 3m`.
    pub fn until(self, until: &Until) -> String {
        let mut interval = self.duration(&until.interval);
        if until.backoff > 1.0 {
            interval = format!(
                "{interval} (x{}, at most {})",
                until.backoff,
                self.duration(&until.max_interval)
            );
        }
        format!(
            "repeat until {}; every {interval}, for up to {}, then fail",
            self.condition(&until.condition),
            self.duration(&until.timeout)
        )
    }
}

/// A retry policy in words.
pub fn retry_text(retry: &Retry) -> String {
    let on: Vec<String> = retry.on.iter().map(|on| retry_on_text(*on)).collect();
    let mut text = format!(
        "retry: up to {} attempts, {} apart",
        retry.attempts,
        duration_text(retry.delay)
    );
    if retry.backoff > 1.0 {
        text.push_str(&format!(
            " (x{}, at most {})",
            retry.backoff,
            duration_text(retry.max_delay)
        ));
    }
    text.push_str(&format!(", on {}", on.join(", ")));
    text
}

fn retry_on_text(on: RetryOn) -> String {
    match on {
        RetryOn::Transport => "transport errors".into(),
        RetryOn::Timeout => "timeouts".into(),
        RetryOn::Status(code) => format!("status {code}"),
        RetryOn::ClientErrors => "4xx".into(),
        RetryOn::ServerErrors => "5xx".into(),
        RetryOn::Exit => "unexpected exit codes".into(),
    }
}

/// `2s`, `1m`, `1m30s`, `200ms`.
pub fn duration_text(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !millis.is_multiple_of(1000) || millis == 0 {
        return format!("{millis}ms");
    }
    let secs = duration.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// A JSON value as text: strings bare, everything else as JSON.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
            value.to_string()
        }
    }
}

fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(duration_text(Duration::from_millis(200)), "200ms");
        assert_eq!(duration_text(Duration::from_secs(2)), "2s");
        assert_eq!(duration_text(Duration::from_secs(60)), "1m");
        assert_eq!(duration_text(Duration::from_secs(90)), "1m30s");
        assert_eq!(duration_text(Duration::from_secs(7200)), "2h");
    }
}
