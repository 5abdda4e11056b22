//! The regenerate-and-validate loop: a rejected key is regenerated, an equity drift is accepted.

use super::*;

// The new key is rejected at validation; the operator regenerates and the second pair works.

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_new_key_is_regenerated_and_the_second_pair_goes_through() {
    let rig = rig(Scenario::default()).await;
    let answers = format!(
        "{}decisions:\n  regenerate: [retry]\n",
        answers(&[(BAD_KEY_ID, BAD_SECRET), (NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 0);
    // The rejection was reported the way Alpaca said it, and the group was repeated.
    assert!(
        output
            .stdout
            .contains("the key was rejected (401): unauthorized."),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("attempt 2 of 3"),
        "{}",
        output.stdout
    );
    // Validated twice; stored, propagated and verified once, with the second pair only.
    assert_eq!(
        rig.story(),
        concat(&[
            paused(),
            s(&[
                OPEN_ORDERS,
                SNAPSHOT,
                "alpaca GET /v2/account as BAD_KEY_ID -> 401",
                VALIDATE_NEW,
            ]),
            stored(),
            s(&[
                PROPAGATE,
                DOWNSTREAM,
                CHECK_ORDER,
                CANCEL,
                CANCELED,
                OLD_KEY_DEAD,
                RESUME,
                &format!("{HEALTH_PAUSED} (x2)"),
                HEALTH_LIVE,
            ]),
        ]),
    );
    let calls = rig.infisical_calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.starts_with("secrets set"))
            .count(),
        1,
        "{calls:?}"
    );
    assert_eq!(
        rig.infisical_store(),
        format!("ALPACA_LIVE_API_KEY_ID={NEW_KEY_ID}\nALPACA_LIVE_API_SECRET_KEY={NEW_SECRET}\n")
    );
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    assert_eq!(
        rig.heroku_config(PROD_APP)["ALPACA_LIVE_API_SECRET_KEY"],
        NEW_SECRET
    );
    // The journal: the key entered twice, the first validation failed.
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "new_key passed").count(),
        2,
        "{outcomes:#?}"
    );
    assert!(
        outcomes.contains(&"validate_new_key failed".to_owned()),
        "{outcomes:#?}"
    );
    // Only the completed event: the repeat is not a failure of the rotation.
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_eq!(
        event(&rig, "secret.rotate.completed")["context"]["account_number_verified"],
        true
    );
    rig.assert_no_secret_anywhere(&output);
}

/// Issue 13 item 2: equity moved (positions held) but it is the same account: the drift is shown,
/// the operator accepts it, the SAME key goes on, and the audit record says so.
#[tokio::test(flavor = "multi_thread")]
async fn an_equity_drift_is_shown_accepted_and_recorded_never_regenerated() {
    let drifted = account(ACCOUNT_NUMBER, ACCOUNT_ID, "123351.87");
    let rig = rig(Scenario {
        new_keys: vec![(NEW_KEY_ID, NEW_SECRET, drifted)],
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&format!(
        "accept_drift:\n  confirm: true\n{}",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    ));
    assert_code(&output, 0);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.starts_with("new_key "))
            .count(),
        1,
        "{outcomes:#?}"
    );
    let answered: Vec<Value> = rig
        .audit()
        .into_iter()
        .filter(|r| r["type"] == "prompt_answered" && r["step"] == "accept_drift")
        .collect();
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0]["answers"]["confirmed"], true, "{answered:#?}");
    let completed = event(&rig, "secret.rotate.completed");
    let context = &completed["context"];
    assert_eq!(context["new_key_comparison"], "mismatch", "{completed:#}");
    assert_eq!(context["equity_drift_prompt"], "passed", "{completed:#}");
    let differences = context["new_key_differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{completed:#}");
    assert_eq!(differences[0]["field"], "equity");
    assert_eq!(differences[0]["expected"], "123346.11");
    assert_eq!(differences[0]["actual"], "123351.87");
    assert_eq!(differences[0]["note"], "differs by 5.76");
    assert_eq!(context["account_number_verified"], true, "{completed:#}");
    rig.assert_no_secret_anywhere(&output);
}
