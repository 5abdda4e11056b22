//! Evaluates typed conditions. A failure explains itself: the expected and the actual value, their
//! types, and where the actual value came from.

use serde_json::Value;

use runbook_dsl::{CompareOp, Condition, ConditionKind, ValueTemplate};

use crate::context::Scope;
use crate::redact::Redactor;
use crate::render::{RenderError, render_value, type_name};

/// Whether a condition holds; when it does not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Fails(String),
}

impl Verdict {
    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Holds)
    }
}

/// Evaluates `condition`. Render errors (an undefined reference) are errors, not a false verdict:
/// unknown is failure, never a silent false.
pub fn evaluate(condition: &Condition, scope: Scope) -> Result<Verdict, RenderError> {
    let verdict = evaluate_kind(&condition.kind, scope)?;
    Ok(match (verdict, &condition.message) {
        (Verdict::Fails(why), Some(message)) => {
            // A message that cannot be rendered still says what the author wrote.
            let message = crate::render::render_string(message, scope)
                .unwrap_or_else(|_| message.source.clone());
            Verdict::Fails(format!("{message}\n{why}"))
        }
        (verdict, _) => verdict,
    })
}

fn evaluate_kind(kind: &ConditionKind, scope: Scope) -> Result<Verdict, RenderError> {
    match kind {
        ConditionKind::Compare { that, op, operand } => {
            let actual = render_value(that, scope)?;
            let expected = render_value(operand, scope)?;
            Ok(compare(
                &actual,
                *op,
                &expected,
                that,
                operand,
                &scope.run.redactor,
            ))
        }
        ConditionKind::Matches { that, regex } => {
            let actual = render_value(that, scope)?;
            Ok(match &actual {
                Value::String(text) if regex.is_match(text) => Verdict::Holds,
                _ => Verdict::Fails(explain(
                    &format!("matches /{}/", regex.as_str()),
                    None,
                    &actual,
                    that,
                    &scope.run.redactor,
                )),
            })
        }
        ConditionKind::OneOf { that, options } => {
            let actual = render_value(that, scope)?;
            let options: Vec<Value> = options
                .iter()
                .map(|option| render_value(option, scope))
                .collect::<Result<_, _>>()?;
            Ok(if options.iter().any(|option| equal(&actual, option)) {
                Verdict::Holds
            } else {
                let list = Value::Array(options);
                Verdict::Fails(explain(
                    "one_of",
                    Some(&list),
                    &actual,
                    that,
                    &scope.run.redactor,
                ))
            })
        }
        ConditionKind::Exists { that, expected } => {
            let exists = match render_value(that, scope) {
                Ok(_) => true,
                Err(error) if error.undefined => false,
                Err(error) => return Err(error),
            };
            Ok(if exists == *expected {
                Verdict::Holds
            } else if *expected {
                Verdict::Fails(format!(
                    "expected {} to exist, but it is undefined",
                    that.describe()
                ))
            } else {
                Verdict::Fails(format!(
                    "expected {} not to exist, but it does",
                    that.describe()
                ))
            })
        }
        ConditionKind::IsEmpty { that, expected } => {
            let actual = render_value(that, scope)?;
            let empty = match &actual {
                Value::Null => true,
                Value::String(text) => text.is_empty(),
                Value::Array(items) => items.is_empty(),
                Value::Object(fields) => fields.is_empty(),
                Value::Bool(_) | Value::Number(_) => false,
            };
            Ok(if empty == *expected {
                Verdict::Holds
            } else {
                let what = if *expected {
                    "is_empty"
                } else {
                    "is not empty"
                };
                Verdict::Fails(explain(what, None, &actual, that, &scope.run.redactor))
            })
        }
        ConditionKind::Length { that, expected } => {
            let actual = render_value(that, scope)?;
            let length = match &actual {
                Value::String(text) => Some(text.chars().count()),
                Value::Array(items) => Some(items.len()),
                Value::Object(fields) => Some(fields.len()),
                _ => None,
            };
            Ok(match length {
                Some(length) if length as u64 == *expected => Verdict::Holds,
                Some(length) => Verdict::Fails(format!(
                    "expected length {expected}, actual length {length}\n  actual: {} from {}",
                    show(&actual, &scope.run.redactor),
                    that.describe()
                )),
                None => Verdict::Fails(format!(
                    "expected something with a length ({expected}), but got {}",
                    show(&actual, &scope.run.redactor)
                )),
            })
        }
        ConditionKind::All(conditions) => {
            let mut failures = Vec::new();
            for condition in conditions {
                if let Verdict::Fails(why) = evaluate(condition, scope)? {
                    failures.push(why);
                }
            }
            Ok(if failures.is_empty() {
                Verdict::Holds
            } else {
                Verdict::Fails(failures.join("\n"))
            })
        }
        ConditionKind::Any(conditions) => {
            let mut failures = Vec::new();
            for condition in conditions {
                // An alternative that cannot be evaluated cannot make `any` hold: it counts as not
                // holding (still fail-closed), so the next alternative and the message get a say.
                match evaluate(condition, scope) {
                    Ok(Verdict::Holds) => return Ok(Verdict::Holds),
                    Ok(Verdict::Fails(why)) => failures.push(why),
                    Err(error) => failures.push(format!("  {error}")),
                }
            }
            Ok(Verdict::Fails(format!(
                "none of {} alternatives holds:\n{}",
                failures.len(),
                failures.join("\n")
            )))
        }
        ConditionKind::Not(inner) => Ok(match evaluate(inner, scope)? {
            Verdict::Holds => {
                Verdict::Fails("expected the nested condition not to hold, but it holds".into())
            }
            Verdict::Fails(_) => Verdict::Holds,
        }),
    }
}

