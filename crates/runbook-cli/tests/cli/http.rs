//! `http` steps end to end: the real binary against real wiremock servers. Every test checks what the
//! server received as well as what the binary printed and how it exited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{Output, Sandbox};

const KEY_ID: &str = "AKTEST1234567890";
const SECRET_KEY: &str = "sk-test-77c1e0a94b";

/// A live account as Alpaca returns it: money fields are strings.
fn account_body() -> Value {
    json!({
        "id": "904837e3-3b76-47ec-b432-046db621571b",
        "account_number": "010203ABCD",
        "status": "ACTIVE",
        "currency": "USD",
        "cash": "4000.32",
        "equity": "123346.11",
        "multiplier": 4,
        "pattern_day_trader": false,
        "trading_blocked": false
    })
}

/// Runs `runbook run FILE --input base_url=URI [--input k=v]... [--output json]`.
fn run(
    sandbox: &Sandbox,
    file: &str,
    base_url: &str,
    inputs: &[(&str, &str)],
    json: bool,
) -> Output {
    let mut args: Vec<String> = vec![
        "run".into(),
        file.into(),
        "--input".into(),
        format!("base_url={base_url}"),
    ];
    for (name, value) in inputs {
        args.push("--input".into());
        args.push(format!("{name}={value}"));
    }
    if json {
        args.push("--output".into());
        args.push("json".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandbox.run(&args)
}

/// The `--output json` report.
fn report(output: &Output) -> Value {
    serde_json::from_str(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not a JSON report ({error}):\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    })
}

fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["id"] == id))
        .unwrap_or_else(|| panic!("no step `{id}` in report:\n{report:#}"))
}

fn requests(received: Option<Vec<Request>>) -> Vec<Request> {
    received.expect("wiremock records requests")
}

fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

const ACCOUNT_AND_ORDERS: &str = r#"
id: account-and-orders
title: Account and open orders
inputs:
  base_url: {type: string}
  key_id: {type: string}
  secret_key: {type: string, secret: true}
  expected_account: {type: string}
  page_size: {type: integer, default: 50}
steps:
  - id: account
    name: Read the account
    http:
      url: "{{inputs.base_url}}/v2/account"
      headers:
        APCA-API-KEY-ID: "{{inputs.key_id}}"
        APCA-API-SECRET-KEY: "{{inputs.secret_key}}"
      capture:
        account_number: $.account_number
        equity: $.equity
        cash: $.cash
        multiplier: $.multiplier
        blocked: $.trading_blocked
      assert:
        - that: "{{outputs.account_number}}"
          equals: "{{inputs.expected_account}}"
          message: the key belongs to another account
        - that: "{{outputs.status}}"
          equals: 200
        - that: "{{outputs.multiplier}}"
          equals: 4
  - id: orders
    name: List open orders
    http:
      url: "{{inputs.base_url}}/v2/orders"
      headers:
        APCA-API-KEY-ID: "{{inputs.key_id}}"
        APCA-API-SECRET-KEY: "{{inputs.secret_key}}"
      query:
        status: open
        limit: "{{inputs.page_size}}"
        nested: true
      capture:
        open_orders: $
  - id: checks
    name: Check what was captured
    assert:
      - that: "{{steps.account.outputs.equity}}"
        equals: "123346.11"
      - that: "{{steps.account.outputs.equity}}"
        not_equals: 123346.11
        message: money is a string, not a float
      - that: "{{steps.account.outputs.multiplier}}"
        greater_than: 3
      - that: "{{steps.account.outputs.blocked}}"
        equals: false
      - that: "{{steps.orders.outputs.open_orders}}"
        length: 0
        message: open orders must be cancelled first
      - that: "{{steps.orders.outputs.open_orders}}"
        is_empty: true
"#;

