//! `runbook lint PATH...`: load and check, print every finding, never run anything.
//!
//! This path starts no async runtime and builds no HTTP client: it must stay fast enough to run on
//! every save.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::args::{LintArgs, LintFormat};
use crate::exit_code;
use crate::failure::Failure;
use crate::render::diagnostic;
use crate::render::style::use_color;

pub fn run(args: &LintArgs) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for path in &args.paths {
        collect(path, &mut files)?;
    }
    if files.is_empty() {
        return Err(Failure::usage("no .yaml or .yml files found in the given paths").into());
    }
    let color = use_color(false);
    let plugins = crate::plugins::registry();
    let mut out = std::io::stdout().lock();
    let mut findings_total = 0;
    let mut errors_total = 0;
    let mut files_with_findings = 0;
    for file in &files {
        let source = super::read_source(file)?;
        // Warnings alone do not make a runbook invalid: they are shown, and lint still passes.
        let findings = if runbook_dsl::rehearsal::is_rehearsal(file) {
            // A rehearsal is checked against its runbook (step ids, hosts, answers).
            crate::rehearse::lint(&source)
        } else {
            match runbook_dsl::load_and_check_with(&source, &plugins) {
                Ok(runbook) => runbook.warnings,
                Err(findings) => findings,
            }
        };
        if findings.is_empty() {
            continue;
        }
        files_with_findings += 1;
        findings_total += findings.len();
        errors_total += findings.iter().filter(|f| f.is_error()).count();
        for finding in &findings {
            let text = match args.format {
                LintFormat::Human => diagnostic::render_human(&source, finding, color),
                LintFormat::Github => diagnostic::render_github(&source, finding),
                LintFormat::Json => diagnostic::render_json(&source, finding),
            };
            writeln!(out, "{text}")?;
            if args.format == LintFormat::Human {
                writeln!(out)?;
            }
        }
    }
    let checked = plural(files.len(), "runbook");
    if findings_total == 0 {
        if args.format == LintFormat::Human {
            writeln!(out, "{checked} checked: no findings")?;
        }
        return Ok(());
    }
    if args.format == LintFormat::Human {
        writeln!(
            out,
            "{checked} checked: {} in {}",
            plural(findings_total, "finding"),
            plural(files_with_findings, "file")
        )?;
    }
    if errors_total == 0 {
        // Warnings only: worth reading, not a reason to fail.
        return Ok(());
    }
    Err(Failure::reported(exit_code::INVALID_RUNBOOK).into())
}

/// A file as given, or every .yaml/.yml under a directory (sorted, so output is stable).
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))?;
    if metadata.is_file() {
        files.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|error| Failure::usage(format!("cannot list {}: {error}", path.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files)?;
        } else if is_runbook_file(&entry) {
            files.push(entry);
        }
    }
    Ok(())
}

/// `.yaml`/`.yml`, except answers files (`NAME.answers.yaml`), which hold prompt answers, not
/// runbooks.
fn is_runbook_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.ends_with(".answers.yaml")
        && !name.ends_with(".answers.yml")
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
