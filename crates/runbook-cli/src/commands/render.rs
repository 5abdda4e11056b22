//! `runbook render FILE`: the runbook as a Markdown SOP page (see [`crate::render::sop`]).

use std::io::Write;

use crate::args::FileArgs;

pub fn run(args: &FileArgs) -> anyhow::Result<()> {
    let source = super::read_source(&args.file)?;
    let runbook = super::run::check_or_report(&source)?;
    let page = crate::render::sop::render_sop(&runbook);
    writeln!(std::io::stdout().lock(), "{page}")?;
    Ok(())
}
