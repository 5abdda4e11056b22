//! `runbook completions SHELL` and `runbook man`: generated from the clap definitions in
//! [`crate::args`] by clap_complete and clap_mangen, so they cannot drift from the real options.

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Args, CompletionsArgs};

/// A completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut command = Args::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "runbook", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(())
}

/// The man page, roff, on stdout: name, synopsis, options and every subcommand with its summary
/// (each subcommand's own options are in `runbook COMMAND --help`).
pub fn man() -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Args::command()).render(&mut out)?;
    std::io::stdout().lock().write_all(&out)?;
    Ok(())
}
