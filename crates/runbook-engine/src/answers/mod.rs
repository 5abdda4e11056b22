//! Answers from a file, for rehearsals and tests: the operator's part, written down in advance.
//!
//! ```yaml
//! confirm_live:                 # a step id
//!   confirm: true               # answer to `confirm`
//!   phrase: LIVE                # what the operator types for `phrase`
//!   new_key_id: AKTEST          # answers by name
//! enter_key:                    # a list: one answer set per time the step runs
//!   - {new_key_id: AKBAD}
//!   - {new_key_id: AKGOOD}
//! decisions:                    # retry / skip / abort, in order, per step or group id
//!   rotate: [retry, abort]
//! ```
//!
//! A missing answer is an error, never a default: nothing is assumed "yes".

use std::collections::HashMap;

use serde_json::{Map, Value};

use runbook_dsl::Answer;

use crate::prompter::{Decision, PromptContext, PromptError, Prompter, Validator};

mod check;

pub use check::check_answers;

/// Answers read from a file.
#[derive(Debug, Clone)]
pub struct AnswersPrompter {
    answers: Map<String, Value>,
    decisions_used: HashMap<String, usize>,
    /// Where the answers came from, for messages.
    origin: String,
    /// Show each prompt and the answer taken (secrets masked) on stderr, so a rehearsal's
    /// transcript reads like the operator's.
    echo: bool,
}

/// Why an answers file cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswersFileError {
    /// The file holds a list or a single value: an answers file maps step ids to answers.
    #[error("an answers file is a mapping from step ids to answers, not {found}")]
    NotAMapping { found: &'static str },
}

impl AnswersPrompter {
    /// `answers` is the parsed file (a mapping); `origin` names it in messages.
    pub fn new(answers: Value, origin: impl Into<String>) -> Result<Self, AnswersFileError> {
        match answers {
            Value::Object(answers) => Ok(AnswersPrompter {
                answers,
                decisions_used: HashMap::new(),
                origin: origin.into(),
                echo: false,
            }),
            Value::Null => Ok(AnswersPrompter {
                answers: Map::new(),
                decisions_used: HashMap::new(),
                origin: origin.into(),
                echo: false,
            }),
            Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_) => {
                Err(AnswersFileError::NotAMapping {
                    found: crate::render::type_name(&answers),
                })
            }
        }
    }

    /// Echo prompts and answers on stderr (for people watching a rehearsal).
    pub fn echoing(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }

    fn say(&self, text: &str) {
        if self.echo {
            eprintln!("{text}");
        }
    }

    /// The answer set for this occurrence of the step.
    fn set(&self, context: &PromptContext, what: &str) -> Result<&Map<String, Value>, PromptError> {
        let missing = || {
            PromptError::NoAnswer(format!(
                "{} has no answers for step `{}` ({what} needed)",
                self.origin, context.step_id
            ))
        };
        match self.answers.get(&context.step_id) {
            Some(Value::Object(set)) => Ok(set),
            Some(Value::Array(sets)) => {
                match sets.get(context.occurrence.saturating_sub(1) as usize) {
                    Some(Value::Object(set)) => Ok(set),
                    Some(_) => Err(PromptError::Invalid(format!(
                        "{}: answers for step `{}` must be mappings",
                        self.origin, context.step_id
                    ))),
                    None => Err(PromptError::NoAnswer(format!(
                        "{} has {} answer set(s) for step `{}`, but the step is prompting for time {}",
                        self.origin,
                        sets.len(),
                        context.step_id,
                        context.occurrence
                    ))),
                }
            }
            Some(_) => Err(PromptError::Invalid(format!(
                "{}: answers for step `{}` must be a mapping or a list of mappings",
                self.origin, context.step_id
            ))),
            None => Err(missing()),
        }
    }

    fn value<'a>(&'a self, context: &PromptContext, key: &str) -> Result<&'a Value, PromptError> {
        self.set(context, &format!("`{key}`"))?
            .get(key)
            .ok_or_else(|| {
                PromptError::NoAnswer(format!(
                    "{} has no `{key}` for step `{}`",
                    self.origin, context.step_id
                ))
            })
    }
}

impl Prompter for AnswersPrompter {
    fn instructions(&mut self, context: &PromptContext, text: &str) -> Result<(), PromptError> {
        self.say(&format!(
            "\n  ── {} ── (answered from {})",
            context.step_name, self.origin
        ));
        for line in context.redactor.redact(text).trim_end().lines() {
            self.say(&format!("  {line}"));
        }
        Ok(())
    }

