//! `runbook plan`: what a run of a checked runbook would do, built from the model without running
//! anything. The plan is data (it serializes as `--output json`); [`super::plan_text`] prints it for
//! people.

use std::collections::BTreeMap;

use runbook_dsl::{OnError, ResumePolicy, Runbook, Step, StepKind};
use serde::Serialize;

use super::describe::{Known, Shown, retry_text};
use super::effect::Effect;
use super::performs::{instructions, performs};

/// Where an input's value comes from before the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputSource {
    CommandLine,
    Environment,
    Default,
    /// No value: the run would stop before its first step (or ask for a secret at a terminal).
    Missing,
}

/// One declared input as the plan sees it. A secret's value is never part of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanInput {
    pub name: String,
    pub secret: bool,
    pub source: InputSource,
    /// The value, for a non-secret input that has one.
    pub value: Option<serde_json::Value>,
    /// The environment variable it is read from, if any.
    pub env: Option<String>,
    pub description: Option<String>,
}

impl PlanInput {
    /// The input as the file declares it: its default if it has one, no environment read.
    pub fn declared(input: &runbook_dsl::Input) -> PlanInput {
        let (source, value) = match (&input.default, input.secret) {
            (Some(_), true) => (InputSource::Default, None),
            (Some(default), false) => (InputSource::Default, Some(default.clone())),
            (None, _) => (InputSource::Missing, None),
        };
        PlanInput {
            name: input.name.clone(),
            secret: input.secret,
            source,
            value,
            env: input.env.clone(),
            description: input.description.clone(),
        }
    }
}

/// The whole dry run.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub file: String,
    pub id: String,
    pub title: String,
    pub mode: Option<runbook_dsl::Mode>,
    pub inputs: Vec<PlanInput>,
    /// Confirmed by the operator once, before the first step.
    pub preconditions: Vec<String>,
    pub steps: Vec<PlanStep>,
    /// Run after compensation when the run fails.
    pub on_failure: Vec<PlanStep>,
    /// Always run last.
    pub finally: Vec<PlanStep>,
    /// The step after which registered undo is disarmed.
    pub commit_point: Option<String>,
    /// Every place the operator is asked something, in run order.
    pub operator_asked: Vec<Ask>,
}

/// One place the operator is asked something.
#[derive(Debug, Clone, Serialize)]
pub struct Ask {
    /// The step id (`preconditions` for the header's confirmation).
    pub step: String,
    pub what: String,
}

/// One step of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    /// `3`, `8.2` for main-phase steps and their groups; `None` for undo, failure and finally steps.
    pub number: Option<String>,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: &'static str,
    pub effect: Effect,
    /// The steps that undo this one (its rollback, or its group's undo), by id.
    pub undone_by: Vec<String>,
    /// Runs only when this holds.
    pub when: Option<String>,
    /// The requests, commands and checks it performs, templates resolved.
    pub performs: Vec<String>,
    /// A prompt's instructions to the operator.
    pub instructions: Option<String>,
    /// What the operator is asked here.
    pub asks: Vec<String>,
    /// Waits and retries.
    pub loops: Vec<String>,
    pub on_error: OnError,
    pub resume: ResumePolicy,
    /// The commit point: when it passes, registered undo is disarmed.
    pub commit: bool,
    pub rollback: Vec<PlanStep>,
    pub group: Option<PlanGroup>,
}

/// A group's lists.
#[derive(Debug, Clone, Serialize)]
pub struct PlanGroup {
    /// More than 1: after a failure the operator may run the group again, up to this many times.
    pub max_attempts: u32,
    pub steps: Vec<PlanStep>,
    pub undo: Vec<PlanStep>,
    pub finally: Vec<PlanStep>,
}

/// How the plan shows templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// With the inputs known before the run (`runbook plan`).
    Resolved,
    /// As written in the file (`runbook render`, `runbook graph`): secrets appear as their names.
    AsWritten,
}

/// Builds the plan. `inputs` says what is known of each input before the run.
pub fn build_plan(runbook: &Runbook, inputs: Vec<PlanInput>, view: View) -> Plan {
    let known: BTreeMap<String, Known> = inputs
        .iter()
        .map(|input| {
            // A secret is masked whether or not it has a value yet (a terminal run asks for it).
            let known = match (&input.value, input.source, input.secret) {
                (_, _, true) => Known::Secret,
                (_, InputSource::Missing, false) => Known::Missing,
                (Some(value), _, false) => Known::Value(value.clone()),
                (None, _, false) => Known::Missing,
            };
            (input.name.clone(), known)
        })
        .collect();
    let mut builder = Builder {
        shown: match view {
            View::Resolved => Shown::Resolved(&known),
            View::AsWritten => Shown::AsWritten,
        },
        commit_point: None,
        asked: Vec::new(),
    };
    if !runbook.meta.preconditions.is_empty() {
        builder.asked.push(Ask {
            step: runbook_dsl::PRECONDITIONS_ID.to_owned(),
            what: format!(
                "confirm {} precondition(s) before the first step",
                runbook.meta.preconditions.len()
            ),
        });
    }
    let steps = builder.list(&runbook.steps, Some(""), &[]);
    let on_failure = builder.list(&runbook.on_failure, None, &[]);
    let finally = builder.list(&runbook.finally, None, &[]);
    Plan {
        file: runbook.path.display().to_string(),
        id: runbook.meta.id.clone(),
        title: runbook.meta.title.clone(),
        mode: runbook.meta.mode,
        inputs,
        preconditions: runbook.meta.preconditions.clone(),
        steps,
        on_failure,
        finally,
        commit_point: builder.commit_point,
        operator_asked: builder.asked,
    }
}

