//! Every template of one step (not of the steps nested in it), labelled with the field it fills,
//! so a rule can ask "which references reach a command line?" or "which are read by a condition?".

use crate::model::{
    Action, Body, Condition, ConditionKind, DurationValue, Step, StepKind, ValueTemplate,
};
use crate::template::{RefPath, Reference, Template};

/// The field a template fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The step's `when`.
    When,
    /// An operand of an assertion: an `assert` step, a step's `assert:`, or `until`.
    Assertion,
    /// An author's `message:` of a condition.
    Message,
    Url,
    Query,
    Header,
    Body,
    Command,
    /// A shell step's `env`, `files`, `workdir` or `stdin`: data, not a command line.
    ShellData,
    /// A prompt's `instructions`, `confirm` or `phrase`.
    PromptText(&'static str),
    Audit,
    PluginParam,
    /// A `poll` interval or timeout written as a template.
    PollDuration,
}

impl Role {
    /// Conditions decide what happens; they fail at run time when a value is missing.
    pub(super) fn is_condition(self) -> bool {
        match self {
            Role::When | Role::Assertion => true,
            Role::Message
            | Role::Url
            | Role::Query
            | Role::Header
            | Role::Body
            | Role::Command
            | Role::ShellData
            | Role::PromptText(_)
            | Role::Audit
            | Role::PluginParam
            | Role::PollDuration => false,
        }
    }
}

/// The step's own templates with their roles.
pub(super) fn step_templates(step: &Step) -> Vec<(Role, &Template)> {
    let mut out = Vec::new();
    if let Some(when) = &step.when {
        conditions(std::slice::from_ref(when), Role::When, &mut out);
    }
    if let Some(until) = &step.until {
        conditions(
            std::slice::from_ref(&until.condition),
            Role::Assertion,
            &mut out,
        );
        for duration in [&until.interval, &until.timeout, &until.max_interval] {
            if let DurationValue::Template(template) = duration {
                out.push((Role::PollDuration, template));
            }
        }
    }
    match &step.kind {
        StepKind::Action(action) => action_templates(action, &mut out),
        StepKind::Group(_) => {}
    }
    out
}

fn action_templates<'a>(action: &'a Action, out: &mut Vec<(Role, &'a Template)>) {
    match action {
        Action::Http(http) => {
            out.push((Role::Url, &http.url));
            out.extend(http.headers.iter().map(|(_, t)| (Role::Header, t)));
            for (_, value) in &http.query {
                values(value, Role::Query, out);
            }
            match &http.body {
                Some(Body::Json(value)) => values(value, Role::Body, out),
                Some(Body::Text(text)) => out.push((Role::Body, text)),
                None => {}
            }
            conditions(&http.asserts, Role::Assertion, out);
        }
        Action::Shell(shell) => {
            out.push((Role::Command, &shell.command));
            out.extend(shell.env.iter().map(|(_, t)| (Role::ShellData, t)));
            out.extend(shell.files.iter().map(|(_, t)| (Role::ShellData, t)));
            out.extend(shell.workdir.iter().map(|t| (Role::ShellData, t)));
            out.extend(shell.stdin.iter().map(|t| (Role::ShellData, t)));
            conditions(&shell.asserts, Role::Assertion, out);
        }
        Action::Assert(assert) => conditions(&assert.conditions, Role::Assertion, out),
        Action::Prompt(prompt) => {
            let fields = [
                ("instructions", &prompt.instructions),
                ("confirm", &prompt.confirm),
                ("phrase", &prompt.phrase),
            ];
            for (field, template) in fields {
                out.extend(template.iter().map(|t| (Role::PromptText(field), t)));
            }
        }
        Action::Audit(audit) => {
            out.push((Role::Audit, &audit.action));
            for (_, value) in &audit.context {
                values(value, Role::Audit, out);
            }
        }
        Action::Plugin(plugin) => {
            for (_, value) in &plugin.params {
                values(value, Role::PluginParam, out);
            }
        }
        // Shown to the operator (masked) and recorded, like a condition's message.
        Action::Note(note) => out.push((Role::Message, &note.message)),
        Action::Stop(stop) => out.push((Role::Message, &stop.message)),
    }
}

