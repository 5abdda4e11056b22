//! `runbook lint PATH...`: load and check, print every finding, never run anything.
//!
//! This path starts no async runtime and builds no HTTP client: it must stay fast enough to run on
//! every save. Files are linted in parallel on every core and reported in input order, so the
//! output does not depend on timing.

pub mod explain;
mod suppressions;
mod walk;

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use runbook_dsl::Source;
use runbook_dsl::suppress::Filtered;

use crate::args::{Deny, LintArgs, LintFormat};
use crate::exit_code;
use crate::failure::Failure;
use crate::render::style::use_color;
use crate::render::{diagnostic, junit, sarif};
use walk::{Candidate, Selection};

/// One linted file.
pub struct FileReport {
    pub source: Source,
    pub filtered: Filtered,
    /// Its findings rendered for a per-file format (human, GitHub, JSON lines), by the worker that
    /// linted it: rendering is a tenth of lint's work and was done on one thread after the others.
    /// Empty for the formats that render all files together (SARIF, JUnit), and when listing
    /// suppressions.
    rendered: String,
    /// Warnings left out of `rendered` by `-q`.
    not_shown: usize,
}

/// How workers render each file's findings, when the format is rendered file by file.
#[derive(Clone, Copy)]
struct PerFile {
    format: LintFormat,
    color: bool,
    hide_warnings: bool,
}

pub fn run(args: &LintArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.format.is_some() && !crate::output::quiet() {
        eprintln!(
            "warning: `--format` is deprecated and will be removed; use `--output` (or `-o`)"
        );
    }
    let format = args.output();
    if let Some(rule) = &args.explain {
        return explain::explain(rule, &mut out);
    }
    if args.list_rules {
        return explain::list_rules(&mut out);
    }
    let selection = Selection {
        all_yaml: args.all_yaml,
        include_globs: args.include_globs.clone(),
    };
    let candidates = walk::collect(&args.paths, &selection)?;
    let deny_warnings = args.deny.is_some_and(|deny| match deny {
        Deny::Warnings => true,
    });
    let per_file = match format {
        LintFormat::Human | LintFormat::Github | LintFormat::Json if !args.list_suppressions => {
            Some(PerFile {
                format,
                color: use_color(false),
                // `-q`: people see errors only (a warning denied by --deny is an error); machines
                // get all.
                hide_warnings: format == LintFormat::Human
                    && crate::output::quiet()
                    && !deny_warnings,
            })
        }
        LintFormat::Human
        | LintFormat::Github
        | LintFormat::Json
        | LintFormat::Sarif
        | LintFormat::Junit => None,
    };
    let reports = lint_all(&candidates, per_file)?;
    for report in &reports {
        tracing::info!(
            target: "runbook::lint",
            file = %report.source.path.display(),
            findings = report.filtered.findings.len(),
            suppressed = report.filtered.suppressed.len(),
            "linted"
        );
    }
    if reports.is_empty() {
        return Err(Failure::usage(
            "no runbooks found in the given paths (a runbook is a `*.runbook.yaml` file, a YAML file \
             with a runbook schema modeline, or one with top-level `steps:` whose items have an \
             `id:`; name files explicitly, or use --all-yaml / --include-glob; see docs/ci.md)",
        )
        .into());
    }
    if args.list_suppressions {
        return suppressions::list(&reports, format, &mut out);
    }
    print_findings(&reports, format, deny_warnings, &mut out)?;
    let fails = reports.iter().any(|report| {
        report
            .filtered
            .findings
            .iter()
            .any(|finding| finding.is_error() || deny_warnings)
    });
    if fails {
        return Err(Failure::reported(exit_code::INVALID_RUNBOOK).into());
    }
    Ok(())
}

/// Lints every candidate on all cores; results in candidate order. Files found in directories that
/// do not look like runbooks are dropped. The first file that cannot be read stops lint.
fn lint_all(
    candidates: &[Candidate],
    per_file: Option<PerFile>,
) -> Result<Vec<FileReport>, Failure> {
    let slots: Vec<Mutex<Option<Linted>>> = candidates.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(candidates.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                // Each worker has its own plugin registry: cheap, and nothing is shared.
                let plugins = crate::plugins::registry();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(candidate) = candidates.get(index) else {
                        break;
                    };
                    let result = lint_one(candidate, &plugins, per_file);
                    if let Ok(mut slot) = slots[index].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    let mut reports = Vec::new();
    for slot in slots {
        let result = slot
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| Err(Failure::usage("a lint worker stopped early")));
        if let Some(report) = result? {
            reports.push(report);
        }
    }
    Ok(reports)
}

/// A file's report, `None` when a file found in a directory is not a runbook, or why it could not
/// be read.
type Linted = Result<Option<FileReport>, Failure>;

