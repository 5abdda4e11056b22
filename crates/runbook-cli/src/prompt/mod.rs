//! Choosing who answers prompts: the terminal, an answers file, or nobody (fail at once).

pub mod terminal;

use std::io::IsTerminal;
use std::path::Path;

use runbook_engine::{AnswersPrompter, Interrupt, NoOperator, SharedPrompter};

use crate::failure::Failure;

/// The terminal when stdin and stderr are both terminals; an answers file when one is given; else
/// nobody. An answers file wins over the terminal: the author asked for it.
pub fn choose(
    runbook: &runbook_dsl::Runbook,
    answers: Option<&Path>,
    interrupt: &Interrupt,
    echo: bool,
) -> Result<SharedPrompter, Failure> {
    if let Some(path) = answers {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Failure::usage(format!(
                "cannot read the answers file {}: {error}",
                path.display()
            ))
        })?;
        let value = runbook_dsl::yaml::load_value(&text).map_err(|error| {
            Failure::usage(format!(
                "the answers file {} is not valid YAML: {error}",
                path.display()
            ))
        })?;
        // The whole file against the runbook, before any step runs: a gap found at the prompt
        // would come after earlier steps' side effects.
        if let Err(problems) = runbook_engine::answers::check_answers(runbook, &value) {
            return Err(Failure::usage(format!(
                "the answers file {} does not fit {} ({} problem{}; nothing was run):\n  - {}",
                path.display(),
                runbook.path.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.join("\n  - ")
            )));
        }
        let prompter = AnswersPrompter::new(value, path.display().to_string())
            .map_err(|error| Failure::usage(format!("{}: {error}", path.display())))?
            .echoing(echo);
        return Ok(runbook_engine::prompter::shared(prompter));
    }
    if interactive() {
        return Ok(runbook_engine::prompter::shared(
            terminal::TerminalPrompter::new(interrupt.clone()),
        ));
    }
    Ok(runbook_engine::prompter::shared(NoOperator))
}

/// Whether a person can answer: stdin and stderr (where prompts are drawn) are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}
