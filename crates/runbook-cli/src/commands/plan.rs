//! `runbook plan FILE`: a dry run. Loads and checks the runbook, works out what is known of each
//! input before a run, and prints every step with what it would do. No request is sent, no command
//! run, no prompt shown, no state directory touched, and no async runtime started.
//!
//! Secrets: a secret input's value is never read into the plan, whether it comes from `--input` or
//! the environment; only whether it has one. `{{env.NAME}}` references stay symbolic.

use std::io::Write;

use runbook_dsl::{Input, Runbook};

use crate::args::{OutputFormat, PlanArgs};
use crate::failure::Failure;
use crate::render::plan::{InputSource, PlanInput, View, build_plan};
use crate::render::plan_text::render_plan;

pub fn run(args: &PlanArgs) -> anyhow::Result<()> {
    let source = super::read_source(&args.file)?;
    let runbook = super::run::check_or_report(&source)?;
    let inputs = known_inputs(&runbook, &args.inputs, &|name| std::env::var(name).ok())?;
    let plan = build_plan(&runbook, inputs, View::Resolved);
    let text = match args.output {
        OutputFormat::Human => render_plan(&plan),
        OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(&plan)?),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// What is known of each input before the run: `--input`, then the environment, then the default,
/// as `run` resolves them. Values are type-checked as `run` would; secret values are dropped as soon
/// as they are checked.
fn known_inputs(
    runbook: &Runbook,
    assignments: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<PlanInput>, Failure> {
    let mut given = Vec::new();
    for assignment in assignments {
        let (name, value) = runbook_engine::inputs::parse_assignment(assignment)
            .map_err(|error| Failure::usage(error.to_string()))?;
        if runbook.input(&name).is_none() {
            let names = runbook.inputs.iter().map(|input| input.name.as_str());
            let hint = runbook_dsl::suggest::did_you_mean(&name, names)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(Failure::usage(format!(
                "unknown input `{name}`{hint}; {} declares: {}",
                runbook.path.display(),
                declared(runbook)
            )));
        }
        given.push((name, value));
    }
    runbook
        .inputs
        .iter()
        .map(|input| {
            let from_cli = given
                .iter()
                .rev()
                .find(|(name, _)| *name == input.name)
                .map(|(_, value)| (InputSource::CommandLine, value.clone()));
            let from_env = || {
                input
                    .env
                    .as_deref()
                    .and_then(env)
                    .map(|value| (InputSource::Environment, value))
            };
            known_input(input, from_cli.or_else(from_env))
        })
        .collect()
}

fn known_input(input: &Input, text: Option<(InputSource, String)>) -> Result<PlanInput, Failure> {
    let (source, value) = match text {
        Some((source, text)) => {
            let value =
                runbook_engine::inputs::parse_typed(&input.name, &text, input.kind, input.secret)
                    .map_err(|error| Failure::usage(error.to_string()))?;
            (source, Some(value))
        }
        None => match &input.default {
            Some(default) => (InputSource::Default, Some(default.clone())),
            None => (InputSource::Missing, None),
        },
    };
    Ok(PlanInput {
        name: input.name.clone(),
        secret: input.secret,
        source,
        // A secret's value goes no further than the type check above.
        value: if input.secret { None } else { value },
        env: input.env.clone(),
        description: input.description.clone(),
    })
}

fn declared(runbook: &Runbook) -> String {
    if runbook.inputs.is_empty() {
        return "no inputs".to_owned();
    }
    runbook
        .inputs
        .iter()
        .map(|input| input.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
