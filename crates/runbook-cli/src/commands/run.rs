//! `runbook run FILE`: check, then execute as a new run.

use std::io::Write;

use crate::args::RunArgs;
use crate::exit_code;
use crate::failure::Failure;
use crate::render::diagnostic;
use crate::render::style::use_color;
use crate::session::{Start, execute};

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let source = super::read_source(&args.file)?;
    let runbook = check_or_report(&source)?;
    execute(&args.session, &source, &runbook, Start::New)
}

/// The checked runbook, or its findings printed on stderr.
pub fn check_or_report(source: &runbook_dsl::Source) -> anyhow::Result<runbook_dsl::Runbook> {
    match runbook_dsl::load_and_check_with(source, &crate::plugins::registry()) {
        Ok(runbook) => {
            if !runbook.warnings.is_empty() {
                let color = use_color(true);
                let mut err = std::io::stderr().lock();
                for finding in &runbook.warnings {
                    writeln!(
                        err,
                        "{}\n",
                        diagnostic::render_human(source, finding, color)
                    )?;
                }
            }
            Ok(runbook)
        }
        Err(findings) => {
            let color = use_color(true);
            let mut err = std::io::stderr().lock();
            for finding in &findings {
                writeln!(
                    err,
                    "{}\n",
                    diagnostic::render_human(source, finding, color)
                )?;
            }
            let count = findings.len();
            writeln!(
                err,
                "error: {} has {count} finding{}; fix {} (see `runbook lint`) before running",
                source.path.display(),
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" },
            )?;
            Err(Failure::reported(exit_code::INVALID_RUNBOOK).into())
        }
    }
}