struct Builder<'a> {
    shown: Shown<'a>,
    commit_point: Option<String>,
    asked: Vec<Ask>,
}

impl Builder<'_> {
    /// A list of steps. `prefix`: the number prefix for numbered lists (`""` at the top, `"8."`
    /// in group 8), `None` for unnumbered ones. `armed`: the group undo registered around it.
    fn list(&mut self, steps: &[Step], prefix: Option<&str>, armed: &[String]) -> Vec<PlanStep> {
        let mut armed = armed.to_vec();
        let mut out = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let number = prefix.map(|prefix| format!("{prefix}{}", index + 1));
            out.push(self.step(step, number, &armed));
            // The commit point disarms what was registered before it (compensation stays for
            // what a later step registers).
            if step.commit || contains_commit(step) {
                armed.clear();
            }
        }
        out
    }

    fn step(&mut self, step: &Step, number: Option<String>, armed: &[String]) -> PlanStep {
        let mut undone_by: Vec<String> = step.rollback.iter().map(|s| s.id.clone()).collect();
        let effect = Effect::of(step, !armed.is_empty());
        if step.rollback.is_empty() && effect == Effect::Reversible {
            undone_by = armed.to_vec();
        }
        let asks = self.asks(step);
        for what in &asks {
            self.asked.push(Ask {
                step: step.id.clone(),
                what: what.clone(),
            });
        }
        if step.commit {
            self.commit_point = Some(step.id.clone());
        }
        let mut loops = Vec::new();
        if let Some(until) = &step.until {
            loops.push(self.shown.until(until));
        }
        if let Some(retry) = &step.retry {
            loops.push(retry_text(retry));
        }
        let rollback = self.list(&step.rollback, None, &[]);
        let group = match &step.kind {
            StepKind::Action(_) => None,
            StepKind::Group(group) => {
                let undo_ids: Vec<String> = group.undo.iter().map(|s| s.id.clone()).collect();
                let mut inner_armed = armed.to_vec();
                inner_armed.extend(undo_ids);
                let prefix = number.as_ref().map(|number| format!("{number}."));
                if group.max_attempts > 1 {
                    loops.push(format!(
                        "repeat group: after a failure the operator may run it again, up to {} \
                         attempts in all",
                        group.max_attempts
                    ));
                }
                Some(PlanGroup {
                    max_attempts: group.max_attempts,
                    steps: self.list(&group.steps, prefix.as_deref(), &inner_armed),
                    undo: self.list(&group.undo, None, &[]),
                    finally: self.list(&group.finally, None, &[]),
                })
            }
        };
        PlanStep {
            number,
            id: step.id.clone(),
            name: step.name.clone(),
            description: step.description.clone(),
            kind: step.kind.keyword(),
            effect,
            undone_by,
            when: step.when.as_ref().map(|when| self.shown.condition(when)),
            performs: performs(self.shown, &step.kind),
            instructions: instructions(self.shown, &step.kind),
            asks,
            loops,
            on_error: step.on_error,
            resume: step.resume,
            commit: step.commit,
            rollback,
            group,
        }
    }

    /// What the operator is asked at this step: its prompt, and a decision if it fails with
    /// `on_error: ask`. (A repeat group's question is one of its loops.)
    fn asks(&self, step: &Step) -> Vec<String> {
        let mut asks = Vec::new();
        if let Some(prompt) = step.kind.prompt() {
            if let Some(confirm) = &prompt.confirm {
                asks.push(format!("confirm: {}", self.shown.template(confirm)));
            }
            if let Some(phrase) = &prompt.phrase {
                asks.push(format!("type the phrase {:?}", self.shown.template(phrase)));
            }
            for answer in &prompt.answers {
                let mut what = format!("answer `{}` ({})", answer.name, answer.label);
                if answer.secret {
                    what.push_str(", secret: masked");
                }
                if answer.confirm {
                    what.push_str(", typed twice");
                }
                if let Some(choices) = &answer.choices {
                    what.push_str(&format!(", one of {}", choices.join("/")));
                }
                asks.push(what);
            }
            if asks.is_empty() {
                asks.push("read the instructions and press Enter".to_owned());
            }
        }
        let ask_on_error = match step.on_error {
            OnError::Ask => true,
            OnError::Abort | OnError::Continue | OnError::Warn | OnError::AbortRun => false,
        };
        if ask_on_error {
            asks.push("if it fails: retry, skip or abort".to_owned());
        }
        asks
    }
}

/// Whether a group holds the commit point (so what follows it is past the commit).
fn contains_commit(step: &Step) -> bool {
    step.kind.group().is_some_and(|group| {
        group
            .steps
            .iter()
            .any(|inner| inner.commit || contains_commit(inner))
    })
}
