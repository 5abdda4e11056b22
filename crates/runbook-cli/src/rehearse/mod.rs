//! `runbook rehearse FILE`: the runbook, end to end, through the same engine code as a live run,
//! with only the transports swapped: HTTP answered by simulated services in process, commands by
//! stand-ins on a `PATH` that holds nothing else, time by a virtual clock. Each scenario prints
//! the operator's view and whether its outcome matched what it declares; then the coverage of
//! every path. Documented in `docs/rehearsals.md`.

mod clock;
mod commands;
mod coverage;
mod expect;
mod http;
mod init;
mod observe;
mod render;
mod scenario;
pub mod shim;
mod world;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use runbook_dsl::Source;
use runbook_dsl::rehearsal::{self, Rehearsal};

use crate::args::{OutputFormat, RehearseArgs};
use crate::exit_code;
use crate::failure::Failure;
use crate::render::diagnostic;
use crate::render::style::{Style, use_color};

pub fn run(args: &RehearseArgs) -> anyhow::Result<()> {
    if args.init {
        return write_starting_file(&args.file);
    }
    let (rehearsal_path, runbook_path) = if rehearsal::is_rehearsal(&args.file) {
        (args.file.clone(), None)
    } else {
        (
            rehearsal::rehearsal_path_for(&args.file),
            Some(args.file.clone()),
        )
    };
    if !rehearsal_path.exists() {
        return Err(Failure::usage(format!(
            "{} has no rehearsal file ({} does not exist); write a starting one with \
             `runbook rehearse --init {}`",
            args.file.display(),
            rehearsal_path.display(),
            args.file.display()
        ))
        .into());
    }
    let rehearsal_source = crate::commands::read_source(&rehearsal_path)?;
    let loaded = load(&rehearsal_source, runbook_path.as_deref())?;
    let Loaded {
        rehearsal,
        runbook,
        runbook_source,
    } = loaded;
    let rehearsal = Arc::new(rehearsal);
    let scenarios = select(&rehearsal, &args.scenario)?;
    let human = args.output == OutputFormat::Human;
    // `-q`: no operator view, only the scenarios that differ, and the summary.
    let quiet = crate::output::quiet();
    let color = use_color(false);
    let style = Style { color };
    let keep = args.keep.clone();
    let temp = tempfile::Builder::new()
        .prefix("runbook-rehearsal-")
        .tempdir()
        .map_err(|error| {
            Failure::environment(format!("cannot create a temporary directory: {error}"))
        })?;
    let base: PathBuf = match &keep {
        Some(dir) => dir.clone(),
        None => temp.path().to_owned(),
    };
    let interactive = if args.interactive {
        if !crate::prompt::interactive() {
            return Err(Failure::usage(
                "--interactive needs a terminal on stdin and stderr to ask the questions",
            )
            .into());
        }
        Some(runbook_engine::prompter::shared(
            crate::prompt::terminal::TerminalPrompter::new(runbook_engine::Interrupt::default()),
        ))
    } else {
        None
    };
    let mut outcomes = Vec::new();
    for scenario in &scenarios {
        let dir = base.join(&scenario.name);
        runbook_engine::journal::create_private_dir(&dir).map_err(|error| {
            Failure::environment(format!("cannot create {}: {error}", dir.display()))
        })?;
        if human && !quiet {
            render::scenario_header(&style, &scenario.name, scenario.description.as_deref());
        }
        let setup = scenario::Setup {
            rehearsal: &rehearsal,
            runbook: &runbook,
            source: &runbook_source,
            dir: &dir,
            show: human && !quiet,
            color,
            prompter: interactive.clone(),
        };
        let outcome = scenario::run(&setup, scenario)?;
        let differences = expect::compare(scenario, &outcome);
        outcomes.push((scenario, outcome, differences));
        if human
            && let Some((scenario, outcome, differences)) = outcomes.last()
            && !(quiet && differences.is_empty())
        {
            render::verdict(
                &style,
                &render::Verdict {
                    name: &scenario.name,
                    outcome,
                    differences: differences.clone(),
                },
            );
        }
    }
    let mut coverage = coverage::Coverage::default();
    for (_, outcome, _) in &outcomes {
        coverage.add(outcome);
    }
    let areas = coverage.areas(&runbook);
    let verdicts: Vec<render::Verdict<'_>> = outcomes
        .iter()
        .map(|(scenario, outcome, differences)| render::Verdict {
            name: &scenario.name,
            outcome,
            differences: differences.clone(),
        })
        .collect();
    if human {
        render::summary(&style, &verdicts, &areas);
        if let Some(dir) = &keep {
            println!(
                "kept each scenario's journal, audit log and stand-ins in {}",
                dir.display()
            );
        }
    } else {
        let document = render::json(
            &runbook.path.display().to_string(),
            &rehearsal.path.display().to_string(),
            &verdicts,
            &areas,
        );
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &document)?;
        writeln!(out)?;
    }
    drop(temp);
    if verdicts.iter().all(render::Verdict::matched) {
        Ok(())
    } else {
        Err(Failure::reported(exit_code::REHEARSAL_DIFFERS).into())
    }
}

