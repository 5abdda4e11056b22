//! One execution of a runbook, new or resumed: who answers prompts, inputs, the run lock, the
//! journal, the audit log, Ctrl-C, the engine, and the exit code.

use std::io::Write;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use serde_json::{Map, Value};

use runbook_dsl::{Mode, Runbook, Source};
use runbook_engine::audit::{AuditIdentity, AuditLog, AuditObserver, FileSink};
use runbook_engine::journal::{
    JournalObserver, JournalRead, JournalWriter, RunResumed, RunStarted,
};
use runbook_engine::resume::ResumePlan;
use runbook_engine::{
    Engine, EngineOptions, Fanout, Interrupt, NullObserver, Observer, OperatorRecord, RunReport,
    RunStatus, StepErrorKind,
};

use crate::args::{OutputFormat, SessionArgs};
use crate::exit_code;
use crate::failure::Failure;
use crate::interrupt::{RunState, Tracking};
use crate::render::progress::TerminalObserver;
use crate::render::style::use_color;
use crate::state::StateDir;

/// A new run, or the continuation of one.
pub enum Start {
    New,
    Resume {
        run_id: String,
        journal: Box<JournalRead>,
        plan: Box<ResumePlan>,
        /// The runbook changed since the run started and `--allow-changed-runbook` allowed it.
        changed_runbook: bool,
    },
}

