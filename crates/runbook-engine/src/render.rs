//! Renders parsed templates against a [`Scope`].
//!
//! Strict: an undefined name or a null value is an error, never an empty string. Single pass: a value
//! substituted into a string (or a function's result) is never parsed again, so a response cannot
//! inject a template.

mod call;

use std::borrow::Cow;

use serde_json::Value;

use runbook_dsl::ValueTemplate;
use runbook_dsl::source::Span;
use runbook_dsl::template::{
    Part, RefPath, Reference, RunField, ShellContext, Template, TimingField, shell_contexts,
};

pub(crate) use call::evaluate_call;

use crate::context::{Scope, StepState};
use crate::error::{StepError, StepErrorKind};

/// A reference with no value at run time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{{{{{reference}}}}}` {reason}")]
pub struct RenderError {
    pub reference: String,
    pub reason: String,
    /// True when the name does not resolve at all (as opposed to resolving to null).
    pub undefined: bool,
    /// The template in the runbook that holds the reference.
    pub span: Option<Span>,
}

impl RenderError {
    /// Points the error at `template`, unless it points somewhere already.
    fn within(mut self, template: &Template) -> Self {
        if self.span.is_none() && template.span != Span::UNKNOWN {
            self.span = Some(template.span);
        }
        self
    }
}

impl From<RenderError> for StepError {
    fn from(error: RenderError) -> Self {
        let span = error.span;
        let step_error = StepError::new(StepErrorKind::Render, error.to_string());
        match span {
            Some(span) => step_error.at(span),
            None => step_error,
        }
    }
}

