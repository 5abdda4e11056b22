//! Captures over a large body left as bytes: a path without a filter is read from the bytes
//! (`steps/jsonpath_bytes.rs`) and gives every reader what the parsed tree gives (the same run,
//! with one more step that reads the body whole, is the reference); a list no template reads is
//! counted and shown, not built (`steps/unread_capture.rs`).

use super::partial::run_with_body;
use super::support::step_report;
use crate::kept::KEPT_BYTES;
use crate::report::RunStatus;

/// A body of `count` small objects and a tail, with a secret in it.
fn body(count: usize) -> Vec<u8> {
    let items: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"i":{i},"s":"v{i}","b":{}}}"#, i % 2 == 0))
        .collect();
    format!(
        r#"{{"data":[{}],"tail":{{"status":"ok","none":null,"list":[1,[2,3],{{"x":"y"}}],
        "dup":1,"dup":{{"z":"last"}},"0":"zero","token":"tok-s3cret-in-the-body"}}}}"#,
        items.join(",")
    )
    .into_bytes()
}

const CAPTURES: &str = r#"
id: captures
title: Captures
steps:
  - id: get
    http:
      url: "http://api.test/x"
      capture:
        token: {jsonpath: "$.tail.token", secret: true}
        ids: {jsonpath: "$.data[*].i", all: true}
        last: "$.data[-1].s"
        picks: {jsonpath: "$.data[1:9:3]", all: true}
        strings: {jsonpath: "$..s", all: true}
        mixed: {jsonpath: "$.tail['dup','0','none']", all: true}
        tail_values: {jsonpath: "$.tail.*", all: true}
        every: {jsonpath: "$..*", all: true}
        few: {jsonpath: "$.tail.list..*", all: true}
  - id: use
    assert:
      - {that: "{{length steps.get.outputs.ids}}", equals: 3000}
      - {that: "{{steps.get.outputs.last}}", equals: "v2999"}
      - {that: "{{steps.get.outputs.picks}}", not_equals: "x"}
      - {that: "{{steps.get.outputs.strings}}", not_equals: "x"}
      - {that: "{{steps.get.outputs.mixed}}", not_equals: "x"}
      - {that: "{{steps.get.outputs.tail_values}}", not_equals: "x"}
      - {that: "{{steps.get.outputs.token}}", not_equals: "x"}
"#;

/// The same runbook, plus a step that reads the body and `every` whole.
fn reading_whole() -> String {
    format!(
        "{CAPTURES}  - id: whole\n    assert:\n      - {{that: \"{{{{steps.get.outputs.body}}}}\", \
         not_equals: \"x\"}}\n      - {{that: \"{{{{steps.get.outputs.every}}}}\", not_equals: \
         \"x\"}}\n      - {{that: \"{{{{steps.get.outputs.few}}}}\", not_equals: \"x\"}}\n"
    )
}

