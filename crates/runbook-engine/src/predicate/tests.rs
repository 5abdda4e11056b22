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
    let Verdict::Fails(failure) = verdict else {
        panic!("\"0\" must not equal 0");
    };
    let why = failure.to_string();
    let FailureReason::Mismatch {
        operator,
        expected,
        actual,
        types_differ,
        ..
    } = &failure.reason
    else {
        panic!("a comparison fails as a mismatch: {failure:?}");
    };
    assert_eq!(operator, "equals");
    assert_eq!(
        expected.as_ref().map(|e| e.type_name.as_str()),
        Some("number")
    );
    assert_eq!(actual.value, Value::from("0"));
    assert!(types_differ);
    assert!(why.starts_with("orders must be empty"), "{why}");
    assert!(why.contains("expected (equals): 0 (number)"), "{why}");
    assert!(why.contains("actual: \"0\" (string)"), "{why}");
    assert!(why.contains("types differ"), "{why}");
    Ok(())
}

#[test]
fn numbers_beyond_64_bits_compare_exactly() {
    let number = |text: &str| serde_json::from_str::<serde_json::Number>(text).ok();
    let order = |a: &str, b: &str| match (number(a), number(b)) {
        (Some(a), Some(b)) => number_order(&a, &b),
        _ => None,
    };
    assert_eq!(
        order("100000000000000000000001", "100000000000000000000000"),
        Some(Ordering::Greater)
    );
    assert_eq!(
        order("-100000000000000000000001", "-100000000000000000000000"),
        Some(Ordering::Less)
    );
    assert_eq!(
        order("1000000000000000000000000000000000000001", "1e39"),
        Some(Ordering::Greater)
    );
    assert_eq!(
        order("0.1000000000000000000001", "0.1"),
        Some(Ordering::Greater)
    );
    assert_eq!(order("1.0", "1"), Some(Ordering::Equal));
    assert_eq!(order("1e2", "100"), Some(Ordering::Equal));
    assert_eq!(order("-0", "0"), Some(Ordering::Equal));
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
    let Verdict::Fails(failure) = length else {
        panic!("a list of two is not empty");
    };
    assert!(failure.to_string().contains("actual length 2"), "{failure}");
    assert_eq!(failure.observed(), "[{\"id\":1},{\"id\":2}] (list)");
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