/// The typed value a reference points at.
pub fn resolve<'s>(reference: &Reference, scope: Scope<'s>) -> Result<Cow<'s, Value>, RenderError> {
    let undefined = |reason: String| RenderError {
        reference: reference.text.clone(),
        reason,
        undefined: true,
        span: None,
    };
    let (root, rest): (Cow<'s, Value>, &[String]) = match &reference.path {
        RefPath::Input { name, rest } => match scope.run.inputs.get(name) {
            Some(value) => (Cow::Borrowed(value), rest),
            None => return Err(undefined(format!("is undefined: no input `{name}`"))),
        },
        RefPath::StepOutput { step, output, rest } => match scope.run.steps.get(step) {
            Some(StepState::Completed(outputs)) => match outputs.get(output) {
                Some(value) => (Cow::Borrowed(value), rest),
                None if scope.run.withheld.contains(&(step.clone(), output.clone())) => {
                    return Err(undefined(format!(
                        "is unavailable: it held a secret, which the journal does not keep, and step \
                         `{step}` completed before the run was resumed"
                    )));
                }
                None if scope
                    .run
                    .too_large
                    .contains(&(step.clone(), output.clone())) =>
                {
                    return Err(undefined(format!(
                        "is unavailable: it was larger than the journal keeps ({} bytes of \
                         JSON), and step `{step}` completed before the run was resumed. Start a \
                         new run to have it again",
                        crate::kept::KEPT_BYTES
                    )));
                }
                None => {
                    return Err(undefined(format!(
                        "is undefined: step `{step}` produced no output `{output}`"
                    )));
                }
            },
            Some(StepState::Skipped) => {
                return Err(undefined(format!(
                    "is undefined: step `{step}` was skipped (its `when` did not hold)"
                )));
            }
            Some(StepState::Failed(Some(outputs)) | StepState::Warned(Some(outputs))) => {
                match outputs.get(output) {
                    Some(value) => (Cow::Borrowed(value), rest),
                    None => {
                        return Err(undefined(format!(
                            "is undefined: step `{step}` failed before producing `{output}`"
                        )));
                    }
                }
            }
            Some(StepState::Failed(None)) => {
                return Err(undefined(format!("is undefined: step `{step}` failed")));
            }
            Some(StepState::Warned(None)) => {
                return Err(undefined(format!(
                    "is undefined: step `{step}` failed (a warning) before producing it"
                )));
            }
            Some(StepState::NotRerun) => {
                return Err(undefined(format!(
                    "is unknown: step `{step}` was interrupted and was not re-run on resume"
                )));
            }
            None => {
                return Err(undefined(format!(
                    "is undefined: step `{step}` has not run"
                )));
            }
        },
        RefPath::OwnOutput { output, rest } => match scope.own.and_then(|own| own.get(output)) {
            Some(value) => (Cow::Borrowed(value), rest),
            None => {
                return Err(undefined(format!(
                    "is undefined: this step has no output `{output}`"
                )));
            }
        },
        RefPath::Env { name } => match scope.run.env.get(name) {
            Some(value) => return Ok(Cow::Owned(Value::String(value.clone()))),
            None => {
                return Err(undefined(format!(
                    "is undefined: the environment variable {name} is not set"
                )));
            }
        },
        RefPath::StepOutcome { step } => {
            let outcome = scope
                .run
                .steps
                .get(step)
                .map_or(crate::report::StepOutcome::NotRun, StepState::outcome);
            return Ok(Cow::Owned(Value::String(outcome.word().to_owned())));
        }
        RefPath::StepTiming { step, field } => {
            let Some(times) = scope.run.times.get(step) else {
                return Err(undefined(format!(
                    "is undefined: step `{step}` has not run"
                )));
            };
            return Ok(Cow::Owned(match field {
                TimingField::StartedAt => Value::String(times.started_at.to_string()),
                TimingField::FinishedAt => Value::String(times.finished_at.to_string()),
                TimingField::DurationMs => Value::from(
                    i64::try_from((times.finished_at - times.started_at).as_millis())
                        .unwrap_or(i64::MAX),
                ),
            }));
        }
        RefPath::Run { field } => {
            let run = &scope.run.run;
            let failed = |value: &Option<String>| {
                value
                    .clone()
                    .ok_or_else(|| undefined("is undefined: the run has not failed".into()))
            };
            return Ok(Cow::Owned(Value::String(match field {
                RunField::Id => run.id.clone(),
                RunField::Actor => run.actor.clone(),
                RunField::StartedAt => run.started_at.clone(),
                RunField::FailedStep => failed(&run.failed_step)?,
                RunField::Failure => failed(&run.failure)?,
            })));
        }
    };
    let mut current = root;
    for (depth, segment) in rest.iter().enumerate() {
        // Borrowed all the way from an output: `steps.get.outputs.body.data.0.id` must not copy
        // `data` (a whole list) on its way to one id.
        let next = match &current {
            Cow::Borrowed(value) => child(value, segment).map(Cow::Borrowed),
            Cow::Owned(value) => child(value, segment).cloned().map(Cow::Owned),
        };
        match next {
            Some(value) => current = value,
            None => {
                let walked = if depth == 0 {
                    "the value".to_owned()
                } else {
                    format!("`{}`", rest[..depth].join("."))
                };
                return Err(undefined(format!(
                    "is undefined: {walked} has no `{segment}` (it is {})",
                    type_name(current.as_ref())
                )));
            }
        }
    }
    Ok(current)
}

/// The value at `segment` in `value`: a key of a mapping, an index (`segment.parse::<usize>()`) of
/// a list; a scalar has none.
fn child<'v>(value: &'v Value, segment: &str) -> Option<&'v Value> {
    match value {
        Value::Object(fields) => fields.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => None,
    }
}

/// A template as text.
pub fn render_string(template: &Template, scope: Scope) -> Result<String, RenderError> {
    render_text(template, scope).map_err(|error| error.within(template))
}

fn render_text(template: &Template, scope: Scope) -> Result<String, RenderError> {
    let mut out = String::with_capacity(template.source.len());
    for part in &template.parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Ref(reference) => {
                let value = resolve(reference, scope)?;
                out.push_str(&text_of(&reference.text, &value)?);
            }
            Part::Call(call) => {
                let value = evaluate_call(call, scope)?;
                out.push_str(&text_of(&call.text, &value)?);
            }
        }
    }
    Ok(out)
}

