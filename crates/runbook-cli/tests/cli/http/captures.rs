//! Header and body captures, the JSON report, and a capture from a body that is not JSON.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{account_body, header_of, requests, run};
use crate::control::{assert_code, report, step};
use crate::support::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn header_capture_and_json_report() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/clock"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Request-Id", "req-5b1f")
                .insert_header("X-Ratelimit-Remaining", "199")
                .set_body_json(json!({"is_open": false})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: clock
title: Clock
inputs:
  base_url: {type: string}
steps:
  - id: clock
    http:
      url: "{{inputs.base_url}}/v2/clock"
      capture:
        request_id: {header: x-request-id}
        remaining: {header: X-RateLimit-Remaining}
        is_open: $.is_open
      assert:
        - that: "{{outputs.request_id}}"
          starts_with: req-
        - that: "{{outputs.headers.x-ratelimit-remaining}}"
          equals: "199"
  - id: missing
    http:
      url: "{{inputs.base_url}}/v2/clock"
      capture:
        etag: {header: ETag}
"#,
    );
    // The second step wants a header the response does not have: the run fails there.
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], true);
    assert_code(&output, 1);
    let report = report(&output);
    assert_eq!(report["runbook"], "clock");
    assert_eq!(report["title"], "Clock");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["failed_step"], "missing");
    assert_eq!(report["inputs"]["base_url"], json!(server.uri()));
    assert!(report["duration_ms"].is_u64());
    assert!(report["started_at"].is_string());
    let clock = step(&report, "clock");
    assert_eq!(clock["kind"], "http");
    assert_eq!(clock["outcome"], "passed");
    assert_eq!(clock["outputs"]["request_id"], json!("req-5b1f"));
    assert_eq!(clock["outputs"]["remaining"], json!("199"));
    assert_eq!(clock["outputs"]["status"], json!(200));
    assert_eq!(clock["outputs"]["body"], json!({"is_open": false}));
    assert_eq!(clock["outputs"]["is_open"], json!(false));
    assert_eq!(
        clock["outputs"]["headers"]["x-request-id"],
        json!("req-5b1f")
    );
    let missing = step(&report, "missing");
    assert_eq!(missing["outcome"], "failed");
    assert_eq!(missing["error"]["kind"], "capture");
    let message = missing["error"]["message"].as_str().unwrap();
    assert!(message.contains("capture `etag`"), "{message}");
    assert!(
        message.to_lowercase().contains("no `etag` header"),
        "{message}"
    );
    assert_eq!(requests(server.received_requests().await).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_body_is_rendered_with_types() {
    let server = MockServer::start().await;
    let expected_body = json!({
        "symbol": "AAPL",
        "qty": 2,
        "notional": 10.5,
        "extended_hours": false,
        "side": "buy",
        "client_order_id": "rotation-check-2",
        "limit_price": "123346.11",
        "legs": [{"symbol": "AAPL", "ratio": 1}],
        "note": null,
        "text_with_braces": "literal } and { braces"
    });
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_body()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/orders"))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected_body))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "o-1", "status": "accepted"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: post-order
title: Post an order
inputs:
  base_url: {type: string}
  symbol: {type: string, default: AAPL}
  qty: {type: integer}
  notional: {type: number}
  extended: {type: boolean}
steps:
  - id: account
    http:
      url: "{{inputs.base_url}}/v2/account"
      capture:
        equity: $.equity
  - id: order
    http:
      method: POST
      url: "{{inputs.base_url}}/v2/orders"
      json:
        symbol: "{{inputs.symbol}}"
        qty: "{{inputs.qty}}"
        notional: "{{inputs.notional}}"
        extended_hours: "{{inputs.extended}}"
        side: buy
        client_order_id: "rotation-check-{{inputs.qty}}"
        limit_price: "{{steps.account.outputs.equity}}"
        legs:
          - symbol: "{{inputs.symbol}}"
            ratio: 1
        note: null
        text_with_braces: "literal } and { braces"
      expect_status: 200
"#,
    );
    let output = run(
        &sandbox,
        "rb.yaml",
        &server.uri(),
        &[("qty", "2"), ("notional", "10.5"), ("extended", "false")],
        false,
    );
    assert_code(&output, 0);
    let received = requests(server.received_requests().await);
    assert_eq!(received.len(), 2);
    let post = &received[1];
    assert_eq!(post.method.as_str(), "POST");
    assert_eq!(header_of(post, "content-type"), Some("application/json"));
    let body: Value = post.body_json().expect("the body is JSON");
    assert_eq!(body, expected_body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_from_a_body_that_is_not_json_fails_clearly() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/account"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("<html>maintenance</html>", "text/html"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: html
title: HTML
inputs:
  base_url: {type: string}
steps:
  - id: account
    http:
      url: "{{inputs.base_url}}/v2/account"
      capture:
        account_number: $.account_number
"#,
    );
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], true);
    assert_code(&output, 1);
    let report = report(&output);
    let error = &step(&report, "account")["error"];
    assert_eq!(error["kind"], "capture");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("capture `account_number`"), "{message}");
    assert!(message.contains("the body is not JSON"), "{message}");
}
