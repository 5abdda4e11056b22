//! Prompts in a terminal (dialoguer, drawn on stderr). Secrets are read masked and never echoed.

use std::io::Write;

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};

use runbook_dsl::Answer;
use runbook_engine::prompter::Validator;
use runbook_engine::{Decision, Interrupt, PromptContext, PromptError, Prompter};

/// How many times a mistyped confirmation phrase is asked again before the step fails.
const PHRASE_TRIES: usize = 3;

pub struct TerminalPrompter {
    theme: ColorfulTheme,
    interrupt: Interrupt,
}

impl TerminalPrompter {
    pub fn new(interrupt: Interrupt) -> Self {
        TerminalPrompter {
            theme: ColorfulTheme::default(),
            interrupt,
        }
    }

    /// Ctrl-C inside a prompt arrives as an interrupted read: treat it as the run's interrupt.
    fn failed(&self, error: dialoguer::Error) -> PromptError {
        let dialoguer::Error::IO(io) = &error;
        if io.kind() == std::io::ErrorKind::Interrupted {
            self.interrupt.trigger();
            return PromptError::Interrupted;
        }
        PromptError::Terminal(error.to_string())
    }
}

impl Prompter for TerminalPrompter {
    fn instructions(&mut self, context: &PromptContext, text: &str) -> Result<(), PromptError> {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "\n  ── {} ──", context.step_name);
        for line in text.trim_end().lines() {
            let _ = writeln!(err, "  {line}");
        }
        let _ = writeln!(err);
        Ok(())
    }

    fn confirm(&mut self, _: &PromptContext, question: &str) -> Result<bool, PromptError> {
        let answer = Confirm::with_theme(&self.theme)
            .with_prompt(question)
            .default(false)
            .wait_for_newline(true)
            .interact_opt()
            .map_err(|error| self.failed(error))?;
        Ok(answer.unwrap_or(false))
    }

    fn phrase(&mut self, _: &PromptContext, phrase: &str) -> Result<String, PromptError> {
        let mut typed = String::new();
        for attempt in 1..=PHRASE_TRIES {
            typed = Input::<String>::with_theme(&self.theme)
                .with_prompt(format!("Type {phrase} to continue"))
                .allow_empty(true)
                .interact_text()
                .map_err(|error| self.failed(error))?;
            if typed.trim() == phrase {
                break;
            }
            if attempt < PHRASE_TRIES {
                eprintln!(
                    "  that is not `{phrase}`; {} tries left",
                    PHRASE_TRIES - attempt
                );
            }
        }
        Ok(typed)
    }

    fn answer(
        &mut self,
        _: &PromptContext,
        answer: &Answer,
        validate: Validator<'_>,
    ) -> Result<String, PromptError> {
        if let Some(choices) = &answer.choices {
            let index = Select::with_theme(&self.theme)
                .with_prompt(&answer.label)
                .items(choices)
                .default(0)
                .interact()
                .map_err(|error| self.failed(error))?;
            return Ok(choices.get(index).cloned().unwrap_or_default());
        }
        if answer.secret {
            let mut prompt = Password::with_theme(&self.theme)
                .with_prompt(&answer.label)
                .allow_empty_password(answer.allow_empty)
                .validate_with(|text: &String| validate(text));
            if answer.confirm {
                prompt = prompt.with_confirmation(
                    format!("{} (again)", answer.label),
                    "the two entries differ; type it again",
                );
            }
            return prompt.interact().map_err(|error| self.failed(error));
        }
        let text = Input::<String>::with_theme(&self.theme)
            .with_prompt(&answer.label)
            .allow_empty(answer.allow_empty)
            .validate_with(|text: &String| validate(text))
            .interact_text()
            .map_err(|error| self.failed(error))?;
        if answer.confirm {
            let again = Input::<String>::with_theme(&self.theme)
                .with_prompt(format!("{} (again)", answer.label))
                .allow_empty(answer.allow_empty)
                .validate_with(|again: &String| {
                    if *again == text {
                        Ok(())
                    } else {
                        Err("the two entries differ".to_owned())
                    }
                })
                .interact_text()
                .map_err(|error| self.failed(error))?;
            return Ok(again);
        }
        Ok(text)
    }

    fn decide(
        &mut self,
        _: &PromptContext,
        question: &str,
        options: &[Decision],
    ) -> Result<Decision, PromptError> {
        let words: Vec<&str> = options.iter().map(|d| d.word()).collect();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err);
        let mut lines = question.lines().collect::<Vec<_>>();
        let prompt = lines.pop().unwrap_or("what now?");
        for line in lines {
            let _ = writeln!(err, "  {line}");
        }
        drop(err);
        let index = Select::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(&words)
            .default(words.len().saturating_sub(1))
            .interact()
            .map_err(|error| self.failed(error))?;
        Ok(options.get(index).copied().unwrap_or(Decision::Abort))
    }

    fn kind(&self) -> &'static str {
        "terminal"
    }
}
