//! Path coverage across scenarios: which steps, undo blocks (rollback), failure-path and
//! `finally` steps, group repeats and prompt answers at least one scenario exercised, and which
//! none did.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use runbook_dsl::rehearsal::steps::{Place, StepIndex};
use runbook_dsl::{Runbook, StepKind};
use runbook_engine::StepOutcome;

use super::scenario::Outcome;

/// One kind of path, with what was and was not exercised.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub name: &'static str,
    pub exercised: Vec<String>,
    pub never: Vec<String>,
}

/// Everything the scenarios together exercised.
#[derive(Debug, Default)]
pub struct Coverage {
    ran: BTreeSet<String>,
    /// Group id -> the highest attempt reached.
    attempts: BTreeMap<String, u32>,
    /// (step, answer) pairs given: `confirm: yes`, `choice: b`.
    answers: BTreeSet<(String, String)>,
}

impl Coverage {
    pub fn add(&mut self, outcome: &Outcome) {
        for report in &outcome.sessions {
            for step in &report.steps {
                let declined = step
                    .error
                    .as_ref()
                    .is_some_and(|error| error.kind == runbook_engine::StepErrorKind::Declined);
                if declined {
                    self.answers
                        .insert((step.id.clone(), "confirm: no".to_owned()));
                }
                if matches!(step.outcome, StepOutcome::Passed | StepOutcome::Failed) {
                    self.ran.insert(step.id.clone());
                    let best = self.attempts.entry(step.id.clone()).or_insert(0);
                    *best = (*best).max(step.attempts);
                }
            }
        }
        for record in &outcome.audit {
            if record.get("type").and_then(Value::as_str) != Some("prompt_answered") {
                continue;
            }
            let step = record
                .get("step")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(Value::Object(answers)) = record.get("answers") {
                for (name, value) in answers {
                    if let Some(shown) = answer_shown(name, value) {
                        self.answers.insert((step.to_owned(), shown));
                    }
                }
            }
        }
    }

    /// The areas, in the order they are shown.
    pub fn areas(&self, runbook: &Runbook) -> Vec<Area> {
        let index = StepIndex::of(runbook);
        let mut steps = Area::new("steps");
        let mut undo = Area::new("rollback (undo)");
        let mut on_failure = Area::new("on_failure");
        let mut finally = Area::new("finally");
        let mut loops = Area::new("group repeats");
        let mut answers = Area::new("prompt answers");
        for (step, place) in &index.steps {
            let ran = self.ran.contains(&step.id);
            let area = match place {
                Place::Main => &mut steps,
                Place::Rollback => &mut undo,
                Place::OnFailure => &mut on_failure,
                Place::GroupFinally | Place::Finally => &mut finally,
            };
            area.mark(step.id.clone(), ran);
            if let StepKind::Group(group) = &step.kind
                && group.max_attempts > 1
            {
                let reached = self.attempts.get(&step.id).copied().unwrap_or(0);
                for attempt in 1..=group.max_attempts {
                    loops.mark(
                        format!("{} attempt {attempt}/{}", step.id, group.max_attempts),
                        attempt <= reached,
                    );
                }
            }
            if let Some(prompt) = step.kind.prompt() {
                let mut wanted: Vec<String> = Vec::new();
                if prompt.confirm.is_some() {
                    wanted.push("confirm: yes".into());
                    wanted.push("confirm: no".into());
                }
                for answer in &prompt.answers {
                    for choice in answer.choices.iter().flatten() {
                        wanted.push(format!("{}: {choice}", answer.name));
                    }
                }
                for shown in wanted {
                    let given = self.answers.contains(&(step.id.clone(), shown.clone()));
                    answers.mark(format!("{} {shown}", step.id), given);
                }
            }
        }
        vec![steps, undo, on_failure, finally, loops, answers]
    }
}

impl Area {
    fn new(name: &'static str) -> Self {
        Area {
            name,
            exercised: Vec::new(),
            never: Vec::new(),
        }
    }

    fn mark(&mut self, item: String, exercised: bool) {
        if exercised {
            self.exercised.push(item);
        } else {
            self.never.push(item);
        }
    }
}

/// How an answer counts for coverage: a confirmation's yes or no, a choice's value.
fn answer_shown(name: &str, value: &Value) -> Option<String> {
    match (name, value) {
        ("confirmed", Value::Bool(yes)) => {
            Some(format!("confirm: {}", if *yes { "yes" } else { "no" }))
        }
        (name, Value::String(text)) => Some(format!("{name}: {text}")),
        _ => None,
    }
}
