//! The pause or the resume never shows in /health/trading: the waits fail closed.

use super::*;

// The pause never shows in /health/trading.

#[tokio::test(flavor = "multi_thread")]
async fn health_never_flips_fails_closed_with_trading_kept_paused() {
    let rig = rig(Scenario {
        pause_applies: false,
        ..Scenario::default()
    })
    .await;
    let started = std::time::Instant::now();
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    let took = started.elapsed();
    // The wait timed out; the failure path ran cleanly.
    assert_code(&output, 10);
    // The engine gives up when the next (backed-off) poll would land after the timeout.
    assert!(
        took >= std::time::Duration::from_secs(1) && took < std::time::Duration::from_secs(15),
        "{took:?}"
    );
    // The last value seen is in the message.
    assert!(
        output
            .stdout
            .contains("the condition did not hold within 2s")
            && output.stdout.contains("last observed: true"),
        "{}",
        output.stdout
    );
    let story = rig.story();
    assert_eq!(story.len(), 6, "{story:#?}");
    assert_eq!(story[..3], preflight()[..], "{story:#?}");
    assert_eq!(story[3], PAUSE);
    assert!(
        story[4].starts_with(&format!("{HEALTH_LIVE} (x")),
        "{story:#?}"
    );
    assert_eq!(story[5], PAUSE, "the failure path keeps trading paused");
    // Nothing else happened: Alpaca only read by the pre-flight, no snapshot, no key prompt,
    // nothing stored.
    assert_eq!(rig.alpaca.received_requests().await.unwrap().len(), 1);
    assert_eq!(rig.infisical_calls().len(), 1, "the pre-flight's read only");
    assert!(!rig.snapshot_dir().exists());
    assert!(
        !rig.audit()
            .iter()
            .any(|r| r["type"] == "prompt_answered" && r["step"] != "mqa_holds_keys"),
        "no prompt answered but the pre-flight's MQ-A question"
    );
    let outcomes = rig.journal_outcomes();
    assert_eq!(
        outcomes,
        s(&[
            "production_only passed",
            "mqa_holds_keys passed",
            "mqa_app_agrees passed",
            "preflight_current_key passed",
            "preflight_current_key_is_live passed",
            "preflight_heroku passed",
            "preflight_heroku_mqa skipped",
            "preflight_infisical passed",
            "pause.kill_switch passed",
            "pause.confirm failed",
            "pause failed",
            "keep_trading_paused passed",
            "audit_resume_unconfirmed skipped",
            "audit_failed_check_order_open skipped",
            "audit_failed_keys_live skipped",
            "audit_failed_keys_unknown skipped",
            "audit_failed passed",
        ]),
    );
    let wait = rig
        .journal()
        .into_iter()
        .find(|r| r["type"] == "step_finished" && r["step"] == "pause.confirm")
        .unwrap();
    assert_eq!(wait["error"]["kind"], "timeout", "{wait:#}");
    assert!(
        wait["error"]["message"].as_str().unwrap().contains("true"),
        "last observed value in {wait:#}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    // The failed event names the step that stopped the run (the top-level step: `pause`, which
    // uses the pause-trading fragment, as a group is named) and why (the inner step's own
    // message); it claims nothing about trading, which the health endpoint never confirmed
    // paused.
    let failed = event(&rig, "secret.rotate.failed");
    assert_eq!(failed["context"]["actor"], ACTOR, "{failed:#}");
    assert_eq!(failed["context"]["failed_step"], "pause", "{failed:#}");
    assert!(
        failed["context"]["failure"]
            .as_str()
            .is_some_and(|why| why.contains("did not hold within")),
        "{failed:#}"
    );
    assert!(failed["context"].get("trading").is_none(), "{failed:#}");
    // Before the key was regenerated: the new pair is not in production, no check order.
    assert_eq!(
        failed["context"]["new_keys_live_in_production"], false,
        "{failed:#}"
    );
    assert_eq!(
        failed["context"]["open_check_order_id"],
        Value::Null,
        "{failed:#}"
    );
    rig.assert_no_secret_anywhere(&output);
}

// The resume never shows in /health/trading.

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_never_confirmed_fails_closed_and_pauses_again() {
    let rig = rig(Scenario {
        resume_applies: false,
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the condition did not hold within 2s")
            && output.stdout.contains("last observed: false"),
        "{}",
        output.stdout
    );
    let story = rig.story();
    let expected = concat(&[
        paused(),
        s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
        stored(),
        s(&[
            PROPAGATE,
            DOWNSTREAM,
            CHECK_ORDER,
            CANCEL,
            CANCELED,
            OLD_KEY_DEAD,
            RESUME,
        ]),
    ]);
    assert_eq!(story[..expected.len()], expected[..], "{story:#?}");
    assert!(
        story[expected.len()].starts_with(&format!("{HEALTH_PAUSED} (x")),
        "{story:#?}"
    );
    assert_eq!(story[expected.len() + 1..], s(&[PAUSE])[..], "{story:#?}");
    assert_prod_config(&rig, "1", NEW_KEY_ID);
    // No completed event: the rotation is not done until trading is confirmed live. Nor a failed
    // one: the key was rotated and verified (item 8).
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.resume_unconfirmed"]
    );
    let unconfirmed = event(&rig, "secret.rotate.resume_unconfirmed");
    let context = &unconfirmed["context"];
    // The step using the resume-trading fragment; the failure is its `confirm` step's timeout.
    assert_eq!(context["failed_step"], "resume", "{unconfirmed:#}");
    assert!(
        context["failure"]
            .as_str()
            .is_some_and(|why| why.contains("did not hold within")),
        "{unconfirmed:#}"
    );
    assert_eq!(
        context["new_keys_live_in_production"], true,
        "{unconfirmed:#}"
    );
    assert_eq!(context["account_number_verified"], true, "{unconfirmed:#}");
    assert_eq!(
        context["open_check_order_id"],
        Value::Null,
        "{unconfirmed:#}"
    );
    let wait = rig
        .journal()
        .into_iter()
        .find(|r| r["type"] == "step_finished" && r["step"] == "resume.confirm")
        .unwrap();
    assert_eq!(wait["error"]["kind"], "timeout", "{wait:#}");
    rig.assert_no_secret_anywhere(&output);
}
