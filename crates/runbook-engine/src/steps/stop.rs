//! `stop` steps: end the run as failed with the author's message ("STOP: wrong environment"). The
//! failure has its own kind, [`StepErrorKind::Stopped`]; the sequencer lets no `on_error`, retry
//! or group repeat override it.

use serde_json::{Map, Value};

use runbook_dsl::StopStep;

use super::StepEnv;
use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::render::render_string;

/// Always an error. A message that does not render still stops the run: the template as written,
/// and why it did not render.
pub(super) fn execute(step: &StopStep, env: &StepEnv<'_>) -> Result<Map<String, Value>, StepError> {
    let message = match render_string(&step.message, Scope::new(env.context)) {
        Ok(message) => message,
        Err(error) => format!("{} ({error})", step.message.source),
    };
    Err(StepError::new(StepErrorKind::Stopped, message).at(step.message.span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RunContext;
    use runbook_dsl::source::Span;
    use runbook_dsl::template::{Part, RefPath, Reference, Template};

    #[test]
    fn a_stop_fails_with_its_message_even_when_it_does_not_render() {
        let context = RunContext::default();
        let env = super::super::tests_support::env(&context);
        let plain = StopStep {
            message: Template::literal("STOP: wrong environment", Span::UNKNOWN),
        };
        let error = execute(&plain, &env).err();
        assert_eq!(
            error.as_ref().map(|e| (e.kind, e.message.as_str())),
            Some((StepErrorKind::Stopped, "STOP: wrong environment"))
        );
        let broken = StopStep {
            message: Template {
                source: "STOP: {{env.NOPE}}".into(),
                parts: vec![Part::Ref(Reference {
                    path: RefPath::Env {
                        name: "NOPE".into(),
                    },
                    text: "env.NOPE".into(),
                    span: Span::UNKNOWN,
                })],
                span: Span::UNKNOWN,
            },
        };
        let error = execute(&broken, &env).err();
        assert_eq!(error.as_ref().map(|e| e.kind), Some(StepErrorKind::Stopped));
        assert!(
            error.is_some_and(|e| e.message.starts_with("STOP: {{env.NOPE}} (")),
            "the message keeps the template as written"
        );
    }
}
