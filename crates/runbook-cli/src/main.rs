//! `runbook`: lint, run, resume and describe operational runbooks written in YAML.
//!
//! Arguments are parsed here; each subcommand lives in `commands/`; every error is rendered, and every
//! exit code chosen, in [`failure`].

mod args;
mod commands;
mod exit_code;
mod failure;
mod interrupt;
mod lock;
mod logging;
mod output;
mod plugins;
mod prompt;
mod rehearse;
mod render;
mod session;
mod state;

use clap::{CommandFactory, FromArgMatches};

/// mimalloc rather than the system allocator: `lint` builds and frees a node tree, a raw and a
/// checked runbook per file, and glibc's malloc and free were about a fifth of its instructions
/// (mimalloc's thread-local free lists also suit lint's one worker per core).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rehearse::shim::run_if_asked();
    // clap prints help and usage errors before `--color` is parsed: tell it first.
    let matches = args::Args::command()
        .color(output::clap_color(std::env::args_os()))
        .get_matches();
    let args = args::Args::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    output::init(&args.global);
    if let Err(error) = logging::install(&args.global) {
        return failure::finish(Err(error.into()));
    }
    let result = match args.command {
        args::Command::Lint(lint) => commands::lint::run(&lint),
        args::Command::Run(run) => commands::run::run(&run),
        args::Command::Schema(schema) => commands::schema::run(&schema),
        args::Command::Resume(resume) => commands::resume::run(&resume),
        args::Command::Runs(runs) => commands::runs::run(&runs),
        args::Command::Show(show) => commands::show::run(&show),
        args::Command::Rehearse(rehearse) => rehearse::run(&rehearse),
        args::Command::Plan(plan) => commands::plan::run(&plan),
        args::Command::Render(file) => commands::render::run(&file),
        args::Command::Graph(file) => commands::graph::run(&file),
        args::Command::New(new) => commands::new::run(&new),
        args::Command::Completions(shell) => commands::completions::completions(&shell),
        args::Command::Man => commands::completions::man(),
    };
    failure::finish(result)
}
