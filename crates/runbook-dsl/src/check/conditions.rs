//! Checks for conditions (`when`, `assert`): exactly one operator, a `that`, valid operands.

use super::Checker;
use super::references::Scope;
use crate::decimal::Decimal;
use crate::finding::{Finding, FindingCode};
use crate::model::{CompareOp, Condition, ConditionKind, ValueTemplate};
use crate::raw::RawCondition;
use crate::spanned::Spanned;

impl Checker<'_> {
    pub(crate) fn conditions(
        &mut self,
        conditions: &[Spanned<RawCondition>],
        scope: Scope,
    ) -> Option<Vec<Condition>> {
        let checked: Vec<_> = conditions
            .iter()
            .map(|condition| self.condition(condition, scope))
            .collect();
        checked.into_iter().collect()
    }

    pub(crate) fn condition(
        &mut self,
        spanned: &Spanned<RawCondition>,
        scope: Scope,
    ) -> Option<Condition> {
        let raw = &spanned.value;
        let span = self.span(spanned);
        let mut operators: Vec<&'static str> = Vec::new();
        let compare = [
            (CompareOp::Equals, &raw.equals),
            (CompareOp::NotEquals, &raw.not_equals),
            (CompareOp::GreaterThan, &raw.greater_than),
            (CompareOp::GreaterOrEqual, &raw.greater_or_equal),
            (CompareOp::LessThan, &raw.less_than),
            (CompareOp::LessOrEqual, &raw.less_or_equal),
            (CompareOp::Contains, &raw.contains),
            (CompareOp::NotContains, &raw.not_contains),
            (CompareOp::StartsWith, &raw.starts_with),
            (CompareOp::EndsWith, &raw.ends_with),
        ];
        for (op, operand) in &compare {
            if operand.is_some() {
                operators.push(op.keyword());
            }
        }
        let others = [
            ("matches", raw.matches.is_some()),
            ("one_of", raw.one_of.is_some()),
            ("exists", raw.exists.is_some()),
            ("is_empty", raw.is_empty.is_some()),
            ("length", raw.length.is_some()),
            ("all", raw.all.is_some()),
            ("any", raw.any.is_some()),
            ("not", raw.not.is_some()),
        ];
        operators.extend(others.iter().filter(|(_, set)| *set).map(|(name, _)| *name));

        if operators.len() != 1 {
            let message = if operators.is_empty() {
                "condition has no operator".to_owned()
            } else {
                format!(
                    "condition has {} operators ({}); write one per condition",
                    operators.len(),
                    operators.join(", ")
                )
            };
            self.report(
                Finding::error(FindingCode::InvalidCondition, span, message)
                    .with_label("expected exactly one operator")
                    .with_help(
                        "operators: equals, not_equals, greater_than, greater_or_equal, less_than, \
                         less_or_equal, contains, not_contains, starts_with, ends_with, matches, \
                         one_of, exists, is_empty, length, all, any, not",
                    ),
            );
            return None;
        }
        let operator = operators[0];
        let message = match &raw.message {
            Some(message) => Some(self.template(message, scope)?),
            None => None,
        };
        let is_combinator = matches!(operator, "all" | "any" | "not");
        if is_combinator {
            if raw.that.is_some() {
                self.report(
                    Finding::error(
                        FindingCode::InvalidCondition,
                        span,
                        format!("`{operator}` combines nested conditions and takes no `that`"),
                    )
                    .with_help("move `that` into each nested condition"),
                );
                return None;
            }
            let kind = match (&raw.all, &raw.any, &raw.not) {
                (Some(all), _, _) => ConditionKind::All(self.conditions(&all.value, scope)?),
                (_, Some(any), _) => ConditionKind::Any(self.conditions(&any.value, scope)?),
                (_, _, Some(not)) => ConditionKind::Not(Box::new(self.condition(not, scope)?)),
                _ => return None,
            };
            return Some(Condition {
                kind,
                message,
                span,
            });
        }

        let Some(that_field) = &raw.that else {
            self.report(
                Finding::error(
                    FindingCode::InvalidCondition,
                    span,
                    format!("condition `{operator}` has no `that`"),
                )
                .with_label("what is being tested?")
                .with_help("add `that: \"{{steps.ID.outputs.NAME}}\"`"),
            );
            return None;
        };
        let that = self.value_template(that_field, scope)?;
        let kind = if let Some((op, Some(operand))) =
            compare.iter().find(|(_, operand)| operand.is_some())
        {
            let operand_checked = self.value_template(operand, scope)?;
            let numeric = |value: &serde_json::Value| match value {
                serde_json::Value::String(text) => Decimal::parse_text(text).is_some(),
                serde_json::Value::Number(_) => true,
                serde_json::Value::Null
                | serde_json::Value::Bool(_)
                | serde_json::Value::Array(_)
                | serde_json::Value::Object(_) => false,
            };
            if op.orders()
                && let ValueTemplate::Literal(value) = &operand_checked
                && !numeric(value)
            {
                let operand_span = self.span(operand);
                self.report(
                    Finding::error(
                        FindingCode::InvalidCondition,
                        operand_span,
                        format!(
                            "`{}` compares numbers, but {value} is not a number",
                            op.keyword()
                        ),
                    )
                    .with_label("expected a number")
                    .with_help(
                        "write a number such as `1000` or a numeric string such as `\"1000.50\"`",
                    ),
                );
                return None;
            }
            ConditionKind::Compare {
                that,
                op: *op,
                operand: operand_checked,
            }
        } else if let Some(pattern) = &raw.matches {
            ConditionKind::Matches {
                that,
                regex: self.regex(pattern)?,
            }
        } else if let Some(options) = &raw.one_of {
            let node = self.span(options);
            let checked: Vec<_> = options
                .value
                .iter()
                .map(|option| self.value_template_at(option, node, scope))
                .collect();
            ConditionKind::OneOf {
                that,
                options: checked.into_iter().collect::<Option<Vec<_>>>()?,
            }
        } else if let Some(expected) = &raw.exists {
            ConditionKind::Exists {
                that,
                expected: expected.value,
            }
        } else if let Some(expected) = &raw.is_empty {
            ConditionKind::IsEmpty {
                that,
                expected: expected.value,
            }
        } else if let Some(expected) = &raw.length {
            ConditionKind::Length {
                that,
                expected: expected.value,
            }
        } else {
            return None;
        };
        if matches!(&kind, ConditionKind::Exists { that, .. } if !matches!(that, ValueTemplate::Template(t) if t.single_ref().is_some()))
        {
            self.report(
                Finding::error(
                    FindingCode::InvalidCondition,
                    self.span(that_field),
                    "`exists` needs `that` to be exactly one reference",
                )
                .with_help("write `that: \"{{steps.ID.outputs.body.field}}\"`"),
            );
            return None;
        }
        Some(Condition {
            kind,
            message,
            span,
        })
    }
}
