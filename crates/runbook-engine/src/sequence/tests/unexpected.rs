//! An http step answered with a status it does not expect: the message quotes the start of the
//! body, masked, and the failed step's `body` output follows the same rules as an expected one's.

use super::partial::run_with_body;
use super::support::step_report;
use crate::kept::KEPT_BYTES;
use crate::report::RunStatus;

const UNEXPECTED: &str = r#"
id: unexpected
title: Unexpected
steps:
  - id: get
    http:
      url: "http://api.test/x"
      capture:
        token: {jsonpath: "$.token", secret: true}
  - id: again
    http:
      url: "http://api.test/x"
      expect_status: 201
"#;

/// A body with a secret the server escaped its own way (.NET's System.Text.Json writes `+` as
/// `\u002B`), first, then `filler` small objects.
fn escaped_body(filler: usize) -> Vec<u8> {
    let items: Vec<String> = (0..filler).map(|i| format!(r#"{{"i":{i}}}"#)).collect();
    format!(
        r#"{{"error":"bad key tok\u002Bs3cret-value","token":"tok\u002Bs3cret-value","data":[{}]}}"#,
        items.join(",")
    )
    .into_bytes()
}

/// Before its fix: the message quoted the body's raw text, redacted as text, so the secret showed there,
/// escaped but whole.
#[tokio::test]
async fn the_message_of_an_unexpected_status_shows_no_escaped_form_of_a_secret() {
    for filler in [0, 8_000] {
        let body = escaped_body(filler);
        assert_eq!(body.len() > KEPT_BYTES, filler > 0);
        let report = run_with_body(UNEXPECTED, &body).await;
        assert_eq!(report.status, RunStatus::Failed, "{report:#?}");
        let again = step_report(&report, "again");
        let message = again
            .error
            .as_ref()
            .map(|error| error.message.clone())
            .unwrap_or_default();
        assert!(
            message.contains("expected status 201, got 200"),
            "{message}"
        );
        assert!(message.contains("body: {\"error\":\"bad key "), "{message}");
        // What the failure path may read: the tree, unless the body is large and nothing reads it.
        let body = &again.outputs["body"];
        if filler == 0 {
            assert_eq!(body["data"], serde_json::json!([]), "{body}");
        } else {
            let shown = body.as_str().unwrap_or_default();
            assert!(shown.contains("excerpt: the body is"), "{shown}");
        }
        let everything = format!("{report:?}");
        assert!(
            !everything.contains("s3cret-value"),
            "the secret shows ({filler} filler items): {message}"
        );
    }
}
