//! The records a session keeps before anything runs: the run lock, the journal (created, or
//! reopened with a resume record) and the audit log with its sinks. A run that cannot be recorded
//! does not start.

use runbook_dsl::{Runbook, Source};
use runbook_engine::audit::{AuditIdentity, AuditLog, AuditSink, FileSink, SharedAudit};
use runbook_engine::journal::{JournalWriter, RunResumed, RunStarted};
use runbook_engine::resume::ResumePlan;

use super::Start;
use super::config::Config;
use crate::args::SessionArgs;
use crate::failure::Failure;
use crate::lock::RunLock;
use crate::state::StateDir;

/// What a session writes to.
pub(super) struct Records {
    pub lock: RunLock,
    pub journal: JournalWriter,
    pub audit: SharedAudit,
    /// What an earlier session completed, when this one resumes it.
    pub plan: Option<ResumePlan>,
    /// When the run (not this session) started.
    pub started_at: String,
}

impl Records {
    pub(super) fn open(
        config: &Config,
        args: &SessionArgs,
        source: &Source,
        runbook: &Runbook,
        start: Start,
    ) -> Result<Records, Failure> {
        let holder = crate::lock::Holder {
            user: config.actor.clone(),
            host: config.host.clone(),
            pid: std::process::id(),
            run_id: config.run_id.clone(),
            since: config.since.clone(),
            runbook: runbook.meta.id.clone(),
        };
        let lock = crate::lock::acquire(
            &config.state.locks(),
            &crate::lock::keys_for(runbook),
            &holder,
            |stale| still_running_elsewhere(&config.state, stale, &config.run_id),
        )?;
        let identity = AuditIdentity {
            run_id: config.run_id.clone(),
            actor: config.actor.clone(),
            host: config.host.clone(),
            runbook: runbook.meta.id.clone(),
        };
        // Opened before the journal exists: a run that cannot be audited leaves no trace.
        let audit_path = args
            .audit_log
            .clone()
            .unwrap_or_else(|| config.state.default_audit_log());
        let file = FileSink::open(&audit_path).map_err(|error| {
            Failure::environment(format!(
                "cannot open the audit log {}: {error}",
                audit_path.display()
            ))
        })?;
        let mut sinks: Vec<Box<dyn AuditSink>> = vec![Box::new(file)];
        if let Some(collector) = collector(args)? {
            sinks.push(collector);
        }
        let (journal, plan, started_at) = open_journal(config, source, runbook, start, &identity)?;
        Ok(Records {
            lock,
            journal,
            audit: AuditLog::new(identity, sinks).shared(),
            plan,
            started_at,
        })
    }
}

/// The journal of a new run with its start record, or an earlier run's journal reopened with a
/// resume record.
fn open_journal(
    config: &Config,
    source: &Source,
    runbook: &Runbook,
    start: Start,
    identity: &AuditIdentity,
) -> Result<(JournalWriter, Option<ResumePlan>, String), Failure> {
    let path = config.state.journal(&config.run_id);
    let cannot_write = |error: std::io::Error| {
        Failure::environment(format!(
            "cannot write the journal {}: {error}",
            path.display()
        ))
    };
    match start {
        Start::New => {
            let started = RunStarted::new(
                runbook,
                &source.text,
                &config.inputs.values,
                &config.inputs.secret_names,
                identity,
            );
            let writer = JournalWriter::create(&path, started).map_err(cannot_write)?;
            Ok((writer, None, config.since.clone()))
        }
        Start::Resume {
            journal,
            plan,
            changed_runbook,
            ..
        } => {
            let resumed = RunResumed {
                actor: config.actor.clone(),
                host: config.host.clone(),
                pid: std::process::id(),
                torn_line_dropped: journal.torn.clone(),
                allowed_changed_runbook: changed_runbook,
            };
            let writer = JournalWriter::reopen(&path, &journal, resumed).map_err(cannot_write)?;
            let started_at = journal
                .started
                .as_ref()
                .map_or_else(|| config.since.clone(), |(at, _)| at.to_string());
            Ok((writer, Some(*plan), started_at))
        }
    }
}

/// The HTTP collector sink, when `--audit-url` asks for one.
fn collector(args: &SessionArgs) -> Result<Option<Box<dyn AuditSink>>, Failure> {
    let Some(url) = &args.audit_url else {
        return Ok(None);
    };
    let mut headers = Vec::new();
    for (number, header) in args.audit_headers.iter().enumerate() {
        // The value is never echoed: it is usually a credential.
        let Some((name, value)) = header.split_once(':') else {
            return Err(Failure::usage(format!(
                "--audit-header number {} is not `Name: value` (it has no `:`)",
                number + 1
            )));
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let sink = runbook_engine::audit_http::HttpSink::start(url.clone(), headers)
        .map_err(|error| Failure::usage(error.to_string()))?;
    Ok(Some(Box::new(sink)))
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
