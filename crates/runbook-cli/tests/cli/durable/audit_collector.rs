//! Audit records posted to a collector (`--audit-url`).

/// `--audit-url` POSTs every audit record, in order, to a collector, with the configured header;
/// secrets stay masked there too.
#[tokio::test(flavor = "multi_thread")]
async fn audit_records_are_posted_to_a_collector() {
    use wiremock::matchers::{header, method, path};
    let collector = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/audit"))
        .and(header("authorization", "Bearer collector-token"))
        .respond_with(wiremock::ResponseTemplate::new(204))
        .mount(&collector)
        .await;
    let sandbox = crate::support::Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"id: audited
title: Audited
inputs:
  token: {secret: true, env: AUDIT_TEST_TOKEN}
steps:
  - id: use
    shell:
      command: echo using {{inputs.token}}
  - id: event
    audit:
      action: demo.done
      context: {token_used: "{{steps.use.outputs.stdout}}"}
"#,
    );
    let url = format!("{}/audit", collector.uri());
    let output = sandbox.run_with_env(
        &["run", "rb.yaml", "--audit-url", &url],
        &[
            ("AUDIT_TEST_TOKEN", "canary-5d1f0a"),
            (
                "RUNBOOK_AUDIT_HEADER",
                "Authorization: Bearer collector-token",
            ),
        ],
    );
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    assert!(
        !output.stderr.contains("could not be delivered"),
        "{}",
        output.stderr
    );
    let received = collector.received_requests().await.unwrap_or_default();
    let kinds: Vec<String> = received
        .iter()
        .map(|request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
            body["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "step_finished",
            "event",
            "step_finished",
            "run_finished"
        ],
    );
    for request in &received {
        let body = String::from_utf8_lossy(&request.body);
        assert!(
            !body.contains("5d1f0a"),
            "secret reached the collector: {body}"
        );
    }

    // A collector that refuses is reported, and the run still completes with its file log.
    let refusing = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(500))
        .mount(&refusing)
        .await;
    let url = format!("{}/audit", refusing.uri());
    let output = sandbox.run_with_env(
        &["run", "rb.yaml", "--audit-url", &url],
        &[("AUDIT_TEST_TOKEN", "canary-5d1f0a")],
    );
    assert_eq!(output.code, 0, "{}\n{}", output.stdout, output.stderr);
    assert!(
        output
            .stderr
            .contains("5 audit record(s) could not be delivered"),
        "{}",
        output.stderr
    );
}
