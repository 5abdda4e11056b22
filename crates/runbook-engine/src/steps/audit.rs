//! `audit` steps: a structured event, with durations between step events computed by the engine.

use serde_json::{Map, Value};

use runbook_dsl::{AuditStep, StepEvent};

use super::StepEnv;
use crate::audit::AuditRecord;
use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::render::{render_string, render_value};

pub(super) fn execute(
    step: &AuditStep,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let scope = Scope::new(env.context);
    let action = render_string(&step.action, scope)?;
    let mut context = Map::new();
    for (name, value) in &step.context {
        context.insert(name.clone(), render_value(value, scope)?);
    }
    for (name, from, to) in &step.durations {
        let seconds = seconds_between(env, from, to)?;
        context.insert(name.clone(), Value::from(seconds));
    }
    // Secrets are masked before the event leaves the process.
    let context = env.context.redactor.redact_value(&Value::Object(context));
    let record = AuditRecord::Event {
        action: env.context.redactor.redact(&action),
        context,
    };
    let event = match env.audit {
        Some(audit) => audit
            .lock()
            .map_err(|_| StepError::new(StepErrorKind::Process, "the audit log is unavailable"))?
            .record(&record)
            .map_err(|error| StepError::new(StepErrorKind::Process, error.to_string()))?,
        None => {
            return Err(StepError::new(
                StepErrorKind::Process,
                "no audit log is configured for this run",
            ));
        }
    };
    let mut outputs = Map::new();
    outputs.insert("event".into(), event);
    Ok(outputs)
}

/// Seconds (to the millisecond) from one step event to another.
fn seconds_between(env: &StepEnv<'_>, from: &StepEvent, to: &StepEvent) -> Result<f64, StepError> {
    let moment = |event: &StepEvent| {
        let times = env.context.times.get(&event.step).ok_or_else(|| {
            StepError::new(
                StepErrorKind::Render,
                format!("step `{}` has not run, so its time is unknown", event.step),
            )
        })?;
        Ok::<_, StepError>(if event.finished {
            times.finished_at
        } else {
            times.started_at
        })
    };
    let millis = (moment(to)? - moment(from)?).as_millis();
    Ok((millis as f64) / 1000.0)
}
