//! `runbook plan` for people: the [`Plan`] as indented text, in run order.

use std::fmt::Write as _;

use runbook_dsl::{Mode, OnError, ResumePolicy};

use super::describe::plain;
use super::plan::{InputSource, Plan, PlanStep};

/// The whole plan as text.
pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    let mode = plan.mode.map_or("unspecified", |mode| match mode {
        Mode::OperatorAssisted => "operator-assisted",
        Mode::Automatic => "automatic",
    });
    let _ = writeln!(out, "Plan: {} ({})", plan.title, plan.id);
    let _ = writeln!(out, "File: {} (mode: {mode})", plan.file);
    out.push_str("Dry run: nothing was sent, run or asked.\n\nInputs:\n");
    render_inputs(plan, &mut out);
    if !plan.preconditions.is_empty() {
        out.push_str("\nThe operator confirms before the first step:\n");
        for precondition in &plan.preconditions {
            let _ = writeln!(out, "  - {precondition}");
        }
    }
    out.push_str("\nSteps:\n");
    for step in &plan.steps {
        render_step(step, 1, &mut out);
    }
    out.push('\n');
    match &plan.commit_point {
        Some(id) => {
            let _ = writeln!(
                out,
                "Commit point: {id}. Once it passes, the undo registered before it no longer runs."
            );
        }
        None => out.push_str(
            "Commit point: none. Registered undo runs on any failure until the run ends.\n",
        ),
    }
    out.push_str(
        "\nIf a step fails (on_error: abort): the registered undo runs, newest first, then on_failure, \
         then finally.\n",
    );
    render_list(
        "on_failure (when the run fails)",
        &plan.on_failure,
        &mut out,
    );
    render_list("finally (always, last)", &plan.finally, &mut out);
    out.push_str("\nThe operator is asked:\n");
    if plan.operator_asked.is_empty() {
        out.push_str("  nothing: the run needs no operator\n");
    }
    for ask in &plan.operator_asked {
        let _ = writeln!(out, "  - {}: {}", ask.step, ask.what);
    }
    out
}

fn render_inputs(plan: &Plan, out: &mut String) {
    let width = plan.inputs.iter().map(|i| i.name.len()).max().unwrap_or(0);
    if plan.inputs.is_empty() {
        out.push_str("  (none)\n");
    }
    for input in &plan.inputs {
        let shown = match (input.source, input.secret, &input.value) {
            (InputSource::Missing, _, _) => {
                let mut how = format!("no value: pass --input {}=...", input.name);
                if let Some(env) = &input.env {
                    how.push_str(&format!(" or set {env}"));
                }
                if input.secret {
                    how.push_str(" (a secret is asked for at a terminal)");
                }
                format!("<{how}>")
            }
            (source, true, _) => format!("******** (secret, {})", source_text(source, input)),
            (source, false, Some(value)) => {
                let value = if value.as_str() == Some("") {
                    "\"\"".to_owned()
                } else {
                    plain(value)
                };
                format!("{value} ({})", source_text(source, input))
            }
            (source, false, None) => format!("<unknown> ({})", source_text(source, input)),
        };
        let _ = writeln!(out, "  {:width$}  {shown}", input.name);
    }
}

fn source_text(source: InputSource, input: &super::plan::PlanInput) -> String {
    match source {
        InputSource::CommandLine => "from --input".to_owned(),
        InputSource::Environment => format!("from ${}", input.env.as_deref().unwrap_or("?")),
        InputSource::Default => "default".to_owned(),
        InputSource::Missing => "missing".to_owned(),
    }
}

fn render_list(title: &str, steps: &[PlanStep], out: &mut String) {
    let _ = writeln!(out, "\n{title}:");
    if steps.is_empty() {
        out.push_str("  (none)\n");
    }
    for step in steps {
        render_step(step, 1, out);
    }
}

fn render_step(step: &PlanStep, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let label = step
        .number
        .as_ref()
        .map_or_else(|| "-".to_owned(), |number| format!("{number}."));
    let _ = writeln!(out, "{indent}{label} {}: {}", step.id, step.name);
    let body = format!("{indent}   ");
    let mut effect = step.effect.tag(step.kind);
    if !step.undone_by.is_empty() {
        effect.push_str(&format!(" (undo: {})", step.undone_by.join(", ")));
    }
    if step.commit {
        effect.push_str(" · COMMIT POINT");
    }
    let _ = writeln!(out, "{body}{effect}");
    if let Some(when) = &step.when {
        let _ = writeln!(out, "{body}only when {when}");
    }
    for line in &step.performs {
        let _ = writeln!(out, "{body}{line}");
    }
    for line in step.instructions.iter().flat_map(|text| text.lines()) {
        let _ = writeln!(out, "{body}| {line}");
    }
    for ask in &step.asks {
        let _ = writeln!(out, "{body}asks: {ask}");
    }
    for line in &step.loops {
        let _ = writeln!(out, "{body}{line}");
    }
    if let Some(failure) = on_error_text(step.on_error) {
        let _ = writeln!(out, "{body}if it fails: {failure}");
    }
    if let Some(resume) = resume_text(step.resume) {
        let _ = writeln!(out, "{body}on resume: {resume}");
    }
    if !step.rollback.is_empty() {
        let _ = writeln!(out, "{body}rollback (if a later step fails):");
        for inner in &step.rollback {
            render_step(inner, depth + 2, out);
        }
    }
    if let Some(group) = &step.group {
        for inner in &group.steps {
            render_step(inner, depth + 1, out);
        }
        if !group.undo.is_empty() {
            let _ = writeln!(
                out,
                "{body}undo (registered when the group starts, runs if the run fails):"
            );
            for inner in &group.undo {
                render_step(inner, depth + 2, out);
            }
        }
        if !group.finally.is_empty() {
            let _ = writeln!(out, "{body}group finally (always, when the group ends):");
            for inner in &group.finally {
                render_step(inner, depth + 2, out);
            }
        }
    }
}

/// The failure path of a step, when it is not the default (abort).
pub fn on_error_text(on_error: OnError) -> Option<&'static str> {
    match on_error {
        OnError::Abort => None,
        OnError::Continue => Some("recorded, and the run goes on"),
        OnError::Warn => Some("recorded as a warning, and the run goes on (exit 8 at the end)"),
        OnError::Ask => Some("the operator chooses: retry, skip or abort"),
        OnError::AbortRun => Some("the whole run stops, even inside a repeat group"),
    }
}

/// What resume does with the step: only the policy that could surprise (`never`) is spelled out;
/// `--output json` has every step's policy.
fn resume_text(resume: ResumePolicy) -> Option<&'static str> {
    match resume {
        ResumePolicy::Rerun | ResumePolicy::Ask => None,
        ResumePolicy::Never => Some("if interrupted mid-step, it is never re-run"),
    }
}
