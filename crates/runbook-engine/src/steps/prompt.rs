//! `prompt` steps: instructions, confirmation, typed phrase, answers; through the [`Prompter`].
//!
//! Prompts block on a person, so each runs on a blocking thread; the async side stays free to notice
//! Ctrl-C.

use serde_json::{Map, Value};

use runbook_dsl::{Answer, PromptStep};

use super::StepEnv;
use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::prompter::{PromptContext, PromptError, Prompter, SharedPrompter};
use crate::render::render_string;

pub(super) async fn execute(
    step: &PromptStep,
    context: PromptContext,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let scope = Scope::new(env.context);
    let mut outputs = Map::new();
    if let Some(instructions) = &step.instructions {
        // What is shown is masked; what is compared (a phrase) is the real text.
        let text = env
            .context
            .redactor
            .redact(&render_string(instructions, scope)?);
        let ctx = context.clone();
        ask(env.prompter, move |p| p.instructions(&ctx, &text)).await?;
    }
    if let Some(question) = &step.confirm {
        let question = env
            .context
            .redactor
            .redact(&render_string(question, scope)?);
        let ctx = context.clone();
        let shown = question.clone();
        let yes = ask(env.prompter, move |p| p.confirm(&ctx, &shown)).await?;
        if !yes {
            return Err(StepError::new(
                StepErrorKind::Declined,
                format!("the operator answered no to: {question}"),
            ));
        }
        outputs.insert("confirmed".into(), Value::Bool(true));
    }
    if let Some(phrase) = &step.phrase {
        let phrase = render_string(phrase, scope)?;
        let ctx = context.clone();
        let expected = env.context.redactor.redact(&phrase);
        let typed = ask(env.prompter, move |p| p.phrase(&ctx, &expected)).await?;
        if typed.trim() != phrase {
            return Err(StepError::new(
                StepErrorKind::Declined,
                format!(
                    "the confirmation phrase was not typed as required (`{}`); nothing was done",
                    env.context.redactor.redact(&phrase)
                ),
            ));
        }
    }
    for answer in &step.answers {
        let ctx = context.clone();
        let spec = answer.clone();
        let text = ask(env.prompter, move |p| {
            let rules = spec.clone();
            p.answer(&ctx, &spec, &move |candidate: &str| {
                validate(&rules, candidate)
            })
        })
        .await?;
        if answer.secret {
            env.new_secrets.add(&text);
        }
        outputs.insert(answer.name.clone(), Value::String(text));
    }
    Ok(outputs)
}

/// Why an answer was not accepted. Never includes the candidate (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRejected {
    #[error("an answer is required")]
    Empty,
    #[error("a secret answer must be at least {min} characters long")]
    TooShort { min: usize },
    #[error("it must match the pattern {pattern}")]
    Pattern { pattern: String },
    #[error("it must be one of: {}", choices.join(", "))]
    NotAChoice { choices: Vec<String> },
}

/// The rules an answer must meet.
pub fn validate(answer: &Answer, candidate: &str) -> Result<(), AnswerRejected> {
    if candidate.is_empty() {
        return if answer.allow_empty {
            Ok(())
        } else {
            Err(AnswerRejected::Empty)
        };
    }
    let min = crate::redact::MIN_SECRET_CHARS;
    if answer.secret && candidate.chars().count() < min {
        return Err(AnswerRejected::TooShort { min });
    }
    if let Some(pattern) = &answer.pattern
        && !pattern.is_match(candidate)
    {
        return Err(AnswerRejected::Pattern {
            pattern: pattern.as_str().to_owned(),
        });
    }
    if let Some(choices) = &answer.choices
        && !choices.iter().any(|choice| choice == candidate)
    {
        return Err(AnswerRejected::NotAChoice {
            choices: choices.clone(),
        });
    }
    Ok(())
}

/// Runs one prompt on a blocking thread.
pub(crate) async fn ask<T, F>(prompter: &SharedPrompter, prompt: F) -> Result<T, StepError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Prompter) -> Result<T, PromptError> + Send + 'static,
{
    let prompter = prompter.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut guard = prompter
            .lock()
            .map_err(|_| PromptError::Terminal("an earlier prompt failed".into()))?;
        prompt(guard.as_mut())
    })
    .await;
    match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(PromptError::Interrupted)) => Err(StepError::new(
            StepErrorKind::Interrupted,
            PromptError::Interrupted.to_string(),
        )),
        Ok(Err(error)) => Err(StepError::new(StepErrorKind::Prompt, error.to_string())),
        Err(error) => Err(StepError::new(
            StepErrorKind::Prompt,
            format!("the prompt stopped unexpectedly: {error}"),
        )),
    }
}