/// A template as text, each reference's text passed through `insert` with the text rendered so far
/// (an http step's URL uses it to encode a value for the URL component it lands in).
pub fn render_string_with(
    template: &Template,
    scope: Scope,
    insert: impl Fn(&str, String) -> String,
) -> Result<String, RenderError> {
    let mut out = String::with_capacity(template.source.len());
    for part in &template.parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Ref(reference) => {
                let value = resolve(reference, scope).map_err(|error| error.within(template))?;
                let text =
                    text_of(&reference.text, &value).map_err(|error| error.within(template))?;
                let inserted = insert(&out, text.into_owned());
                out.push_str(&inserted);
            }
            Part::Call(call) => {
                let value = evaluate_call(call, scope).map_err(|error| error.within(template))?;
                let text = text_of(&call.text, &value).map_err(|error| error.within(template))?;
                let inserted = insert(&out, text.into_owned());
                out.push_str(&inserted);
            }
        }
    }
    Ok(out)
}

/// A template as a typed value: exactly one reference or one call keeps its type; anything else is
/// a string.
pub fn render_typed(template: &Template, scope: Scope) -> Result<Value, RenderError> {
    render_typed_ref(template, scope).map(Cow::into_owned)
}

/// [`render_typed`], borrowing a value a single reference reads from the run (a condition that
/// compares a whole response body must not copy it).
fn render_typed_ref<'s>(
    template: &Template,
    scope: Scope<'s>,
) -> Result<Cow<'s, Value>, RenderError> {
    if let Some(reference) = template.single_ref() {
        return resolve(reference, scope).map_err(|error| error.within(template));
    }
    if let Some(call) = template.single_call() {
        return evaluate_call(call, scope)
            .map(Cow::Owned)
            .map_err(|error| error.within(template));
    }
    render_string(template, scope).map(|text| Cow::Owned(Value::String(text)))
}

/// [`render_value`], borrowing what it can: a literal from the runbook, a single reference's value
/// from the run.
pub fn render_value_ref<'a>(
    value: &'a ValueTemplate,
    scope: Scope<'a>,
) -> Result<Cow<'a, Value>, RenderError> {
    match value {
        ValueTemplate::Literal(value) => Ok(Cow::Borrowed(value)),
        ValueTemplate::Template(template) => render_typed_ref(template, scope),
        ValueTemplate::Array(_) | ValueTemplate::Object(_) => {
            render_value(value, scope).map(Cow::Owned)
        }
    }
}

/// A structured value whose strings are templates.
pub fn render_value(value: &ValueTemplate, scope: Scope) -> Result<Value, RenderError> {
    Ok(match value {
        ValueTemplate::Literal(value) => value.clone(),
        ValueTemplate::Template(template) => render_typed(template, scope)?,
        ValueTemplate::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_value(item, scope))
                .collect::<Result<_, _>>()?,
        ),
        ValueTemplate::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, item)| Ok((key.clone(), render_value(item, scope)?)))
                .collect::<Result<_, RenderError>>()?,
        ),
    })
}

/// A shell command: each reference becomes an expansion of `RUNBOOK_REF_n` and its value goes into the
/// returned environment, so no value is ever parsed by the shell or visible in the process list.
/// Outside quotes (at any nesting level, e.g. inside `"$( )"`) the expansion is `"${RUNBOOK_REF_n}"`;
/// inside double quotes, an unquoted here-document or `$(( ))` it is `${RUNBOOK_REF_n}` (quotes
/// there would end the string, be written literally, or be a syntax error).
pub fn render_shell(
    template: &Template,
    scope: Scope,
) -> Result<(String, Vec<(String, String)>), RenderError> {
    shell_text(template, scope).map_err(|error| error.within(template))
}

