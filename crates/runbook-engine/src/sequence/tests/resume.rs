//! Resume: a first run journaled by a `JournalObserver`, then `ResumePlan::replay` and a second
//! `Engine::run` with `resume: Some(plan)`.

use serde_json::{Value, json};

use super::support::{Event, Fixture, Recorder, Script, asked, options, session, step_report};
use crate::prompter::Decision;
use crate::report::{RunStatus, StepOutcome};

/// A crash right after `step`'s checkpoint: the journal ends with its `step_started` record.
fn crash_after_start(fx: &Fixture, step: &str) {
    let path = fx.path("state/journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut kept = String::new();
    for line in text.lines() {
        kept.push_str(line);
        kept.push('\n');
        let record: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if record["type"] == "step_started" && record["step"] == step {
            std::fs::write(&path, kept).unwrap_or_else(|error| panic!("truncate: {error}"));
            return;
        }
    }
    panic!("the journal has no start of `{step}`");
}

#[tokio::test]
async fn completed_steps_are_restored_not_run_again() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: resume
title: Resume
steps:
  - id: a
    shell: {command: "@DIR@/mark a; echo from-a"}
  - id: b
    shell: {command: "@DIR@/mark b; test -e @DIR@/ready"}
  - id: c
    shell:
      command: "@DIR@/mark c {{steps.a.outputs.stdout}}"
"#,
    );
    let mut first = Recorder::default();
    let report = session(&fx, &rb, options(None), &mut first).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!((fx.count("a"), fx.count("b"), fx.count("c")), (1, 1, 0));

    fx.touch("ready");
    let mut second = Recorder::default();
    let report = session(&fx, &rb, options(None), &mut second).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!((fx.count("a"), fx.count("b"), fx.count("c")), (1, 2, 1));
    // `a`'s output came back from the journal.
    assert_eq!(fx.read("c"), "from-a\n");
    let a = step_report(&report, "a");
    assert!(a.restored);
    assert_eq!(a.outcome, StepOutcome::Passed);
    assert_eq!(a.outputs.get("stdout"), Some(&json!("from-a")));
    assert!(!step_report(&report, "b").restored);
    assert_eq!(
        second.trace(),
        [
            "restored a",
            "start b",
            "end b passed",
            "start c",
            "end c passed"
        ]
    );
    assert!(!second.events.contains(&Event::Checkpoint("a".into())));
}

#[tokio::test]
async fn a_restored_step_is_compensated_when_the_resumed_run_fails() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: resume
title: Resume
steps:
  - id: a
    shell: {command: "@DIR@/mark log a"}
    rollback:
      - id: undo_a
        shell: {command: "@DIR@/mark log undo_a"}
  - id: b
    resume: rerun
    shell: {command: "@DIR@/mark log b"}
  - id: c
    shell: {command: "exit 1"}
"#,
    );
    let mut first = Recorder::default();
    session(&fx, &rb, options(None), &mut first).await;
    // The first session "crashed" while `b` ran: no compensation ran for it.
    crash_after_start(&fx, "b");
    std::fs::write(fx.path("log"), "").unwrap_or_else(|e| panic!("{e}"));
    let mut second = Recorder::default();
    let report = session(&fx, &rb, options(None), &mut second).await;
    assert_eq!(report.status, RunStatus::RolledBack);
    // `b` was in doubt and its policy re-runs it; `a` is not repeated but still undone.
    assert_eq!(fx.read("log"), "b\nundo_a\n");
    let b = step_report(&report, "b");
    assert_eq!(
        b.note.as_deref(),
        Some("re-run: it was interrupted before it finished")
    );
    assert!(step_report(&report, "a").restored);
}

#[tokio::test]
async fn a_step_in_doubt_is_not_rerun_with_resume_never() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: resume
title: Resume
steps:
  - id: b
    resume: never
    shell: {command: "@DIR@/mark b"}
  - id: c
    shell: {command: "@DIR@/mark c"}
