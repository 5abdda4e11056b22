//! `runbook resume RUN_ID`: continue a run after its last completed step.

use std::path::PathBuf;

use runbook_engine::journal::{Resumability, RunSummary, content_hash};
use runbook_engine::resume::ResumePlan;

use crate::args::ResumeArgs;
use crate::failure::Failure;
use crate::session::{Start, execute};
use crate::state::StateDir;

pub fn run(args: &ResumeArgs) -> anyhow::Result<()> {
    let state = StateDir::resolve(args.session.state.state_dir.as_deref())?;
    let run_id = state.find_run(&args.run_id)?;
    let journal_path = state.journal(&run_id);
    // Read as a stream, twice (summary, then plan): never the whole journal in memory.
    let (summary, journal) =
        RunSummary::scan(&run_id, &journal_path).map_err(|e| Failure::usage(e.to_string()))?;
    // The same answer `runbook runs` and `runbook show` give.
    let resumability = summary.resumable;
    let code = match resumability {
        Resumability::Resumable | Resumability::UndoCutOff => None,
        // Another process holds the run: the answer the run lock would give.
        Resumability::Running { .. } => Some(crate::exit_code::LOCKED),
        Resumability::Succeeded | Resumability::Compensated | Resumability::NoStart => {
            Some(crate::exit_code::USAGE)
        }
    };
    if let Some(code) = code {
        return Err(Failure {
            code,
            message: resumability.advice(&run_id),
            reported: false,
        }
        .into());
    }
    let Some((_, started)) = &journal.started else {
        return Err(Failure::usage(Resumability::NoStart.advice(&run_id)).into());
    };
    let path = PathBuf::from(&started.path);
    let recorded_hash = started.sha256.clone();
    let source = super::read_source(&path)?;
    let changed = content_hash(&source.text) != recorded_hash;
    if changed && !args.allow_changed_runbook {
        return Err(Failure::usage(format!(
            "{} changed since run {run_id} started (its content hash differs), so the journal may \
             not match its steps. Restore the file, or pass --allow-changed-runbook if you are sure \
             the change is safe.",
            path.display()
        ))
        .into());
    }
    let changed = changed || changed_fragments(&started.fragments, &run_id, args)?;
    let runbook = super::run::check_or_report(&source)?;
    let plan =
        ResumePlan::scan(&journal_path, &runbook).map_err(|e| Failure::usage(e.to_string()))?;
    if let Some(torn) = &journal.torn
        && !crate::output::quiet()
    {
        eprintln!("note: run {run_id}'s journal: {torn}");
    }
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

/// Whether a fragment the run started with changed since: refused as a changed runbook is (same
/// message, same `--allow-changed-runbook`); with that flag, whether one did.
fn changed_fragments(
    recorded: &[runbook_engine::journal::FragmentHash],
    run_id: &str,
    args: &ResumeArgs,
) -> anyhow::Result<bool> {
    let mut changed = false;
    for fragment in recorded {
        let path = PathBuf::from(&fragment.path);
        let now = std::fs::read_to_string(&path).map(|text| {
            runbook_dsl::fragment::content_hash(text.strip_prefix('\u{feff}').unwrap_or(&text))
        });
        if now.as_ref().is_ok_and(|hash| *hash == fragment.sha256) {
            continue;
        }
        changed = true;
        if !args.allow_changed_runbook {
            let what = match now {
                Ok(_) => "changed since run {run_id} started (its content hash differs)",
                Err(_) => "cannot be read any more (it was used when run {run_id} started)",
            }
            .replace("{run_id}", run_id);
            return Err(Failure::usage(format!(
                "fragment {} {what}, so the journal may not match its steps. Restore the file, or \
                 pass --allow-changed-runbook if you are sure the change is safe.",
                path.display()
            ))
            .into());
        }
    }
    Ok(changed)
}