fn lint_one(
    candidate: &Candidate,
    plugins: &runbook_plugin::Registry,
    per_file: Option<PerFile>,
) -> Linted {
    let rehearsal = runbook_dsl::rehearsal::is_rehearsal(&candidate.path);
    let sure = candidate.explicit
        || candidate.included
        || rehearsal
        || runbook_dsl::fragment::path::is_fragment(&candidate.path)
        || walk::named_as_runbook(&candidate.path);
    let source = if sure {
        super::read_source(&candidate.path)?
    } else {
        match sniff(&candidate.path) {
            Some(text) => runbook_dsl::Source::new(&candidate.path, text),
            None => return Ok(None),
        }
    };
    let filtered = if rehearsal {
        // A rehearsal is checked against its runbook (step ids, hosts, answers); it has no
        // suppression comments of its own.
        runbook_dsl::suppress::Filtered {
            findings: crate::rehearse::lint(&source),
            suppressed: Vec::new(),
            suppressions: Vec::new(),
        }
    } else {
        runbook_dsl::lint(&source, plugins).filtered
    };
    let (rendered, not_shown) = per_file.map_or_else(
        || (String::new(), 0),
        |per_file| render_file(&source, &filtered, per_file),
    );
    Ok(Some(FileReport {
        source,
        filtered,
        rendered,
        not_shown,
    }))
}

/// One file's findings in a per-file format, each followed by what separates it from the next, and
/// how many warnings `-q` left out.
fn render_file(source: &Source, filtered: &Filtered, per_file: PerFile) -> (String, usize) {
    let PerFile {
        format,
        color,
        hide_warnings,
    } = per_file;
    let mut text = String::new();
    let mut not_shown = 0;
    for finding in &filtered.findings {
        if hide_warnings && !finding.is_error() {
            not_shown += 1;
            continue;
        }
        match format {
            LintFormat::Human => {
                text.push_str(&diagnostic::render_human(source, finding, color));
                text.push_str("\n\n");
            }
            LintFormat::Github => {
                text.push_str(&diagnostic::render_github(source, finding));
                text.push('\n');
            }
            LintFormat::Json | LintFormat::Sarif | LintFormat::Junit => {
                text.push_str(&diagnostic::render_json(source, finding));
                text.push('\n');
            }
        }
    }
    (text, not_shown)
}

/// The text of a YAML file found in a directory, if it looks like a runbook (read once: it is
/// linted from this text). One that is too large or not UTF-8 is some other YAML (a data dump):
/// skipped, not an error.
fn sniff(path: &std::path::Path) -> Option<String> {
    let small = std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.len() <= runbook_dsl::yaml::MAX_SOURCE_BYTES as u64);
    let text = small
        .then(|| std::fs::read_to_string(path).ok())
        .flatten()?;
    walk::looks_like_runbook(path, &text).then_some(text)
}

fn print_findings(
    reports: &[FileReport],
    format: LintFormat,
    deny_warnings: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let pairs: Vec<(&Source, &Filtered)> = reports
        .iter()
        .map(|report| (&report.source, &report.filtered))
        .collect();
    match format {
        LintFormat::Sarif => return Ok(write!(out, "{}", sarif::render_sarif(&pairs))?),
        LintFormat::Junit => {
            return Ok(write!(
                out,
                "{}",
                junit::render_junit(&pairs, deny_warnings)
            )?);
        }
        LintFormat::Human | LintFormat::Github | LintFormat::Json => {}
    }
    // Rendered by the workers (see `lint_one`), in input order here.
    for report in reports {
        out.write_all(report.rendered.as_bytes())?;
    }
    let not_shown: usize = reports.iter().map(|report| report.not_shown).sum();
    if format == LintFormat::Human {
        let mut line = summary(reports);
        if not_shown > 0 {
            line.push_str(&format!(
                ", {} not shown (--quiet)",
                plural(not_shown, "warning")
            ));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `3 runbooks checked: 2 findings in 1 file (1 suppressed)`.
fn summary(reports: &[FileReport]) -> String {
    let findings: usize = reports.iter().map(|r| r.filtered.findings.len()).sum();
    let files = reports
        .iter()
        .filter(|r| !r.filtered.findings.is_empty())
        .count();
    let suppressed: usize = reports.iter().map(|r| r.filtered.suppressed.len()).sum();
    let checked = checked_files(reports);
    let mut line = if findings == 0 {
        format!("{checked} checked: no findings")
    } else {
        format!(
            "{checked} checked: {} in {}",
            plural(findings, "finding"),
            plural(files, "file")
        )
    };
    if suppressed > 0 {
        line.push_str(&format!(" ({suppressed} suppressed)"));
    }
    line
}

/// `3 runbooks`, or `11 runbooks, 3 rehearsals and 2 fragments`: what was checked, by kind, so a
/// rehearsal or fragment file is not counted as a runbook.
fn checked_files(reports: &[FileReport]) -> String {
    let (mut runbooks, mut rehearsals, mut fragments) = (0, 0, 0);
    for report in reports {
        let path = &report.source.path;
        if runbook_dsl::rehearsal::is_rehearsal(path) {
            rehearsals += 1;
        } else if runbook_dsl::fragment::path::is_fragment(path) {
            fragments += 1;
        } else {
            runbooks += 1;
        }
    }
    let mut parts = Vec::new();
    if runbooks > 0 || (rehearsals == 0 && fragments == 0) {
        parts.push(plural(runbooks, "runbook"));
    }
    if rehearsals > 0 {
        parts.push(plural(rehearsals, "rehearsal"));
    }
    if fragments > 0 {
        parts.push(plural(fragments, "fragment"));
    }
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => plural(0, "runbook"),
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
