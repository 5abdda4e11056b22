//! Checks for `audit` steps: a templated event and engine-computed durations between step events.

use super::Checker;
use super::references::Scope;
use crate::finding::{Finding, FindingCode};
use crate::model::{AuditStep, StepEvent};
use crate::raw::RawAudit;
use crate::spanned::Spanned;
use crate::suggest::did_you_mean;

impl Checker<'_> {
    pub(super) fn check_audit(
        &mut self,
        scope: Scope,
        spanned: &Spanned<RawAudit>,
    ) -> Option<AuditStep> {
        let audit = &spanned.value;
        let before = self.findings.len();
        let action = self.template(&audit.action, scope);
        let mut context = Vec::new();
        for (name, value) in &audit.context {
            if let Some(value) = self.value_template(value, scope) {
                context.push((name.clone(), value));
            }
        }
        let mut durations = Vec::new();
        for (name, duration) in &audit.durations {
            let from = self.step_event(&duration.value.from, scope);
            let to = self.step_event(&duration.value.to, scope);
            if let (Some(from), Some(to)) = (from, to) {
                durations.push((name.clone(), from, to));
            }
        }
        (self.findings.len() == before).then_some(AuditStep {
            action: action?,
            context,
            durations,
        })
    }

    /// `STEP.started` or `STEP.finished`, naming a step that has run by this point.
    fn step_event(&mut self, field: &Spanned<String>, scope: Scope) -> Option<StepEvent> {
        let span = self.span(field);
        let Some((step, moment)) = field.value.rsplit_once('.') else {
            self.report(
                Finding::error(
                    FindingCode::InvalidStepEvent,
                    span,
                    format!("`{}` is not a step event", field.value),
                )
                .with_help("write `STEP_ID.started` or `STEP_ID.finished`"),
            );
            return None;
        };
        let finished = match moment {
            "started" => false,
            "finished" => true,
            other => {
                self.report(
                    Finding::error(
                        FindingCode::InvalidStepEvent,
                        span,
                        format!("`{other}` is not a step event"),
                    )
                    .with_suggestion(did_you_mean(other, ["started", "finished"]))
                    .with_help("write `STEP_ID.started` or `STEP_ID.finished`"),
                );
                return None;
            }
        };
        let step = &self.step_id(step);
        let visible = self
            .checked_steps
            .get(step)
            .is_some_and(|info| info.index < scope.visible_before && info.index != scope.current);
        if !visible {
            let reference = crate::template::Reference {
                path: crate::template::RefPath::StepTiming {
                    step: step.to_owned(),
                    field: crate::template::TimingField::FinishedAt,
                },
                text: field.value.clone(),
                span,
            };
            self.check_reference(&reference, scope);
            return None;
        }
        Some(StepEvent {
            step: step.to_owned(),
            finished,
        })
    }
}
