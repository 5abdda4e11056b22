//! `runbook run FILE`: check, resolve inputs, choose who answers prompts, execute, report.

use std::io::Write;
use std::sync::{Arc, Mutex};

use anyhow::Context;

use runbook_dsl::{Mode, Runbook};
use runbook_engine::{
    Engine, EngineOptions, Interrupt, NullObserver, Observer, OperatorRecord, RunReport, RunStatus,
    StepErrorKind,
};

use crate::args::{OutputFormat, RunArgs};
use crate::exit_code;
use crate::failure::Failure;
use crate::interrupt::{RunState, Tracking};
use crate::render::diagnostic;
use crate::render::progress::TerminalObserver;
use crate::render::style::use_color;

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let source = super::read_source(&args.file)?;
    let runbook = match runbook_dsl::load_and_check(&source) {
        Ok(runbook) => runbook,
        Err(findings) => {
            let color = use_color(true);
            let mut err = std::io::stderr().lock();
            for finding in &findings {
                writeln!(
                    err,
                    "{}\n",
                    diagnostic::render_human(&source, finding, color)
                )?;
            }
            let count = findings.len();
            writeln!(
                err,
                "error: {} has {count} finding{}; fix {} (see `runbook lint`) before running",
                args.file.display(),
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" },
            )?;
            return Err(Failure::reported(exit_code::INVALID_RUNBOOK).into());
        }
    };

    let operator = operator_record(args, &runbook)?;
    let interrupt = Interrupt::default();
    let prompter = crate::prompt::choose(args.answers.as_deref(), &interrupt)?;

    let mut given = Vec::new();
    for assignment in &args.inputs {
        given.push(
            runbook_engine::inputs::parse_assignment(assignment)
                .map_err(|error| Failure::usage(error.to_string()))?,
        );
    }
    ask_missing_secrets(&runbook, &mut given)?;
    let inputs = runbook_engine::resolve_inputs(&runbook, &given, &|name| std::env::var(name).ok())
        .map_err(|error| Failure::usage(error.to_string()))?;

    if operator.answers_file_replaced_operator && args.output == OutputFormat::Human {
        eprintln!(
            "WARNING: an answers file is standing in for the operator of an operator-assisted \
             runbook (--allow-answers-file-on-live-run); the run record says so."
        );
    }

    // The runtime is built here and only here: lint and schema never pay for it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let engine = Engine::new(EngineOptions {
        prompter: Some(prompter),
        interrupt: interrupt.clone(),
        operator,
        ..EngineOptions::default()
    });
    let state = Arc::new(Mutex::new(RunState::default()));
    let report = runtime.block_on(async {
        crate::interrupt::install(interrupt.clone(), state.clone());
        let mut terminal;
        let mut null = NullObserver;
        let inner: &mut dyn Observer = match args.output {
            OutputFormat::Human => {
                terminal = TerminalObserver::new(use_color(false));
                &mut terminal
            }
            OutputFormat::Json => &mut null,
        };
        let mut observer = Tracking { inner, state };
        engine.run(&runbook, inputs, &mut observer).await
    });
    if args.output == OutputFormat::Json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    }
    match exit_code_for(&report) {
        exit_code::SUCCESS => Ok(()),
        code => Err(Failure::reported(code).into()),
    }
}

/// How prompts will be answered, refusing an answers file in place of the operator of an
/// operator-assisted runbook unless explicitly allowed.
fn operator_record(args: &RunArgs, runbook: &Runbook) -> Result<OperatorRecord, Failure> {
    let Some(answers) = &args.answers else {
        return Ok(OperatorRecord::default());
    };
    let operator_assisted = runbook.meta.mode == Some(Mode::OperatorAssisted);
    if operator_assisted && !args.allow_answers_file_on_live_run {
        return Err(Failure::usage(format!(
            "{} is operator-assisted: its prompts must be answered by the operator at the \
             terminal, not by {}.\nFor a rehearsal against stand-in services, pass \
             --allow-answers-file-on-live-run (the run record will say so).",
            args.file.display(),
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

/// The exit code that names how the run ended.
fn exit_code_for(report: &RunReport) -> u8 {
    match report.status {
        RunStatus::Succeeded => exit_code::SUCCESS,
        RunStatus::Interrupted => exit_code::INTERRUPTED,
        RunStatus::RollbackFailed => exit_code::ROLLBACK_FAILED,
        RunStatus::RolledBack => exit_code::ROLLED_BACK,
        RunStatus::Failed => match report.failure().map(|(_, error)| error.kind) {
            Some(StepErrorKind::Assertion) => exit_code::ASSERTION_FAILED,
            Some(StepErrorKind::Timeout) => exit_code::TIMEOUT,
            Some(StepErrorKind::Declined) => exit_code::DECLINED,
            _ => exit_code::STEP_FAILED,
        },
    }
}