async fn mount_account(server: &MockServer, orders: Value) {
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .and(header("APCA-API-KEY-ID", KEY_ID))
        .and(header("APCA-API-SECRET-KEY", SECRET_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_body()))
        .expect(1)
        .named("GET /v2/account")
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/orders"))
        .and(query_param("status", "open"))
        .and(header("APCA-API-KEY-ID", KEY_ID))
        .and(header("APCA-API-SECRET-KEY", SECRET_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(orders))
        .expect(1)
        .named("GET /v2/orders")
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_with_headers_query_captures_and_typed_assertions() {
    let server = MockServer::start().await;
    mount_account(&server, json!([])).await;
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", ACCOUNT_AND_ORDERS);

    let output = run(
        &sandbox,
        "rb.yaml",
        &server.uri(),
        &[
            ("key_id", KEY_ID),
            ("secret_key", SECRET_KEY),
            ("expected_account", "010203ABCD"),
        ],
        true,
    );
    assert_code(&output, 0);
    let report = report(&output);
    assert_eq!(report["status"], "succeeded", "{report:#}");
    assert!(report.get("failed_step").is_none(), "{report:#}");

    let account = step(&report, "account");
    assert_eq!(account["outcome"], "passed");
    assert_eq!(account["outputs"]["status"], json!(200));
    // Money stays a string, exactly as sent; a number stays a number; a boolean a boolean.
    assert_eq!(account["outputs"]["equity"], json!("123346.11"));
    assert_eq!(account["outputs"]["cash"], json!("4000.32"));
    assert_eq!(account["outputs"]["multiplier"], json!(4));
    assert_eq!(account["outputs"]["blocked"], json!(false));
    assert_eq!(account["outputs"]["account_number"], json!("010203ABCD"));
    let orders = step(&report, "orders");
    assert_eq!(orders["outputs"]["open_orders"], json!([]));
    assert_eq!(step(&report, "checks")["outcome"], "passed");
    // The secret header value is an input marked secret: masked in the report's inputs.
    assert_eq!(report["inputs"]["secret_key"], json!("********"));
    assert_eq!(report["inputs"]["page_size"], json!(50));

    let received = requests(server.received_requests().await);
    assert_eq!(received.len(), 2, "{received:?}");
    let account_request = &received[0];
    assert_eq!(account_request.method.as_str(), "GET");
    assert_eq!(account_request.url.path(), "/v2/account");
    assert_eq!(account_request.url.query(), None);
    assert_eq!(header_of(account_request, "apca-api-key-id"), Some(KEY_ID));
    assert_eq!(
        header_of(account_request, "apca-api-secret-key"),
        Some(SECRET_KEY)
    );
    assert!(
        header_of(account_request, "user-agent").is_some_and(|agent| agent.starts_with("runbook/")),
        "{:?}",
        account_request.headers
    );
    let orders_request = &received[1];
    assert_eq!(orders_request.url.path(), "/v2/orders");
    let mut query: Vec<(String, String)> = orders_request.url.query_pairs().into_owned().collect();
    query.sort();
    assert_eq!(
        query,
        vec![
            ("limit".to_owned(), "50".to_owned()),
            ("nested".to_owned(), "true".to_owned()),
            ("status".to_owned(), "open".to_owned()),
        ]
    );
    assert_eq!(
        header_of(orders_request, "apca-api-secret-key"),
        Some(SECRET_KEY)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn own_assert_failure_shows_expected_and_actual_and_exits_4() {
    let server = MockServer::start().await;
    mount_account(&server, json!([])).await;
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", ACCOUNT_AND_ORDERS);

    let output = run(
        &sandbox,
        "rb.yaml",
        &server.uri(),
        &[
            ("key_id", KEY_ID),
            ("secret_key", SECRET_KEY),
            ("expected_account", "PA3XYZ12345"),
        ],
        false,
    );
    assert_code(&output, 4);
    assert!(
        output.stdout.contains("the key belongs to another account"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains(r#"expected (equals): "PA3XYZ12345" (string)"#),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains(r#"actual: "010203ABCD" (string)"#),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("failed at step `account`"),
        "{}",
        output.stdout
    );
    // The orders request was never made: the mock expecting one call must see none.
    let received = requests(server.received_requests().await);
    assert_eq!(received.len(), 1, "{received:?}");
    server.reset().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn later_assert_step_on_non_empty_orders_fails_with_exit_4() {
    let server = MockServer::start().await;
    let orders =
        json!([{"id": "61e69015-8549-4bfd-b9c3-01e75843f47d", "symbol": "AAPL", "status": "new"}]);
    mount_account(&server, orders.clone()).await;
    let sandbox = Sandbox::new();
    sandbox.write("rb.yaml", ACCOUNT_AND_ORDERS);

    let output = run(
        &sandbox,
        "rb.yaml",
        &server.uri(),
        &[
            ("key_id", KEY_ID),
            ("secret_key", SECRET_KEY),
            ("expected_account", "010203ABCD"),
        ],
        true,
    );
    assert_code(&output, 4);
    let report = report(&output);
    assert_eq!(report["failed_step"], "checks");
    assert_eq!(step(&report, "orders")["outputs"]["open_orders"], orders);
    let error = &step(&report, "checks")["error"];
    assert_eq!(error["kind"], "assertion");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("open orders must be cancelled first"),
        "{message}"
    );
    assert!(message.contains("actual length 1"), "{message}");
}

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
async fn a_slow_server_times_out_with_exit_5() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .expect(1)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: slow
title: Slow
inputs:
  base_url: {type: string}
steps:
  - id: slow
    name: Slow endpoint
    timeout: 300ms
    http:
      url: "{{inputs.base_url}}/slow"
  - id: after
    shell:
      command: "true"
"#,
    );
    let started = Instant::now();
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], true);
    let elapsed = started.elapsed();
    assert_code(&output, 5);
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    let report = report(&output);
    assert_eq!(report["failed_step"], "slow");
    let error = &step(&report, "slow")["error"];
    assert_eq!(error["kind"], "timeout");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("300ms"), "{message}");
    assert!(message.contains("no complete response within"), "{message}");
    assert_eq!(step(&report, "after")["outcome"], "not_run");
    assert_eq!(requests(server.received_requests().await).len(), 1);
}

/// A redirect to another origin (a second server) is never followed, with or without
/// `follow_redirects`: the credential header must not reach it.
#[tokio::test(flavor = "multi_thread")]
async fn cross_origin_redirect_is_not_followed() {
    let origin = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let target = format!("{}/v2/account", elsewhere.uri());
    Mock::given(path("/v2/account"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", target.as_str()))
        .mount(&origin)
        .await;
    // A same-origin hop first, then the cross-origin one.
    Mock::given(path("/hop"))
        .respond_with(ResponseTemplate::new(307).insert_header("Location", "/v2/account"))
        .mount(&origin)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(account_body()))
        .expect(0)
        .named("the other origin")
        .mount(&elsewhere)
        .await;

    let sandbox = Sandbox::new();
    let runbook = |follow: bool, path: &str| {
        format!(
            r#"
id: redirect
title: Redirect
inputs:
  base_url: {{type: string}}
  secret_key: {{type: string, secret: true}}
steps:
  - id: account
    http:
      url: "{{{{inputs.base_url}}}}{path}"
      follow_redirects: {follow}
      headers:
        APCA-API-KEY-ID: {KEY_ID}
        APCA-API-SECRET-KEY: "{{{{inputs.secret_key}}}}"
"#
        )
    };
    for (file, follow, path) in [
        ("no-follow.yaml", false, "/v2/account"),
        ("follow.yaml", true, "/v2/account"),
        ("follow-hop.yaml", true, "/hop"),
    ] {
        sandbox.write(file, &runbook(follow, path));
        let output = run(
            &sandbox,
            file,
            &origin.uri(),
            &[("secret_key", SECRET_KEY)],
            false,
        );
        assert_code(&output, 1);
        assert!(
            output.stdout.contains("got 302"),
            "{file}: {}",
            output.stdout
        );
        assert!(
            output
                .stdout
                .contains(&format!("redirect to {target} was not followed")),
            "{file}: {}",
            output.stdout
        );
        let received = requests(elsewhere.received_requests().await);
        assert!(
            received.is_empty(),
            "{file}: the other origin received {received:?}"
        );
    }
    // The origin saw every request, with the credentials it is entitled to.
    let received = requests(origin.received_requests().await);
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, ["/v2/account", "/v2/account", "/hop", "/v2/account"]);
    assert!(
        received
            .iter()
            .all(|r| header_of(r, "apca-api-secret-key") == Some(SECRET_KEY))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn same_origin_redirect_is_followed_only_when_asked_and_sends_no_referer() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/old-account"))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", "/v2/account"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/account"))
        .and(header("APCA-API-SECRET-KEY", SECRET_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(account_body()))
        .expect(1)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    let runbook = |follow: bool| {
        format!(
            r#"
id: redirect
title: Redirect
inputs:
  base_url: {{type: string}}
steps:
  - id: account
    http:
      url: "{{{{inputs.base_url}}}}/v2/old-account"
      follow_redirects: {follow}
      headers:
        APCA-API-SECRET-KEY: {SECRET_KEY}
      capture:
        account_number: $.account_number
"#
        )
    };
    sandbox.write("follow.yaml", &runbook(true));
    sandbox.write("no-follow.yaml", &runbook(false));

    let output = run(&sandbox, "follow.yaml", &server.uri(), &[], true);
    assert_code(&output, 0);
    let report = report(&output);
    assert_eq!(
        step(&report, "account")["outputs"]["account_number"],
        "010203ABCD"
    );
    assert_eq!(step(&report, "account")["outputs"]["status"], json!(200));

    let output = run(&sandbox, "no-follow.yaml", &server.uri(), &[], false);
    assert_code(&output, 1);
    assert!(output.stdout.contains("got 301"), "{}", output.stdout);
    assert!(
        output
            .stdout
            .contains("redirect to /v2/account was not followed"),
        "{}",
        output.stdout
    );

    let received = requests(server.received_requests().await);
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, ["/v2/old-account", "/v2/account", "/v2/old-account"]);
    for request in &received {
        assert_eq!(header_of(request, "referer"), None, "{:?}", request.headers);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_larger_than_the_limit_fails_clearly() {
    let server = MockServer::start().await;
    let big = format!("{{\"padding\": \"{}\"}}", "x".repeat(4096));
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(big.clone(), "application/json"))
        .expect(2)
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: big
title: Big
inputs:
  base_url: {type: string}
  limit: {type: integer}
steps:
  - id: big
    http:
      url: "{{inputs.base_url}}/big"
      max_response_bytes: 1024
"#,
    );
    sandbox.write(
        "enough.yaml",
        r#"
id: big
title: Big
inputs:
  base_url: {type: string}
steps:
  - id: big
    http:
      url: "{{inputs.base_url}}/big"
      max_response_bytes: 8192
      capture:
        padding: $.padding
      assert:
        - that: "{{outputs.padding}}"
          length: 4096
"#,
    );
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[("limit", "1")], false);
    assert_code(&output, 1);
    assert!(
        output.stdout.contains("response body exceeds 1024 bytes"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("max_response_bytes"),
        "{}",
        output.stdout
    );
    assert!(
        !output.stdout.contains("xxxxxxxxxx"),
        "the body is not dumped: {}",
        output.stdout
    );

    let output = run(&sandbox, "enough.yaml", &server.uri(), &[], false);
    assert_code(&output, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused_fails_clearly() {
    let port = closed_port();
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: refused
title: Refused
inputs:
  base_url: {type: string}
steps:
  - id: account
    http:
      url: "{{inputs.base_url}}/v2/account"
      query: {token: abc123}
"#,
    );
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let output = run(&sandbox, "rb.yaml", &base, &[], true);
    assert_code(&output, 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let report = report(&output);
    let error = &step(&report, "account")["error"];
    assert_eq!(error["kind"], "transport");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("GET {base}/v2/account: request failed")),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(
        !message.contains("abc123"),
        "the query is not shown: {message}"
    );
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

#[tokio::test(flavor = "multi_thread")]
async fn a_same_origin_redirect_loop_stops() {
    let server = MockServer::start().await;
    Mock::given(path("/loop"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/loop"))
        .mount(&server)
        .await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: loop
title: Loop
inputs:
  base_url: {type: string}
steps:
  - id: loop
    timeout: 10s
    http:
      url: "{{inputs.base_url}}/loop"
      follow_redirects: true
"#,
    );
    let started = Instant::now();
    let output = run(&sandbox, "rb.yaml", &server.uri(), &[], false);
    assert_code(&output, 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(output.stdout.contains("got 302"), "{}", output.stdout);
    let received = requests(server.received_requests().await);
    assert!(
        (2..=7).contains(&received.len()),
        "{} requests",
        received.len()
    );
}