fn compare(
    actual: &Value,
    op: CompareOp,
    expected: &Value,
    that: &ValueTemplate,
    operand: &ValueTemplate,
    redactor: &Redactor,
) -> Verdict {
    let holds = match op {
        CompareOp::Equals => equal(actual, expected),
        CompareOp::NotEquals => !equal(actual, expected),
        CompareOp::GreaterThan
        | CompareOp::GreaterOrEqual
        | CompareOp::LessThan
        | CompareOp::LessOrEqual => match (actual.as_f64(), expected.as_f64()) {
            (Some(a), Some(b)) => match op {
                CompareOp::GreaterThan => a > b,
                CompareOp::GreaterOrEqual => a >= b,
                CompareOp::LessThan => a < b,
                _ => a <= b,
            },
            _ => false,
        },
        CompareOp::Contains => contains(actual, expected),
        CompareOp::NotContains => !contains(actual, expected),
        CompareOp::StartsWith => {
            matches!((actual, expected), (Value::String(a), Value::String(b)) if a.starts_with(b.as_str()))
        }
        CompareOp::EndsWith => {
            matches!((actual, expected), (Value::String(a), Value::String(b)) if a.ends_with(b.as_str()))
        }
    };
    if holds {
        return Verdict::Holds;
    }
    let mut why = explain(op.keyword(), Some(expected), actual, that, redactor);
    if let ValueTemplate::Template(template) = operand {
        // Say where the expected value came from too, on its own line.
        if let Some(line_end) = why.find('\n') {
            why.insert_str(line_end, &format!(" from {}", template.source));
        }
    }
    if matches!(op, CompareOp::Equals)
        && std::mem::discriminant(actual) != std::mem::discriminant(expected)
    {
        why.push_str(
            "\n  note: the types differ; values are compared with their types (`0` is not `\"0\"`)",
        );
    }
    Verdict::Fails(why)
}

/// Equality with types: numbers compare by value (`1` equals `1.0`), everything else structurally.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| equal(x, y)))
        }
        _ => a == b,
    }
}

