//! Large outputs: the report keeps an excerpt and names them; a later step that refers to one
//! still reads it whole.

use super::support::{Fixture, step_report};
use crate::kept::KEPT_BYTES;
use crate::report::RunStatus;

#[tokio::test]
async fn a_large_output_is_an_excerpt_in_the_report_and_whole_for_a_later_step() {
    let fx = Fixture::new();
    let bytes = KEPT_BYTES + 5000;
    let rb = fx.runbook(&format!(
        r#"
id: large
title: Large
steps:
  - id: big
    shell: {{command: "yes a | head -c {bytes}"}}
  - id: unread
    shell: {{command: "yes b | head -c {bytes}"}}
  - id: measure
    shell: {{command: "printf %s {{{{steps.big.outputs.stdout}}}} | wc -c"}}
"#
    ));
    let (report, _) = super::support::run_plain(&rb).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");
    for id in ["big", "unread"] {
        let big = step_report(&report, id);
        assert_eq!(big.large_outputs, ["stdout"]);
        let shown = big.outputs["stdout"].as_str().unwrap_or_default();
        assert!(shown.len() < KEPT_BYTES + 200, "{}", shown.len());
        assert!(shown.contains("excerpt: the whole value is"), "{shown}");
    }
    // The later step read all of it (the shell trims the last newline).
    let measured = &step_report(&report, "measure").outputs["stdout"];
    assert_eq!(
        measured.as_str().map(str::trim),
        Some((bytes - 1).to_string().as_str())
    );
}

/// Answers every request with one JSON body.
pub(super) struct OneBody(pub(super) Vec<u8>);

impl crate::transport::HttpTransport for OneBody {
    fn send(
        &self,
        _request: crate::transport::HttpRequest,
    ) -> crate::clock::BoxFuture<
        '_,
        Result<crate::transport::HttpResponse, crate::transport::TransportError>,
    > {
        Box::pin(async move {
            Ok(crate::transport::HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: self.0.clone(),
            })
        })
    }
}

/// A body of `count` small objects, with the secret in the last one.
fn large_body(count: usize) -> Vec<u8> {
    let items: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"i":{i},"s":"v{i}"}}"#))
        .collect();
    format!(
        r#"{{"data":[{}],"tail":{{"token":"tok-s3cret-9876"}}}}"#,
        items.join(",")
    )
    .into_bytes()
}

#[tokio::test]
async fn a_large_body_no_template_reads_is_captured_from_its_bytes_and_not_kept() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: lazy
title: Lazy
steps:
  - id: unread
    http:
      url: "http://api.test/x"
      capture:
        first: "$.data[1].s"
        token: {jsonpath: "$.tail.token", secret: true}
        every: {jsonpath: "$.data[*].i", all: true}
      assert:
        - {that: "{{outputs.first}}", equals: "v1"}
  - id: read
    http: {url: "http://api.test/y"}
  - id: use
    assert:
      - {that: "{{steps.read.outputs.body.data.2.s}}", equals: "v2"}
      - {that: "{{steps.unread.outputs.first}}", equals: "v1"}
"#,
    );
    let body = large_body(20_000);
    assert!(body.len() > KEPT_BYTES * 4);
    let mut options = super::support::options(None);
    options.transport = Some(std::sync::Arc::new(OneBody(body.clone())));
    let mut recorder = super::support::Recorder::default();
    let report = super::support::run(&rb, options, &mut recorder).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");

    // Nothing reads `unread`'s body: it is a short excerpt, the captures came from the bytes.
    let unread = step_report(&report, "unread");
    let shown = unread.outputs["body"].as_str().unwrap_or_default();
    assert!(shown.len() < 5 * 1024, "{}", shown.len());
    assert!(
        shown.starts_with(r#"{"data":[{"i":0,"s":"v0"}"#)
            && shown.contains(&format!("the body is {} bytes", body.len())),
        "{shown}"
    );
    assert_eq!(unread.outputs["first"], "v1");
    assert_eq!(unread.outputs["token"], crate::redact::MASK);
    let every = unread.outputs["every"].as_array().map_or(0, Vec::len);
    assert!(every == 20_000 || unread.large_outputs.contains(&"every".to_owned()));
    assert!(unread.large_outputs.iter().all(|name| name != "body"));
    // A body a later step reads is parsed and kept for it.
    let read = step_report(&report, "read");
    assert_eq!(read.large_outputs, ["body"]);
}

#[tokio::test]
async fn a_large_body_is_masked_before_its_excerpt_is_cut() {
    let fx = Fixture::new();
    let rb = fx.runbook(
        r#"
id: lazycut
title: Lazy cut
steps:
  - id: unread
    http:
      url: "http://api.test/x"
      capture:
        token: {jsonpath: "$.k", secret: true}
"#,
    );
    // The secret straddles the excerpt's cut (4 KiB).
    let mut text = String::from(r#"{"pad":""#);
    // The secret starts 5 bytes before the cut.
    text.push_str(&"p".repeat(4096 - 5 - text.len() - r#"","k":""#.len()));
    text.push_str(r#"","k":"SECRET-crossing-the-cut","more":""#);
    text.push_str(&"m".repeat(KEPT_BYTES * 2));
    text.push_str(r#""}"#);
    let mut options = super::support::options(None);
    options.transport = Some(std::sync::Arc::new(OneBody(text.into_bytes())));
    let mut recorder = super::support::Recorder::default();
    let report = super::support::run(&rb, options, &mut recorder).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");
    let shown = step_report(&report, "unread").outputs["body"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // The excerpt of a body left as bytes (not the report's excerpt of a parsed value).
    assert!(shown.contains("the body is"), "{shown}");
    assert!(!shown.contains("SEC"), "{shown}");
    assert!(shown.contains(crate::redact::MASK), "{shown}");
}