fn shell_text(
    template: &Template,
    scope: Scope,
) -> Result<(String, Vec<(String, String)>), RenderError> {
    let mut command = String::with_capacity(template.source.len());
    let mut env = Vec::new();
    let mut contexts = shell_contexts(template).into_iter();
    for part in &template.parts {
        match part {
            Part::Literal(text) => command.push_str(text),
            Part::Ref(reference) => {
                let value = resolve(reference, scope)?;
                let expansion = shell_expansion(&reference.text, contexts.next(), env.len())?;
                command.push_str(&expansion);
                env.push((
                    format!("RUNBOOK_REF_{}", env.len() + 1),
                    text_of(&reference.text, &value)?.into_owned(),
                ));
            }
            // A call's result reaches the shell exactly as a reference's value does.
            Part::Call(call) => {
                let value = evaluate_call(call, scope)?;
                let expansion = shell_expansion(&call.text, contexts.next(), env.len())?;
                command.push_str(&expansion);
                env.push((
                    format!("RUNBOOK_REF_{}", env.len() + 1),
                    text_of(&call.text, &value)?.into_owned(),
                ));
            }
        }
    }
    Ok((command, env))
}

/// How the `n`-th insertion (0-based) of a shell command expands where it sits.
fn shell_expansion(
    written: &str,
    context: Option<ShellContext>,
    n: usize,
) -> Result<String, RenderError> {
    let name = format!("RUNBOOK_REF_{}", n + 1);
    match context {
        Some(ShellContext::Unquoted) | None => Ok(format!("\"${{{name}}}\"")),
        Some(ShellContext::DoubleQuoted | ShellContext::HereDoc | ShellContext::Arithmetic) => {
            Ok(format!("${{{name}}}"))
        }
        // The check pass rejects these; never hand the shell text that would not expand.
        Some(ShellContext::SingleQuoted | ShellContext::QuotedHereDoc | ShellContext::Escaped) => {
            Err(RenderError {
                reference: written.to_owned(),
                reason: "is quoted in the shell command, where it would not expand".into(),
                undefined: false,
                span: None,
            })
        }
    }
}

/// How a value reads inside a string. Null is an error: it is almost always a mistake. `written`
/// is the reference or call as written, for the error.
fn text_of<'v>(written: &str, value: &'v Value) -> Result<Cow<'v, str>, RenderError> {
    match value {
        Value::String(text) => Ok(Cow::Borrowed(text)),
        Value::Null => Err(RenderError {
            reference: written.to_owned(),
            reason: "is null; a null cannot be put into text".into(),
            undefined: false,
            span: None,
        }),
        Value::Number(number) => Ok(Cow::Owned(number.to_string())),
        Value::Bool(flag) => Ok(Cow::Owned(flag.to_string())),
        Value::Array(_) | Value::Object(_) => Ok(Cow::Owned(value.to_string())),
    }
}