"#,
    );
    session(&fx, &rb, options(None), &mut Recorder::default()).await;
    crash_after_start(&fx, "b");
    let report = session(&fx, &rb, options(None), &mut Recorder::default()).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!((fx.count("b"), fx.count("c")), (1, 2));
    assert_eq!(step_report(&report, "b").outcome, StepOutcome::Skipped);
}

#[tokio::test]
async fn a_step_in_doubt_is_rerun_when_the_operator_says_so() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: resume
title: Resume
steps:
  - id: b
    shell: {command: "@DIR@/mark b"}
"#,
    );
    session(&fx, &rb, options(None), &mut Recorder::default()).await;
    crash_after_start(&fx, "b");
    let (script, log) = Script::new(json!({"decisions": {"b": ["retry"]}}));
    let mut rec = Recorder::default();
    let report = session(&fx, &rb, options(Some(script)), &mut rec).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(fx.count("b"), 2);
    assert_eq!(rec.decisions(), [("b", Decision::Retry)]);
    assert_eq!(asked(&log).len(), 1);
}

/// A group whose second step needs `ready`; its `finally` counts its runs.
const GROUP: &str = r#"
id: resume
title: Resume
steps:
  - id: g
    group:
      steps:
        - id: a
          shell: {command: "@DIR@/mark a"}
        - id: b
          shell: {command: "@DIR@/mark b; test -e @DIR@/ready"}
      finally:
        - id: tidy
          shell: {command: "@DIR@/mark tidy"}
  - id: after
    shell: {command: "@DIR@/mark after; test -e @DIR@/after_ready"}
"#;

#[tokio::test]
async fn a_group_finally_runs_again_when_its_steps_ran_anew() {
    let fx = Fixture::new();
    let rb = fx.runbook(GROUP);
    fx.touch("after_ready");
    session(&fx, &rb, options(None), &mut Recorder::default()).await;
    assert_eq!((fx.count("a"), fx.count("b"), fx.count("tidy")), (1, 1, 1));

    fx.touch("ready");
    let mut rec = Recorder::default();
    let report = session(&fx, &rb, options(None), &mut rec).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    // `a` is restored; `b` ran anew, so the group's `finally` runs again for it.
    assert_eq!((fx.count("a"), fx.count("b"), fx.count("tidy")), (1, 2, 2));
    assert_eq!(
        rec.trace(),
        [
            "start g",
            "restored a",
            "start b",
            "end b passed",
            "start tidy",
            "end tidy passed",
            "end g passed",
            "start after",
            "end after passed"
        ]
    );
}

#[tokio::test]
async fn a_completed_group_is_restored_with_its_finally() {
    let fx = Fixture::new();
    let rb = fx.runbook(GROUP);
    fx.touch("ready");
    let first = session(&fx, &rb, options(None), &mut Recorder::default()).await;
    assert_eq!(first.status, RunStatus::Failed);
    assert_eq!(first.failed_step.as_deref(), Some("after"));

    fx.touch("after_ready");
    let mut rec = Recorder::default();
    let report = session(&fx, &rb, options(None), &mut rec).await;
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        (
            fx.count("a"),
            fx.count("b"),
            fx.count("tidy"),
            fx.count("after")
        ),
        (1, 1, 1, 2)
    );
    assert_eq!(
        rec.trace(),
        ["restored g", "start after", "end after passed"]
    );
}

