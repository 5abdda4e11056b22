//! What a step would change, as `plan`, `render` and `graph` say it. Decided from the checked model
//! alone, so a dry run can tell an operator which steps are safe to repeat and which have no way back.

use runbook_dsl::{Action, Step, StepKind};
use runbook_engine::effects::Effects;

/// What running a step changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Reads only: a GET/HEAD/OPTIONS request, an assertion, a note, a stop, a plugin action that
    /// declares itself read-only.
    ReadOnly,
    /// Writes an audit record, nothing else.
    Records,
    /// The operator is asked; what they do by hand is up to the instructions.
    AsksOperator,
    /// Changes something, and an undo exists: its own `rollback`, or its group's `undo`.
    Reversible,
    /// Marked `irreversible: true`: there is no way back.
    Irreversible,
    /// Changes something (a write request, a command, a plugin action) with no undo.
    ChangesNoUndo,
    /// A group: its steps say what they change.
    Group,
}

impl Effect {
    /// What a step changes. `undo_armed`: the step runs inside a group whose `undo` is registered
    /// (and not disarmed by a commit point).
    pub fn of(step: &Step, undo_armed: bool) -> Effect {
        if step.irreversible {
            return Effect::Irreversible;
        }
        let action = match &step.kind {
            StepKind::Group(_) => return Effect::Group,
            StepKind::Action(action) => action,
        };
        // Whether an action is read-only is the journal's rule (it decides which starts are
        // synced); plan only names audit records and prompts more precisely.
        let changes = match action {
            Action::Audit(_) => return Effect::Records,
            Action::Prompt(_) => Effect::AsksOperator,
            Action::Http(_)
            | Action::Shell(_)
            | Action::Plugin(_)
            | Action::Assert(_)
            | Action::Note(_)
            | Action::Stop(_) => match Effects::of_action(action) {
                Effects::ReadOnly => return Effect::ReadOnly,
                Effects::SideEffects => Effect::ChangesNoUndo,
            },
        };
        if !step.rollback.is_empty() || undo_armed {
            Effect::Reversible
        } else {
            changes
        }
    }

    /// The step's kind and what it changes, for people: `http · read-only`, `group`.
    pub fn tag(self, kind: &str) -> String {
        match self {
            Effect::Group => kind.to_owned(),
            Effect::ReadOnly
            | Effect::Records
            | Effect::AsksOperator
            | Effect::Reversible
            | Effect::Irreversible
            | Effect::ChangesNoUndo => format!("{kind} · {}", self.describe()),
        }
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Effect::ReadOnly => "read-only",
            Effect::Records => "writes an audit record",
            Effect::AsksOperator => "asks the operator",
            Effect::Reversible => "reversible",
            Effect::Irreversible => "IRREVERSIBLE",
            Effect::ChangesNoUndo => "changes something, no undo",
            Effect::Group => "group",
        }
    }
}