#[tokio::test]
async fn captures_read_from_the_bytes_are_what_the_tree_gives() {
    let body = body(3_000);
    assert!(body.len() > KEPT_BYTES);
    let bytes = run_with_body(CAPTURES, &body).await;
    let tree = run_with_body(&reading_whole(), &body).await;
    assert_eq!(bytes.status, RunStatus::Succeeded, "{bytes:#?}");
    assert_eq!(tree.status, RunStatus::Succeeded, "{tree:#?}");
    assert_eq!(
        step_report(&bytes, "use").outcome,
        step_report(&tree, "use").outcome
    );

    let (ours, theirs) = (step_report(&bytes, "get"), step_report(&tree, "get"));
    for name in [
        "token",
        "ids",
        "last",
        "picks",
        "strings",
        "mixed",
        "tail_values",
    ] {
        assert_eq!(ours.outputs[name], theirs.outputs[name], "{name}");
    }
    // Read by nobody, but small: built and shown whole, as ever.
    assert_eq!(ours.outputs["few"], theirs.outputs["few"]);
    assert_eq!(
        ours.outputs["few"],
        serde_json::json!([1, [2, 3], {"x": "y"}, 2, 3, "y"])
    );

    // Read by nobody, and large: counted and shown, never built; large and secret (the body
    // holds the captured token) as the built list was.
    let tree_value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let count = jsonpath_rust::query::js_path("$..*", &tree_value)
        .map(|found| found.len())
        .unwrap_or_default();
    let shown = ours.outputs["every"].as_str().unwrap_or_default();
    assert!(
        shown.contains(&format!("(excerpt: {count} values, ")),
        "{count}: {}",
        shown
            .get(shown.len().saturating_sub(200)..)
            .unwrap_or_default()
    );
    assert!(
        shown.starts_with(r#"[[{"i":0,"s":"v0","b":true}"#),
        "{}",
        &shown[..40]
    );
    assert!(shown.len() < 5 * 1024, "{}", shown.len());
    assert!(!shown.contains("s3cret"), "the secret shows");
    assert!(ours.large_outputs.contains(&"every".to_owned()));
    assert!(theirs.large_outputs.contains(&"every".to_owned()));
    let secret = |names: &[String]| names.iter().any(|name| name == "every");
    assert!(secret(&ours.secret_outputs), "{:?}", ours.secret_outputs);
    assert!(
        secret(&theirs.secret_outputs),
        "{:?}",
        theirs.secret_outputs
    );
}

/// A list capture nobody reads, over a pretty-printed body: the values' JSON is well under
/// [`KEPT_BYTES`], but their text in the body (indented) is over it.
const PRETTY: &str = r#"
id: pretty
title: Pretty
steps:
  - id: get
    http:
      url: "http://api.test/x"
      capture:
        items: {jsonpath: "$.data[*]", all: true}
"#;

/// A pretty-printed body of `count` small objects, as many APIs send it.
fn pretty_body(count: usize) -> Vec<u8> {
    let items: Vec<String> = (0..count)
        .map(|i| format!("{{\n            \"i\": {i},\n            \"s\": \"v{i}\"\n        }}"))
        .collect();
    format!(
        "{{\n    \"data\": [\n        {}\n    ]\n}}",
        items.join(",\n        ")
    )
    .into_bytes()
}

/// Before its fix: the unread list is measured by its text in the body, whitespace and all, not by its
/// JSON as [`crate::kept::keep`] measures the built list. A list whose JSON is ~45 KiB (kept
/// whole by the tree path, and written to the journal) is shown as a stand-in excerpt and named
/// in `large_outputs` (so the journal drops it).
#[tokio::test]
async fn an_unread_list_whose_json_is_small_is_kept_whole_however_the_body_is_indented() {
    let body = pretty_body(2_000);
    assert!(body.len() > KEPT_BYTES);
    let tree_value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let compact = serde_json::to_string(&tree_value["data"]).unwrap_or_default();
    assert!(compact.len() < KEPT_BYTES, "{}", compact.len());
    let reading = format!(
        "{PRETTY}  - id: use\n    assert:\n      - {{that: \"{{{{steps.get.outputs.items}}}}\", \
         not_equals: \"x\"}}\n"
    );
    let bytes = run_with_body(PRETTY, &body).await;
    let tree = run_with_body(&reading, &body).await;
    assert_eq!(bytes.status, RunStatus::Succeeded, "{bytes:#?}");
    assert_eq!(tree.status, RunStatus::Succeeded, "{tree:#?}");
    let (ours, theirs) = (step_report(&bytes, "get"), step_report(&tree, "get"));
    assert_eq!(theirs.outputs["items"], tree_value["data"]);
    assert!(!theirs.large_outputs.contains(&"items".to_owned()));
    assert_eq!(
        ours.large_outputs.contains(&"items".to_owned()),
        theirs.large_outputs.contains(&"items".to_owned()),
        "{:?}",
        ours.large_outputs
    );
    assert_eq!(ours.outputs["items"], theirs.outputs["items"]);
}

const ESCAPED: &str = r#"
id: escaped
title: Escaped
steps:
  - id: get
    http:
      url: "http://api.test/x"
      discard_body: true
      capture:
        token: {jsonpath: "$.token", secret: true}
        every: {jsonpath: "$..*", all: true}
"#;

/// Before its fix: a secret the body writes with an escape no listed encoder uses for it (.NET's
/// System.Text.Json writes `+` as `\u002B`) is masked in the built list (its strings are
/// decoded), but the stand-in of an unread list is the body's raw text, redacted as text: the
/// secret shows in the report, escaped but whole.
#[tokio::test]
async fn an_unread_list_shows_no_escaped_form_of_a_secret() {
    let filler: Vec<String> = (0..8_000).map(|i| format!(r#"{{"i":{i}}}"#)).collect();
    let body = format!(
        r#"{{"a":{{"copy":"tok\u002Bs3cret-value"}},"data":[{}],"token":"tok\u002Bs3cret-value"}}"#,
        filler.join(",")
    )
    .into_bytes();
    assert!(body.len() > KEPT_BYTES);
    let bytes = run_with_body(ESCAPED, &body).await;
    assert_eq!(bytes.status, RunStatus::Succeeded, "{bytes:#?}");
    let ours = step_report(&bytes, "get");
    let shown = ours.outputs["every"].as_str().unwrap_or_default();
    assert!(shown.contains("excerpt"), "{shown}");
    assert!(
        !shown.contains(r"tok\u002Bs3cret-value") && !shown.contains("s3cret-value"),
        "the secret shows: {}",
        shown.get(..200).unwrap_or_default()
    );

    // The body's own excerpt (kept when the body is not discarded) masks it too.
    let kept = ESCAPED.replace("      discard_body: true\n", "");
    let bytes = run_with_body(&kept, &body).await;
    assert_eq!(bytes.status, RunStatus::Succeeded, "{bytes:#?}");
    let shown = step_report(&bytes, "get").outputs["body"].to_string();
    assert!(shown.contains("excerpt: the body is"), "{shown}");
    assert!(
        !shown.contains("s3cret-value"),
        "the secret shows: {}",
        shown.get(..200).unwrap_or_default()
    );
}
