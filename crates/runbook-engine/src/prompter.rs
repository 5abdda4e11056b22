//! Human prompts go through the [`Prompter`] trait: a terminal in production (in the CLI), an
//! answers file for rehearsals and tests, and [`NoOperator`] when there is neither, which fails at
//! once rather than hanging or assuming "yes".

use std::sync::{Arc, Mutex};

use runbook_dsl::Answer;

/// Which prompt is being asked: the step, and how many times that step has prompted in this run
/// (1 for the first), so an answers file can give different answers to a repeated step.
#[derive(Debug, Clone)]
pub struct PromptContext {
    pub step_id: String,
    pub step_name: String,
    pub occurrence: u32,
    /// The run's secrets: a prompter masks what it echoes (a non-secret answer can equal a secret).
    pub redactor: crate::redact::Redactor,
}

/// What the operator decides after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Retry,
    Skip,
    Abort,
}

impl Decision {
    pub fn word(self) -> &'static str {
        match self {
            Decision::Retry => "retry",
            Decision::Skip => "skip",
            Decision::Abort => "abort",
        }
    }
}

/// Why a prompt got no usable answer. Messages never contain an answer to a secret question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("{0}")]
    NoOperator(String),
    #[error("{0}")]
    NoAnswer(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the terminal prompt failed: {0}")]
    Terminal(String),
    #[error("interrupted (Ctrl-C) at a prompt")]
    Interrupted,
}

/// Checks an answer; `Err` carries what is wrong with it (never the answer itself when secret).
pub type Validator<'a> = &'a dyn Fn(&str) -> Result<(), crate::steps::prompt::AnswerRejected>;

/// Asks the operator.
pub trait Prompter: Send {
    /// Shows instructions; nothing to answer.
    fn instructions(&mut self, context: &PromptContext, text: &str) -> Result<(), PromptError>;
    /// A yes/no question. `false` means the operator declined.
    fn confirm(&mut self, context: &PromptContext, question: &str) -> Result<bool, PromptError>;
    /// The operator must type `phrase`; returns what was typed (the engine compares).
    fn phrase(&mut self, context: &PromptContext, phrase: &str) -> Result<String, PromptError>;
    /// A named answer (text, masked secret, or a choice). `validate` checks a candidate answer;
    /// an interactive prompter asks again, a non-interactive one fails.
    fn answer(
        &mut self,
        context: &PromptContext,
        answer: &Answer,
        validate: Validator<'_>,
    ) -> Result<String, PromptError>;
    /// Retry / skip / abort after a failure; `options` lists what is allowed here.
    fn decide(
        &mut self,
        context: &PromptContext,
        question: &str,
        options: &[Decision],
    ) -> Result<Decision, PromptError>;
    /// How answers are obtained, for the run record: `terminal`, `answers file`, `none`.
    fn kind(&self) -> &'static str;
}

/// A prompter shared between the engine and the blocking threads that run prompts.
pub type SharedPrompter = Arc<Mutex<Box<dyn Prompter>>>;

pub fn shared(prompter: impl Prompter + 'static) -> SharedPrompter {
    Arc::new(Mutex::new(Box::new(prompter)))
}

/// No terminal and no answers file: every prompt fails at once with what to do.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOperator;

impl NoOperator {
    fn refuse(context: &PromptContext) -> PromptError {
        PromptError::NoOperator(format!(
            "step `{}` needs an operator, but standard input is not a terminal and no answers file \
             was given; run it in a terminal, or pass `--answers FILE` for a rehearsal",
            context.step_id
        ))
    }
}

impl Prompter for NoOperator {
    fn instructions(&mut self, context: &PromptContext, _: &str) -> Result<(), PromptError> {
        Err(Self::refuse(context))
    }
    fn confirm(&mut self, context: &PromptContext, _: &str) -> Result<bool, PromptError> {
        Err(Self::refuse(context))
    }
    fn phrase(&mut self, context: &PromptContext, _: &str) -> Result<String, PromptError> {
        Err(Self::refuse(context))
    }
    fn answer(
        &mut self,
        context: &PromptContext,
        _: &Answer,
        _: Validator<'_>,
    ) -> Result<String, PromptError> {
        Err(Self::refuse(context))
    }
    fn decide(
        &mut self,
        context: &PromptContext,
        _: &str,
        _: &[Decision],
    ) -> Result<Decision, PromptError> {
        Err(Self::refuse(context))
    }
    fn kind(&self) -> &'static str {
        "none"
    }
}
