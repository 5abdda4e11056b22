//! A prompter for tests: an answers file that also logs every question it is asked.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use runbook_dsl::Answer;

use crate::answers::AnswersPrompter;
use crate::prompter::{Decision, PromptContext, PromptError, Prompter, Validator};

/// What a [`Script`] prompter was asked: the kind of prompt, the step and its occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Asked {
    pub(super) what: &'static str,
    pub(super) step: String,
    pub(super) occurrence: u32,
}

/// An [`AnswersPrompter`] that also logs every question it gets.
pub(super) struct Script {
    answers: AnswersPrompter,
    log: Arc<Mutex<Vec<Asked>>>,
}

impl Script {
    /// `answers` is an answers file as JSON. Returns the prompter and its log.
    pub(super) fn new(answers: Value) -> (Script, Arc<Mutex<Vec<Asked>>>) {
        let answers = AnswersPrompter::new(answers, "test answers")
            .unwrap_or_else(|error| panic!("answers: {error}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        (
            Script {
                answers,
                log: log.clone(),
            },
            log,
        )
    }

    fn note(&self, what: &'static str, context: &PromptContext) {
        if let Ok(mut log) = self.log.lock() {
            log.push(Asked {
                what,
                step: context.step_id.clone(),
                occurrence: context.occurrence,
            });
        }
    }
}

impl Prompter for Script {
    fn instructions(&mut self, context: &PromptContext, text: &str) -> Result<(), PromptError> {
        self.note("instructions", context);
        self.answers.instructions(context, text)
    }
    fn confirm(&mut self, context: &PromptContext, question: &str) -> Result<bool, PromptError> {
        self.note("confirm", context);
        self.answers.confirm(context, question)
    }
    fn phrase(&mut self, context: &PromptContext, phrase: &str) -> Result<String, PromptError> {
        self.note("phrase", context);
        self.answers.phrase(context, phrase)
    }
    fn answer(
        &mut self,
        context: &PromptContext,
        answer: &Answer,
        validate: Validator<'_>,
    ) -> Result<String, PromptError> {
        self.note("answer", context);
        self.answers.answer(context, answer, validate)
    }
    fn decide(
        &mut self,
        context: &PromptContext,
        question: &str,
        options: &[Decision],
    ) -> Result<Decision, PromptError> {
        self.note("decide", context);
        self.answers.decide(context, question, options)
    }
    fn kind(&self) -> &'static str {
        "script"
    }
}

/// The log's entries, copied.
pub(super) fn asked(log: &Arc<Mutex<Vec<Asked>>>) -> Vec<Asked> {
    log.lock().map(|log| log.clone()).unwrap_or_default()
}
