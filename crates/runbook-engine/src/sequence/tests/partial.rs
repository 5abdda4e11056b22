//! A large body read only through plain paths is kept as a partial tree: every step that reads it
//! gets what it would have got from the whole tree (the same run, with one more step that reads
//! the body whole, is the reference), and the report shows an excerpt of the bytes in its place.

use super::large::OneBody;
use super::support::{Fixture, Recorder, options, run, session, step_report};
use crate::kept::KEPT_BYTES;
use crate::report::{RunReport, RunStatus, StepOutcome};

/// A body of `count` small objects, then a tail of values worth reading.
fn body(count: usize) -> Vec<u8> {
    let items: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"i":{i},"s":"v{i}"}}"#))
        .collect();
    format!(
        r#"{{"data":[{}],"tail":{{"status":"ok","none":null,"big":12345678901234567890.50,
        "list":[1,[2,3],{{"x":"y"}}],"é":{{"キー":"値"}},"dup":1,"dup":{{"z":"last"}},
        "token":"tok-s3cret-in-the-body","0":"key zero"}}}}"#,
        items.join(",")
    )
    .into_bytes()
}

/// Steps that read the body through plain paths, each one a warning when it fails, so every
/// answer (a value, "missing", a type error) shows in the report.
const READERS: &str = r#"
id: partial
title: Partial
steps:
  - id: get
    http:
      url: "http://api.test/x"
      capture:
        token: {jsonpath: "$.tail.token", secret: true}
      assert:
        - {that: "{{outputs.body.tail.status}}", equals: "ok"}
    until: {that: "{{outputs.body.data.1.s}}", equals: "v1"}
    poll: {interval: 1s, timeout: 5s}
  - {id: value, on_error: warn, assert: [{that: "{{steps.get.outputs.body.data.2.s}}", equals: "v2"}]}
  - {id: index_key, on_error: warn, assert: [{that: "{{steps.get.outputs.body.data.[02].i}}", equals: 2}]}
  - {id: number, on_error: warn, assert: [{that: "{{steps.get.outputs.body.tail.big}}", equals: 12345678901234567890.5}]}
  - {id: subtree, on_error: warn, assert: [{that: "{{length steps.get.outputs.body.tail.list}}", equals: 3}]}
  - {id: nested, on_error: warn, assert: [{that: "{{steps.get.outputs.body.tail.list.1.0}}", equals: 2}]}
  - {id: unicode, on_error: warn, assert: [{that: "{{steps.get.outputs.body.tail.[é].[キー]}}", equals: "値"}]}
  - {id: duplicate, on_error: warn, assert: [{that: "{{steps.get.outputs.body.tail.dup.z}}", equals: "last"}]}
  - {id: zero_key, on_error: warn, assert: [{that: "{{steps.get.outputs.body.tail.0}}", equals: "key zero"}]}
  - {id: missing, on_error: warn, assert: [{that: "{{steps.get.outputs.body.data.99999.s}}", equals: "x"}]}
  - {id: absent, on_error: warn, assert: [{that: "{{steps.get.outputs.body.nope}}", exists: false}]}
  - {id: past_scalar, on_error: warn, assert: [{that: "{{steps.get.outputs.body.tail.status.x}}", equals: "x"}]}
  - {id: null_text, on_error: warn, assert: [{that: "x{{steps.get.outputs.body.tail.none}}", equals: "x"}]}
  - {id: name_in_list, on_error: warn, assert: [{that: "{{steps.get.outputs.body.data.first}}", equals: "x"}]}
  - {id: wrong, on_error: warn, assert: [{that: "{{steps.get.outputs.body.data.0.i}}", equals: 1}]}
  - {id: secret, on_error: warn, shell: {command: "echo {{steps.get.outputs.body.tail.token}}"}}
"#;

/// The same runbook, plus a step that reads the body whole: the body is parsed whole.
fn reading_whole() -> String {
    format!(
        "{READERS}  - {{id: whole, on_error: warn, assert: [{{that: \"{{{{steps.get.outputs.body}}}}\", \
         not_equals: \"x\"}}]}}\n"
    )
}

