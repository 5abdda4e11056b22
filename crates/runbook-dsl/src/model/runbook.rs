use std::collections::BTreeSet;
use std::path::PathBuf;

use super::Step;
use crate::raw::{InputType, Mode};
use crate::source::Span;

/// A runbook's three step lists, as the check pass hands them over.
pub(crate) struct Steps {
    pub(crate) steps: Vec<Step>,
    pub(crate) on_failure: Vec<Step>,
    pub(crate) finally: Vec<Step>,
}

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
    /// Step outputs that a later step's secret capture is read from (`(step id, output name)`):
    /// they hold that secret before the capture makes it known, so the engine masks them whole
    /// and never journals them (see `check/taint.rs`).
    pub secret_outputs: BTreeSet<(String, String)>,
    /// Findings that do not stop a run (`runbook lint` shows them).
    pub warnings: Vec<crate::finding::Finding>,
    /// The fragment files the runbook uses, with their content hashes (the journal records them).
    pub fragments: Vec<crate::fragment::FragmentFile>,
    /// Maps the spans of fragment steps (past the runbook's own text) to their files.
    pub sources: crate::fragment::SourceMap,
    /// Only the check pass makes runbooks.
    _checked: super::Checked,
}

impl Runbook {
    /// Assembled by the check pass, and only there.
    pub(crate) fn checked(
        path: PathBuf,
        meta: Metadata,
        inputs: Vec<Input>,
        lists: Steps,
        env_refs: BTreeSet<String>,
        secret_outputs: BTreeSet<(String, String)>,
        warnings: Vec<crate::finding::Finding>,
    ) -> Runbook {
        Runbook {
            path,
            meta,
            inputs,
            steps: lists.steps,
            on_failure: lists.on_failure,
            finally: lists.finally,
            env_refs,
            secret_outputs,
            warnings,
            fragments: Vec::new(),
            sources: crate::fragment::SourceMap::default(),
            _checked: super::Checked::PROOF,
        }
    }

    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|input| input.name == name)
    }

    /// Whether the run asks the operator something: preconditions to confirm, or a prompt step at
    /// any depth.
    pub fn has_prompts(&self) -> bool {
        fn any(steps: &[Step]) -> bool {
            steps.iter().any(|step| {
                step.kind.prompt().is_some()
                    || any(&step.rollback)
                    || step.kind.group().is_some_and(|group| {
                        any(&group.steps) || any(&group.finally) || any(&group.undo)
                    })
            })
        }
        !self.meta.preconditions.is_empty()
            || any(&self.steps)
            || any(&self.on_failure)
            || any(&self.finally)
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
    /// Confirmed once by the operator before the first step.
    pub preconditions: Vec<String>,
}

/// The name the preconditions confirmation goes by where steps are named: its answers-file key,
/// and the "step" a refused confirmation is reported as. No step may use it as its id.
pub const PRECONDITIONS_ID: &str = "preconditions";

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
