//! The validated configuration of a session: who answers prompts, the inputs (a resumed run keeps
//! the ones it started with), and who is running it. Everything a user can get wrong is refused
//! here, before any record is opened.

use serde_json::{Map, Value};

use runbook_dsl::{Mode, Runbook};
use runbook_engine::journal::JournalEnd;
use runbook_engine::{Interrupt, OperatorRecord, ResolvedInputs, SharedPrompter};

use super::Start;
use crate::args::{OutputFormat, SessionArgs};
use crate::failure::Failure;
use crate::state::StateDir;

/// What a session runs with.
pub(super) struct Config {
    pub operator: OperatorRecord,
    pub interrupt: Interrupt,
    pub prompter: SharedPrompter,
    pub state: StateDir,
    pub inputs: ResolvedInputs,
    pub actor: String,
    pub host: String,
    pub run_id: String,
    /// When this session started (RFC 3339).
    pub since: String,
    pub human: bool,
}

impl Config {
    pub(super) fn resolve(
        args: &SessionArgs,
        runbook: &Runbook,
        start: &Start,
    ) -> Result<Config, Failure> {
        let operator = operator_record(args, runbook)?;
        let interrupt = Interrupt::default();
        let human = args.output == OutputFormat::Human;
        // A rehearsal's transcript shows the prompts and the answers taken, as the operator would
        // see them.
        let prompter = crate::prompt::choose(runbook, args.answers.as_deref(), &interrupt, human)?;
        let nobody = prompter.lock().map(|p| p.kind() == "none").unwrap_or(false);
        if nobody && runbook.has_prompts() {
            return Err(Failure::usage(format!(
                "{} asks an operator (it has prompt steps), but standard input is not a terminal \
                 and no answers file was given. Run it in a terminal, or pass `--answers FILE` for \
                 a rehearsal. Nothing was run.",
                runbook.path.display()
            )));
        }
        let state = StateDir::resolve(args.state.state_dir.as_deref())?;
        state.remove_leftover_files();
        let inputs = resolve_inputs(args, runbook, start)?;
        let run_id = match start {
            Start::New => crate::state::new_run_id(),
            Start::Resume { run_id, .. } => run_id.clone(),
        };
        Ok(Config {
            operator,
            interrupt,
            prompter,
            state,
            inputs,
            actor: args
                .actor
                .clone()
                .unwrap_or_else(runbook_engine::audit::os_user),
            host: runbook_engine::audit::host_name(),
            run_id,
            since: jiff::Timestamp::now().to_string(),
            human,
        })
    }
}

/// `--input` values, the recorded inputs of a resumed run, and secrets asked for at the terminal.
fn resolve_inputs(
    args: &SessionArgs,
    runbook: &Runbook,
    start: &Start,
) -> Result<ResolvedInputs, Failure> {
    let mut given = Vec::new();
    for assignment in &args.inputs {
        given.push(
            runbook_engine::inputs::parse_assignment(assignment)
                .map_err(|error| Failure::usage(error.to_string()))?,
        );
    }
    if let Start::Resume { journal, .. } = start {
        given = recorded_inputs(runbook, journal, given)?;
    }
    ask_missing_secrets(runbook, &mut given)?;
    runbook_engine::resolve_inputs(runbook, &given, &|name| std::env::var(name).ok())
        .map_err(|error| Failure::usage(error.to_string()))
}

/// A resumed run keeps the inputs it started with; only secrets (never journaled) are given again.
fn recorded_inputs(
    runbook: &Runbook,
    journal: &JournalEnd,
    given: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, Failure> {
    let recorded: Map<String, Value> = journal
        .started
        .as_ref()
        .map(|(_, started)| started.inputs.clone())
        .unwrap_or_default();
    for (name, _) in &given {
        let secret = runbook.input(name).is_some_and(|input| input.secret);
        if !secret && recorded.contains_key(name) {
            return Err(Failure::usage(format!(
                "input `{name}` was set when the run started; a resumed run keeps its inputs \
                 (only secret inputs, which are never journaled, are given again)"
            )));
        }
    }
    let mut inputs: Vec<(String, String)> = recorded
        .iter()
        .filter(|(name, _)| runbook.input(name).is_some())
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::Array(_)
                | Value::Object(_) => value.to_string(),
            };
            (name.clone(), text)
        })
        .collect();
    inputs.extend(given);
    Ok(inputs)
}

/// How prompts will be answered, refusing an answers file in place of the operator of an
/// operator-assisted runbook unless explicitly allowed.
fn operator_record(args: &SessionArgs, runbook: &Runbook) -> Result<OperatorRecord, Failure> {
    let Some(answers) = &args.answers else {
        return Ok(OperatorRecord::default());
    };
    let operator_assisted = runbook.meta.mode == Some(Mode::OperatorAssisted);
    if operator_assisted && !args.allow_answers_file_on_live_run {
        return Err(Failure::usage(format!(
            "{} is operator-assisted: its prompts must be answered by the operator at the \
             terminal, not by {}.\nFor a rehearsal against stand-in services, pass \
             --allow-answers-file-on-live-run (the run record will say so).",
            runbook.path.display(),
            answers.display()
        )));
    }
    Ok(OperatorRecord {
        prompts: String::new(),
        answers_file: Some(answers.display().to_string()),
        answers_file_replaced_operator: operator_assisted,
    })
}

/// Secret inputs with no value anywhere are asked for, masked, when a person is at the terminal.
fn ask_missing_secrets(
    runbook: &Runbook,
    given: &mut Vec<(String, String)>,
) -> Result<(), Failure> {
    if !crate::prompt::interactive() {
        return Ok(());
    }
    for input in runbook.inputs.iter().filter(|input| input.secret) {
        let set = given.iter().any(|(name, _)| *name == input.name)
            || input
                .env
                .as_deref()
                .is_some_and(|var| std::env::var_os(var).is_some())
            || input.default.is_some();
        if set {
            continue;
        }
        let label = input
            .description
            .clone()
            .unwrap_or_else(|| input.name.clone());
        let value = dialoguer::Password::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt(format!("{label} ({})", input.name))
            .interact()
            .map_err(|error| Failure::usage(format!("cannot read {}: {error}", input.name)))?;
        given.push((input.name.clone(), value));
    }
    Ok(())
}
