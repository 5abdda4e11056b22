use std::collections::BTreeSet;
use std::path::PathBuf;

use super::Step;
use crate::raw::{InputType, Mode};
use crate::source::Span;

/// A checked runbook.
#[derive(Debug, Clone)]
pub struct Runbook {
    pub path: PathBuf,
    pub meta: Metadata,
    pub inputs: Vec<Input>,
    pub steps: Vec<Step>,
    /// The failure path, run after compensation when the run fails.
    pub on_failure: Vec<Step>,
    /// Always run last.
    pub finally: Vec<Step>,
    /// Every environment variable a template references (`{{env.NAME}}`), so the engine reads only
    /// those.
    pub env_refs: BTreeSet<String>,
    /// Warnings from the check pass: they do not stop a run; `lint` prints them.
    pub warnings: Vec<crate::finding::Finding>,
}

impl Runbook {
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|input| input.name == name)
    }

    /// Whether any step (at any depth) asks the operator something.
    pub fn has_prompts(&self) -> bool {
        fn any(steps: &[Step]) -> bool {
            steps.iter().any(|step| {
                step.kind.prompt().is_some()
                    || any(&step.rollback)
                    || step
                        .kind
                        .group()
                        .is_some_and(|group| any(&group.steps) || any(&group.finally))
            })
        }
        any(&self.steps) || any(&self.on_failure) || any(&self.finally)
    }
}

/// The SOP header fields.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Metadata {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub mode: Option<Mode>,
    pub required_role: Option<String>,
    pub average_duration: Option<String>,
    pub applies_to: Vec<String>,
    pub when_to_run: Option<String>,
    pub prerequisites: Vec<String>,
    pub references: Vec<String>,
    pub gotchas: Vec<String>,
}

/// A declared input.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub kind: InputType,
    pub default: Option<serde_json::Value>,
    pub description: Option<String>,
    pub env: Option<String>,
    pub secret: bool,
    pub span: Span,
}