/// A checked rehearsal, its runbook and the runbook's text.
pub struct Loaded {
    pub rehearsal: Rehearsal,
    pub runbook: runbook_dsl::Runbook,
    pub runbook_source: Source,
}

/// Loads and checks a rehearsal and its runbook, printing findings (as `runbook run` does).
fn load(source: &Source, runbook_path: Option<&Path>) -> anyhow::Result<Loaded> {
    let raw = rehearsal::load_raw(source).map_err(|finding| report(source, &[*finding]))?;
    let path = runbook_path
        .map(Path::to_owned)
        .unwrap_or_else(|| rehearsal::runbook_path(&source.path, &raw));
    crate::commands::run::refuse_fragment(&path)?;
    let runbook_source = crate::commands::read_source(&path)?;
    let runbook = crate::commands::run::check_or_report(&runbook_source)?;
    let rehearsal = rehearsal::check(&raw, source, &runbook, Some(&runbook_source))
        .map_err(|findings| report(source, &findings))?;
    Ok(Loaded {
        rehearsal,
        runbook,
        runbook_source,
    })
}

/// Lints a rehearsal file and its runbook: the findings, or none.
pub fn lint(source: &Source) -> Vec<runbook_dsl::Finding> {
    let raw = match rehearsal::load_raw(source) {
        Ok(raw) => raw,
        Err(finding) => return vec![*finding],
    };
    let path = rehearsal::runbook_path(&source.path, &raw);
    let runbook_source = match std::fs::read_to_string(&path) {
        Ok(text) => Source::new(&path, text),
        Err(error) => {
            let span = raw
                .runbook
                .as_ref()
                .map_or(runbook_dsl::Span::new(0, 0), |runbook| {
                    source.span(&runbook.loc)
                });
            return vec![
                runbook_dsl::Finding::error(
                    runbook_dsl::FindingCode::RehearsalInvalid,
                    span,
                    format!("cannot read the runbook {}: {error}", path.display()),
                )
                .with_help("name it with `runbook:` (relative to this file), or put NAME.yaml beside NAME.rehearsal.yaml"),
            ];
        }
    };
    let runbook =
        match runbook_dsl::load_and_check_with(&runbook_source, &crate::plugins::registry()) {
            Ok(runbook) => runbook,
            Err(_) => {
                return vec![runbook_dsl::Finding::error(
                    runbook_dsl::FindingCode::RehearsalInvalid,
                    runbook_dsl::Span::new(0, 0),
                    format!(
                        "its runbook {} has errors (lint it), so this rehearsal cannot be checked",
                        path.display()
                    ),
                )];
            }
        };
    match rehearsal::check(&raw, source, &runbook, Some(&runbook_source)) {
        Ok(_) => Vec::new(),
        Err(findings) => findings,
    }
}

fn report(source: &Source, findings: &[runbook_dsl::Finding]) -> anyhow::Error {
    let color = use_color(true);
    let mut err = std::io::stderr().lock();
    for finding in findings {
        let _ = writeln!(
            err,
            "{}\n",
            diagnostic::render_human(source, finding, color)
        );
    }
    let count = findings.len();
    let _ = writeln!(
        err,
        "error: {} has {count} finding{}; fix {} before rehearsing",
        source.path.display(),
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them" },
    );
    Failure::reported(exit_code::INVALID_RUNBOOK).into()
}

/// The scenarios `--scenario` names (all when none).
fn select<'a>(
    rehearsal: &'a Rehearsal,
    names: &[String],
) -> Result<Vec<&'a rehearsal::Scenario>, Failure> {
    if rehearsal.scenarios.is_empty() {
        return Err(Failure::usage(format!(
            "{} declares no scenarios: add one under `scenarios:`",
            rehearsal.path.display()
        )));
    }
    if names.is_empty() {
        return Ok(rehearsal.scenarios.iter().collect());
    }
    let mut out = Vec::new();
    for name in names {
        match rehearsal.scenarios.iter().find(|s| &s.name == name) {
            Some(scenario) => out.push(scenario),
            None => {
                let suggestion = runbook_dsl::suggest::did_you_mean(
                    name,
                    rehearsal.scenarios.iter().map(|s| s.name.as_str()),
                )
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
                return Err(Failure::usage(format!(
                    "{} has no scenario `{name}`{suggestion}",
                    rehearsal.path.display()
                )));
            }
        }
    }
    Ok(out)
}

fn write_starting_file(runbook_path: &Path) -> anyhow::Result<()> {
    crate::commands::run::refuse_fragment(runbook_path)?;
    let source = crate::commands::read_source(runbook_path)?;
    let runbook = crate::commands::run::check_or_report(&source)?;
    let target = rehearsal::rehearsal_path_for(runbook_path);
    if target.exists() {
        return Err(Failure::usage(format!(
            "{} exists already; remove it first to write a new one",
            target.display()
        ))
        .into());
    }
    let file_name = runbook_path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = init::starting_file(&runbook, &file_name);
    std::fs::write(&target, text).map_err(|error| {
        Failure::environment(format!("cannot write {}: {error}", target.display()))
    })?;
    println!(
        "wrote {}: fill in the responses, then run `runbook rehearse {}`",
        target.display(),
        target.display()
    );
    Ok(())
}
