//! A slow server, a response over the size limit and a refused connection fail clearly.

use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{closed_port, requests, run};
use crate::control::{assert_code, report, step};
use crate::support::Sandbox;

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