fn values<'a>(value: &'a ValueTemplate, role: Role, out: &mut Vec<(Role, &'a Template)>) {
    out.extend(value.templates().into_iter().map(|t| (role, t)));
}

/// The operands of conditions (as `role`) and their messages.
fn conditions<'a>(list: &'a [Condition], role: Role, out: &mut Vec<(Role, &'a Template)>) {
    for condition in list {
        if let Some(message) = &condition.message {
            out.push((Role::Message, message));
        }
        match &condition.kind {
            ConditionKind::Compare { that, operand, .. } => {
                values(that, role, out);
                values(operand, role, out);
            }
            ConditionKind::OneOf { that, options } => {
                values(that, role, out);
                options.iter().for_each(|option| values(option, role, out));
            }
            ConditionKind::Matches { that, .. }
            | ConditionKind::Exists { that, .. }
            | ConditionKind::IsEmpty { that, .. }
            | ConditionKind::Length { that, .. } => values(that, role, out),
            ConditionKind::All(inner) | ConditionKind::Any(inner) => conditions(inner, role, out),
            ConditionKind::Not(inner) => conditions(std::slice::from_ref(inner), role, out),
        }
    }
}

/// The references an `exists` condition tests, anywhere in `condition`: testing whether a value
/// exists is how a runbook guards against its absence.
pub(super) fn existence_tests(condition: &Condition) -> Vec<&Reference> {
    let mut out = Vec::new();
    collect_existence_tests(condition, &mut out);
    out
}

fn collect_existence_tests<'a>(condition: &'a Condition, out: &mut Vec<&'a Reference>) {
    match &condition.kind {
        ConditionKind::Exists { that, .. } => {
            for template in that.templates() {
                out.extend(template.references());
            }
        }
        ConditionKind::All(inner) | ConditionKind::Any(inner) => {
            inner
                .iter()
                .for_each(|condition| collect_existence_tests(condition, out));
        }
        ConditionKind::Not(inner) => collect_existence_tests(inner, out),
        ConditionKind::Compare { .. }
        | ConditionKind::Matches { .. }
        | ConditionKind::OneOf { .. }
        | ConditionKind::IsEmpty { .. }
        | ConditionKind::Length { .. } => {}
    }
}

/// Steps whose outcome a condition tests (`that: "{{steps.X.outcome}}"`, `equals: passed`): a
/// reader that tests the outcome is ready for the step's outputs to be missing.
pub(super) fn outcome_tests(condition: &Condition) -> Vec<&str> {
    let mut out = Vec::new();
    collect_outcome_tests(condition, &mut out);
    out
}

fn collect_outcome_tests<'a>(condition: &'a Condition, out: &mut Vec<&'a str>) {
    let that = match &condition.kind {
        ConditionKind::All(inner) | ConditionKind::Any(inner) => {
            inner
                .iter()
                .for_each(|condition| collect_outcome_tests(condition, out));
            return;
        }
        ConditionKind::Not(inner) => return collect_outcome_tests(inner, out),
        ConditionKind::Compare { that, .. }
        | ConditionKind::Matches { that, .. }
        | ConditionKind::OneOf { that, .. }
        | ConditionKind::Exists { that, .. }
        | ConditionKind::IsEmpty { that, .. }
        | ConditionKind::Length { that, .. } => that,
    };
    for template in that.templates() {
        for reference in template.references() {
            match &reference.path {
                RefPath::StepOutcome { step } => out.push(step),
                RefPath::Input { .. }
                | RefPath::StepOutput { .. }
                | RefPath::StepTiming { .. }
                | RefPath::Run { .. }
                | RefPath::OwnOutput { .. }
                | RefPath::Env { .. } => {}
            }
        }
    }
}

/// The step a reference reads from, if it reads one (`steps.ID.…`).
pub(super) fn referenced_step(reference: &Reference) -> Option<&str> {
    match &reference.path {
        RefPath::StepOutput { step, .. } | RefPath::StepTiming { step, .. } => Some(step),
        // An outcome always exists: `not_run` is an outcome too.
        RefPath::Input { .. }
        | RefPath::StepOutcome { .. }
        | RefPath::Run { .. }
        | RefPath::OwnOutput { .. }
        | RefPath::Env { .. } => None,
    }
}
