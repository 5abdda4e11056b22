//! Which steps can change something outside the run: the one rule the journal uses to decide
//! whether a step's start record must reach the disk before the step runs.
//!
//! A synced record costs an `fdatasync` (0.1-0.2 ms on an ordinary disk, far more than a loopback
//! GET). It buys one thing: after a crash, `runbook resume` knows the step may have done its work.
//! A step that cannot do any work worth knowing about gains nothing from it: if the run dies while
//! it runs, resuming runs it again, which is harmless. So only steps with side effects pay.
//!
//! The rule (also in `docs/durable-runs.md`), conservative wherever it is in doubt:
//!
//! - **read-only**: an `http` step whose method is `GET`, `HEAD` or `OPTIONS` (the methods HTTP
//!   defines as safe, RFC 9110 §9.2.1), an `assert` step (it only evaluates conditions), a `note`
//!   (its text goes to the report, journal and audit log with its outcome record; said again on a
//!   resume, it changes nothing) and a `stop` (it ends the run as failed, and does so again);
//! - **side effects**: everything else: `shell`, `plugin`, `audit` (it writes the audit log),
//!   `prompt` (the operator's answer is an event, and resume counts prompts by their start
//!   records), and `http` with `POST`, `PUT`, `PATCH` or `DELETE`;
//! - a step marked `irreversible: true` or that declares a `rollback` has side effects whatever its
//!   kind: its author says it changes something (some APIs do change state on a GET);
//! - a group is read-only when the group itself is not marked so and every step in it, its
//!   `finally` included, is read-only.

use runbook_dsl::{Action, HttpMethod, Step, StepKind};

/// Whether a step can change anything outside the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effects {
    /// Running it again changes nothing: its start need not be durable before it runs.
    ReadOnly,
    /// It may change something: its start is synced to disk before it runs.
    SideEffects,
}

impl Effects {
    /// The rule above, for one step (a group: with every step inside it).
    pub fn of(step: &Step) -> Effects {
        if step.irreversible || !step.rollback.is_empty() {
            return Effects::SideEffects;
        }
        match &step.kind {
            StepKind::Action(action) => Effects::of_action(action),
            StepKind::Group(group) => {
                let all_read_only = group
                    .steps
                    .iter()
                    .chain(&group.finally)
                    .all(|inner| Effects::of(inner) == Effects::ReadOnly);
                if all_read_only {
                    Effects::ReadOnly
                } else {
                    Effects::SideEffects
                }
            }
        }
    }

    /// The rule for one action, leaving out what the step around it adds (`irreversible`, a
    /// `rollback`). `runbook plan` labels actions by it too, so the two never disagree.
    pub fn of_action(action: &Action) -> Effects {
        match action {
            Action::Http(http) => match http.method {
                HttpMethod::Get | HttpMethod::Head | HttpMethod::Options => Effects::ReadOnly,
                HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete => {
                    Effects::SideEffects
                }
            },
            Action::Assert(_) | Action::Note(_) | Action::Stop(_) => Effects::ReadOnly,
            Action::Plugin(plugin) if plugin.read_only => Effects::ReadOnly,
            Action::Shell(_) | Action::Plugin(_) | Action::Audit(_) | Action::Prompt(_) => {
                Effects::SideEffects
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Effects;
    use runbook_dsl::{Runbook, Source};

    fn runbook(steps: &str) -> Runbook {
        let text = format!("id: fx\ntitle: Effects\nsteps:\n{steps}");
        let source = Source::new("effects.yaml", text);
        runbook_dsl::load_and_check(&source)
            .unwrap_or_else(|findings| panic!("the test runbook has findings: {findings:#?}"))
    }

    fn effects_of(steps: &str) -> Vec<(String, Effects)> {
        runbook(steps)
            .steps
            .iter()
            .map(|step| (step.id.clone(), Effects::of(step)))
            .collect()
    }

    #[test]
    fn safe_http_methods_and_asserts_are_read_only_everything_else_has_side_effects() {
        let found = effects_of(
            r#"
  - {id: get, http: {url: "http://127.0.0.1:1/a"}}
  - {id: head, http: {method: HEAD, url: "http://127.0.0.1:1/a"}}
  - {id: options, http: {method: OPTIONS, url: "http://127.0.0.1:1/a"}}
  - {id: check, assert: [{that: "1", equals: "1"}]}
  - {id: post, http: {method: POST, url: "http://127.0.0.1:1/a"}}
  - {id: put, http: {method: PUT, url: "http://127.0.0.1:1/a"}}
  - {id: patch, http: {method: PATCH, url: "http://127.0.0.1:1/a"}}
  - {id: delete, http: {method: DELETE, url: "http://127.0.0.1:1/a"}}
  - {id: sh, shell: {command: "true"}}
  - {id: note, audit: {action: demo.noted}}
"#,
        );
        let expected = [
            ("get", Effects::ReadOnly),
            ("head", Effects::ReadOnly),
            ("options", Effects::ReadOnly),
            ("check", Effects::ReadOnly),
            ("post", Effects::SideEffects),
            ("put", Effects::SideEffects),
            ("patch", Effects::SideEffects),
            ("delete", Effects::SideEffects),
            ("sh", Effects::SideEffects),
            ("note", Effects::SideEffects),
        ]
        .map(|(id, effects)| (id.to_owned(), effects));
        assert_eq!(found, expected);
    }

    #[test]
    fn an_author_who_says_a_get_changes_something_is_believed() {
        let found = effects_of(
            r#"
  - {id: marked, irreversible: true, http: {url: "http://127.0.0.1:1/a"}}
  - id: undoable
    http: {url: "http://127.0.0.1:1/a"}
    rollback:
      - {id: undo, http: {method: DELETE, url: "http://127.0.0.1:1/a"}}
"#,
        );
        assert_eq!(
            found,
            vec![
                ("marked".to_owned(), Effects::SideEffects),
                ("undoable".to_owned(), Effects::SideEffects),
            ]
        );
    }

    #[test]
    fn a_group_is_read_only_only_when_everything_in_it_is() {
        let found = effects_of(
            r#"
  - id: reads
    group:
      steps:
        - {id: r1, http: {url: "http://127.0.0.1:1/a"}}
      finally:
        - {id: r2, assert: [{that: "1", equals: "1"}]}
  - id: writes_in_finally
    group:
      steps:
        - {id: w1, http: {url: "http://127.0.0.1:1/a"}}
      finally:
        - {id: w2, shell: {command: "true"}}
  - id: nested
    group:
      steps:
        - id: inner
          group:
            steps:
              - {id: w3, http: {method: POST, url: "http://127.0.0.1:1/a"}}
"#,
        );
        assert_eq!(
            found,
            vec![
                ("reads".to_owned(), Effects::ReadOnly),
                ("writes_in_finally".to_owned(), Effects::SideEffects),
                ("nested".to_owned(), Effects::SideEffects),
            ]
        );
    }
}
