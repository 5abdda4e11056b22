//! What templates can see during a run: inputs, finished steps' outputs, referenced env vars.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::redact::Redactor;

/// The state of one step, as later templates see it.
#[derive(Debug, Clone)]
pub enum StepState {
    Completed(Map<String, Value>),
    Skipped,
    Failed,
}

/// Everything a template may refer to, plus the secrets to redact.
#[derive(Debug, Default)]
pub struct RunContext {
    pub inputs: Map<String, Value>,
    pub steps: HashMap<String, StepState>,
    /// Only the variables the runbook references (`{{env.NAME}}`), read once at the start.
    pub env: HashMap<String, String>,
    pub redactor: Redactor,
}

/// A context plus, while a step checks its own result, that step's outputs.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub run: &'a RunContext,
    pub own: Option<&'a Map<String, Value>>,
}

impl<'a> Scope<'a> {
    pub fn new(run: &'a RunContext) -> Self {
        Scope { run, own: None }
    }

    pub fn with_own(run: &'a RunContext, own: &'a Map<String, Value>) -> Self {
        Scope {
            run,
            own: Some(own),
        }
    }
}
