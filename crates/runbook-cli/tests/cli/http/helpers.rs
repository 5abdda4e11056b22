//! Helpers shared by the `http` step tests: credentials, the account fixture and its wiremock
//! mounts, running the binary, and reading its JSON report and the requests a server received.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{Output, Sandbox};

pub(super) const KEY_ID: &str = "AKTEST1234567890";
pub(super) const SECRET_KEY: &str = "sk-test-77c1e0a94b";

/// A live account as Alpaca returns it: money fields are strings.
pub(super) fn account_body() -> Value {
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
pub(super) fn run(
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

pub(super) fn requests(received: Option<Vec<Request>>) -> Vec<Request> {
    received.expect("wiremock records requests")
}

pub(super) fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// A port nothing listens on: bound, then released.
pub(super) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

pub(super) const ACCOUNT_AND_ORDERS: &str = r#"
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

pub(super) async fn mount_account(server: &MockServer, orders: Value) {
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
