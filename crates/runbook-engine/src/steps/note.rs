//! `note` steps: text for the operator, shown and recorded with secrets masked. A note cannot fail
//! the run: a message that does not render becomes a warning (the sequencer makes its outcome
//! `warned` whatever its `on_error`).

use serde_json::{Map, Value};

use runbook_dsl::NoteStep;

use super::StepEnv;
use crate::context::Scope;
use crate::error::StepError;
use crate::render::render_string;

/// The note's one output, `message`: the rendered text (masked like every output).
pub(super) fn execute(step: &NoteStep, env: &StepEnv<'_>) -> Result<Map<String, Value>, StepError> {
    let message = render_string(&step.message, Scope::new(env.context))
        .map_err(|error| StepError::from(error).at(step.message.span))?;
    let mut outputs = Map::new();
    outputs.insert("message".into(), Value::String(message));
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RunContext;
    use crate::error::StepErrorKind;
    use runbook_dsl::source::Span;
    use runbook_dsl::template::{Part, RefPath, Reference, Template};

    fn env_for(context: &RunContext) -> StepEnv<'_> {
        super::super::tests_support::env(context)
    }

    fn template(parts: Vec<Part>) -> Template {
        Template {
            source: String::new(),
            parts,
            span: Span::UNKNOWN,
        }
    }

    #[test]
    fn a_note_renders_its_message() {
        let mut context = RunContext::default();
        context
            .inputs
            .insert("who".into(), Value::String("ops".into()));
        let note = NoteStep {
            message: template(vec![
                Part::Literal("tell ".into()),
                Part::Ref(Reference {
                    path: RefPath::Input {
                        name: "who".into(),
                        rest: Vec::new(),
                    },
                    text: "inputs.who".into(),
                    span: Span::UNKNOWN,
                }),
            ]),
        };
        let outputs = execute(&note, &env_for(&context)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            outputs.get("message"),
            Some(&Value::String("tell ops".into()))
        );
    }

    #[test]
    fn a_note_that_does_not_render_is_a_render_error_not_a_panic() {
        let context = RunContext::default();
        let note = NoteStep {
            message: template(vec![Part::Ref(Reference {
                path: RefPath::Env {
                    name: "NOPE".into(),
                },
                text: "env.NOPE".into(),
                span: Span::UNKNOWN,
            })]),
        };
        let error = execute(&note, &env_for(&context)).err();
        assert_eq!(error.map(|e| e.kind), Some(StepErrorKind::Render));
    }
}
