//! In-doubt steps: `resume: rerun | never | ask`. The kill-in-submit helpers here are reused by the
//! torn-journal and changed-runbook tests.

use serde_json::Value;
use wiremock::MockServer;

use super::harness::{
    Bench, Gate, assert_code, count, killed_by_signal, mount, ok, position, records, until_count,
};
use crate::control::{recorded, report};
use crate::support::Output;

pub(super) fn in_doubt_runbook(policy: &str) -> String {
    format!(
        r#"
id: in-doubt
title: A step killed mid-way
inputs:
  base_url: {{type: string}}
steps:
  - id: before
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/before"}}
  - id: submit
    name: Submit the order
    timeout: 2m
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/submit"}}
    resume: {policy}
  - id: after
    http: {{method: POST, url: "{{{{inputs.base_url}}}}/after"}}
"#
    )
}

pub(super) struct Doubt {
    pub(super) bench: Bench,
    pub(super) server: MockServer,
    pub(super) run_id: String,
}

/// Runs `yaml` (the in-doubt runbook or a variant) and SIGKILLs it while POST /submit is held,
/// then lets /submit answer at once.
pub(super) async fn kill_in_submit(yaml: &str) -> Doubt {
    let server = MockServer::start().await;
    let submit = Gate::hanging(ok());
    mount(&server, "POST", "/before", ok()).await;
    mount(&server, "POST", "/submit", submit.clone()).await;
    mount(&server, "POST", "/after", ok()).await;
    let bench = Bench::new(yaml);
    let base = format!("base_url={}", server.uri());
    let running = bench.spawn(&["run", "rb.yaml", "--input", &base], &[]);
    until_count(&server, "POST /submit", 1).await;
    let first = running.sigkill();
    killed_by_signal(&first);
    submit.open();
    let run_id = bench.only_run_id();
    Doubt {
        bench,
        server,
        run_id,
    }
}

impl Doubt {
    pub(super) async fn counts(&self) -> [usize; 3] {
        let received = recorded(&self.server).await;
        [
            count(&received, "POST /before"),
            count(&received, "POST /submit"),
            count(&received, "POST /after"),
        ]
    }

    pub(super) fn resume(&self, extra: &[&str]) -> Output {
        let mut args = vec!["resume", self.run_id.as_str()];
        args.extend_from_slice(extra);
        self.bench.cmd(&args, &[])
    }

    pub(super) fn with_answers(&self, answers: &str) -> Output {
        self.bench.sandbox.write("doubt.answers.yaml", answers);
        self.resume(&["--answers", "doubt.answers.yaml", "--output", "json"])
    }

    /// The `submit` record the resumed session wrote.
    pub(super) fn resumed_submit(&self) -> Value {
        let journal = self.bench.journal(&self.run_id);
        let resumed_at = position(&journal, "run_resumed");
        let finished = records(&journal[resumed_at..], "step_finished", Some("submit"));
        assert_eq!(finished.len(), 1, "{journal:#?}");
        finished[0].clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_rerun_step_is_run_again() {
    let doubt = kill_in_submit(&in_doubt_runbook("rerun")).await;
    let resumed = doubt.resume(&[]);
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 2, 1]);
    let submit = doubt.resumed_submit();
    assert_eq!(submit["outcome"], "passed");
    assert!(
        submit["note"]
            .as_str()
            .is_some_and(|n| n.contains("re-run")),
        "{submit:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_never_step_is_not_run_again_and_is_reported_skipped() {
    let doubt = kill_in_submit(&in_doubt_runbook("never")).await;
    let resumed = doubt.resume(&["--output", "json"]);
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 1, 1]);
    let report = report(&resumed);
    let submit = crate::control::step(&report, "submit");
    assert_eq!(submit["outcome"], "skipped", "{report:#}");
    assert!(
        submit["note"]
            .as_str()
            .is_some_and(|n| n.contains("not re-run")),
        "{submit:#}"
    );
    let journaled = doubt.resumed_submit();
    assert_eq!(journaled["outcome"], "skipped");
    assert!(
        journaled["note"]
            .as_str()
            .is_some_and(|n| n.contains("not re-run")),
        "{journaled:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outputs_of_a_step_not_rerun_are_unknown_and_using_them_fails_clearly() {
    let yaml = in_doubt_runbook("never").replace(
        "/after\"}",
        "/after\", headers: {X-Submit-Status: \"{{steps.submit.outputs.status}}\"}}",
    );
    let doubt = kill_in_submit(&yaml).await;
    let resumed = doubt.resume(&[]);
    assert_code(&resumed, 1, "resume");
    let all = format!("{}{}", resumed.stdout, resumed.stderr);
    assert!(
        all.contains("steps.submit.outputs.status")
            && all.contains("was interrupted and was not re-run on resume"),
        "{all}"
    );
    assert_eq!(doubt.counts().await, [1, 1, 0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_is_rerun_when_the_answers_file_says_retry() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.with_answers("decisions:\n  submit: [retry]\n");
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 2, 1]);
    assert_eq!(
        crate::control::step(&report(&resumed), "submit")["outcome"],
        "passed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_is_not_rerun_when_the_answers_file_says_skip() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.with_answers("decisions:\n  submit: [skip]\n");
    assert_code(&resumed, 0, "resume");
    assert_eq!(doubt.counts().await, [1, 1, 1]);
    assert_eq!(
        crate::control::step(&report(&resumed), "submit")["outcome"],
        "skipped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_aborts_the_resume_when_the_answers_file_says_abort() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.with_answers("decisions:\n  submit: [abort]\n");
    assert_code(&resumed, 6, "resume");
    assert_eq!(doubt.counts().await, [1, 1, 0]);
}

/// The default for a POST is `ask`.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_ask_step_with_nobody_to_ask_fails_clearly() {
    let yaml = in_doubt_runbook("ask").replace("    resume: ask\n", "");
    let doubt = kill_in_submit(&yaml).await;
    let resumed = doubt.resume(&[]);
    assert_ne!(resumed.code, 0, "{resumed:?}");
    let all = format!("{}{}", resumed.stdout, resumed.stderr);
    assert!(
        all.contains("no decision about the interrupted step"),
        "{all}"
    );
    assert!(
        all.contains("not a terminal") && all.contains("--answers"),
        "says why nobody was asked and what to do: {all}"
    );
    assert_eq!(
        doubt.counts().await,
        [1, 1, 0],
        "nothing re-run, nothing after"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undecided_in_doubt_step_is_still_in_doubt_on_the_next_resume() {
    let doubt = kill_in_submit(&in_doubt_runbook("ask")).await;
    let resumed = doubt.resume(&[]);
    assert_ne!(resumed.code, 0, "{resumed:?}");
    // Nobody decided: the second attempt must still not re-run POST /submit silently.
    let again = doubt.resume(&[]);
    assert_ne!(
        again.code, 0,
        "still needs a decision:\n{}\n{}",
        again.stdout, again.stderr
    );
    assert_eq!(doubt.counts().await, [1, 1, 0]);
    // With a decision it proceeds.
    let decided = doubt.with_answers("decisions:\n  submit: [skip]\n");
    assert_code(&decided, 0, "resume with a decision");
    assert_eq!(doubt.counts().await, [1, 1, 1]);
}