/// The JSON type of a value, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RunContext;
    use runbook_dsl::source::Span;
    use runbook_dsl::template::parse_template;

    fn template(text: &str) -> Template {
        parse_template(text, Span::new(0, text.len()), Some(0))
            .ok()
            .and_then(|parsed| parsed.into_template().ok())
            .unwrap_or_else(|| Template::literal("unparsable", Span::UNKNOWN))
    }

    fn context() -> RunContext {
        let mut run = RunContext::default();
        run.inputs.insert("n".into(), Value::from(3));
        run.inputs.insert("s".into(), Value::from("a b"));
        run.inputs
            .insert("evil".into(), Value::from("{{inputs.n}}; rm -rf /"));
        let mut outputs = serde_json::Map::new();
        outputs.insert(
            "body".into(),
            serde_json::json!({"items": [{"id": "x1"}], "none": null}),
        );
        run.steps
            .insert("get".into(), StepState::Completed(outputs));
        run.steps.insert("skipped".into(), StepState::Skipped);
        run
    }

    /// A path into an output is read in place at every segment: `steps.get.outputs.body.items.0`
    /// used to copy `items` whole (a 10 MiB body's list: a tree of some 200 MB) to reach one item.
    #[test]
    fn a_path_into_an_output_borrows_it_at_every_segment() {
        let run = context();
        let scope = Scope::new(&run);
        for text in [
            "{{steps.get.outputs.body}}",
            "{{steps.get.outputs.body.items}}",
            "{{steps.get.outputs.body.items.0.id}}",
        ] {
            let template = template(text);
            let Some(reference) = template.single_ref() else {
                panic!("{text}");
            };
            assert!(
                matches!(resolve(reference, scope), Ok(Cow::Borrowed(_))),
                "{text}"
            );
            let value = ValueTemplate::Template(template.clone());
            assert!(
                matches!(render_value_ref(&value, scope), Ok(Cow::Borrowed(_))),
                "{text}"
            );
        }
        let value = ValueTemplate::Template(template("{{steps.get.outputs.body.items.0.id}}"));
        assert_eq!(
            render_value_ref(&value, scope).map(Cow::into_owned),
            Ok(Value::from("x1"))
        );
    }

    #[test]
    fn single_reference_keeps_its_type() {
        let run = context();
        assert_eq!(
            render_typed(&template("{{inputs.n}}"), Scope::new(&run)),
            Ok(Value::from(3))
        );
        assert_eq!(
            render_typed(&template("n={{inputs.n}}"), Scope::new(&run)),
            Ok(Value::from("n=3"))
        );
    }

    #[test]
    fn nested_paths_and_undefined_names() {
        let run = context();
        let scope = Scope::new(&run);
        assert_eq!(
            render_string(&template("{{steps.get.outputs.body.items.[0].id}}"), scope),
            Ok("x1".into())
        );
        let missing = render_string(&template("{{steps.get.outputs.body.nope}}"), scope);
        assert!(missing.is_err_and(|e| e.undefined));
        let skipped = render_string(&template("{{steps.skipped.outputs.status}}"), scope);
        assert!(skipped.is_err_and(|e| e.reason.contains("skipped")));
        let null = render_string(&template("x{{steps.get.outputs.body.none}}"), scope);
        assert!(null.is_err_and(|e| !e.undefined));
    }

    #[test]
    fn values_are_not_rendered_twice() {
        let run = context();
        assert_eq!(
            render_string(&template("{{inputs.evil}}"), Scope::new(&run)),
            Ok("{{inputs.n}}; rm -rf /".into())
        );
    }

    #[test]
    fn shell_references_become_environment_variables() {
        let run = context();
        let (command, env) = render_shell(
            &template("echo {{inputs.evil}} {{inputs.s}}"),
            Scope::new(&run),
        )
        .unwrap_or_default();
        assert_eq!(command, "echo \"${RUNBOOK_REF_1}\" \"${RUNBOOK_REF_2}\"");
        assert_eq!(env[0].1, "{{inputs.n}}; rm -rf /");
        assert_eq!(env[1].1, "a b");
    }

    #[test]
    fn nested_substitutions_and_heredocs_get_their_own_expansion() {
        let run = context();
        let (command, _) = render_shell(
            &template("echo \"$(printf '[%s]' \"{{inputs.s}}\" {{inputs.s}})\"\ncat <<EOF\n{{inputs.s}}\nEOF"),
            Scope::new(&run),
        )
        .unwrap_or_default();
        assert_eq!(
            command,
            "echo \"$(printf '[%s]' \"${RUNBOOK_REF_1}\" \"${RUNBOOK_REF_2}\")\"\ncat <<EOF\n${RUNBOOK_REF_3}\nEOF"
        );
    }

    #[test]
    fn references_inside_double_quotes_are_not_quoted_again() {
        let run = context();
        let (command, _) = render_shell(
            &template("printf '%s' \"<{{inputs.s}}>\" {{inputs.n}}"),
            Scope::new(&run),
        )
        .unwrap_or_default();
        assert_eq!(
            command,
            "printf '%s' \"<${RUNBOOK_REF_1}>\" \"${RUNBOOK_REF_2}\""
        );
    }
}
