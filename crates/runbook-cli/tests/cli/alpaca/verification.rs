//! Downstream verification, the check order and the old key: what happens after propagation.

use super::*;

// The runtime reports another account after propagation.

#[tokio::test(flavor = "multi_thread")]
async fn a_downstream_account_mismatch_places_no_check_order_and_keeps_trading_paused() {
    let rig = rig(Scenario {
        downstream_account_number: OTHER_ACCOUNT_NUMBER,
        ..Scenario::default()
    })
    .await;
    let answers = format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the runtime's live account is not the snapshot's account"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("the operator chose to abort"),
        "{}",
        output.stdout
    );
    // Verify comes before the check order: no order placed, none to cancel; no resume. Verify polls
    // (the dynos may still be restarting) until its timeout, so how often it asked varies.
    let story: Vec<String> = rig
        .story()
        .into_iter()
        .map(|line| match line.split_once(" (x") {
            Some((head, _)) if head.contains("/api/trading/account") => head.to_owned(),
            _ => line,
        })
        .collect();
    assert_eq!(
        story,
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                "raxx GET /api/trading/account?mode=live -> 200 987654321",
                PAUSE,
            ]),
        ]),
    );
    assert!(rig.orders_placed().is_empty());
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    let failed = event(&rig, "secret.rotate.failed");
    assert_eq!(
        failed["context"]["new_keys_live_in_production"], true,
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["open_check_order_id"],
        Value::Null,
        "{failed:#}"
    );
    rig.assert_no_secret_anywhere(&output);
}

/// Heroku answers a config change before the dynos restart (services.md): for a while the old
/// dynos, still holding the old (now revoked) pair, serve the Raptor endpoints. Verifying
/// downstream at once sees the dead pair, and the repeat then sends the operator to regenerate a
/// key that is fine. The runbook must wait for the runtime to run the new pair (as it waits for
/// the kill switch) before it verifies.
#[tokio::test(flavor = "multi_thread")]
async fn downstream_verification_waits_for_the_dynos_to_restart_with_the_new_pair() {
    let rig = rig(Scenario {
        runtime_restart_requests: 2,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "a good key must not be regenerated: {outcomes:#?}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
}

// The check order cannot be cancelled.

#[tokio::test(flavor = "multi_thread")]
async fn a_check_order_that_cannot_be_cancelled_fails_the_run_and_says_cancel_it() {
    let rig = rig(Scenario {
        cancel_status: 422,
        ..Scenario::default()
    })
    .await;
    let answers = format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 10);
    // The operator is told to cancel it by hand.
    assert!(
        output.stdout.contains("cancel it in the dashboard NOW"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("is accepted, not canceled"),
        "{}",
        output.stdout
    );
    // Placed once; a 422 ("not cancelable") is not retried (transport errors and 5xx would be);
    // the order is read: still `accepted`, so the run fails; no repeat, no resume: paused.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                "raxx DELETE /api/trading/orders/ORDER_ID -> 422",
                "raxx GET /api/trading/orders/ORDER_ID -> 200 accepted",
                PAUSE,
            ]),
        ]),
    );
    assert_eq!(rig.orders_placed().len(), 1);
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    // The failed event says which live order may still be open, and that the new pair is live.
    let failed = event(&rig, "secret.rotate.failed");
    assert_eq!(
        failed["context"]["open_check_order_id"], ORDER_ID,
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["new_keys_live_in_production"], true,
        "{failed:#}"
    );
    rig.assert_no_secret_anywhere(&output);
}

/// Issue 13 item 7: DELETE answers 422 because the operator already cancelled the order by hand:
/// the order is read back, it is `canceled`, and the rotation completes.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_order_cancelled_by_hand_is_accepted_after_a_422() {
    let rig = rig(Scenario {
        cancel_status: 422,
        cancelled_by_hand: true,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);
    let story = rig.story();
    let delete = story
        .iter()
        .position(|line| line == "raxx DELETE /api/trading/orders/ORDER_ID -> 422")
        .unwrap_or_else(|| panic!("{story:#?}"));
    assert_eq!(story[delete + 1], CANCELED, "{story:#?}");
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
}

// The old pair still works after regeneration.

#[tokio::test(flavor = "multi_thread")]
async fn an_old_key_still_accepted_fails_with_trading_kept_paused() {
    let rig = rig(Scenario {
        old_key_revoked: false,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the OLD key pair is still accepted: regeneration did not revoke it"),
        "{}",
        output.stdout
    );
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                "alpaca GET /v2/account as CURRENT_KEY_ID -> 200",
                PAUSE,
            ]),
        ]),
    );
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    let old_key = rig
        .journal()
        .into_iter()
        .find(|r| r["type"] == "step_finished" && r["step"] == "old_key_rejected")
        .unwrap();
    assert_eq!(old_key["error"]["kind"], "assertion", "{old_key:#}");
    rig.assert_no_secret_anywhere(&output);
}
