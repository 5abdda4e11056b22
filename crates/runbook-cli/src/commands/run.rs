//! `runbook run FILE`: check, resolve inputs, execute, report.

use std::io::Write;

use anyhow::Context;

use runbook_engine::{Engine, EngineOptions, NullObserver, RunReport, RunStatus, StepErrorKind};

use crate::args::{OutputFormat, RunArgs};
use crate::exit_code;
use crate::failure::Failure;
use crate::render::diagnostic;
use crate::render::progress::TerminalObserver;
use crate::render::style::use_color;

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let source = super::read_source(&args.file)?;
    let runbook = match runbook_dsl::load_and_check(&source) {
        Ok(runbook) => runbook,
        Err(findings) => {
            let color = use_color(true);
            let mut err = std::io::stderr().lock();
            for finding in &findings {
                writeln!(err, "{}\n", diagnostic::render_human(&source, finding, color))?;
            }
            writeln!(
                err,
                "error: {} has {} finding(s); fix them (see `runbook lint`) before running",
                args.file.display(),
                findings.len()
            )?;
            return Err(Failure::reported(exit_code::INVALID_RUNBOOK).into());
        }
    };

    let mut given = Vec::new();
    for assignment in &args.inputs {
        given.push(
            runbook_engine::inputs::parse_assignment(assignment)
                .map_err(|error| Failure::usage(error.to_string()))?,
        );
    }
    let inputs = runbook_engine::resolve_inputs(&runbook, &given, &|name| std::env::var(name).ok())
        .map_err(|error| Failure::usage(error.to_string()))?;

    // The runtime is built here and only here: lint and schema never pay for it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let engine = Engine::new(EngineOptions::default());
    let report = match args.output {
        OutputFormat::Human => {
            let mut observer = TerminalObserver::new(use_color(false));
            runtime.block_on(engine.run(&runbook, inputs, &mut observer))
        }
        OutputFormat::Json => {
            let report = runtime.block_on(engine.run(&runbook, inputs, &mut NullObserver));
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
            report
        }
    };
    match exit_code_for(&report) {
        exit_code::SUCCESS => Ok(()),
        code => Err(Failure::reported(code).into()),
    }
}

/// The exit code that names how the run ended.
fn exit_code_for(report: &RunReport) -> u8 {
    if report.status == RunStatus::Succeeded {
        return exit_code::SUCCESS;
    }
    match report.failure().map(|(_, error)| error.kind) {
        Some(StepErrorKind::Assertion) => exit_code::ASSERTION_FAILED,
        Some(StepErrorKind::Timeout) => exit_code::TIMEOUT,
        _ => exit_code::STEP_FAILED,
    }
}
