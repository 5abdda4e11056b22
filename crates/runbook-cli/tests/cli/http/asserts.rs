//! Requests with headers and query strings, captures and typed assertions, and how a failed
//! assertion is reported.

use serde_json::json;
use wiremock::MockServer;

use super::helpers::{
    ACCOUNT_AND_ORDERS, KEY_ID, SECRET_KEY, header_of, mount_account, requests, run,
};
use crate::control::{assert_code, report, step};
use crate::support::Sandbox;

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
