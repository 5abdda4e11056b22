//! Outputs that hold a secret before anyone knows it: step B captures a secret (`secret: true`)
//! from a result it built out of step A's output (`echo '{{steps.A.outputs.stdout}}'`), so A's
//! output held that secret first, when A finished and was recorded. Captures read only their own
//! step's result, so an earlier step's output reaches a secret capture only through a reference in
//! that step's fields; every output so referenced is tainted, and, transitively, every output the
//! tainted step itself referenced (a step's outputs can carry anything it was given).

use std::collections::{BTreeSet, HashMap};

use crate::finding::{Finding, FindingCode};
use crate::model::{Action, Body, Input, Step, StepKind};
use crate::template::{Part, RefPath, Template};

/// `(step id, output name)` pairs that the engine treats as secret from the moment they exist.
pub(super) fn tainted_outputs(lists: &[&[Step]]) -> BTreeSet<(String, String)> {
    let mut actions: Vec<(&str, &Action)> = Vec::new();
    for list in lists {
        collect_actions(list, &mut actions);
    }
    let by_id = index_by_id(&actions);
    let mut tainted: BTreeSet<(String, String)> = BTreeSet::new();
    // Tainted steps whose own references are still to be followed.
    let mut pending: Vec<&str> = actions
        .iter()
        .filter(|(_, action)| action.captures().iter().any(|capture| capture.secret))
        .map(|(id, _)| *id)
        .collect();
    let mut followed: BTreeSet<&str> = BTreeSet::new();
    while let Some(id) = pending.pop() {
        if !followed.insert(id) {
            continue;
        }
        for action in by_id.get(id).into_iter().flatten() {
            for template in action_templates(action) {
                for part in &template.parts {
                    let Part::Ref(reference) = part else { continue };
                    if let RefPath::StepOutput { step, output, .. } = &reference.path
                        && tainted.insert((step.clone(), output.clone()))
                        && let Some((source, _)) = by_id.get_key_value(step.as_str())
                    {
                        pending.push(source);
                    }
                }
            }
        }
    }
    tainted
}

/// The actions of each step id: looked up once per reference, so a scan of every step each time
/// would make a long runbook quadratic.
fn index_by_id<'a>(actions: &[(&'a str, &'a Action)]) -> HashMap<&'a str, Vec<&'a Action>> {
    let mut by_id: HashMap<&str, Vec<&Action>> = HashMap::new();
    for (id, action) in actions {
        by_id.entry(id).or_default().push(action);
    }
    by_id
}

fn collect_actions<'a>(steps: &'a [Step], out: &mut Vec<(&'a str, &'a Action)>) {
    for step in steps {
        match &step.kind {
            StepKind::Action(action) => out.push((step.id.as_str(), action)),
            StepKind::Group(group) => {
                collect_actions(&group.steps, out);
                collect_actions(&group.finally, out);
            }
        }
        collect_actions(&step.rollback, out);
    }
}

/// Every template an action's result can be built from.
fn action_templates(action: &Action) -> Vec<&Template> {
    let mut out: Vec<&Template> = Vec::new();
    match action {
        Action::Http(http) => {
            out.push(&http.url);
            out.extend(http.headers.iter().map(|(_, t)| t));
            for (_, value) in &http.query {
                out.extend(value.templates());
            }
            match &http.body {
                Some(Body::Json(value)) => out.extend(value.templates()),
                Some(Body::Text(text)) => out.push(text),
                None => {}
            }
        }
        Action::Shell(shell) => {
            out.push(&shell.command);
            out.extend(shell.env.iter().map(|(_, t)| t));
            out.extend(shell.files.iter().map(|(_, t)| t));
            out.extend(shell.workdir.iter());
            out.extend(shell.stdin.iter());
        }
        Action::Plugin(plugin) => {
            for (_, value) in &plugin.params {
                out.extend(value.templates());
            }
        }
        Action::Audit(audit) => {
            out.push(&audit.action);
            for (_, value) in &audit.context {
                out.extend(value.templates());
            }
        }
        Action::Prompt(prompt) => {
            out.extend(prompt.instructions.iter());
            out.extend(prompt.confirm.iter());
            out.extend(prompt.phrase.iter());
        }
        // No outputs: nothing an assert reads can come back out of it.
        Action::Assert(_) => {}
    }
    out
}

/// A warning for each secret referenced in a prompt's `instructions`, `confirm` or `phrase`: it is
/// shown masked there, so it helps nobody and tells the reader of the runbook where a secret goes.
pub(super) fn secrets_in_prompts(
    lists: &[&[Step]],
    inputs: &[Input],
    tainted: &BTreeSet<(String, String)>,
) -> Vec<Finding> {
    let mut actions: Vec<(&str, &Action)> = Vec::new();
    for list in lists {
        collect_actions(list, &mut actions);
    }
    let by_id = index_by_id(&actions);
    let secret_inputs: BTreeSet<&str> = inputs
        .iter()
        .filter(|input| input.secret)
        .map(|input| input.name.as_str())
        .collect();
    let is_secret_output = |step: &str, output: &str| {
        tainted.contains(&(step.to_owned(), output.to_owned()))
            || by_id.get(step).into_iter().flatten().any(|action| {
                action
                    .captures()
                    .iter()
                    .any(|capture| capture.secret && capture.name == output)
                    || action.prompt().is_some_and(|prompt| {
                        prompt
                            .answers
                            .iter()
                            .any(|answer| answer.secret && answer.name == output)
                    })
            })
    };
    let mut findings = Vec::new();
    for (_, action) in &actions {
        let Some(prompt) = action.prompt() else {
            continue;
        };
        let fields = [
            ("instructions", &prompt.instructions),
            ("confirm", &prompt.confirm),
            ("phrase", &prompt.phrase),
        ];
        for (field, template) in fields {
            let Some(template) = template else { continue };
            for part in &template.parts {
                let Part::Ref(reference) = part else { continue };
                let secret = match &reference.path {
                    RefPath::Input { name, .. } => secret_inputs.contains(name.as_str()),
                    RefPath::StepOutput { step, output, .. } => is_secret_output(step, output),
                    RefPath::StepTiming { .. }
                    | RefPath::Run { .. }
                    | RefPath::OwnOutput { .. }
                    | RefPath::Env { .. } => false,
                };
                if secret {
                    findings.push(
                        Finding::warning(
                            FindingCode::SecretInPrompt,
                            reference.span,
                            format!("a secret in the prompt's `{field}`"),
                        )
                        .with_label("shown as ******** to the operator")
                        .with_help(
                            "prompt text is printed (and echoed from an answers file), so secrets \
                             in it are masked; tell the operator where to find the value instead",
                        ),
                    );
                }
            }
        }
    }
    findings
}