#[tokio::test]
async fn a_secret_answer_is_asked_again_on_every_resume_and_never_journaled() {
    const SECRET: &str = "s3cr3t-t0ken-value";
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: resume
title: Resume
mode: operator-assisted
steps:
  - id: enter
    prompt:
      answers:
        token: {secret: true}
        user: {label: User}
  - id: use
    shell:
      command: "@DIR@/mark use; test -e @DIR@/ready && printf '%s' \"$TOKEN\" > @DIR@/seen"
      env:
        TOKEN: "{{steps.enter.outputs.token}}"
"#,
    );
    let answers = json!({"enter": [{"token": SECRET, "user": "alice"}]});
    let mut asked_per_session = Vec::new();
    let mut statuses = Vec::new();
    for ready in [false, false, true] {
        if ready {
            fx.touch("ready");
        }
        let (script, log) = Script::new(answers.clone());
        let report = session(&fx, &rb, options(Some(script)), &mut Recorder::default()).await;
        statuses.push(report.status);
        asked_per_session.push(
            asked(&log)
                .into_iter()
                .map(|a| (a.what, a.step, a.occurrence))
                .collect::<Vec<_>>(),
        );
        let enter = step_report(&report, "enter");
        assert_eq!(enter.secret_outputs, ["token"]);
        assert_ne!(enter.outputs.get("token"), Some(&json!(SECRET)));
        assert_eq!(enter.outputs.get("user"), Some(&json!("alice")));
    }
    assert_eq!(
        statuses,
        [RunStatus::Failed, RunStatus::Failed, RunStatus::Succeeded]
    );
    let answer = |n| ("answer", "enter".to_owned(), n);
    // Both answers the first time; only the secret one after each resume (the other is journaled),
    // from the answer set of the run being continued.
    assert_eq!(
        asked_per_session,
        [vec![answer(1), answer(1)], vec![answer(1)], vec![answer(1)]]
    );
    assert_eq!(fx.count("use"), 3);
    assert_eq!(fx.read("seen"), SECRET);
    let journal = fx.read("state/journal.jsonl");
    assert!(journal.contains("alice"));
    assert!(!journal.contains(SECRET), "the journal holds the secret");
}

/// Bug: a top-level prompt restored on resume asks its secret answers again (`restore`), but the
/// steps of a completed group are restored by `restore_quietly`, which only marks them withheld:
/// a later step that uses the answer fails with "is unavailable: it held a secret".
#[tokio::test]
async fn a_secret_answer_inside_a_completed_group_is_asked_again_on_resume() {
    const SECRET: &str = "gr0up-s3cr3t-value";
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: resume
title: Resume
mode: operator-assisted
steps:
  - id: g
    group:
      steps:
        - id: enter
          prompt:
            answers:
              token: {secret: true}
  - id: use
    shell:
      command: "test -e @DIR@/ready && printf '%s' \"$TOKEN\" > @DIR@/seen"
      env:
        TOKEN: "{{steps.enter.outputs.token}}"
"#,
    );
    let answers = json!({"enter": {"token": SECRET}});
    let (script, _) = Script::new(answers.clone());
    let first = session(&fx, &rb, options(Some(script)), &mut Recorder::default()).await;
    assert_eq!(first.status, RunStatus::Failed);

    fx.touch("ready");
    let (script, log) = Script::new(answers);
    let report = session(&fx, &rb, options(Some(script)), &mut Recorder::default()).await;
    let error = step_report(&report, "use").error.clone();
    assert_eq!(report.status, RunStatus::Succeeded, "{error:?}");
    assert_eq!(asked(&log).len(), 1);
    assert_eq!(fx.read("seen"), SECRET);
}

/// Found by an attack on the release binary: a step in doubt inside a repeatable group, with no
/// decision about it (or the operator's `abort`), failed like any step; the group then ran its
/// `finally` and repeated, starting the step again, so the operator's abort was overridden and a
/// command still running from the earlier session could run twice.
#[tokio::test]
async fn an_undecided_step_in_a_repeatable_group_stops_the_session_without_repeat_or_finally() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: resume
title: Resume
steps:
  - id: grp
    group:
      repeat: {max_attempts: 3}
      steps:
        - id: work
          shell: {command: "@DIR@/mark work"}
      finally:
        - id: tidy
          shell: {command: "@DIR@/mark tidy"}
"#,
    );
    session(&fx, &rb, options(None), &mut Recorder::default()).await;
    crash_after_start(&fx, "work");
    let (work, tidy) = (fx.count("work"), fx.count("tidy"));
    let (script, _log) = Script::new(json!({"decisions": {"work": ["abort"], "grp": ["retry"]}}));
    let report = session(&fx, &rb, options(Some(script)), &mut Recorder::default()).await;
    assert_ne!(report.status, RunStatus::Succeeded);
    assert_eq!(fx.count("work"), work, "`work` must not start again");
    assert_eq!(
        fx.count("tidy"),
        tidy,
        "nothing else runs, `finally` included"
    );
}
