//! The whole answers file checked against the runbook before the first step runs.

use serde_json::{Map, Value};

use super::text_of;

/// Checks a whole answers file against the runbook before the first step runs, so a gap is not
/// found at the prompt, after earlier steps' side effects. Returns every problem, one per line.
///
/// - A prompt step in the main list (in groups too) with no `when` must have answers; prompt steps
///   that may never run (with `when`, in `rollback`, `on_failure` or `finally`) are checked only
///   when the file answers them.
/// - Each answer set has exactly the keys the prompt asks: `confirm` (true or false), `phrase` (text)
///   and each answer by name (text, a number or a boolean; checked against `pattern`, `choices` and
///   emptiness when it is not a secret).
/// - `decisions:` names step or group ids, each with `retry`, `skip` or `abort` (or a list of them).
/// - Any other top-level key must be a prompt step's id.
pub fn check_answers(runbook: &runbook_dsl::Runbook, answers: &Value) -> Result<(), Vec<String>> {
    let Value::Object(file) = answers else {
        return match answers {
            Value::Null => check_answers(runbook, &Value::Object(Map::new())),
            Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Array(_)
            | Value::Object(_) => Err(vec![
                "an answers file is a mapping from step ids to answers".into(),
            ]),
        };
    };
    let mut prompts: Vec<(&runbook_dsl::Step, bool)> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    collect_steps(&runbook.steps, true, &mut prompts, &mut ids);
    for list in [&runbook.on_failure, &runbook.finally] {
        collect_steps(list, false, &mut prompts, &mut ids);
    }
    let mut problems = Vec::new();
    for (step, required) in &prompts {
        let Some(prompt) = step.kind.prompt() else {
            continue;
        };
        match file.get(&step.id) {
            None if *required => problems.push(format!("no answers for step `{}`", step.id)),
            None => {}
            Some(Value::Array(sets)) => {
                for (index, set) in sets.iter().enumerate() {
                    check_set(&step.id, Some(index + 1), prompt, set, &mut problems);
                }
            }
            Some(set) => check_set(&step.id, None, prompt, set, &mut problems),
        }
    }
    check_preconditions(runbook, file, &mut problems);
    for key in file.keys() {
        if key == "decisions" || prompts.iter().any(|(step, _)| step.id == *key) {
            continue;
        }
        if key == PRECONDITIONS {
            continue;
        }
        if ids.contains(&key.as_str()) {
            problems.push(format!("`{key}` is not a prompt step: it takes no answers"));
        } else {
            let hint = runbook_dsl::suggest::did_you_mean(
                key,
                prompts.iter().map(|(step, _)| step.id.as_str()),
            )
            .map(|candidate| format!(" (did you mean `{candidate}`?)"))
            .unwrap_or_default();
            problems.push(format!("unknown step `{key}`{hint}"));
        }
    }
    if let Some(decisions) = file.get("decisions") {
        check_decisions(decisions, &ids, &mut problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Every step id, and each prompt step with whether it must be answered.
fn collect_steps<'r>(
    steps: &'r [runbook_dsl::Step],
    main: bool,
    prompts: &mut Vec<(&'r runbook_dsl::Step, bool)>,
    ids: &mut Vec<&'r str>,
) {
    for step in steps {
        ids.push(&step.id);
        if step.kind.prompt().is_some() {
            prompts.push((step, main && step.when.is_none()));
        }
        if let Some(group) = step.kind.group() {
            collect_steps(&group.steps, main && step.when.is_none(), prompts, ids);
            collect_steps(&group.finally, false, prompts, ids);
            collect_steps(&group.undo, false, prompts, ids);
        }
        collect_steps(&step.rollback, false, prompts, ids);
    }
}

fn check_set(
    step: &str,
    occurrence: Option<usize>,
    prompt: &runbook_dsl::PromptStep,
    set: &Value,
    problems: &mut Vec<String>,
) {
    let whose = match occurrence {
        Some(n) => format!("step `{step}` (answer set {n})"),
        None => format!("step `{step}`"),
    };
    let Value::Object(set) = set else {
        problems.push(format!("answers for {whose} must be a mapping"));
        return;
    };
    let mut expected: Vec<&str> = Vec::new();
    if prompt.confirm.is_some() {
        expected.push("confirm");
        match set.get("confirm") {
            None => problems.push(format!("no `confirm` for {whose}")),
            Some(Value::Bool(_)) => {}
            Some(
                other @ (Value::Null
                | Value::Number(_)
                | Value::String(_)
                | Value::Array(_)
                | Value::Object(_)),
            ) => problems.push(format!(
                "`confirm` for {whose} must be true or false, not {other}"
            )),
        }
    }
    if prompt.phrase.is_some() {
        expected.push("phrase");
        match set.get("phrase") {
            None => problems.push(format!("no `phrase` for {whose}")),
            Some(value) if !is_scalar(value) => {
                problems.push(format!("`phrase` for {whose} must be text"));
            }
            Some(_) => {}
        }
    }
    for answer in &prompt.answers {
        expected.push(&answer.name);
        match set.get(&answer.name) {
            None => problems.push(format!("no `{}` for {whose}", answer.name)),
            Some(value) if !is_scalar(value) => problems.push(format!(
                "`{}` for {whose} must be text, a number or a boolean",
                answer.name
            )),
            Some(value) => {
                if let Err(why) = crate::steps::prompt::validate(answer, &text_of(value)) {
                    problems.push(format!(
                        "the answer `{}` for {whose} is not acceptable: {why}",
                        answer.name
                    ));
                }
            }
        }
    }
    for key in set.keys() {
        if !expected.contains(&key.as_str()) {
            problems.push(format!(
                "`{key}` is not asked by {whose} (it asks: {})",
                if expected.is_empty() {
                    "nothing".to_owned()
                } else {
                    expected.join(", ")
                }
            ));
        }
    }
}

/// The key that answers the runbook's preconditions: `preconditions: {confirm: true}`.
const PRECONDITIONS: &str = crate::runner::PRECONDITIONS;

/// A runbook with preconditions needs their confirmation in the file; one without takes none.
fn check_preconditions(
    runbook: &runbook_dsl::Runbook,
    file: &Map<String, Value>,
    problems: &mut Vec<String>,
) {
    let answer = file.get(PRECONDITIONS);
    if runbook.meta.preconditions.is_empty() {
        if answer.is_some() {
            problems.push(format!(
                "`{PRECONDITIONS}` answers the runbook's preconditions, but it declares none"
            ));
        }
        return;
    }
    let Some(answer) = answer else {
        problems.push(format!(
            "no answer for the runbook's preconditions: add `{PRECONDITIONS}: {{confirm: true}}`"
        ));
        return;
    };
    // The same shape as a prompt step that only asks `confirm`.
    let confirm_only = runbook_dsl::PromptStep {
        instructions: None,
        confirm: Some(runbook_dsl::template::Template::literal(
            "",
            runbook_dsl::Span::UNKNOWN,
        )),
        phrase: None,
        answers: Vec::new(),
    };
    check_set(PRECONDITIONS, None, &confirm_only, answer, problems);
}

fn check_decisions(decisions: &Value, ids: &[&str], problems: &mut Vec<String>) {
    let Value::Object(decisions) = decisions else {
        problems.push("`decisions` must be a mapping from step or group ids to decisions".into());
        return;
    };
    for (id, list) in decisions {
        if !ids.contains(&id.as_str()) {
            problems.push(format!("`decisions` names unknown step `{id}`"));
        }
        let items = match list {
            Value::Array(items) => items.iter().collect(),
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Object(_) => {
                vec![list]
            }
        };
        for item in items {
            match item.as_str() {
                Some("retry" | "skip" | "abort") => {}
                Some(other) => problems.push(format!(
                    "decision `{other}` for `{id}` is not retry, skip or abort"
                )),
                None => problems.push(format!(
                    "decision {item} for `{id}` is not retry, skip or abort"
                )),
            }
        }
    }
}

fn is_scalar(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
        Value::Array(_) | Value::Object(_) => false,
    }
}
