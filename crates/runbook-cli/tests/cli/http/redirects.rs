//! Redirects: never across origins, same-origin only when asked, and a loop stops.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{KEY_ID, SECRET_KEY, account_body, header_of, requests, run};
use crate::control::{assert_code, report, step};
use crate::support::Sandbox;

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