    fn confirm(&mut self, context: &PromptContext, question: &str) -> Result<bool, PromptError> {
        match self.value(context, "confirm")? {
            Value::Bool(yes) => {
                let yes = *yes;
                self.say(&format!(
                    "  {} · {}",
                    context.redactor.redact(question),
                    if yes { "yes" } else { "no" }
                ));
                Ok(yes)
            }
            Value::Null
            | Value::Number(_)
            | Value::String(_)
            | Value::Array(_)
            | Value::Object(_) => Err(PromptError::Invalid(format!(
                "{}: `confirm` for step `{}` must be true or false",
                self.origin, context.step_id
            ))),
        }
    }

    fn phrase(&mut self, context: &PromptContext, phrase: &str) -> Result<String, PromptError> {
        let typed = text_of(self.value(context, "phrase")?);
        self.say(
            &context
                .redactor
                .redact(&format!("  Type {phrase} to continue · {typed}")),
        );
        Ok(typed)
    }

    fn answer(
        &mut self,
        context: &PromptContext,
        answer: &Answer,
        validate: Validator<'_>,
    ) -> Result<String, PromptError> {
        let text = text_of(self.value(context, &answer.name)?);
        validate(&text).map_err(|why| {
            PromptError::Invalid(format!(
                "{}: the answer `{}` for step `{}` is not acceptable: {why}",
                self.origin, answer.name, context.step_id
            ))
        })?;
        let shown = if answer.secret {
            crate::redact::MASK.to_owned()
        } else {
            context.redactor.redact(&text)
        };
        self.say(&format!("  {} · {shown}", answer.label));
        Ok(text)
    }

    fn decide(
        &mut self,
        context: &PromptContext,
        _: &str,
        options: &[Decision],
    ) -> Result<Decision, PromptError> {
        let used = self
            .decisions_used
            .entry(context.step_id.clone())
            .or_insert(0);
        let decision = self
            .answers
            .get("decisions")
            .and_then(|decisions| decisions.get(&context.step_id))
            .and_then(|list| match list {
                Value::Array(items) => items.get(*used).cloned(),
                Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::String(_)
                | Value::Object(_) => (*used == 0).then(|| list.clone()),
            })
            .ok_or_else(|| {
                PromptError::NoAnswer(format!(
                    "{} has no decision #{} for `{}` under `decisions:` (retry, skip or abort)",
                    self.origin,
                    *used + 1,
                    context.step_id
                ))
            })?;
        *used += 1;
        let chosen = match decision.as_str() {
            Some("retry") => Decision::Retry,
            Some("skip") => Decision::Skip,
            Some("abort") => Decision::Abort,
            _ => {
                return Err(PromptError::Invalid(format!(
                    "{}: decision {decision} for `{}` is not retry, skip or abort",
                    self.origin, context.step_id
                )));
            }
        };
        if options.contains(&chosen) {
            Ok(chosen)
        } else {
            Err(PromptError::Invalid(format!(
                "{}: decision `{}` for `{}` is not possible here (choose from: {})",
                self.origin,
                chosen.word(),
                context.step_id,
                options
                    .iter()
                    .map(|d| d.word())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    fn kind(&self) -> &'static str {
        "answers file"
    }
}

/// An answer as text: a string as written, null as empty, anything else as JSON.
pub(super) fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(step: &str, occurrence: u32) -> PromptContext {
        PromptContext {
            step_id: step.into(),
            step_name: step.into(),
            occurrence,
            redactor: crate::redact::Redactor::default(),
        }
    }

    #[test]
    fn answers_per_occurrence_and_decisions_in_order() -> Result<(), PromptError> {
        let file = serde_json::json!({
            "enter": [{"phrase": "LIVE"}, {"phrase": "NOPE"}],
            "decisions": {"rotate": ["retry", "abort"]}
        });
        let mut prompter = AnswersPrompter::new(file, "answers.yaml")
            .map_err(|error| PromptError::Invalid(error.to_string()))?;
        assert_eq!(prompter.phrase(&context("enter", 1), "LIVE")?, "LIVE");
        assert_eq!(prompter.phrase(&context("enter", 2), "LIVE")?, "NOPE");
        assert!(prompter.phrase(&context("enter", 3), "LIVE").is_err());
        let options = [Decision::Retry, Decision::Abort];
        assert_eq!(
            prompter.decide(&context("rotate", 1), "", &options)?,
            Decision::Retry
        );
        assert_eq!(
            prompter.decide(&context("rotate", 1), "", &options)?,
            Decision::Abort
        );
        assert!(
            prompter
                .decide(&context("rotate", 1), "", &options)
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn a_missing_answer_is_an_error_not_yes() {
        let mut prompter = AnswersPrompter::new(serde_json::json!({}), "a.yaml")
            .unwrap_or_else(|_| panic!("valid"));
        assert!(prompter.confirm(&context("x", 1), "sure?").is_err());
    }
}
