//! `alpaca.compare_accounts`: is the new key's account the one from the pre-rotation snapshot?

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use runbook_plugin::{ActionSpec, ParamKind, ParamSpec, PluginError, PluginErrorKind};

pub const SPEC: ActionSpec = ActionSpec {
    name: "alpaca.compare_accounts",
    summary: "compare two account snapshots: ids exactly, money as decimals, wrong environment named",
    read_only: true,
    params: &[
        ParamSpec {
            name: "expected",
            required: true,
            secret: false,
            kind: ParamKind::Object,
            summary: "the pre-rotation account (e.g. {{steps.snapshot.outputs.account}})",
        },
        ParamSpec {
            name: "actual",
            required: true,
            secret: false,
            kind: ParamKind::Object,
            summary: "the account the new key sees",
        },
        ParamSpec {
            name: "fields",
            required: false,
            secret: false,
            kind: ParamKind::StringList,
            summary: "fields to compare (default: id, account_number, equity)",
        },
        ParamSpec {
            name: "tolerance",
            required: false,
            secret: false,
            kind: ParamKind::Object,
            summary: "per-field allowed decimal difference, e.g. {equity: \"1.00\"} (default: exact)",
        },
        ParamSpec {
            name: "expect",
            required: false,
            secret: false,
            kind: ParamKind::Choice(&["live", "paper"]),
            summary: "`live` (default) or `paper`: the environment being rotated",
        },
        ParamSpec {
            name: "fail",
            required: false,
            secret: false,
            kind: ParamKind::Boolean,
            summary: "fail the step unless they match (default true); false only reports the verdict",
        },
    ],
    outputs: &[
        "verdict",
        "matches",
        "differences",
        "environment",
        "message",
    ],
};

/// Default fields: the SOP's "account_number and equity MUST match", plus the account id.
const DEFAULT_FIELDS: [&str; 3] = ["id", "account_number", "equity"];
/// Compared as text even when they look like numbers.
const IDENTITY_FIELDS: [&str; 4] = ["id", "account_number", "status", "currency"];
/// A difference in one of these means another account, not the same account changed.
const ACCOUNT_FIELDS: [&str; 2] = ["id", "account_number"];

/// The outcome of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Match,
    /// The same account (ids equal), but a compared value differs beyond its tolerance: with
    /// money fields, usually the market moving. Regenerating the key cannot change it.
    Mismatch,
    /// Another account of the expected environment: the key was regenerated for the wrong account.
    OtherAccount,
    /// A paper account where a live one was expected (or the reverse).
    WrongEnvironment,
}

impl Verdict {
    fn word(&self) -> &'static str {
        match self {
            Verdict::Match => "match",
            Verdict::Mismatch => "mismatch",
            Verdict::OtherAccount => "other_account",
            Verdict::WrongEnvironment => "wrong_environment",
        }
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: String,
    pub expected: Value,
    pub actual: Value,
    pub note: Option<String>,
}

