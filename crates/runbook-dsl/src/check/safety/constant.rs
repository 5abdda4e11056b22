//! Conditions whose value is known before the run: every operand is a literal. Only what is
//! certain is decided (equality of two literals of the same JSON type, and `all`/`any`/`not` of
//! decided conditions); everything else is unknown, so a rule built on this never guesses.

use serde_json::Value;

use crate::model::{CompareOp, Condition, ConditionKind, ValueTemplate};

/// `Some(holds)` when the condition's outcome does not depend on the run.
pub(super) fn evaluate(condition: &Condition) -> Option<bool> {
    match &condition.kind {
        ConditionKind::Compare { that, op, operand } => {
            let (ValueTemplate::Literal(left), ValueTemplate::Literal(right)) = (that, operand)
            else {
                return None;
            };
            let equal = literal_equal(left, right)?;
            match op {
                CompareOp::Equals => Some(equal),
                CompareOp::NotEquals => Some(!equal),
                CompareOp::GreaterThan
                | CompareOp::GreaterOrEqual
                | CompareOp::LessThan
                | CompareOp::LessOrEqual
                | CompareOp::Contains
                | CompareOp::NotContains
                | CompareOp::StartsWith
                | CompareOp::EndsWith => None,
            }
        }
        ConditionKind::All(inner) => {
            let values: Vec<Option<bool>> = inner.iter().map(evaluate).collect();
            if values.contains(&Some(false)) {
                Some(false)
            } else if values.iter().all(|value| *value == Some(true)) {
                Some(true)
            } else {
                None
            }
        }
        ConditionKind::Any(inner) => {
            let values: Vec<Option<bool>> = inner.iter().map(evaluate).collect();
            if values.contains(&Some(true)) {
                Some(true)
            } else if values.iter().all(|value| *value == Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        ConditionKind::Not(inner) => evaluate(inner).map(|holds| !holds),
        ConditionKind::Matches { .. }
        | ConditionKind::OneOf { .. }
        | ConditionKind::Exists { .. }
        | ConditionKind::IsEmpty { .. }
        | ConditionKind::Length { .. } => None,
    }
}

/// Equality of two literals of the same kind; `None` across kinds (the engine may convert).
fn literal_equal(left: &Value, right: &Value) -> Option<bool> {
    if let (Value::String(a), Value::String(b)) = (left, right) {
        return Some(a == b);
    }
    if let (Value::Bool(a), Value::Bool(b)) = (left, right) {
        return Some(a == b);
    }
    if let (Value::Null, Value::Null) = (left, right) {
        return Some(true);
    }
    // Integers only: a decimal's text and its float may differ.
    if let (Value::Number(a), Value::Number(b)) = (left, right)
        && let (Some(a), Some(b)) = (a.as_i64(), b.as_i64())
    {
        return Some(a == b);
    }
    None
}
