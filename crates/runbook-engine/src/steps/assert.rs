//! `assert` steps: conditions over earlier results.

use serde_json::{Map, Value};

use runbook_dsl::AssertStep;

use super::{StepEnv, check_own};
use crate::error::StepError;

pub(super) fn execute(
    step: &AssertStep,
    env: &StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let no_outputs = Map::new();
    check_own(&step.conditions, env.context, &no_outputs, &env.new_secrets)?;
    Ok(no_outputs)
}
