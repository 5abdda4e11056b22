//! Checks for `prompt` steps.

use super::Checker;
use super::references::Scope;
use crate::finding::{Finding, FindingCode};
use crate::model::{Answer, PromptStep};
use crate::raw::{Mode, RawPrompt};
use crate::spanned::Spanned;

impl Checker<'_> {
    pub(super) fn check_prompt(
        &mut self,
        scope: Scope,
        spanned: &Spanned<RawPrompt>,
    ) -> Option<PromptStep> {
        let prompt = &spanned.value;
        let span = self.span(spanned);
        let before = self.findings.len();
        if prompt.instructions.is_none()
            && prompt.confirm.is_none()
            && prompt.phrase.is_none()
            && prompt.answers.is_empty()
        {
            self.report(
                Finding::error(
                    FindingCode::EmptyPrompt,
                    self.key_span(span, "prompt"),
                    "the prompt asks nothing",
                )
                .with_help("add `instructions`, `confirm`, `phrase` or `answers`"),
            );
        }
        if self.mode == Some(Mode::Automatic) {
            self.report(
                Finding::error(
                    FindingCode::PromptInAutomaticRunbook,
                    span,
                    "a prompt step in a runbook whose mode is `automatic`",
                )
                .with_label("nobody is there to answer")
                .with_help("set `mode: operator-assisted`, or remove the prompt"),
            );
        }
        let instructions = prompt
            .instructions
            .as_ref()
            .and_then(|t| self.template(t, scope));
        let confirm = prompt
            .confirm
            .as_ref()
            .and_then(|t| self.template(t, scope));
        let phrase = prompt.phrase.as_ref().and_then(|t| self.template(t, scope));
        let mut answers = Vec::new();
        for (name, spanned_answer) in &prompt.answers {
            let answer = &spanned_answer.value;
            let answer_span = self.key_span(self.span(spanned_answer), name);
            if !super::is_identifier(name, &['_']) {
                self.report(Finding::error(
                    FindingCode::InvalidAnswerName,
                    answer_span,
                    format!("answer name `{name}` must be lowercase letters, digits and `_`"),
                ));
            }
            if name == "confirmed" {
                self.report(Finding::error(
                    FindingCode::InvalidAnswerName,
                    answer_span,
                    "`confirmed` is the output of `confirm`; name the answer differently",
                ));
            }
            let pattern = answer
                .pattern
                .as_ref()
                .and_then(|pattern| self.regex(pattern));
            let choices = answer.choices.as_ref().map(|choices| {
                if choices.value.is_empty() || answer.secret {
                    let span = self.span(choices);
                    self.report(Finding::error(
                        FindingCode::InvalidChoices,
                        span,
                        if answer.secret {
                            "a secret answer is typed, not chosen from a list"
                        } else {
                            "`choices` is empty"
                        },
                    ));
                }
                choices.value.clone()
            });
            answers.push(Answer {
                name: name.clone(),
                label: answer
                    .label
                    .clone()
                    .unwrap_or_else(|| name.replace('_', " ")),
                secret: answer.secret,
                confirm: answer.confirm,
                pattern,
                allow_empty: answer.allow_empty,
                choices,
            });
        }
        (self.findings.len() == before).then_some(PromptStep {
            instructions,
            confirm,
            phrase,
            answers,
        })
    }
}
