//! The requests, commands and checks a step performs, one line each: shared by `plan` (templates
//! resolved) and `render` (templates as written, secrets as names). Every step kind is matched
//! here exhaustively: a new kind fails to compile until it says what it does.

use runbook_dsl::{Action, CaptureSource, StepKind};

use super::describe::{Shown, plain};

/// One line per thing the step does (a group does nothing itself: its steps do; a `use:` step
/// names the fragment they come from).
pub fn performs(shown: Shown<'_>, kind: &StepKind) -> Vec<String> {
    let action = match kind {
        StepKind::Group(group) => {
            return group
                .fragment
                .iter()
                .map(|fragment| format!("runs fragment {}", fragment.path.display()))
                .collect();
        }
        StepKind::Action(action) => action,
    };
    let mut lines = Vec::new();
    match action {
        Action::Http(http) => {
            let mut url = shown.template(&http.url);
            if !http.query.is_empty() {
                let query: Vec<String> = http
                    .query
                    .iter()
                    .map(|(key, value)| format!("{key}={}", unquoted(shown.value(value))))
                    .collect();
                url = format!("{url}?{}", query.join("&"));
            }
            lines.push(format!("{} {url}", http.method));
            for (name, value) in &http.headers {
                lines.push(format!("header {name}: {}", shown.template(value)));
            }
            if let Some(body) = &http.body {
                lines.push(shown.body(body));
            }
            let status = if http.expect_status.is_empty() {
                "any 2xx".to_owned()
            } else {
                join(&http.expect_status)
            };
            lines.push(format!("expect status {status}"));
            for condition in &http.asserts {
                lines.push(format!("check {}", shown.condition(condition)));
            }
        }
        Action::Shell(shell) => {
            lines.push(format!("$ {}", shown.template(&shell.command)));
            if let Some(workdir) = &shell.workdir {
                lines.push(format!("in {}", shown.template(workdir)));
            }
            for (name, value) in &shell.env {
                lines.push(format!("env {name}={}", shown.template(value)));
            }
            for (name, content) in &shell.files {
                // A private file usually holds secrets: its content is shown symbolically anyway.
                lines.push(format!(
                    "private file ${name}: {}",
                    shown.template(content).trim_end().replace('\n', " / ")
                ));
            }
            if let Some(stdin) = &shell.stdin {
                lines.push(format!("stdin {}", shown.template(stdin)));
            }
            if !shell.expect_exit.is_empty() && shell.expect_exit != [0] {
                lines.push(format!("expect exit {}", join(&shell.expect_exit)));
            }
            for condition in &shell.asserts {
                lines.push(format!("check {}", shown.condition(condition)));
            }
        }
        Action::Assert(assert) => {
            for condition in &assert.conditions {
                lines.push(format!("check {}", shown.condition(condition)));
            }
        }
        // The instructions are the operator's text, not something the step performs: see
        // [`instructions`].
        Action::Prompt(_) => {}
        Action::Audit(audit) => {
            lines.push(format!("audit event {}", shown.template(&audit.action)));
            for (name, value) in &audit.context {
                lines.push(format!("  {name}: {}", shown.value(value)));
            }
            for (name, from, to) in &audit.durations {
                lines.push(format!(
                    "  {name}: seconds from {} {} to {} {}",
                    from.step,
                    event_word(from.finished),
                    to.step,
                    event_word(to.finished)
                ));
            }
        }
        Action::Plugin(plugin) => {
            lines.push(format!("plugin {}", plugin.action));
            for (name, value) in &plugin.params {
                // A parameter the plugin declares secret is masked once values are known (as
                // written, it shows the names it is made of).
                let shown_value = match shown {
                    Shown::Resolved(_) if plugin.secret_params.contains(name) => {
                        format!("<secret param {name}>")
                    }
                    Shown::Resolved(_) | Shown::AsWritten => shown.value(value),
                };
                lines.push(format!("  {name}: {shown_value}"));
            }
        }
        Action::Note(note) => lines.push(format!("note: {}", shown.template(&note.message))),
        Action::Stop(stop) => {
            lines.push(format!("stop the run: {}", shown.template(&stop.message)))
        }
    }
    for capture in action.captures() {
        let from = match &capture.source {
            CaptureSource::JsonPath(path) => path.text.clone(),
            CaptureSource::Header(name) => format!("header {name}"),
        };
        let secret = if capture.secret { " (secret)" } else { "" };
        lines.push(format!("capture {} <- {from}{secret}", capture.name));
    }
    lines
}

fn event_word(finished: bool) -> &'static str {
    if finished { "finished" } else { "started" }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A query value reads better without JSON quotes.
fn unquoted(text: String) -> String {
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) => plain(&value),
        Err(_) => text,
    }
}

/// A prompt's instructions to the operator, if the step is a prompt that has them.
pub fn instructions(shown: Shown<'_>, kind: &StepKind) -> Option<String> {
    let instructions = kind.prompt()?.instructions.as_ref()?;
    Some(shown.template(instructions).trim_end().to_owned())
}
