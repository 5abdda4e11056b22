//! `note` and `stop` steps, the commit point, and fields that cannot have an effect on a step.

use super::Checker;
use super::references::Scope;
use crate::finding::{Finding, FindingCode};
use crate::model::{Action, NoteStep, StepKind, StopStep};
use crate::raw::{RawNote, RawStep, RawStop};
use crate::spanned::Spanned;

impl Checker<'_> {
    pub(super) fn check_note(&mut self, scope: Scope, note: &Spanned<RawNote>) -> Option<NoteStep> {
        let message = self.message(scope, &note.value.message, "note")?;
        Some(NoteStep { message })
    }

    pub(super) fn check_stop(&mut self, scope: Scope, stop: &Spanned<RawStop>) -> Option<StopStep> {
        let message = self.message(scope, &stop.value.message, "stop")?;
        Some(StopStep { message })
    }

    /// A templated, non-empty message.
    fn message(
        &mut self,
        scope: Scope,
        field: &Spanned<String>,
        keyword: &str,
    ) -> Option<crate::template::Template> {
        if field.value.trim().is_empty() {
            let span = self.span(field);
            self.report(
                Finding::error(
                    FindingCode::InvalidValue,
                    span,
                    format!("the `{keyword}` message is empty"),
                )
                .with_label("empty message")
                .with_help("say what the operator needs to know"),
            );
            return None;
        }
        self.template(field, scope)
    }

    /// `commit: true` belongs to the main sequence, on a step without a rollback. `None` when a
    /// finding was reported.
    pub(super) fn check_commit(&mut self, step: &RawStep, kind: Option<&StepKind>) -> Option<bool> {
        let Some(commit) = &step.commit else {
            return Some(false);
        };
        if !commit.value {
            return Some(false);
        }
        let span = self.key_span(self.span(commit), "commit");
        if self.cleanup_depth > 0 {
            self.report(
                Finding::error(
                    FindingCode::MisplacedCommit,
                    span,
                    "a commit point belongs to the main steps, not to a rollback, an undo, \
                     `on_failure` or `finally`",
                )
                .with_label("commit point in cleanup")
                .with_help("put `commit: true` on the main step after which nothing may be undone"),
            );
            return None;
        }
        if !step.rollback.is_empty() {
            self.report(
                Finding::error(
                    FindingCode::MisplacedCommit,
                    span,
                    "this step's `rollback` could never run: the commit point disarms it as soon \
                     as the step passes",
                )
                .with_label("commit point with a rollback")
                .with_help(
                    "remove the `rollback`, or put `commit: true` on the next step (a phase's \
                     `undo` or an earlier step's rollback covers what this step did)",
                ),
            );
            return None;
        }
        if kind
            .and_then(StepKind::action)
            .is_some_and(|action| matches!(action, Action::Stop(_)))
        {
            self.report(
                Finding::error(
                    FindingCode::IneffectiveField,
                    span,
                    "a `stop` step never passes, so it cannot be a commit point",
                )
                .with_label("never reached"),
            );
            return None;
        }
        Some(true)
    }

    /// `on_error` on a `note` or `stop`, and `rollback` on a `stop`, would never take effect.
    /// Returns false when a finding was reported.
    pub(super) fn check_ineffective(&mut self, step: &RawStep, kind: Option<&StepKind>) -> bool {
        let Some(action) = kind.and_then(StepKind::action) else {
            return true;
        };
        let (keyword, why) = match action {
            Action::Note(_) => ("note", "a `note` cannot fail"),
            Action::Stop(_) => ("stop", "a `stop` step always stops the run"),
            Action::Http(_)
            | Action::Shell(_)
            | Action::Assert(_)
            | Action::Prompt(_)
            | Action::Audit(_)
            | Action::Plugin(_) => return true,
        };
        let mut ok = true;
        if let Some(on_error) = &step.on_error {
            let span = self.key_span(self.span(on_error), "on_error");
            self.report(
                Finding::error(
                    FindingCode::IneffectiveField,
                    span,
                    format!("`on_error` has no effect on a `{keyword}` step: {why}"),
                )
                .with_label("no effect")
                .with_help("remove `on_error`"),
            );
            ok = false;
        }
        if keyword == "stop" && !step.rollback.is_empty() {
            let span = self.key_span(self.span(&step.rollback[0]), "rollback");
            self.report(
                Finding::error(
                    FindingCode::IneffectiveField,
                    span,
                    "a `stop` step never passes, so its `rollback` would never be registered",
                )
                .with_label("never registered")
                .with_help("put the compensation on the step whose work it undoes"),
            );
            ok = false;
        }
        ok
    }
}
