//! The `answers:` of a rehearsal or scenario: keyed by prompt step ids, with `decisions` keyed by
//! any step id and `preconditions` for the runbook's own. Whether each answer fits its prompt is
//! checked again when the rehearsal runs, by the same code that checks an answers file.

use serde_json::Value;

use super::check::Checker;
use crate::Span;
use crate::finding::{Finding, FindingCode};
use crate::suggest::did_you_mean;

pub(super) fn check(checker: &mut Checker<'_>, answers: &Value, span: Span) {
    let Value::Object(answers) = answers else {
        checker.error(
            FindingCode::RehearsalInvalid,
            span,
            "`answers` is a mapping from step ids to answers (docs/prompts.md)",
        );
        return;
    };
    let prompts: Vec<String> = checker.steps.prompts().map(|s| s.id.clone()).collect();
    for (key, value) in answers {
        match key.as_str() {
            "preconditions" => {}
            "decisions" => {
                let Value::Object(decisions) = value else {
                    checker.error(
                        FindingCode::RehearsalInvalid,
                        span,
                        "`decisions` maps step ids to lists of `retry`, `skip` or `abort`",
                    );
                    continue;
                };
                for id in decisions.keys() {
                    if checker.steps.get(id).is_none() {
                        let suggestion = did_you_mean(id, checker.steps.ids());
                        checker.findings.push(
                            Finding::error(
                                FindingCode::RehearsalUnknownStep,
                                span,
                                format!("`decisions`: the runbook has no step `{id}`"),
                            )
                            .with_suggestion(suggestion),
                        );
                    }
                }
            }
            id if prompts.iter().any(|prompt| prompt == id) => {}
            id => {
                let message = if checker.steps.get(id).is_some() {
                    format!("answers for step `{id}`, which is not a prompt")
                } else {
                    format!("answers for step `{id}`, which the runbook does not have")
                };
                let suggestion = did_you_mean(id, prompts.iter().map(String::as_str));
                checker.findings.push(
                    Finding::error(FindingCode::RehearsalUnknownStep, span, message)
                        .with_suggestion(suggestion),
                );
            }
        }
    }
}