/// Compares `actual` with `expected` on `fields`; `tolerance` maps a field to an allowed decimal
/// difference; `expect_live` says which environment is being rotated.
pub fn compare_accounts(
    expected: &Map<String, Value>,
    actual: &Map<String, Value>,
    fields: &[String],
    tolerance: &Map<String, Value>,
    expect_live: bool,
) -> Result<(Verdict, Vec<Difference>, String), PluginError> {
    let number_of = |account: &Map<String, Value>| {
        account
            .get("account_number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (expected_number, actual_number) = (number_of(expected), number_of(actual));
    let wanted = if expect_live { "LIVE" } else { "PAPER" };
    let actual_is_paper = crate::is_paper_account(&actual_number);
    if actual_is_paper == expect_live {
        let found = if actual_is_paper { "PAPER" } else { "LIVE" };
        let message = format!(
            "WRONG ENVIRONMENT: the new key belongs to the {found} account {actual_number}, but this \
             rotation is for the {wanted} account {expected_number}. The dashboard was on the wrong \
             environment when the key was regenerated. STOP: do not store or propagate this key; \
             pause both trading modes and follow both runbooks."
        );
        let difference = Difference {
            field: "account_number".into(),
            expected: Value::from(expected_number),
            actual: Value::from(actual_number),
            note: Some(format!("a {found} account")),
        };
        return Ok((Verdict::WrongEnvironment, vec![difference], message));
    }

    let mut differences = Vec::new();
    for field in fields {
        let (want, got) = (expected.get(field), actual.get(field));
        let (Some(want), Some(got)) = (want, got) else {
            differences.push(Difference {
                field: field.clone(),
                expected: want.cloned().unwrap_or(Value::Null),
                actual: got.cloned().unwrap_or(Value::Null),
                note: Some(
                    match (want, got) {
                        (None, None) => "missing from both accounts (is the field name right?)",
                        (None, _) => "missing from the expected account",
                        _ => "missing from the new key's account",
                    }
                    .into(),
                ),
            });
            continue;
        };
        let decimals = (!IDENTITY_FIELDS.contains(&field.as_str()))
            .then(|| decimal(want).zip(decimal(got)))
            .flatten();
        match decimals {
            Some((want_amount, got_amount)) => {
                let allowed = match tolerance.get(field) {
                    Some(value) => decimal(value).ok_or_else(|| {
                        PluginError::invalid(format!(
                            "tolerance for `{field}` is not a decimal: {value}"
                        ))
                    })?,
                    None => Decimal::ZERO,
                };
                let delta = (got_amount - want_amount).abs();
                if delta > allowed {
                    let mut note = format!("differs by {delta}");
                    if allowed > Decimal::ZERO {
                        note.push_str(&format!(", more than the tolerance {allowed}"));
                    }
                    differences.push(Difference {
                        field: field.clone(),
                        expected: want.clone(),
                        actual: got.clone(),
                        note: Some(note),
                    });
                }
            }
            None if want != got => differences.push(Difference {
                field: field.clone(),
                expected: want.clone(),
                actual: got.clone(),
                note: None,
            }),
            None => {}
        }
    }
    if differences.is_empty() {
        return Ok((Verdict::Match, differences, "the accounts match".into()));
    }
    let mut message =
        String::from("the new key's account does not match the pre-rotation snapshot:");
    for difference in &differences {
        message.push_str(&format!(
            "\n  {}: expected {}, got {}",
            difference.field, difference.expected, difference.actual
        ));
        if let Some(note) = &difference.note {
            message.push_str(&format!(" ({note})"));
        }
    }
    if differences
        .iter()
        .any(|d| ACCOUNT_FIELDS.contains(&d.field.as_str()))
    {
        message.push_str(
            "\n  ANOTHER ACCOUNT: the dashboard was on the wrong account when the key was \
             regenerated. STOP: do not store or propagate this key; pause both trading modes.",
        );
        return Ok((Verdict::OtherAccount, differences, message));
    }
    if differences.iter().any(|d| d.field == "equity") {
        message.push_str(
            "\n  note: the id and account number match: this is the same account. Equity is \
             marked to market in real time; with positions held it moves while trading is \
             paused. Regenerating the key cannot change it: if the difference is market \
             movement, accept it, or state a tolerance (tolerance: {equity: \"1.00\"}).",
        );
    }
    Ok((Verdict::Mismatch, differences, message))
}

pub fn run(params: &Map<String, Value>) -> Result<Map<String, Value>, PluginError> {
    let account = |name: &str| match params.get(name) {
        Some(Value::Object(account)) => Ok(account.clone()),
        Some(other) => Err(PluginError::invalid(format!(
            "`{name}` must be an account object (e.g. {{{{steps.snapshot.outputs.account}}}}), got {}",
            short(other)
        ))),
        None => Err(PluginError::invalid(format!(
            "parameter `{name}` is missing"
        ))),
    };
    let expected = account("expected")?;
    let actual = account("actual")?;
    let fields: Vec<String> = match params.get("fields") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(_) => {
            return Err(PluginError::invalid(
                "`fields` must be a list of field names",
            ));
        }
        None => DEFAULT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
    };
    let tolerance = match params.get("tolerance") {
        Some(Value::Object(tolerance)) => tolerance.clone(),
        Some(_) => {
            return Err(PluginError::invalid(
                "`tolerance` must be a mapping of field to decimal",
            ));
        }
        None => Map::new(),
    };
    let expect_live = match params.get("expect").and_then(Value::as_str) {
        None | Some("live") => true,
        Some("paper") => false,
        Some(other) => {
            return Err(PluginError::invalid(format!(
                "`expect` must be live or paper, not {other}"
            )));
        }
    };
    let fail = params.get("fail").and_then(Value::as_bool).unwrap_or(true);
    let (verdict, differences, message) =
        compare_accounts(&expected, &actual, &fields, &tolerance, expect_live)?;
    if fail && verdict != Verdict::Match {
        return Err(PluginError::new(PluginErrorKind::Assertion, message));
    }
    let actual_number = actual
        .get("account_number")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut outputs = Map::new();
    outputs.insert("verdict".into(), Value::from(verdict.word()));
    outputs.insert("matches".into(), Value::Bool(verdict == Verdict::Match));
    outputs.insert(
        "differences".into(),
        Value::Array(
            differences
                .iter()
                .map(|d| json!({"field": d.field, "expected": d.expected, "actual": d.actual, "note": d.note}))
                .collect(),
        ),
    );
    outputs.insert(
        "environment".into(),
        Value::from(if crate::is_paper_account(actual_number) {
            "paper"
        } else {
            "live"
        }),
    );
    outputs.insert("message".into(), Value::from(message));
    Ok(outputs)
}

/// A decimal from a JSON string (`"123346.11"`) or number, parsed from its text: never via f64.
fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(text) => Decimal::from_str(text.trim()).ok(),
        Value::Number(number) => Decimal::from_str(&number.to_string())
            .or_else(|_| Decimal::from_scientific(&number.to_string()))
            .ok(),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(number: &str, equity: &str) -> Map<String, Value> {
        match json!({"id": "904837e3", "account_number": number, "equity": equity, "cash": "5000"})
        {
            Value::Object(map) => map,
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Array(_) => Map::new(),
        }
    }

    fn fields() -> Vec<String> {
        DEFAULT_FIELDS.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn equal_decimals_in_different_notation_match() -> Result<(), PluginError> {
        let (verdict, _, _) = compare_accounts(
            &account("123456789", "123346.10"),
            &account("123456789", "123346.1"),
            &fields(),
            &Map::new(),
            true,
        )?;
        assert_eq!(verdict, Verdict::Match);
        Ok(())
    }

    #[test]
    fn a_cent_differs_exactly_and_names_both_values() -> Result<(), PluginError> {
        let (verdict, differences, message) = compare_accounts(
            &account("123456789", "123346.11"),
            &account("123456789", "123346.10"),
            &fields(),
            &Map::new(),
            true,
        )?;
        assert_eq!(verdict, Verdict::Mismatch);
        assert_eq!(differences.len(), 1);
        assert!(
            message.contains("equity: expected \"123346.11\", got \"123346.10\" (differs by 0.01)"),
            "{message}"
        );
        assert!(message.contains("marked to market"), "{message}");
        Ok(())
    }

    #[test]
    fn floats_would_get_this_wrong_decimals_do_not() -> Result<(), PluginError> {
        // 0.1 + 0.2 != 0.3 in f64; as decimals the tolerance 0.3 holds exactly.
        let mut tolerance = Map::new();
        tolerance.insert("equity".into(), Value::from("0.3"));
        let (verdict, _, _) = compare_accounts(
            &account("123456789", "0.1"),
            &account("123456789", "0.4"),
            &fields(),
            &tolerance,
            true,
        )?;
        assert_eq!(verdict, Verdict::Match);
        Ok(())
    }

    #[test]
    fn a_paper_account_is_the_wrong_environment_in_plain_words() -> Result<(), PluginError> {
        let (verdict, _, message) = compare_accounts(
            &account("123456789", "100.00"),
            &account("PA3KQ9Z1X2Y3", "100000.00"),
            &fields(),
            &Map::new(),
            true,
        )?;
        assert_eq!(verdict, Verdict::WrongEnvironment);
        assert!(
            message.starts_with(
                "WRONG ENVIRONMENT: the new key belongs to the PAPER account PA3KQ9Z1X2Y3"
            ),
            "{message}"
        );
        assert!(message.contains("do not store or propagate"), "{message}");
        Ok(())
    }

    #[test]
    fn another_live_account_is_another_account_that_says_stop() -> Result<(), PluginError> {
        let (verdict, _, message) = compare_accounts(
            &account("123456789", "100.00"),
            &account("987654321", "100.00"),
            &fields(),
            &Map::new(),
            true,
        )?;
        assert_eq!(verdict, Verdict::OtherAccount);
        assert!(
            message.contains("account_number: expected \"123456789\", got \"987654321\""),
            "{message}"
        );
        assert!(message.contains("STOP"), "{message}");
        Ok(())
    }

    #[test]
    fn equity_drift_on_the_same_account_is_a_mismatch_not_another_account()
    -> Result<(), PluginError> {
        let (verdict, differences, message) = compare_accounts(
            &account("123456789", "123346.11"),
            &account("123456789", "123351.87"),
            &fields(),
            &Map::new(),
            true,
        )?;
        assert_eq!(verdict, Verdict::Mismatch);
        assert_eq!(differences.len(), 1);
        assert!(message.contains("differs by 5.76"), "{message}");
        assert!(message.contains("this is the same account"), "{message}");
        assert!(!message.contains("STOP"), "{message}");
        Ok(())
    }

    #[test]
    fn fail_false_reports_the_verdict_as_outputs() -> Result<(), PluginError> {
        let mut params = Map::new();
        params.insert("expected".into(), Value::Object(account("123456789", "1")));
        params.insert("actual".into(), Value::Object(account("PA1", "1")));
        params.insert("fail".into(), Value::Bool(false));
        let outputs = run(&params)?;
        assert_eq!(outputs["verdict"], "wrong_environment");
        assert_eq!(outputs["environment"], "paper");
        params.insert("fail".into(), Value::Bool(true));
        assert!(run(&params).is_err_and(|e| e.kind == PluginErrorKind::Assertion));
        Ok(())
    }
}
