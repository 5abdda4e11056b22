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
    let equal = evaluate(
        &condition(ConditionKind::Compare {
            that: literal(Value::from("1")),
            op: CompareOp::Equals,
            operand: literal(Value::from(1)),
        }),
        Scope::new(&run),
    )?;
    assert!(!equal.holds(), "equality stays typed: \"1\" is not 1");
    Ok(())
}

fn order(that: Value, op: CompareOp, operand: Value) -> Result<Verdict, RenderError> {
    let run = RunContext::default();
    evaluate(
        &condition(ConditionKind::Compare {
            that: literal(that),
            op,
            operand: literal(operand),
        }),
        Scope::new(&run),
    )
}

#[test]
fn numeric_strings_order_as_exact_decimals() -> Result<(), RenderError> {
    let number =
        |text: &str| Value::Number(serde_json::from_str(text).unwrap_or_else(|_| 0.into()));
    for (that, op, operand) in [
        (
            Value::from("123346.11"),
            CompareOp::GreaterThan,
            Value::from(1000),
        ),
        (
            Value::from("1000.00"),
            CompareOp::GreaterOrEqual,
            Value::from(1000),
        ),
        (
            Value::from("1000.00"),
            CompareOp::LessOrEqual,
            Value::from("1e3"),
        ),
        (Value::from("-0.01"), CompareOp::LessThan, Value::from(0)),
        (
            Value::from("100000000000000000000000.01"),
            CompareOp::GreaterThan,
            number("100000000000000000000000"),
        ),
        (
            Value::from(5),
            CompareOp::LessThan,
            Value::from("5.000000000000000000001"),
        ),
    ] {
        let verdict = order(that.clone(), op, operand.clone())?;
        assert!(verdict.holds(), "{that} {} {operand}", op.keyword());
    }
    let verdict = order(
        Value::from("999.99"),
        CompareOp::GreaterThan,
        Value::from(1000),
    )?;
    assert!(!verdict.holds());
    Ok(())
}

#[test]
fn a_side_that_is_not_a_number_says_so() -> Result<(), RenderError> {
    for (that, operand, side, says) in [
        (
            Value::from("n/a"),
            Value::from(1000),
            NotANumber::Actual,
            "the actual value is not a number",
        ),
        (
            Value::from("1,000.00"),
            Value::from(1),
            NotANumber::Actual,
            "the actual value is not a number",
        ),
        (
            Value::Null,
            Value::from(1),
            NotANumber::Actual,
            "the actual value is not a number",
        ),
        (
            Value::from(5),
            Value::from("lots"),
            NotANumber::Expected,
            "the expected value is not a number",
        ),
        (
            Value::from(true),
            Value::from("x"),
            NotANumber::Both,
            "neither value is a number",
        ),
    ] {
        let Verdict::Fails(failure) = order(that.clone(), CompareOp::GreaterThan, operand)? else {
            panic!("{that} is not a number: the comparison cannot hold");
        };
        let FailureReason::Mismatch { not_a_number, .. } = &failure.reason else {
            panic!("{failure:?}");
        };
        assert_eq!(*not_a_number, Some(side));
        let text = failure.to_string();
        assert!(text.contains(says), "{text}");
        assert!(
            text.contains("`greater_than` compares numbers and numeric strings"),
            "{text}"
        );
    }
    // Not for equality: a string simply is not the number.
    let Verdict::Fails(failure) = order(Value::from("x"), CompareOp::Equals, Value::from(1))?
    else {
        panic!("\"x\" is not 1");
    };
    assert!(!failure.to_string().contains("not a number"), "{failure}");
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
