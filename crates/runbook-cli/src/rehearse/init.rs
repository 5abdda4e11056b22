//! `runbook rehearse --init FILE`: a starting rehearsal file for a runbook, so an author begins
//! from something that runs: a service per host the runbook calls (a route per request), a
//! command per program it starts, an answer per prompt, and a `happy` scenario to fill in.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use runbook_dsl::raw::InputType;
use runbook_dsl::rehearsal::escapes::{Reach, reached};
use runbook_dsl::rehearsal::steps::StepIndex;
use runbook_dsl::template::Part;
use runbook_dsl::{Action, Runbook, StepKind};

/// The text of a starting rehearsal file for `runbook`, whose file name is `file_name`.
pub fn starting_file(runbook: &Runbook, file_name: &str) -> String {
    let mut out = String::new();
    let q = |text: &str| Value::String(text.to_owned()).to_string();
    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=https://runbook.invalid/schemas/rehearsal.schema.json\n\
         #\n\
         # A rehearsal of {file_name}: simulated services and commands, the operator's answers,\n\
         # and scenarios that declare their outcome. Run it with `runbook rehearse {file_name}`.\n\
         # Written by `runbook rehearse --init`: fill in the responses, then declare outcomes.\n\
         # Reference: docs/rehearsals.md"
    );
    let _ = writeln!(out, "runbook: {}", q(file_name));

    // Inputs: every one without a default (secrets always: rehearsal values are made up).
    let missing: Vec<_> = runbook
        .inputs
        .iter()
        .filter(|input| input.default.is_none())
        .collect();
    if missing.is_empty() {
        out.push_str("\ninputs: {}\n");
    } else {
        out.push_str("\n# Made-up values: a rehearsal never reads the environment.\ninputs:\n");
        for input in missing {
            let value = match input.kind {
                InputType::Integer | InputType::Number => "1".to_owned(),
                InputType::Boolean => "true".to_owned(),
                InputType::String => q(&format!("rehearsal-{}", input.name)),
            };
            let _ = writeln!(out, "  {}: {value}", input.name);
        }
    }
    out.push_str(
        "\n# Named values routes and commands read ({{state.NAME}}) and change (`set:`).\nstate:\n  \
         calls: 0\n",
    );

    let defaults = |name: &str| runbook.input(name).and_then(|input| input.default.clone());
    let reached = reached(runbook, &|name| {
        defaults(name).or_else(|| Some(Value::String(format!("rehearsal-{name}"))))
    });
    let index = StepIndex::of(runbook);
    let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut programs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for found in &reached {
        match &found.reach {
            Reach::Host(host) => hosts
                .entry(host.clone())
                .or_default()
                .push(found.step.clone()),
            Reach::Program(name) => programs
                .entry(name.clone())
                .or_default()
                .push(found.step.clone()),
            Reach::Unknowable(_) => {}
        }
    }
    out.push_str("\nservices:\n");
    if hosts.is_empty() {
        out.clear_last_line("services: {}\n");
    }
    for (host, steps) in &hosts {
        let _ = writeln!(out, "  {host}:\n    routes:");
        for id in steps {
            let Some(step) = index.get(id) else { continue };
            match &step.kind {
                StepKind::Action(Action::Http(http)) => {
                    let status = http.expect_status.first().copied().unwrap_or(200);
                    let _ = writeln!(
                        out,
                        "      - name: {}\n        method: {}\n        path: {}\n        status: {status}\n        body: {{}}",
                        q(&format!("{} ({id})", step.name)),
                        http.method.as_str(),
                        q(&path_of(&http.url.parts))
                    );
                }
                StepKind::Action(Action::Plugin(plugin)) => {
                    let _ = writeln!(
                        out,
                        "      # `{id}` ({}) calls this host: add the routes its requests need.\n      - name: {}\n        path: /\n        body: {{}}",
                        plugin.action,
                        q(&format!("{} ({id})", step.name)),
                    );
                }
                StepKind::Action(
                    Action::Shell(_)
                    | Action::Assert(_)
                    | Action::Prompt(_)
                    | Action::Audit(_)
                    | Action::Note(_)
                    | Action::Stop(_),
                )
                | StepKind::Group(_) => {}
            }
        }
    }
    out.push_str("\ncommands:\n");
    if programs.is_empty() {
        out.clear_last_line("commands: {}\n");
    }
    for (name, steps) in &programs {
        let _ = writeln!(
            out,
            "  {name}:\n    - name: {}\n      args: [\"...\"]\n      stdout: \"\"\n      exit: 0",
            q(&format!("as `{}` runs it", steps.join("`, `")))
        );
    }
    out.push_str("\nanswers:\n");
    let prompts: Vec<_> = index.prompts().collect();
    let preconditions = !runbook.meta.preconditions.is_empty();
    if prompts.is_empty() && !preconditions {
        out.clear_last_line("answers: {}\n");
    }
    // Confirmed once before the first step: without this answer no scenario gets past it.
    if preconditions {
        out.push_str("  preconditions: {confirm: true}\n");
    }
    for step in prompts {
        let Some(prompt) = step.kind.prompt() else {
            continue;
        };
        let _ = writeln!(out, "  {}:", step.id);
        let mut any = false;
        if prompt.confirm.is_some() {
            out.push_str("    confirm: true\n");
            any = true;
        }
        if let Some(phrase) = &prompt.phrase {
            let _ = writeln!(out, "    phrase: {}", q(&phrase.source));
            any = true;
        }
        for answer in &prompt.answers {
            let value = answer
                .choices
                .as_ref()
                .and_then(|choices| choices.first().cloned())
                .unwrap_or_else(|| format!("rehearsal-{}", answer.name));
            let _ = writeln!(out, "    {}: {}", answer.name, q(&value));
            any = true;
        }
        if !any {
            out.push_str("    {}\n");
        }
    }
    out.push_str(
        "\nscenarios:\n  - name: happy\n    description: Everything answers as it should.\n    \
         # Declare the outcome, e.g. `status: succeeded`, `ran: [...]`, `state: {...}`.\n    \
         expect: {}\n",
    );
    out
}

/// The path of a URL template, `{name}` for each reference in it.
fn path_of(parts: &[Part]) -> String {
    let mut text = String::new();
    for part in parts {
        match part {
            Part::Literal(literal) => text.push_str(literal),
            Part::Ref(reference) => {
                let name = reference.text.rsplit('.').next().unwrap_or("param");
                text.push_str(&format!("{{{name}}}"));
            }
            Part::Call(_) => text.push_str("{value}"),
        }
    }
    // Drop the scheme and host (literal, or a base-URL reference) and the query.
    let after_scheme = text
        .split_once("://")
        .map_or(text.as_str(), |(_, rest)| rest);
    let path = match after_scheme.find('/') {
        Some(at) if !text.starts_with('{') || text.contains("://") => &after_scheme[at..],
        Some(_) | None => after_scheme.split_once('}').map_or("/", |(_, rest)| rest),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    if path.is_empty() {
        "/".into()
    } else {
        path.to_owned()
    }
}

trait ClearLastLine {
    fn clear_last_line(&mut self, with: &str);
}

impl ClearLastLine for String {
    /// Replaces the section header just written (`services:`) by its empty form.
    fn clear_last_line(&mut self, with: &str) {
        let trimmed = self.trim_end_matches('\n');
        let start = trimmed.rfind('\n').map_or(0, |at| at + 1);
        self.truncate(start);
        self.push_str(with);
    }
}