fn contains(haystack: &Value, needle: &Value) -> bool {
    match (haystack, needle) {
        (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
        (Value::Array(items), needle) => items.iter().any(|item| equal(item, needle)),
        (Value::Object(fields), Value::String(key)) => fields.contains_key(key),
        _ => false,
    }
}

fn explain(
    operator: &str,
    expected: Option<&Value>,
    actual: &Value,
    that: &ValueTemplate,
    redactor: &Redactor,
) -> String {
    let mut text = String::new();
    if let Some(expected) = expected {
        text.push_str(&format!(
            "  expected ({operator}): {}\n",
            show(expected, redactor)
        ));
    } else {
        text.push_str(&format!("  expected: {operator}\n"));
    }
    text.push_str(&format!(
        "  actual: {} from {}",
        show(actual, redactor),
        that.describe()
    ));
    text
}

/// A value with its type, e.g. `"PA123" (string)`, `2 (number)`.
/// Secrets are masked before the value is encoded and cut, so neither escaping nor truncation can
/// expose part of one.
pub fn show(value: &Value, redactor: &Redactor) -> String {
    let value = &redactor.redact_value(value);
    let mut shown = value.to_string();
    if shown.chars().count() > 200 {
        shown = shown.chars().take(200).collect::<String>() + "…";
    }
    format!(
        "{shown} ({})",
        type_name(value)
            .trim_start_matches("a ")
            .trim_start_matches("an ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RunContext;
    use runbook_dsl::source::Span;

    fn literal(value: Value) -> ValueTemplate {
        ValueTemplate::Literal(value)
    }

    fn condition(kind: ConditionKind) -> Condition {
        Condition {
            kind,
            message: Some(runbook_dsl::template::Template::literal(
                "orders must be empty",
                Span::UNKNOWN,
            )),
            span: Span::UNKNOWN,
        }
    }

    #[test]
    fn equality_is_typed_and_explained() -> Result<(), RenderError> {
        let run = RunContext::default();
        let verdict = evaluate(
            &condition(ConditionKind::Compare {
                that: literal(Value::from("0")),
                op: CompareOp::Equals,
                operand: literal(Value::from(0)),
            }),
            Scope::new(&run),
        )?;
        let Verdict::Fails(why) = verdict else {
            panic!("\"0\" must not equal 0");
        };
        assert!(why.starts_with("orders must be empty"), "{why}");
        assert!(why.contains("expected (equals): 0 (number)"), "{why}");
        assert!(why.contains("actual: \"0\" (string)"), "{why}");
        assert!(why.contains("types differ"), "{why}");
        Ok(())
    }

    #[test]
    fn numbers_compare_by_value() -> Result<(), RenderError> {
        let run = RunContext::default();
        let holds = evaluate(
            &condition(ConditionKind::Compare {
                that: literal(serde_json::json!(1.0)),
                op: CompareOp::Equals,
                operand: literal(Value::from(1)),
            }),
            Scope::new(&run),
        )?;
        assert!(holds.holds());
        let greater = evaluate(
            &condition(ConditionKind::Compare {
                that: literal(Value::from("5")),
                op: CompareOp::GreaterThan,
                operand: literal(Value::from(1)),
            }),
            Scope::new(&run),
        )?;
        assert!(!greater.holds(), "a string is not a number");
        Ok(())
    }

    #[test]
    fn length_and_contains() -> Result<(), RenderError> {
        let run = RunContext::default();
        let list = serde_json::json!([{"id": 1}, {"id": 2}]);
        let length = evaluate(
            &condition(ConditionKind::Length {
                that: literal(list.clone()),
                expected: 0,
            }),
            Scope::new(&run),
        )?;
        assert!(matches!(length, Verdict::Fails(why) if why.contains("actual length 2")));
        let contains = evaluate(
            &condition(ConditionKind::Compare {
                that: literal(Value::from("status=canceled")),
                op: CompareOp::Contains,
                operand: literal(Value::from("canceled")),
            }),
            Scope::new(&run),
        )?;
        assert!(contains.holds());
        Ok(())
    }
}
