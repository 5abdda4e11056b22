//! Mis-rotations: a key of the paper account (seen by the live API or only by the paper one) or of
//! another live account: both kill switches, the mis-rotation event, no repeat.

use super::*;

// The new key belongs to the PAPER account: wrong environment.

#[tokio::test(flavor = "multi_thread")]
async fn a_paper_key_is_the_wrong_environment_both_modes_paused_nothing_propagated() {
    let rig = rig(Scenario {
        new_keys: vec![
            (PAPER_KEY_ID, PAPER_SECRET, paper_account()),
            (NEW_KEY_ID, NEW_SECRET, live_account()),
        ],
        ..Scenario::default()
    })
    .await;
    // A second (good) pair and a retry are offered; neither may be used.
    let answers = format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(PAPER_KEY_ID, PAPER_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    assert!(
        output.stdout.contains(
            "WRONG ENVIRONMENT: the new key belongs to the PAPER account PA3KQ9Z1X2Y3, but this \
             rotation is for the LIVE account 123456789"
        ),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("it stops the run (no repeat)"),
        "{}",
        output.stdout
    );
    // Validated once; then both modes paused, then the failure path. Nothing stored or
    // propagated, no check order, no resume, and no second key asked for.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[
                OPEN_ORDERS,
                SNAPSHOT,
                "alpaca GET /v2/account as PAPER_KEY_ID -> 200",
                "heroku PATCH raxx-api-prod TRADING_LIVE_DISABLED=1 TRADING_PAPER_DISABLED=1 -> 200",
                // Both pauses confirmed through health before the run stops (item 10).
                HEALTH_PAUSED,
                PAUSE,
            ]),
        ]),
    );
    assert_heroku_requests_authorized(&rig).await;
    assert_only_preflight_infisical(&rig);
    assert_eq!(rig.infisical_store(), "");
    assert!(rig.orders_placed().is_empty());
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "1");
    assert_eq!(config["TRADING_PAPER_DISABLED"], "1");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], CURRENT_KEY_ID);
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "no repeat: {outcomes:#?}"
    );
    // The mis-rotation event, with both account numbers, then the failed event.
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.misrotation", "secret.rotate.failed"]
    );
    let misrotation = event(&rig, "secret.rotate.misrotation");
    assert_eq!(misrotation["actor"], ACTOR);
    assert_eq!(
        misrotation["context"],
        json!({
            "secret_name": "ALPACA_LIVE_API_KEY_ID",
            "actor": ACTOR,
            "verdict": "wrong_environment",
            "expected_environment": "live",
            "rotated_environment": "paper",
            "expected_account_number": ACCOUNT_NUMBER,
            "rotated_account_number": PAPER_ACCOUNT_NUMBER,
            "kill_switches_set": ["TRADING_LIVE_DISABLED", "TRADING_PAPER_DISABLED"],
            "new_keys_live_in_production": false
        }),
        "{misrotation:#}"
    );
    assert_failed_event(&rig);
    rig.assert_no_secret_anywhere(&output);
}

/// With real Alpaca a paper pair is never accepted by the live API: it gets 401 there, so the
/// runbook's WRONG ENVIRONMENT branch (a PA account seen through the live URL) cannot fire. The
/// mistake must still be recognised (ask the paper API about a pair the live API rejects): both
/// modes paused, the mis-rotation recorded, no "regenerate again" loop on the paper dashboard.
/// The paper API's address is given as the input `alpaca_paper_base_url` (the fix must add it,
/// default https://paper-api.alpaca.markets).
#[tokio::test(flavor = "multi_thread")]
async fn a_paper_pair_the_live_api_rejects_is_still_recognised_as_the_wrong_environment() {
    let scenario = Scenario {
        paper_keys: vec![(PAPER_KEY_ID, PAPER_SECRET, paper_account())],
        ..Scenario::default()
    };
    let rig = rig(scenario).await;
    let paper_url = rig.alpaca_paper.uri();
    let rig = rig.input("alpaca_paper_base_url", &paper_url);
    let answers = format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(PAPER_KEY_ID, PAPER_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    assert!(
        output.stdout.contains("WRONG ENVIRONMENT"),
        "{}",
        output.stdout
    );
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "1");
    assert_eq!(config["TRADING_PAPER_DISABLED"], "1");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], CURRENT_KEY_ID);
    assert_only_preflight_infisical(&rig);
    let misrotation = event(&rig, "secret.rotate.misrotation");
    assert_eq!(
        misrotation["context"]["rotated_account_number"], PAPER_ACCOUNT_NUMBER,
        "{misrotation:#}"
    );
    assert_eq!(
        misrotation["context"]["expected_account_number"], ACCOUNT_NUMBER,
        "{misrotation:#}"
    );
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "no repeat: {outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
}

/// Issue 13 item 1: a key for ANOTHER LIVE account is a mis-rotation, like a paper key: both kill
/// switches, the mis-rotation event naming the verdict, no repeat, never `completed`.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_of_another_live_account_is_a_misrotation_not_a_repeat() {
    let other = account(
        OTHER_ACCOUNT_NUMBER,
        "5f1e0a6c-2b7d-4c39-9a1e-7d2f3b4c5d6e",
        "42.00",
    );
    let rig = rig(Scenario {
        new_keys: vec![
            (BAD_KEY_ID, BAD_SECRET, other),
            (NEW_KEY_ID, NEW_SECRET, live_account()),
        ],
        ..Scenario::default()
    })
    .await;
    // A good second pair and a retry are offered; neither may be used.
    let output = rig.run(&format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(BAD_KEY_ID, BAD_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    ));
    assert_code(&output, 10);
    assert!(
        output.stdout.contains("ANOTHER ACCOUNT") && output.stdout.contains("(no repeat)"),
        "{}",
        output.stdout
    );
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "1");
    assert_eq!(config["TRADING_PAPER_DISABLED"], "1");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], CURRENT_KEY_ID);
    assert_only_preflight_infisical(&rig);
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.misrotation", "secret.rotate.failed"]
    );
    let misrotation = event(&rig, "secret.rotate.misrotation");
    let context = &misrotation["context"];
    assert_eq!(context["verdict"], "other_account", "{misrotation:#}");
    assert_eq!(context["rotated_environment"], "live", "{misrotation:#}");
    assert_eq!(
        context["rotated_account_number"], OTHER_ACCOUNT_NUMBER,
        "{misrotation:#}"
    );
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "no repeat: {outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
}
