//! Evaluates typed conditions. A failure explains itself: the expected and the actual value, their
//! types, and where the actual value came from.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use runbook_dsl::decimal::Decimal;
use runbook_dsl::{CompareOp, Condition, ConditionKind, ValueTemplate};

use crate::context::Scope;
use crate::redact::Redactor;
use crate::render::{RenderError, render_value_ref, type_name};

mod failure;

pub use failure::{Alternative, ConditionFailure, FailureReason, NotANumber, Shown};

/// Whether a condition holds; when it does not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Fails(Box<ConditionFailure>),
}

impl Verdict {
    pub fn holds(&self) -> bool {
        match self {
            Verdict::Holds => true,
            Verdict::Fails(_) => false,
        }
    }
}

/// Evaluates `condition`. Render errors (an undefined reference) are errors, not a false verdict:
/// unknown is failure, never a silent false.
pub fn evaluate(condition: &Condition, scope: Scope) -> Result<Verdict, RenderError> {
    let Some(reason) = evaluate_kind(&condition.kind, scope)? else {
        return Ok(Verdict::Holds);
    };
    // A message that cannot be rendered still says what the author wrote.
    let message = condition.message.as_ref().map(|message| {
        let text =
            crate::render::render_string(message, scope).unwrap_or_else(|_| message.source.clone());
        scope.run.redactor.redact(&text)
    });
    Ok(Verdict::Fails(Box::new(ConditionFailure {
        message,
        span: condition.span,
        reason,
    })))
}

