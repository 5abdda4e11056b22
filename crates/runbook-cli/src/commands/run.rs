//! `runbook run FILE`: check, then execute as a new run.

use std::io::Write;

use crate::args::RunArgs;
use crate::exit_code;
use crate::failure::Failure;
use crate::render::diagnostic;
use crate::render::style::use_color;
use crate::session::{Start, execute};

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    refuse_fragment(&args.file)?;
    let source = super::read_source(&args.file)?;
    let runbook = check_or_report(&source)?;
    let result = execute(&args.session, &source, &runbook, Start::New);
    // As with the report (`session::execute`): the checked model is left to the exit.
    std::mem::forget(runbook);
    result
}

/// A fragment (`NAME.fragment.yaml`) runs only from a runbook's `use:` step: its parameters come
/// from the runbook. (`lint`, `plan`, `render` and `graph` take one alone.)
pub fn refuse_fragment(path: &std::path::Path) -> Result<(), Failure> {
    if runbook_dsl::fragment::path::is_fragment(path) {
        return Err(Failure::usage(format!(
            "{} is a fragment: it runs from a runbook's step `use: {}` with its parameters under \
             `with:`, not on its own (`runbook lint` and `runbook plan` take it alone)",
            path.display(),
            path.file_name()
                .map_or_else(String::new, |name| name.to_string_lossy().into_owned())
        )));
    }
    Ok(())
}

/// The checked runbook, or its findings printed on stderr. Suppression comments apply as in lint:
/// a suppressed warning is not printed, and a malformed suppression stops the run.
pub fn check_or_report(source: &runbook_dsl::Source) -> anyhow::Result<runbook_dsl::Runbook> {
    let linted = runbook_dsl::lint(source, &crate::plugins::registry());
    let color = use_color(true);
    let mut err = std::io::stderr().lock();
    // `-q`: warnings do not stop a run; only errors are worth saying.
    let shown = |finding: &&runbook_dsl::Finding| !crate::output::quiet() || finding.is_error();
    for finding in linted.findings().iter().filter(shown) {
        writeln!(
            err,
            "{}\n",
            diagnostic::render_human(source, finding, color)
        )?;
    }
    if let Some(runbook) = linted.runbook {
        return Ok(runbook);
    }
    let count = linted.findings().len();
    writeln!(
        err,
        "error: {} has {count} finding{}; fix {} (see `runbook lint`) before running",
        source.path.display(),
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them" },
    )?;
    Err(Failure::reported(exit_code::INVALID_RUNBOOK).into())
}
