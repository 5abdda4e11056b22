//! A secret answer appears nowhere, even when a server echoes it and a step prints it.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{CANARY, key_runbook, requests_of};
use crate::control::{assert_code, report, run_runbook, step};
use crate::support::Output;

/// Mounts an echo server: `/validate` answers with the secret it received, `/fail` answers 500
/// with it in the body (so the failure message would carry it).
async fn echo_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/validate"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"echo": CANARY, "note": format!("got {CANARY}")})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/fail"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("invalid key {CANARY}")))
        .mount(&server)
        .await;
    server
}

fn assert_no_canary(output: &Output) {
    assert!(
        !output.stdout.contains(CANARY),
        "secret in stdout:\n{}",
        output.stdout
    );
    assert!(
        !output.stderr.contains(CANARY),
        "secret in stderr:\n{}",
        output.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn leak_test_a_secret_answer_appears_nowhere_even_when_echoed_and_printed() {
    let answers =
        format!("enter_key:\n  key_id: AKNEW12345\n  environment: live\n  secret_key: {CANARY}\n");
    for format in ["human", "json"] {
        let server = echo_server().await;
        let output = run_runbook(
            &server,
            &key_runbook(),
            Some(&answers),
            &["--output", format],
        );
        // `fails_with_it` fails with the secret in the response body.
        assert_code(&output, 1);
        // The secret really flowed: the server got it in a header and the body.
        let received = requests_of(server.received_requests().await);
        assert_eq!(received.len(), 2, "{received:?}");
        assert_eq!(
            received[0]
                .headers
                .get("x-secret")
                .and_then(|v| v.to_str().ok()),
            Some(CANARY)
        );
        assert!(String::from_utf8_lossy(&received[0].body).contains(CANARY));
        assert_no_canary(&output);
        if format == "json" {
            let report = report(&output);
            let text = report.to_string();
            assert!(!text.contains(CANARY), "{report:#}");
            // The shell step printed it on both streams; the captures are masked, not dropped.
            let print = step(&report, "print");
            assert_eq!(print["outcome"], "passed", "{report:#}");
            assert_eq!(print["outputs"]["stdout"], "stdout ********", "{report:#}");
            assert_eq!(print["outputs"]["stderr"], "stderr ********", "{report:#}");
            let error = step(&report, "fails_with_it")["error"]["message"]
                .as_str()
                .unwrap();
            assert!(error.contains("invalid key ********"), "{error}");
        } else {
            assert!(
                output.stdout.contains("invalid key ********"),
                "{}",
                output.stdout
            );
        }
    }
}
