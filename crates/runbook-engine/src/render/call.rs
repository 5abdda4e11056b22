//! Evaluates a function call in a template, and keeps secrets secret through it.
//!
//! A function applied to a secret yields a secret (except `length`, see
//! [`Function::derives_secret`]): its result is registered with the run's redactor the moment it is
//! computed, before the text it lands in goes anywhere. An argument holds a secret when the
//! redactor (or the step's own new secrets) finds one in its value, or when it is an output that a
//! later secret capture reads (tainted, see `check/taint.rs`).

use std::borrow::Cow;

use runbook_dsl::source::Span;
use runbook_dsl::template::{Arg, Call, RefPath, Reference};
use serde_json::Value;

use super::{RenderError, resolve};
use crate::context::Scope;
use crate::functions::{FunctionError, apply};

/// The value of `call`. Its result is registered as a secret when derived from one.
pub(crate) fn evaluate_call(call: &Call, scope: Scope) -> Result<Value, RenderError> {
    evaluate(call, scope).map(|(value, _)| value)
}

/// The value, and whether it is a secret.
fn evaluate(call: &Call, scope: Scope) -> Result<(Value, bool), RenderError> {
    let mut values = Vec::with_capacity(call.args.len());
    let mut from_secret = false;
    for arg in &call.args {
        let (value, secret) = match arg {
            Arg::Literal(value) => (Cow::Borrowed(value), false),
            Arg::Ref(reference) => {
                // Borrowed: an argument can be a whole response body.
                let value = resolve(reference, scope)?;
                let secret = holds_secret(reference, &value, scope);
                (value, secret)
            }
            Arg::Call(inner) => {
                let (value, secret) = evaluate(inner, scope)?;
                (Cow::Owned(value), secret)
            }
        };
        from_secret |= secret;
        values.push(value);
    }
    let result = apply(call.function, &values).map_err(|error| failed(call, &error))?;
    let secret = from_secret && call.function.derives_secret();
    if secret {
        scope.run.redactor.add_derived(&result);
    }
    Ok((result, secret))
}

fn holds_secret(reference: &Reference, value: &Value, scope: Scope) -> bool {
    let tainted = match &reference.path {
        RefPath::StepOutput { step, output, .. } => {
            scope.run.tainted.contains(&(step.clone(), output.clone()))
        }
        RefPath::Input { .. }
        | RefPath::StepTiming { .. }
        | RefPath::StepOutcome { .. }
        | RefPath::Run { .. }
        | RefPath::OwnOutput { .. }
        | RefPath::Env { .. } => false,
    };
    tainted
        || scope.run.redactor.finds_secret_in_value(value)
        || scope
            .own_secrets
            .is_some_and(|secrets| secrets.finds_secret_in_value(value))
}

/// The error for a call that could not be applied: which function, which argument, what it needed
/// and what it got (its type, never its value: it may be a secret).
fn failed(call: &Call, error: &FunctionError) -> RenderError {
    let function = call.function;
    let name = function.name();
    let argument = |index: usize| {
        let param = function.params().get(index);
        let written = call
            .args
            .get(index)
            .map_or_else(|| "an argument".to_owned(), Arg::describe);
        (param, written)
    };
    let reason = match error {
        FunctionError::WrongType {
            argument: index,
            found,
        } => {
            let (param, written) = argument(*index);
            match param {
                Some(param) => format!(
                    "`{name}` needs {} as {}, but {written} is {found}",
                    param.accepts.describe(),
                    param.name
                ),
                None => format!("`{name}` cannot take {written}: it is {found}"),
            }
        }
        FunctionError::OutOfRange {
            argument: index,
            why,
        } => {
            let (_, written) = argument(*index);
            format!("`{name}` cannot use {written}: {why}")
        }
        FunctionError::Overflow => {
            format!("`{name}`: the result does not fit in a 64-bit integer")
        }
        FunctionError::EmptySeparator { argument: index } => {
            let (_, written) = argument(*index);
            format!("`{name}` needs a non-empty separator, but {written} is empty")
        }
        FunctionError::SliceOrder => "`slice`: FROM is greater than TO".to_owned(),
        FunctionError::NotBase64 => format!("`{name}`: the value is not base64"),
        FunctionError::NotUtf8 => {
            format!("`{name}`: the decoded bytes are not UTF-8 text")
        }
        FunctionError::ListItem { item, found } => {
            let (_, written) = argument(1);
            format!(
                "`{name}` joins strings, numbers and booleans, but item {item} of {written} is \
                 {found}"
            )
        }
    };
    RenderError {
        reference: call.text.clone(),
        reason: format!("failed: {reason}"),
        undefined: false,
        span: (call.span != Span::UNKNOWN).then_some(call.span),
    }
}

#[cfg(test)]
mod tests {
    use runbook_dsl::template::{Template, parse_template};
    use serde_json::{Map, json};

    use super::super::{render_shell, render_string, render_typed};
    use super::*;
    use crate::context::{RunContext, StepState};
    use crate::redact::Redactor;

    fn template(text: &str) -> Template {
        parse_template(text, Span::new(0, text.len()), Some(0))
            .ok()
            .and_then(|parsed| parsed.into_template().ok())
            .unwrap_or_else(|| panic!("{text} must parse"))
    }

    const SECRET: &str = "CANARY-s3cr3t-Key ";