/// Runs `yaml` with every HTTP request answered 200 with `body`.
pub(super) async fn run_with_body(yaml: &str, body: &[u8]) -> RunReport {
    let fx = Fixture::new();
    let rb = fx.runbook(yaml);
    let mut options = options(None);
    options.transport = Some(std::sync::Arc::new(OneBody(body.to_vec())));
    let mut recorder = Recorder::default();
    run(&rb, options, &mut recorder).await
}

#[tokio::test]
async fn every_reader_of_a_partial_body_gets_what_the_whole_tree_gives() {
    let body = body(20_000);
    assert!(body.len() > KEPT_BYTES * 4);
    let partial = run_with_body(READERS, &body).await;
    let whole = run_with_body(&reading_whole(), &body).await;
    assert_eq!(
        partial.status,
        RunStatus::SucceededWithWarnings,
        "{partial:#?}"
    );
    assert_eq!(whole.status, partial.status);

    let readers: Vec<&str> = READERS
        .lines()
        .filter_map(|line| line.strip_prefix("  - {id: "))
        .filter_map(|line| line.split(',').next())
        .collect();
    assert_eq!(readers.len(), 15, "{readers:?}");
    let mut warned = 0;
    for id in readers {
        let (ours, theirs) = (step_report(&partial, id), step_report(&whole, id));
        assert_eq!(ours.outcome, theirs.outcome, "{id}");
        assert_eq!(
            format!("{:?}", ours.error),
            format!("{:?}", theirs.error),
            "{id}"
        );
        assert_eq!(ours.outputs, theirs.outputs, "{id}");
        warned += usize::from(ours.outcome == StepOutcome::Warned);
    }
    // The failing reads failed (and the same way), the others passed.
    assert_eq!(warned, 5);
    let missing = step_report(&partial, "missing")
        .error
        .as_ref()
        .map(|e| e.message.clone());
    assert!(
        missing
            .as_deref()
            .is_some_and(|m| m.contains("`data` has no `99999` (it is a list)")),
        "{missing:?}"
    );
    // A value read from the body that is a secret is masked as it would have been.
    let shown = step_report(&partial, "secret").outputs["stdout"].to_string();
    assert!(
        shown.contains(crate::redact::MASK) && !shown.contains("s3cret"),
        "{shown}"
    );

    // The step's own `until` and `assert` read the partial tree: one attempt, passed.
    let (ours, theirs) = (step_report(&partial, "get"), step_report(&whole, "get"));
    assert_eq!((ours.outcome, ours.attempts), (StepOutcome::Passed, 1));
    assert_eq!(ours.attempts, theirs.attempts);
    // Large and secret (the body holds the captured token) in both; never written whole.
    assert_eq!(ours.large_outputs, theirs.large_outputs);
    assert_eq!(ours.large_outputs, ["body"]);
    assert_eq!(ours.secret_outputs, theirs.secret_outputs);
    assert!(
        ours.secret_outputs.contains(&"body".to_owned()),
        "{ours:#?}"
    );
    // The report shows an excerpt of the bytes, not the partial tree.
    let excerpt = ours.outputs["body"].as_str().unwrap_or_default();
    assert!(excerpt.len() < 5 * 1024, "{}", excerpt.len());
    assert!(
        excerpt.starts_with(r#"{"data":[{"i":0,"s":"v0"}"#),
        "{excerpt}"
    );
    assert!(
        excerpt.contains(&format!(
            "the body is {} bytes; templates read only parts of it",
            body.len()
        )),
        "{excerpt}"
    );
    let theirs_shown = theirs.outputs["body"].as_str().unwrap_or_default();
    assert!(
        theirs_shown.contains("the whole value is"),
        "{theirs_shown}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_text_for_its_readers_as_before() {
    let mut text = b"not json: ".to_vec();
    text.extend(std::iter::repeat_n(b'x', KEPT_BYTES * 2));
    let yaml = r#"
id: text
title: Text
steps:
  - id: get
    http: {url: "http://api.test/x"}
  - {id: read, on_error: warn, assert: [{that: "{{steps.get.outputs.body.status}}", equals: "ok"}]}
"#;
    let report = run_with_body(yaml, &text).await;
    let read = step_report(&report, "read");
    assert_eq!(read.outcome, StepOutcome::Warned);
    let message = read
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("has no `status` (it is a string)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_failed_own_assert_keeps_the_partial_body_for_the_failure_path() {
    let yaml = r#"
id: failing
title: Failing
steps:
  - id: get
    http:
      url: "http://api.test/x"
      discard_body: true
      assert:
        - {that: "{{outputs.body.tail.status}}", equals: "not ok"}
on_failure:
  - {id: told, assert: [{that: "{{steps.get.outputs.body.data.3.s}}", equals: "v3"}]}
"#;
    let report = run_with_body(yaml, &body(5_000)).await;
    assert_eq!(report.status, RunStatus::RolledBack, "{report:#?}");
    let get = step_report(&report, "get");
    assert_eq!(get.outcome, StepOutcome::Failed);
    let message = get
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(message.contains("not ok"), "{message}");
    // `discard_body`: the report never shows it, though the failure path reads its parts.
    assert_eq!(get.outputs["body"], "(discarded: discard_body)");
    assert_eq!(get.large_outputs, ["body"]);
    assert_eq!(step_report(&report, "told").outcome, StepOutcome::Passed);
}

/// The step's own `until` reads the body too (it once did not count as a reader: a large body
/// nothing else read was only an excerpt, so the wait never saw `ready`).
#[tokio::test]
async fn a_wait_on_the_bodys_own_path_sees_the_body() {
    let yaml = r#"
id: wait
title: Wait
steps:
  - id: get
    http: {url: "http://api.test/x"}
    until: {that: "{{outputs.body.tail.status}}", equals: "ok"}
    poll: {interval: 1s, timeout: 2s}
"#;
    let report = run_with_body(yaml, &body(5_000)).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");
    let get = step_report(&report, "get");
    assert_eq!(get.attempts, 1);
    assert_eq!(get.large_outputs, ["body"]);
}

/// After a resume, a partial body is unavailable exactly as the whole tree is: neither is in the
/// journal (`large_outputs`), and a step that reads it is told why.
#[tokio::test]
async fn after_a_resume_a_partial_body_is_unavailable_as_the_whole_one_is() {
    let yaml = |whole: bool| {
        let extra = if whole {
            "  - {id: whole, on_error: warn, assert: [{that: \"{{steps.get.outputs.body}}\", not_equals: \"x\"}]}\n"
        } else {
            ""
        };
        format!(
            r#"
id: resumed
title: Resumed
steps:
  - id: get
    http: {{url: "http://api.test/x"}}
  - id: gate
    shell: {{command: "test -e @DIR@/ready"}}
  - {{id: read, on_error: warn, assert: [{{that: "{{{{steps.get.outputs.body.data.1.s}}}}", equals: "v1"}}]}}
{extra}"#
        )
    };
    let mut errors = Vec::new();
    for whole in [false, true] {
        let fx = Fixture::new();
        let rb = fx.runbook(&yaml(whole));
        let with_body = || {
            let mut options = options(None);
            options.transport = Some(std::sync::Arc::new(OneBody(body(5_000))));
            options
        };
        let first = session(&fx, &rb, with_body(), &mut Recorder::default()).await;
        assert_eq!(first.status, RunStatus::Failed, "{first:#?}");
        assert_eq!(step_report(&first, "get").large_outputs, ["body"]);
        let journal = fx.read("state/journal.jsonl");
        assert!(
            !journal.contains(r#""s":"v4000""#),
            "the journal holds the body"
        );
        fx.touch("ready");
        let second = session(&fx, &rb, with_body(), &mut Recorder::default()).await;
        let read = step_report(&second, "read");
        assert_eq!(read.outcome, StepOutcome::Warned, "{second:#?}");
        errors.push(
            read.error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
        );
    }
    assert!(
        errors[0].contains("larger than the journal keeps"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0], errors[1]);
}