pub fn execute(
    args: &SessionArgs,
    source: &Source,
    runbook: &Runbook,
    start: Start,
) -> anyhow::Result<()> {
    let operator = operator_record(args, runbook)?;
    let interrupt = Interrupt::default();
    // A rehearsal's transcript shows the prompts and the answers taken, as the operator would see them.
    let prompter = crate::prompt::choose(
        runbook,
        args.answers.as_deref(),
        &interrupt,
        args.output == OutputFormat::Human,
    )?;
    let nobody = prompter.lock().map(|p| p.kind() == "none").unwrap_or(false);
    if nobody && runbook.has_prompts() {
        return Err(Failure::usage(format!(
            "{} asks an operator (it has prompt steps), but standard input is not a terminal and \
             no answers file was given. Run it in a terminal, or pass `--answers FILE` for a \
             rehearsal. Nothing was run.",
            runbook.path.display()
        ))
        .into());
    }
    let state = StateDir::resolve(args.state.state_dir.as_deref())?;

    let mut given = Vec::new();
    for assignment in &args.inputs {
        given.push(
            runbook_engine::inputs::parse_assignment(assignment)
                .map_err(|error| Failure::usage(error.to_string()))?,
        );
    }
    if let Start::Resume { journal, .. } = &start {
        given = recorded_inputs(runbook, journal, given)?;
    }
    ask_missing_secrets(runbook, &mut given)?;
    let inputs = runbook_engine::resolve_inputs(runbook, &given, &|name| std::env::var(name).ok())
        .map_err(|error| Failure::usage(error.to_string()))?;

    let actor = args
        .actor
        .clone()
        .unwrap_or_else(runbook_engine::audit::os_user);
    let host = runbook_engine::audit::host_name();
    let run_id = match &start {
        Start::New => crate::state::new_run_id(),
        Start::Resume { run_id, .. } => run_id.clone(),
    };
    let since = jiff::Timestamp::now().to_string();
    let holder = crate::lock::Holder {
        user: actor.clone(),
        host: host.clone(),
        pid: std::process::id(),
        run_id: run_id.clone(),
        since: since.clone(),
        runbook: runbook.meta.id.clone(),
    };
    let lock = crate::lock::acquire(
        &state.locks(),
        &crate::lock::keys_for(runbook),
        &holder,
        |stale| still_running_elsewhere(&state, stale, &run_id),
    )?;

    let identity = AuditIdentity {
        run_id: run_id.clone(),
        actor: actor.clone(),
        host: host.clone(),
        runbook: runbook.meta.id.clone(),
    };
    // Opened before the journal exists: a run that cannot be audited leaves no trace.
    let audit_path = args
        .audit_log
        .clone()
        .unwrap_or_else(|| state.default_audit_log());
    let sink = FileSink::open(&audit_path).map_err(|error| {
        Failure::usage(format!(
            "cannot open the audit log {}: {error}",
            audit_path.display()
        ))
    })?;
    let journal_path = state.journal(&run_id);
    let cannot_write = || format!("cannot write the journal {}", journal_path.display());
    let (writer, resume_plan, started_at) = match start {
        Start::New => {
            let started = RunStarted::new(
                runbook,
                &source.text,
                &inputs.values,
                &inputs.secret_names,
                &identity,
            );
            let writer =
                JournalWriter::create(&journal_path, started).with_context(cannot_write)?;
            (writer, None, since.clone())
        }
        Start::Resume {
            journal,
            plan,
            changed_runbook,
            ..
        } => {
            let resumed = RunResumed {
                actor: actor.clone(),
                host: host.clone(),
                pid: std::process::id(),
                torn_line_dropped: journal.torn.clone(),
                allowed_changed_runbook: changed_runbook,
            };
            let writer = JournalWriter::reopen(&journal_path, &journal, resumed)
                .with_context(cannot_write)?;
            let started_at = journal
                .run_started()
                .map_or_else(|| since.clone(), |(entry, _)| entry.at.to_string());
            (writer, Some(plan), started_at)
        }
    };

    let mut sinks: Vec<Box<dyn runbook_engine::audit::AuditSink>> = vec![Box::new(sink)];
    if let Some(url) = &args.audit_url {
        let mut headers = Vec::new();
        for header in &args.audit_headers {
            let Some((name, value)) = header.split_once(':') else {
                return Err(Failure::usage(format!(
                    "--audit-header `{}` is not `Name: value`",
                    header.split(':').next().unwrap_or("")
                ))
                .into());
            };
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let http = runbook_engine::audit_http::HttpSink::start(url.clone(), headers)
            .map_err(Failure::usage)?;
        sinks.push(Box::new(http));
    }
    let audit = AuditLog::new(identity, sinks).shared();

    let human = args.output == OutputFormat::Human;
    let is_resume = resume_plan.is_some();
    if human {
        let mut noted = std::collections::BTreeSet::new();
        for stale in lock
            .stale
            .iter()
            .filter(|stale| noted.insert(stale.run_id.clone()))
        {
            eprintln!(
                "note: took over a lock left by run {} (pid {}, {}@{}), whose process is gone",
                stale.run_id, stale.pid, stale.user, stale.host
            );
        }
        if operator.answers_file_replaced_operator {
            eprintln!(
                "WARNING: an answers file is standing in for the operator of an operator-assisted \
                 runbook (--allow-answers-file-on-live-run); the run record says so."
            );
        }
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
        audit: Some(audit.clone()),
        run: runbook_engine::context::RunInfo {
            id: run_id.clone(),
            actor,
            started_at,
            ..Default::default()
        },
        resume: resume_plan.map(|plan| *plan),
        plugins: Some(std::sync::Arc::new(crate::plugins::registry())),
        process_dir: Some(state.processes(&run_id)),
        ..EngineOptions::default()
    });
    let run_state = Arc::new(Mutex::new(RunState::default()));
    let mut journal = JournalObserver::new(writer);
    let mut audit_observer = AuditObserver {
        audit,
        resumed: is_resume,
        inputs: inputs.for_report(),
        error: None,
    };
    let report = runtime.block_on(async {
        crate::interrupt::install(interrupt.clone(), run_state.clone());
        let mut terminal;
        let mut null = NullObserver;
        let screen: &mut dyn Observer = if human {
            terminal =
                TerminalObserver::new(use_color(false), &run_id, is_resume, Some(source.clone()));
            &mut terminal
        } else {
            &mut null
        };
        let mut tracking = Tracking { state: run_state };
        let mut observer = Fanout(vec![
            screen,
            &mut journal,
            &mut audit_observer,
            &mut tracking,
        ]);
        engine.run(runbook, inputs, &mut observer).await
    });
    drop(lock);
    if !human {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    }
    let journal_error = journal.error().map(str::to_owned);
    for error in [journal_error, audit_observer.error].into_iter().flatten() {
        eprintln!("warning: {error}");
    }
    let undelivered = audit_observer
        .audit
        .lock()
        .map(|mut audit| audit.finish())
        .unwrap_or_default();
    if !undelivered.is_empty() {
        eprintln!(
            "warning: {} audit record(s) could not be delivered to the collector (they are in \
             the audit log file): {}",
            undelivered.len(),
            undelivered.join("; ")
        );
    }
    match exit_code_for(&report) {
        exit_code::SUCCESS => Ok(()),
        code => Err(Failure::reported(code).into()),
    }
}

/// Why the lock of a dead run must not be taken over yet: a command of its last session outlived it
/// (a SIGKILLed runbook cannot kill its steps' process groups), and starting anew would run
/// alongside it. A resume of that same run is left to the resume plan, which checks the steps in
/// doubt one by one.
fn still_running_elsewhere(
    state: &StateDir,
    stale: &crate::lock::Holder,
    run_id: &str,
) -> Option<String> {
    if stale.run_id == run_id {
        return None;
    }
    let (step, pgid) = runbook_engine::processes::any_running(&state.processes(&stale.run_id))?;
    Some(format!(
        "the command of its step `{step}` is still running (process group {pgid}; stop it with \
         kill -- -{pgid})"
    ))
}

/// A resumed run keeps the inputs it started with; only secrets (never journaled) are given again.
fn recorded_inputs(
    runbook: &Runbook,
    journal: &JournalRead,
    given: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, Failure> {
    let recorded: Map<String, Value> = journal
        .run_started()
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
                other => other.to_string(),
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
