//! A large JSON body read through plain paths (`{{outputs.body.meta.status}}`,
//! `{{steps.get.outputs.body.items.3.name}}`) or only for its `length` is kept only in part: the
//! real binary against wiremock gives every reader what it gives when the body is read whole, and
//! the report shows an excerpt of the bytes. Captures without a filter are read from the bytes,
//! and a list capture nobody reads is counted and shown, not built.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{requests, run};
use crate::control::{assert_code, report, step};
use crate::support::Sandbox;

/// About 1.3 MB of JSON: far more than a report keeps whole (64 KiB).
fn large_body() -> String {
    let items: Vec<String> = (0..30_000)
        .map(|i| format!(r#"{{"id":{i},"name":"item-{i}","ok":{}}}"#, i % 2 == 0))
        .collect();
    format!(
        r#"{{"items":[{}],"meta":{{"status":"ok","total":123456789012345678901234567890,"é":"ü"}}}}"#,
        items.join(",")
    )
}

const READS: &str = r#"
id: large
title: Large body
inputs:
  base_url: {type: string}
steps:
  - id: get
    http:
      url: "{{inputs.base_url}}/items"
      assert:
        - {that: "{{outputs.body.meta.status}}", equals: "ok"}
  - id: name
    shell: {command: "printf '%s %s %s' {{steps.get.outputs.body.items.3.name}} {{steps.get.outputs.body.meta.total}} {{steps.get.outputs.body.meta.[é]}}"}
  - id: missing
    on_error: warn
    assert:
      - {that: "{{steps.get.outputs.body.items.30000.name}}", equals: "x"}
  - id: through_a_string
    on_error: warn
    assert:
      - {that: "{{steps.get.outputs.body.meta.status.x}}", equals: "x"}
"#;

/// The same runbook with one more step that reads the body whole.
fn reading_whole() -> String {
    format!(
        "{READS}  - id: whole\n    assert:\n      - {{that: \"{{{{steps.get.outputs.body}}}}\", \
         not_equals: \"x\"}}\n"
    )
}

/// The same runbook with one more step that reads only lengths: of the body, and of its list.
fn reading_lengths() -> String {
    format!(
        "{READS}  - id: lengths\n    assert:\n      - {{that: \"{{{{length \
         steps.get.outputs.body}}}}\", equals: 2}}\n      - {{that: \"{{{{length \
         steps.get.outputs.body.items}}}}\", equals: 30000}}\n"
    )
}

async fn serve(body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_body_read_through_paths_gives_what_the_whole_body_gives() {
    let body = large_body();
    let server = serve(&body).await;
    let sandbox = Sandbox::new();
    sandbox.write("partial.yaml", READS);
    sandbox.write("whole.yaml", &reading_whole());
    sandbox.write("lengths.yaml", &reading_lengths());

    let partial = run(&sandbox, "partial.yaml", &server.uri(), &[], true);
    let whole = run(&sandbox, "whole.yaml", &server.uri(), &[], true);
    let lengths = run(&sandbox, "lengths.yaml", &server.uri(), &[], true);
    // 8: passed, with warnings (the failing reads are `on_error: warn`).
    assert_code(&partial, 8);
    assert_code(&whole, 8);
    assert_code(&lengths, 8);
    assert_eq!(requests(server.received_requests().await).len(), 3);
    let (partial, whole) = (report(&partial), report(&whole));
    assert_eq!(partial["status"], "succeeded_with_warnings", "{partial:#}");
    assert_eq!(partial["status"], whole["status"]);

    assert_eq!(
        step(&partial, "name")["outputs"]["stdout"],
        "item-3 123456789012345678901234567890 ü"
    );
    for id in ["name", "missing", "through_a_string"] {
        for field in ["outcome", "outputs", "error"] {
            assert_eq!(
                step(&partial, id)[field],
                step(&whole, id)[field],
                "{id}.{field}"
            );
        }
    }
    let missing = step(&partial, "missing")["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        missing.contains("`items` has no `30000` (it is a list)"),
        "{missing}"
    );
    let through = step(&partial, "through_a_string")["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(through.contains("has no `x` (it is a string)"), "{through}");

    // The report shows the start of the bytes and says why; the whole tree shows its own excerpt.
    let get = step(&partial, "get");
    assert_eq!(get["outcome"], "passed");
    assert_eq!(get["large_outputs"], serde_json::json!(["body"]));
    let shown = get["outputs"]["body"].as_str().unwrap_or_default();
    assert!(
        shown.starts_with(r#"{"items":[{"id":0,"name":"item-0","ok":true}"#),
        "{shown}"
    );
    assert!(shown.len() < 5 * 1024, "{}", shown.len());
    assert!(
        shown.contains(&format!(
            "the body is {} bytes; templates read only parts of it",
            body.len()
        )),
        "{shown}"
    );
    let theirs = step(&whole, "get")["outputs"]["body"]
        .as_str()
        .unwrap_or_default();
    assert!(theirs.contains("the whole value is"), "{theirs}");

    // Lengths alone count every item without building the body whole: the same excerpt as for
    // paths, and the right counts (an assert that failed would have made the run fail).
    let lengths = report(&lengths);
    assert_eq!(
        step(&lengths, "lengths")["outcome"],
        "passed",
        "{lengths:#}"
    );
    assert_eq!(
        step(&lengths, "get")["outputs"]["body"],
        get["outputs"]["body"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_body_that_is_not_json_is_text_for_its_readers() {
    let body = format!("not json {}", "x".repeat(200_000));
    let server = serve(&body).await;
    let sandbox = Sandbox::new();
    sandbox.write("partial.yaml", READS);
    let output = run(&sandbox, "partial.yaml", &server.uri(), &[], true);
    assert_code(&output, 1);
    let report = report(&output);
    let get = step(&report, "get");
    assert_eq!(get["outcome"], "failed", "{report:#}");
    let message = get["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("has no `meta` (it is a string)"),
        "{message}"
    );
    assert!(matches!(get["outputs"]["body"], Value::String(_)));
}

/// Captures over the same body: a wildcard and a slice read from the bytes, and a `$..*` no
/// template reads, counted and shown rather than built.
const CAPTURES: &str = r#"
id: captures
title: Captures
inputs:
  base_url: {type: string}
steps:
  - id: get
    http:
      url: "{{inputs.base_url}}/items"
      capture:
        ids: {jsonpath: "$.items[*].id", all: true}
        some: {jsonpath: "$.items[-3:].name", all: true}
        every: {jsonpath: "$..*", all: true}
  - id: use
    shell: {command: "printf '%s %s' {{length steps.get.outputs.ids}} {{steps.get.outputs.some}}"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn captures_are_read_from_the_bytes_and_a_list_nobody_reads_is_only_counted() {
    let body = large_body();
    let server = serve(&body).await;
    let sandbox = Sandbox::new();
    sandbox.write("captures.yaml", CAPTURES);
    let output = run(&sandbox, "captures.yaml", &server.uri(), &[], true);
    assert_code(&output, 0);
    let report = report(&output);
    assert_eq!(
        step(&report, "use")["outputs"]["stdout"],
        r#"30000 ["item-29997","item-29998","item-29999"]"#
    );
    let get = step(&report, "get");
    // `items`, every item, each item's three values, `meta` and its three values.
    let count = 1 + 30_000 * 4 + 1 + 3;
    let every = get["outputs"]["every"].as_str().unwrap_or_default();
    assert!(
        every.starts_with(r#"[[{"id":0,"name":"item-0","ok":true}"#),
        "{}",
        every.get(..60).unwrap_or_default()
    );
    assert!(
        every.contains(&format!("(excerpt: {count} values, ")),
        "{}",
        every
            .get(every.len().saturating_sub(200)..)
            .unwrap_or_default()
    );
    assert!(
        get["large_outputs"]
            .as_array()
            .is_some_and(|names| names.iter().any(|n| n == "every"))
    );
}
