//! Outputs that hold a secret before anyone knows it: step B captures a secret (`secret: true`)
//! from a result it built out of step A's output (`echo '{{steps.A.outputs.stdout}}'`), so A's
//! output held that secret first, when A finished and was recorded. Captures read only their own
//! step's result, so an earlier step's output reaches a secret capture only through a reference in
//! that step's fields; every output so referenced is tainted, and, transitively, every output the
//! tainted step itself referenced (a step's outputs can carry anything it was given). A reference
//! inside a function call counts like any other: `{{trim steps.A.outputs.stdout}}` carries A's
//! output as surely as `{{steps.A.outputs.stdout}}`.

use std::collections::{BTreeSet, HashMap};

use crate::model::{Action, Body, Step, StepKind};
use crate::template::{RefPath, Template};

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
                for reference in template.references() {
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
                collect_actions(&group.undo, out);
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
        // A note's one output is its rendered message.
        Action::Note(note) => out.push(&note.message),
        // No outputs: nothing an assert or a stop reads can come back out of it.
        Action::Assert(_) | Action::Stop(_) => {}
    }
    out
}
