//! Every step of a runbook, wherever it sits (main list, groups and their `finally`, rollback,
//! failure path, `finally`), by id: what a rehearsal's step ids are resolved against.

use crate::{Action, Runbook, Step, StepKind};

/// Where a step sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Main,
    /// A step's `rollback`, or a group's (a phase's) `undo`.
    Rollback,
    /// A group's `finally`.
    GroupFinally,
    OnFailure,
    Finally,
}

/// The runbook's steps, in document order.
pub struct StepIndex<'a> {
    pub steps: Vec<(&'a Step, Place)>,
}

impl<'a> StepIndex<'a> {
    pub fn of(runbook: &'a Runbook) -> Self {
        let mut steps = Vec::new();
        walk(&runbook.steps, Place::Main, &mut steps);
        walk(&runbook.on_failure, Place::OnFailure, &mut steps);
        walk(&runbook.finally, Place::Finally, &mut steps);
        StepIndex { steps }
    }

    pub fn get(&self, id: &str) -> Option<&'a Step> {
        self.steps
            .iter()
            .find(|(step, _)| step.id == id)
            .map(|(step, _)| *step)
    }

    pub fn ids(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.steps.iter().map(|(step, _)| step.id.as_str())
    }

    /// The prompt steps.
    pub fn prompts(&self) -> impl Iterator<Item = &'a Step> + '_ {
        self.steps
            .iter()
            .map(|(step, _)| *step)
            .filter(|step| step.kind.prompt().is_some())
    }
}

fn walk<'a>(list: &'a [Step], place: Place, out: &mut Vec<(&'a Step, Place)>) {
    for step in list {
        out.push((step, place));
        walk(&step.rollback, Place::Rollback, out);
        if let StepKind::Group(group) = &step.kind {
            walk(&group.steps, place, out);
            walk(&group.finally, Place::GroupFinally, out);
            // A phase's undo is compensation, like a step's rollback.
            walk(&group.undo, Place::Rollback, out);
        }
    }
}

/// The step kind's keyword, for messages.
pub fn kind_of(step: &Step) -> &'static str {
    match &step.kind {
        StepKind::Group(_) => "group",
        StepKind::Action(action) => match action {
            Action::Http(_) => "http",
            Action::Shell(_) => "shell",
            Action::Assert(_) => "assert",
            Action::Prompt(_) => "prompt",
            Action::Audit(_) => "audit",
            Action::Plugin(_) => "plugin",
            Action::Note(_) => "note",
            Action::Stop(_) => "stop",
        },
    }
}