    fn context() -> RunContext {
        let mut run = RunContext::default();
        run.inputs.insert("n".into(), json!(3));
        run.inputs.insert("s".into(), json!("a b"));
        run.inputs.insert("key".into(), json!(SECRET));
        run.redactor.add(SECRET);
        let mut outputs = Map::new();
        outputs.insert("stdout".into(), json!("  raw-token-value  "));
        outputs.insert("list".into(), json!(["x", "y"]));
        run.steps.insert("a".into(), StepState::Completed(outputs));
        run.tainted.insert(("a".into(), "stdout".into()));
        run
    }

    #[test]
    fn a_single_call_keeps_its_type_and_a_mixed_string_is_text() {
        let run = context();
        let scope = Scope::new(&run);
        assert_eq!(
            render_typed(&template("{{add inputs.n 1}}"), scope),
            Ok(json!(4))
        );
        assert_eq!(
            render_typed(&template("{{split \" \" inputs.s}}"), scope),
            Ok(json!(["a", "b"]))
        );
        assert_eq!(
            render_string(
                &template("v{{add inputs.n 1}}-{{join \"+\" steps.a.outputs.list}}"),
                scope
            ),
            Ok("v4-x+y".into())
        );
        assert_eq!(
            render_string(&template("{{upper (first 1 inputs.s)}}"), scope),
            Ok("A".into())
        );
    }

    #[test]
    fn a_result_is_never_parsed_again() {
        let mut run = context();
        run.inputs
            .insert("evil".into(), json!("  {{inputs.key}}  "));
        assert_eq!(
            render_string(&template("{{trim inputs.evil}}"), Scope::new(&run)),
            Ok("{{inputs.key}}".into())
        );
    }

    #[test]
    fn a_call_in_a_shell_command_is_passed_as_a_variable() {
        let run = context();
        let (command, env) = render_shell(
            &template("echo {{upper inputs.s}} \"{{length inputs.s}}\""),
            Scope::new(&run),
        )
        .unwrap_or_default();
        assert_eq!(command, "echo \"${RUNBOOK_REF_1}\" \"${RUNBOOK_REF_2}\"");
        assert_eq!(
            env,
            [
                ("RUNBOOK_REF_1".into(), "A B".into()),
                ("RUNBOOK_REF_2".into(), "3".into())
            ]
        );
    }

    #[test]
    fn a_type_mismatch_names_the_call_the_argument_and_its_type_not_its_value() {
        let run = context();
        let error = render_string(&template("x {{add inputs.key 1}}"), Scope::new(&run)).err();
        let Some(error) = error else {
            panic!("a string cannot be added to");
        };
        assert_eq!(
            error.to_string(),
            "`{{add inputs.key 1}}` failed: `add` needs an integer as A, but `inputs.key` is a \
             string"
        );
        assert_eq!(error.span, Some(Span::new(2, 22)));
        assert!(!error.undefined);
        let overflow = render_string(
            &template("{{add 9223372036854775807 inputs.n}}"),
            Scope::new(&run),
        );
        assert!(overflow.is_err_and(|e| e.reason.contains("does not fit in a 64-bit integer")));
        let undefined = render_string(&template("{{trim inputs.nope}}"), Scope::new(&run));
        assert!(undefined.is_err_and(|e| e.undefined && e.reference == "inputs.nope"));
    }

    #[test]
    fn a_function_of_a_secret_is_a_secret_except_its_length() {
        let run = context();
        let scope = Scope::new(&run);
        for (text, derived) in [
            ("{{upper inputs.key}}", SECRET.to_uppercase()),
            ("{{lower inputs.key}}", SECRET.to_lowercase()),
            ("{{trim inputs.key}}", SECRET.trim().to_owned()),
            ("{{last 6 inputs.key}}", "t-Key ".to_owned()),
            ("{{sha256 (trim inputs.key)}}", String::new()),
            ("{{base64 inputs.key}}", String::new()),
        ] {
            let rendered = render_string(&template(text), scope).unwrap_or_default();
            assert!(!rendered.is_empty(), "{text}");
            if !derived.is_empty() {
                assert_eq!(rendered, derived, "{text}");
            }
            assert_eq!(
                run.redactor.redact(&format!("<{rendered}>")),
                "<********>",
                "{text}"
            );
        }
        let length = render_string(&template("{{length inputs.key}}"), scope).unwrap_or_default();
        assert_eq!(length, "18");
        assert_eq!(run.redactor.redact("18"), "18", "a length is not a secret");
        let plain = render_string(&template("{{upper inputs.s}}"), scope).unwrap_or_default();
        assert_eq!(
            run.redactor.redact(&plain),
            "A B",
            "no secret in, no secret out"
        );
    }

    #[test]
    fn tainted_outputs_and_the_steps_own_secrets_count_as_secrets() {
        let run = context();
        let trimmed = render_string(
            &template("{{trim steps.a.outputs.stdout}}"),
            Scope::new(&run),
        )
        .unwrap_or_default();
        assert_eq!(trimmed, "raw-token-value");
        assert_eq!(run.redactor.redact(&trimmed), "********");

        let mut own = Map::new();
        own.insert("token".into(), json!("fresh-captured-token"));
        let mut new_secrets = Redactor::default();
        new_secrets.add("fresh-captured-token");
        let scope = Scope::with_own_secrets(&run, &own, &new_secrets);
        let upper = render_string(&template("{{upper outputs.token}}"), scope).unwrap_or_default();
        assert_eq!(upper, "FRESH-CAPTURED-TOKEN");
        assert_eq!(run.redactor.redact(&upper), "********");
    }
}
