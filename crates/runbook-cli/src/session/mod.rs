//! One execution of a runbook, new or resumed, as four steps: a validated [`config::Config`] (who
//! answers, inputs, identity), the [`records::Records`] it keeps (lock, journal, audit log), the
//! engine's run with every observer, and the [`outcome`] (report, warnings, exit code).

mod config;
mod outcome;
mod records;

use std::sync::{Arc, Mutex};

use anyhow::Context;

use runbook_dsl::{Runbook, Source};
use runbook_engine::audit::AuditObserver;
use runbook_engine::journal::{JournalEnd, JournalObserver};
use runbook_engine::resume::ResumePlan;
use runbook_engine::{Engine, EngineOptions, Fanout, NullObserver, Observer, RunReport};

use crate::args::SessionArgs;
use crate::interrupt::{RunState, Tracking};
use crate::render::progress::TerminalObserver;
use crate::render::style::use_color;
pub(crate) use outcome::exit_code_for;

use config::Config;
use records::Records;

/// A new run, or the continuation of one.
pub enum Start {
    New,
    Resume {
        run_id: String,
        /// How the journal began and where it ends (its records are not kept in memory).
        journal: Box<JournalEnd>,
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
    let config = Config::resolve(args, runbook, &start)?;
    crate::logging::know_secrets(&config.inputs.redactor);
    let records = Records::open(&config, args, source, runbook, start)?;
    if config.human {
        say_before_running(&config, &records);
    }
    let human = config.human;
    let (report, lost) = run(config, records, source, runbook)?;
    let finished = outcome::finish(&report, human, lost);
    // The process exits right after this: freeing every step's report (outputs, errors, masked
    // copies) one allocation at a time is work nobody waits for (about 1% of a 200-request run's
    // instructions). Only memory is left behind; the journal, audit log and output are complete.
    std::mem::forget(report);
    finished
}

/// Locks taken over from dead runs, and an answers file standing in for an operator.
fn say_before_running(config: &Config, records: &Records) {
    let mut noted = std::collections::BTreeSet::new();
    let quiet = crate::output::quiet();
    for stale in records
        .lock
        .stale
        .iter()
        .filter(|stale| noted.insert(stale.run_id.clone()) && !quiet)
    {
        eprintln!(
            "note: took over a lock left by run {} (pid {}, {}@{}), whose process is gone",
            stale.run_id, stale.pid, stale.user, stale.host
        );
    }
    if config.operator.answers_file_replaced_operator {
        eprintln!(
            "WARNING: an answers file is standing in for the operator of an operator-assisted \
             runbook (--allow-answers-file-on-live-run); the run record says so."
        );
    }
}

/// The engine's run, observed by the terminal, the journal, the audit log and the signal handler.
fn run(
    config: Config,
    records: Records,
    source: &Source,
    runbook: &Runbook,
) -> anyhow::Result<(RunReport, outcome::Undelivered)> {
    let Records {
        lock,
        journal,
        audit,
        plan,
        started_at,
    } = records;
    let is_resume = plan.is_some();
    let files = config.state.files(&config.run_id);
    // The runtime is built here and only here: lint and schema never pay for it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let engine = Engine::new(EngineOptions {
        prompter: Some(config.prompter),
        interrupt: config.interrupt.clone(),
        operator: config.operator,
        audit: Some(audit.clone()),
        run: runbook_engine::context::RunInfo {
            id: config.run_id.clone(),
            actor: config.actor,
            started_at,
            ..Default::default()
        },
        resume: plan,
        plugins: Some(Arc::new(crate::plugins::registry())),
        process_dir: Some(config.state.processes(&config.run_id)),
        files_dir: Some(files.clone()),
        run_dir: Some(config.state.runs().join(&config.run_id)),
        // This thread drives the run to its end (`block_on` on a current-thread runtime below),
        // and every command is spawned on it: the parent-death signal fires only when runbook
        // does (see `EngineOptions::commands_die_with_runbook`).
        commands_die_with_runbook: true,
        ..EngineOptions::default()
    });
    crate::interrupt::on_panic_end_commands(files.clone());
    let run_state = Arc::new(Mutex::new(RunState::with_private_files(files.clone())));
    let mut journal = JournalObserver::new(journal);
    let mut audit_observer = AuditObserver {
        audit,
        resumed: is_resume,
        inputs: config.inputs.for_report(),
        error: None,
    };
    let report = runtime.block_on(async {
        crate::interrupt::install(config.interrupt.clone(), run_state.clone());
        let mut terminal;
        let mut null = NullObserver;
        let screen: &mut dyn Observer = if config.human {
            terminal = TerminalObserver::new(
                use_color(false),
                &config.run_id,
                is_resume,
                Some(source.clone()),
            )
            .with_sources(runbook.sources.clone())
            .with_run_target(config.state.run_target(&config.run_id));
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
        engine.run(runbook, config.inputs, &mut observer).await
    });
    // A prompt abandoned by a signal still blocks a thread reading the terminal: dropping the
    // runtime would wait for it forever. Leave it behind; the process ends with this session.
    runtime.shutdown_background();
    // Each step removes its own files; this catches what an error path may have left (and, for a
    // resumed run, what a version that kept them beside the journal left).
    let _ = std::fs::remove_dir_all(&files);
    if is_resume {
        let _ = std::fs::remove_dir_all(config.state.files_beside_journal(&config.run_id));
    }
    drop(lock);
    let collector = audit_observer
        .audit
        .lock()
        .map(|mut audit| audit.finish())
        .unwrap_or_default();
    let lost = outcome::Undelivered {
        journal: journal.error().map(ToString::to_string),
        audit: audit_observer.error.as_ref().map(ToString::to_string),
        collector,
    };
    Ok((report, lost))
}
