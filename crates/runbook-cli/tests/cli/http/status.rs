//! Expected and unexpected status codes, and the steps reported not run after a failure.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{requests, run};
use crate::control::{assert_code, report, step};
use crate::support::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn expected_status_as_one_code_and_as_a_list() {
    let server = MockServer::start().await;
    let order_id = "61e69015-8549-4bfd-b9c3-01e75843f47d";
    Mock::given(method("POST"))
        .and(path("/v2/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": order_id,
            "client_order_id": "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4",
            "symbol": "AAPL",
            "qty": "1",
            "status": "accepted"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/orders/{order_id}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: place-and-cancel
title: Place and cancel a check order
inputs:
  base_url: {type: string}
steps:
  - id: place
    http:
      method: POST
      url: "{{inputs.base_url}}/v2/orders"
      json: {symbol: AAPL, qty: "1", side: buy, type: limit, limit_price: "1.00", time_in_force: day}
      expect_status: 200
      capture:
        order_id: $.id
        order_status: $.status
      assert:
        - that: "{{outputs.order_status}}"
          one_of: [accepted, pending_new, new]
  - id: cancel
    http:
      method: delete
      url: "{{inputs.base_url}}/v2/orders/{{steps.place.outputs.order_id}}"
      expect_status: [204, 404]
  - id: cancelled
    assert:
      - that: "{{steps.cancel.outputs.status}}"
        equals: 204
      - that: "{{steps.cancel.outputs.body}}"
        is_empty: true
"#,
    );
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], true);
    assert_code(&output, 0);
    let report = report(&output);
    assert_eq!(step(&report, "place")["outputs"]["status"], json!(200));
    assert_eq!(
        step(&report, "place")["outputs"]["order_id"],
        json!(order_id)
    );
    assert_eq!(step(&report, "cancel")["outputs"]["status"], json!(204));
    assert_eq!(step(&report, "cancel")["outputs"]["body"], json!(""));

    let received = requests(server.received_requests().await);
    let methods: Vec<&str> = received.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "DELETE"]);
    assert_eq!(received[1].url.path(), format!("/v2/orders/{order_id}"));
    assert!(received[1].body.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unexpected_status_fails_with_expected_got_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 40110000, "message": "request is not authorized"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: old-key
title: The old key no longer works
inputs:
  base_url: {type: string}
steps:
  - id: default_status
    name: Any 2xx expected
    http:
      url: "{{inputs.base_url}}/v2/account"
      headers: {APCA-API-KEY-ID: OLDKEY}
"#,
    );
    sandbox.write(
        "listed.yaml",
        r#"
id: old-key
title: The old key no longer works
inputs:
  base_url: {type: string}
steps:
  - id: listed_status
    http:
      url: "{{inputs.base_url}}/v2/account?page=2"
      expect_status: [200, 403]
"#,
    );

    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], false);
    assert_code(&output, 1);
    let expected = format!(
        "GET {}/v2/account: expected a 2xx status, got 401",
        server.uri()
    );
    assert!(output.stdout.contains(&expected), "{}", output.stdout);
    assert!(
        output
            .stdout
            .contains(r#"body: {"code":40110000,"message":"request is not authorized"}"#),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("failed at step `default_status`"),
        "{}",
        output.stdout
    );

    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "unauthorized."})))
        .expect(1)
        .mount(&server)
        .await;
    let output = run(&sandbox, "listed.yaml", &server.uri(), &[], true);
    assert_code(&output, 1);
    let report = report(&output);
    assert_eq!(report["status"], "failed");
    assert_eq!(report["failed_step"], "listed_status");
    let error = &step(&report, "listed_status")["error"];
    assert_eq!(error["kind"], "unexpected_result");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("expected status 200 or 403, got 401"),
        "{message}"
    );
    assert!(
        message.contains(r#"{"message":"unauthorized."}"#),
        "{message}"
    );
    // The query is not shown in the message (it may carry tokens).
    assert!(!message.contains("page=2"), "{message}");
    let received = requests(server.received_requests().await);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].url.query(), Some("page=2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn later_steps_are_reported_not_run_after_a_failure() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/v2/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(0)
        .named("a step after the failure")
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: stops
title: Stops at the first failure
inputs:
  base_url: {type: string}
steps:
  - id: account
    name: Read the account
    http:
      url: "{{inputs.base_url}}/v2/account"
  - id: orders
    name: List open orders
    http:
      url: "{{inputs.base_url}}/v2/orders"
  - id: touch
    name: Touch a file
    shell:
      command: touch should-not-exist
"#,
    );
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], true);
    assert_code(&output, 1);
    let report = report(&output);
    assert_eq!(report["failed_step"], "account");
    assert_eq!(step(&report, "account")["outcome"], "failed");
    for id in ["orders", "touch"] {
        let later = step(&report, id);
        assert_eq!(later["outcome"], "not_run", "{later:#}");
        assert!(later.get("error").is_none(), "{later:#}");
        assert!(later.get("outputs").is_none(), "{later:#}");
    }
    assert!(!sandbox.path().join("should-not-exist").exists());

    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], false);
    assert_code(&output, 1);
    assert!(
        output.stdout.contains("failed at step `account`"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("0 passed, 1 failed, 2 not run"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("upstream exploded"),
        "{}",
        output.stdout
    );
    let received = requests(server.received_requests().await);
    assert!(
        received.iter().all(|r| r.url.path() == "/v2/account"),
        "{received:?}"
    );
}

/// The terminal names each step that did not run, not just their count.
#[tokio::test(flavor = "multi_thread")]
async fn human_output_names_the_steps_not_run() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/account"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: stops
title: Stops at the first failure
inputs:
  base_url: {type: string}
steps:
  - id: account
    name: Read the account
    http:
      url: "{{inputs.base_url}}/v2/account"
  - id: orders
    name: List open orders
    http:
      url: "{{inputs.base_url}}/v2/orders"
"#,
    );
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], false);
    assert_code(&output, 1);
    assert!(
        output.stdout.contains("\n  not run: [2/2] `orders`\n"),
        "{}",
        output.stdout
    );
}
