//! `runbook resume RUN_ID`: continue a run after its last completed step.

use std::path::PathBuf;

use runbook_engine::journal::{content_hash, read_journal};
use runbook_engine::resume::ResumePlan;

use crate::args::ResumeArgs;
use crate::failure::Failure;
use crate::session::{Start, execute};
use crate::state::StateDir;

pub fn run(args: &ResumeArgs) -> anyhow::Result<()> {
    let state = StateDir::resolve(args.session.state.state_dir.as_deref())?;
    let run_id = state.find_run(&args.run_id)?;
    let journal = read_journal(&state.journal(&run_id)).map_err(Failure::usage)?;
    let started = journal.first("run_started").ok_or_else(|| {
        Failure::usage(format!(
            "run {run_id} has no start record; it cannot be resumed"
        ))
    })?;
    if let Some(finished) = journal.last("run_finished")
        && finished["status"] == "succeeded"
        && journal
            .last("run_resumed")
            .is_none_or(|resumed| resumed["seq"].as_u64() < finished["seq"].as_u64())
    {
        return Err(Failure::usage(format!(
            "run {run_id} succeeded; there is nothing to resume"
        ))
        .into());
    }
    let plan = ResumePlan::from_journal(&journal);
    if plan.compensated {
        return Err(Failure::usage(format!(
            "run {run_id} already ran its compensation (rollback): the steps it completed were undone, \
             so it cannot continue after them. Start a new run."
        ))
        .into());
    }
    let path = PathBuf::from(started["path"].as_str().unwrap_or_default());
    let source = super::read_source(&path)?;
    let recorded = started["sha256"].as_str().unwrap_or_default();
    let changed = content_hash(&source.text) != recorded;
    if changed && !args.allow_changed_runbook {
        return Err(Failure::usage(format!(
            "{} changed since run {run_id} started (its content hash differs), so the journal may \
             not match its steps. Restore the file, or pass --allow-changed-runbook if you are sure \
             the change is safe.",
            path.display()
        ))
        .into());
    }
    if let Some(torn) = &journal.torn {
        eprintln!("note: run {run_id}'s journal: {torn}");
    }
    let runbook = super::run::check_or_report(&source)?;
    execute(
        &args.session,
        &source,
        &runbook,
        Start::Resume {
            run_id,
            journal: Box::new(journal),
            plan: Box::new(plan),
            changed_runbook: changed,
        },
    )
}