/// `None` when the condition holds.
fn evaluate_kind(kind: &ConditionKind, scope: Scope) -> Result<Option<FailureReason>, RenderError> {
    let redactor = &scope.run.redactor;
    match kind {
        ConditionKind::Compare { that, op, operand } => {
            let actual = render_value_ref(that, scope)?;
            let expected = render_value_ref(operand, scope)?;
            Ok(compare(&actual, *op, &expected, that, operand, redactor))
        }
        ConditionKind::Matches { that, regex } => {
            let actual = render_value_ref(that, scope)?;
            Ok(match actual.as_ref() {
                Value::String(text) if regex.is_match(text) => None,
                Value::String(_)
                | Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::Array(_)
                | Value::Object(_) => Some(mismatch(
                    format!("matches /{}/", regex.as_str()),
                    None,
                    &actual,
                    that,
                    redactor,
                )),
            })
        }
        ConditionKind::OneOf { that, options } => {
            let actual = render_value_ref(that, scope)?;
            let options: Vec<Value> = options
                .iter()
                .map(|option| render_value_ref(option, scope).map(Cow::into_owned))
                .collect::<Result<_, _>>()?;
            Ok(if options.iter().any(|option| equal(&actual, option)) {
                None
            } else {
                let list = Value::Array(options);
                Some(mismatch(
                    "one_of".into(),
                    Some(&list),
                    &actual,
                    that,
                    redactor,
                ))
            })
        }
        ConditionKind::Exists { that, expected } => {
            let exists = match render_value_ref(that, scope) {
                Ok(_) => true,
                Err(error) if error.undefined => false,
                Err(error) => return Err(error),
            };
            Ok((exists != *expected).then(|| FailureReason::Exists {
                expected: *expected,
                what: that.describe(),
            }))
        }
        ConditionKind::IsEmpty { that, expected } => {
            let actual = render_value_ref(that, scope)?;
            let empty = match actual.as_ref() {
                Value::Null => true,
                Value::String(text) => text.is_empty(),
                Value::Array(items) => items.is_empty(),
                Value::Object(fields) => fields.is_empty(),
                Value::Bool(_) | Value::Number(_) => false,
            };
            let what = if *expected {
                "is_empty"
            } else {
                "is not empty"
            };
            Ok((empty != *expected).then(|| mismatch(what.into(), None, &actual, that, redactor)))
        }
        ConditionKind::Length { that, expected } => {
            let actual = render_value_ref(that, scope)?;
            let length = match actual.as_ref() {
                Value::String(text) => Some(text.chars().count()),
                Value::Array(items) => Some(items.len()),
                Value::Object(fields) => Some(fields.len()),
                Value::Null | Value::Bool(_) | Value::Number(_) => None,
            };
            if length.is_some_and(|length| length as u64 == *expected) {
                return Ok(None);
            }
            Ok(Some(FailureReason::Length {
                expected: *expected,
                actual_length: length,
                actual: show(&actual, redactor),
                actual_from: that.describe(),
            }))
        }
        ConditionKind::All(conditions) => {
            let mut failures = Vec::new();
            for condition in conditions {
                if let Verdict::Fails(failure) = evaluate(condition, scope)? {
                    failures.push(*failure);
                }
            }
            Ok((!failures.is_empty()).then_some(FailureReason::All { failures }))
        }
        ConditionKind::Any(conditions) => {
            let mut alternatives = Vec::new();
            for condition in conditions {
                // An alternative that cannot be evaluated cannot make `any` hold: it counts as not
                // holding (still fail-closed), so the next alternative and the message get a say.
                match evaluate(condition, scope) {
                    Ok(Verdict::Holds) => return Ok(None),
                    Ok(Verdict::Fails(failure)) => alternatives.push(Alternative::Failed(failure)),
                    Err(error) => alternatives.push(Alternative::Error(error.to_string())),
                }
            }
            Ok(Some(FailureReason::Any { alternatives }))
        }
        ConditionKind::Not(inner) => Ok(match evaluate(inner, scope)? {
            Verdict::Holds => Some(FailureReason::Not),
            Verdict::Fails(_) => None,
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
) -> Option<FailureReason> {
    let (actual_decimal, expected_decimal) = (decimal_of(actual), decimal_of(expected));
    let ordered = |test: fn(Ordering) -> bool| match (&actual_decimal, &expected_decimal) {
        (Some(a), Some(b)) => test(a.cmp(b)),
        _ => false,
    };
    let string_test = |test: fn(&str, &str) -> bool| match (actual, expected) {
        (Value::String(a), Value::String(b)) => test(a, b),
        _ => false,
    };
    let holds = match op {
        CompareOp::Equals => equal(actual, expected),
        CompareOp::NotEquals => !equal(actual, expected),
        CompareOp::GreaterThan => ordered(Ordering::is_gt),
        CompareOp::GreaterOrEqual => ordered(Ordering::is_ge),
        CompareOp::LessThan => ordered(Ordering::is_lt),
        CompareOp::LessOrEqual => ordered(Ordering::is_le),
        CompareOp::Contains => contains(actual, expected),
        CompareOp::NotContains => !contains(actual, expected),
        CompareOp::StartsWith => string_test(|a, b| a.starts_with(b)),
        CompareOp::EndsWith => string_test(|a, b| a.ends_with(b)),
    };
    if holds {
        return None;
    }
    let mut reason = mismatch(op.keyword().into(), Some(expected), actual, that, redactor);
    if let FailureReason::Mismatch {
        expected_from,
        types_differ,
        not_a_number,
        ..
    } = &mut reason
    {
        if op.orders() {
            *not_a_number = match (actual_decimal.is_none(), expected_decimal.is_none()) {
                (true, true) => Some(NotANumber::Both),
                (true, false) => Some(NotANumber::Actual),
                (false, true) => Some(NotANumber::Expected),
                (false, false) => None,
            };
        }
        *expected_from = match operand {
            ValueTemplate::Template(template) => Some(template.source.clone()),
            ValueTemplate::Literal(_) | ValueTemplate::Array(_) | ValueTemplate::Object(_) => None,
        };
        *types_differ = op == CompareOp::Equals
            && std::mem::discriminant(actual) != std::mem::discriminant(expected);
    }
    Some(reason)
}

/// Equality with types: numbers compare by value (`1` equals `1.0`), everything else structurally.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_order(x, y) == Some(Ordering::Equal),
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

/// Numbers compare exactly, by value (`1` equals `1.0` and `1e0`), never rounded to a float.
fn number_order(x: &serde_json::Number, y: &serde_json::Number) -> Option<Ordering> {
    Some(Decimal::parse_number(x)?.cmp(&Decimal::parse_number(y)?))
}

/// A side of an ordering comparison as an exact decimal: a number, or a numeric string such as
/// `"123346.11"` (APIs send money as strings to keep it exact).
fn decimal_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => Decimal::parse_number(number),
        Value::String(text) => Decimal::parse_text(text),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
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

fn mismatch(
    operator: String,
    expected: Option<&Value>,
    actual: &Value,
    that: &ValueTemplate,
    redactor: &Redactor,
) -> FailureReason {
    FailureReason::Mismatch {
        operator,
        expected: expected.map(|expected| show(expected, redactor)),
        expected_from: None,
        actual: show(actual, redactor),
        actual_from: that.describe(),
        types_differ: false,
        not_a_number: None,
    }
}

/// A value with its type, e.g. `"PA123" (string)`, `2 (number)`.
/// Secrets are masked before the value is encoded and cut, so neither escaping nor truncation can
/// expose part of one.
pub fn show(value: &Value, redactor: &Redactor) -> Shown {
    let value = redactor.redact_value(value);
    Shown {
        type_name: type_name(&value)
            .trim_start_matches("a ")
            .trim_start_matches("an ")
            .to_owned(),
        value,
    }
}

#[cfg(test)]
mod tests;
