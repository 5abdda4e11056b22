//! The point of no return.

use serde_json::json;
use wiremock::MockServer;

use super::helpers::{
    accept_posts, assert_code, posts, recorded, report, respond, run_runbook, step,
};

const IRREVERSIBLE: &str = r#"
id: irreversible
title: Past the point of no return
inputs:
  base_url: {type: string}
steps:
  - id: pause
    http: {method: POST, url: "{{inputs.base_url}}/pause"}
    rollback:
      - id: unpause
        http: {method: POST, url: "{{inputs.base_url}}/unpause"}
  - id: regenerate_key
    irreversible: true
    http: {method: POST, url: "{{inputs.base_url}}/regenerate"}
  - id: verify
    http: {method: POST, url: "{{inputs.base_url}}/verify"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_after_an_irreversible_step_says_so() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(&server, IRREVERSIBLE, None, &[]);
    assert_code(&output, 10);
    assert_eq!(
        recorded(&server).await,
        posts(&["/pause", "/regenerate", "/verify", "/unpause"])
    );
    let summary = output
        .stdout
        .lines()
        .find(|line| line.contains("point of no return passed"))
        .unwrap_or_else(|| panic!("no point-of-no-return summary:\n{}", output.stdout));
    assert!(summary.contains("`regenerate_key`"), "{summary}");

    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/verify", 500).await;
    let output = run_runbook(&server, IRREVERSIBLE, None, &["--output", "json"]);
    assert_code(&output, 10);
    let report = report(&output);
    assert_eq!(report["irreversible_done"], json!(["regenerate_key"]));
    assert_eq!(step(&report, "regenerate_key")["irreversible"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_before_the_irreversible_step_does_not_claim_it() {
    let server = MockServer::start().await;
    accept_posts(&server).await;
    respond(&server, "/regenerate", 500).await;
    let output = run_runbook(&server, IRREVERSIBLE, None, &["--output", "json"]);
    assert_code(&output, 10);
    let report = report(&output);
    assert!(report.get("irreversible_done").is_none(), "{report:#}");
}

/// The failure path can read what a failed step produced (its HTTP status and body) and why the
/// run failed; a step that failed before producing anything stays undefined.
#[tokio::test(flavor = "multi_thread")]
async fn the_failure_path_reads_the_failed_steps_status_and_the_failure() {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/order"))
        .respond_with(
            wiremock::ResponseTemplate::new(422)
                .set_body_json(serde_json::json!({"message": "insufficient buying power"})),
        )
        .mount(&server)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path("/report"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let sandbox = crate::support::Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"id: failed-outputs
title: Failure path reads the failed step
inputs:
  base_url: {type: string}
steps:
  - id: order
    http: {method: POST, url: "{{inputs.base_url}}/order", expect_status: 200}
on_failure:
  - id: report
    http:
      method: POST
      url: "{{inputs.base_url}}/report"
      json:
        step: "{{run.failed_step}}"
        status: "{{steps.order.outputs.status}}"
        reason: "{{steps.order.outputs.body.message}}"
        failure: "{{run.failure}}"
"#,
    );
    let output = sandbox.run(&[
        "run",
        "rb.yaml",
        "--input",
        &format!("base_url={}", server.uri()),
    ]);
    assert_eq!(output.code, 10, "{}\n{}", output.stdout, output.stderr);
    let requests = server.received_requests().await.unwrap_or_default();
    let report = requests
        .iter()
        .find(|request| request.url.path() == "/report")
        .unwrap_or_else(|| panic!("no report sent:\n{}", output.stdout));
    let body: serde_json::Value = serde_json::from_slice(&report.body).unwrap_or_default();
    assert_eq!(body["step"], "order");
    assert_eq!(body["status"], 422, "a number stays a number: {body}");
    assert_eq!(body["reason"], "insufficient buying power");
    assert!(
        body["failure"]
            .as_str()
            .is_some_and(|failure| failure.contains("expected status 200, got 422")),
        "{body}"
    );
}
