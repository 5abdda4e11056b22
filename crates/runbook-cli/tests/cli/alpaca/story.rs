//! The expected story: answers files, timeline lines, and the assertions several tests share.

use super::*;

pub(super) fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        output.stdout, output.stderr
    );
}

/// The answers of the happy path: the preconditions confirmed, LIVE typed, the new pair entered.
pub(super) fn answers(new_keys: &[(&str, &str)]) -> String {
    answers_mqa(new_keys, "no")
}

/// The answers, with `holds_keys` as the operator's answer about MQ-A.
pub(super) fn answers_mqa(new_keys: &[(&str, &str)], holds_keys: &str) -> String {
    let mut text = format!(
        "preconditions:\n  confirm: true\nmqa_holds_keys:\n  holds_keys: \"{holds_keys}\"\n\
         confirm_live_dashboard:\n  phrase: LIVE\nnew_key:\n",
    );
    for (key_id, secret) in new_keys {
        text.push_str(&format!("  - {{key_id: {key_id}, secret_key: {secret}}}\n"));
    }
    text
}

pub(super) fn s(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

pub(super) const PAUSE: &str = "heroku PATCH raxx-api-prod TRADING_LIVE_DISABLED=1 -> 200";
pub(super) const RESUME: &str = "heroku PATCH raxx-api-prod TRADING_LIVE_DISABLED=0 -> 200";
pub(super) const PROPAGATE: &str = "heroku PATCH raxx-api-prod ALPACA_LIVE_API_KEY_ID=NEW_KEY_ID ALPACA_LIVE_API_SECRET_KEY=NEW_SECRET -> 200";
pub(super) const HEALTH_LIVE: &str = "raxx GET /health/trading -> live_enabled=true";
pub(super) const HEALTH_PAUSED: &str = "raxx GET /health/trading -> live_enabled=false";
pub(super) const OPEN_ORDERS: &str = "alpaca GET /v2/orders?status=open as CURRENT_KEY_ID -> 200";
pub(super) const SNAPSHOT: &str = "alpaca GET /v2/account as CURRENT_KEY_ID -> 200";
pub(super) const VALIDATE_NEW: &str = "alpaca GET /v2/account as NEW_KEY_ID -> 200";
pub(super) const DOWNSTREAM: &str = "raxx GET /api/trading/account?mode=live -> 200 123456789";
pub(super) const CHECK_ORDER: &str = "raxx POST /api/trading/orders \"AAPL\" 1.0 -> 200 ORDER_ID";
pub(super) const CANCEL: &str = "raxx DELETE /api/trading/orders/ORDER_ID -> 204";
pub(super) const CANCELED: &str = "raxx GET /api/trading/orders/ORDER_ID -> 200 canceled";
pub(super) const PREFLIGHT_HEROKU: &str = "heroku GET raxx-api-prod -> 200";
pub(super) const OLD_KEY_DEAD: &str = "alpaca GET /v2/account as CURRENT_KEY_ID -> 401";

/// The read-only pre-flight: the current key, the Heroku app, the infisical CLI.
pub(super) fn preflight() -> Vec<String> {
    s(&[SNAPSHOT, PREFLIGHT_HEROKU, "infisical secrets get"])
}

/// The story up to and including the pause taking effect (two polls still live, then paused).
pub(super) fn paused() -> Vec<String> {
    concat(&[
        preflight(),
        s(&[PAUSE, &format!("{HEALTH_LIVE} (x2)"), HEALTH_PAUSED]),
    ])
}

/// Storing in Infisical: set from a file, then get to check.
pub(super) fn stored() -> Vec<String> {
    s(&["infisical secrets set", "infisical secrets get"])
}

pub(super) fn concat(parts: &[Vec<String>]) -> Vec<String> {
    parts.concat()
}

/// The one audit event with `action`.
pub(super) fn event(rig: &Rig, action: &str) -> Value {
    let events: Vec<Value> = rig
        .audit_events()
        .into_iter()
        .filter(|event| event["action"] == action)
        .collect();
    assert_eq!(events.len(), 1, "one {action} event: {events:#?}");
    events.into_iter().next().unwrap()
}

/// The failed event, as the failure path writes it.
pub(super) fn assert_failed_event(rig: &Rig) {
    let failed = event(rig, "secret.rotate.failed");
    assert_eq!(failed["actor"], ACTOR, "{failed:#}");
    assert_eq!(failed["context"]["secret_name"], "ALPACA_LIVE_API_KEY_ID");
    assert_eq!(failed["context"]["actor"], ACTOR, "{failed:#}");
    // It names the step that stopped the run and why (the kill switch itself is checked against
    // the Heroku stand-in by each test, not claimed by the event).
    assert!(
        failed["context"]["failed_step"]
            .as_str()
            .is_some_and(|step| !step.is_empty()),
        "{failed:#}"
    );
    assert!(
        failed["context"]["failure"]
            .as_str()
            .is_some_and(|why| !why.is_empty()),
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["method"], "operator-assisted-dashboard",
        "{failed:#}"
    );
}

/// Infisical was only read by the pre-flight (is the CLI logged in?): nothing stored.
pub(super) fn assert_only_preflight_infisical(rig: &Rig) {
    assert_eq!(
        rig.infisical_calls(),
        s(
            &[
                "secrets get ALPACA_LIVE_API_KEY_ID --plain --projectId=proj-123 --env=prod --silent"
            ]
        ),
    );
}

/// The prod app's kill switch is on and its keys are what `key_id` says.
pub(super) fn assert_prod_config(rig: &Rig, live_disabled: &str, key_id: &str) {
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], live_disabled, "{config:?}");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], key_id);
}

/// Every Heroku request carried the token and the API version.
pub(super) async fn assert_heroku_requests_authorized(rig: &Rig) {
    let requests = rig.heroku.received_requests().await.unwrap();
    for request in &requests {
        assert_eq!(
            header(request, "Authorization"),
            Some(format!("Bearer {HEROKU_TOKEN}").as_str())
        );
        assert_eq!(
            header(request, "Accept"),
            Some("application/vnd.heroku+json; version=3")
        );
        if request.method.as_str() == "GET" {
            // The pre-flight's app info: never the config vars (they hold secrets).
            assert!(
                !request.url.path().contains("config-vars"),
                "{}",
                request.url
            );
            continue;
        }
        assert_eq!(header(request, "content-type"), Some("application/json"));
        assert_eq!(request.method.as_str(), "PATCH");
    }
}
