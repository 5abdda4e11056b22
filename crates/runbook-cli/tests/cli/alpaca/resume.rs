//! Abort, then resume: the group's `finally` runs for what the resumed session did.

use super::*;

// Abort, then resume: the group's `finally` runs for what the resumed session did.
//
// The defect: Infisical failed once inside the rotation group, the operator aborted, and
// `runbook resume` placed a new check order, then restored the group's `finally`
// (`cancel_check_order`) from the first session, where it had only been skipped (no order yet):
// "completed before the run was interrupted; not repeated". The live check order stayed open and
// the run ended `succeeded` with `secret.rotate.completed`.

/// The `step_finished` records of `step` in the journal, in order.
fn finished_records(rig: &Rig, step: &str) -> Vec<Value> {
    rig.journal()
        .into_iter()
        .filter(|record| record["type"] == "step_finished" && record["step"] == step)
        .collect()
}

/// The requests to the Raxx stand-in's check-order endpoints, as `METHOD path`.
async fn order_requests(rig: &Rig) -> Vec<String> {
    rig.raxx
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.url.path().starts_with("/api/trading/orders"))
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aborted_rotation_resumed_cancels_the_check_order_it_placed() {
    let rig = rig(Scenario {
        infisical_store_failures: 3,
        ..Scenario::default()
    })
    .await;

    // First session: the Infisical store fails inside the group (all three of the step's
    // attempts) and the operator aborts instead of repeating it. No check order exists yet, so the group's `finally` is skipped by its `when`;
    // the failure path keeps trading paused.
    let first = rig.run(&format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    ));
    assert_code(&first, 10);
    let run_id = rig.run_id();
    for expected in [
        "the operator chose to abort",
        "stand-in: Infisical is unavailable (failure 3 of 3)",
        &format!("to continue after fixing the cause: runbook resume {run_id}"),
    ] {
        assert!(
            first.stdout.contains(expected),
            "{expected}:\n{}",
            first.stdout
        );
    }
    let first_story = concat(&[
        paused(),
        s(&[
            OPEN_ORDERS,
            SNAPSHOT,
            VALIDATE_NEW,
            "infisical secrets set",
            "infisical secrets set -> failed",
            "infisical secrets set",
            "infisical secrets set -> failed",
            "infisical secrets set",
            "infisical secrets set -> failed",
            PAUSE,
        ]),
    ]);
    assert_eq!(rig.story(), first_story);
    assert_eq!(order_requests(&rig).await, Vec::<String>::new());
    assert!(rig.orders_placed().is_empty());
    assert_eq!(rig.infisical_store(), "");
    assert_prod_config(&rig, "1", CURRENT_KEY_ID);
    let cancels = finished_records(&rig, "cancel_check_order");
    assert_eq!(cancels.len(), 1, "{cancels:#?}");
    assert_eq!(cancels[0]["outcome"], "skipped", "{cancels:#?}");
    assert_eq!(
        cancels[0]["note"], "its `when` condition did not hold",
        "{cancels:#?}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    assert_eq!(
        event(&rig, "secret.rotate.failed")["context"]["failed_step"],
        "propagation"
    );
    rig.assert_no_secret_anywhere(&first);

    // The resume, with Infisical working again. The journal keeps no secrets, so the new pair is
    // entered again (the restored `new_key`'s secret answer); LIVE was typed and is restored.
    let resumed = rig.resume(&run_id, &answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&resumed, 0);
    let report: Value = serde_json::from_str(&resumed.stdout)
        .unwrap_or_else(|error| panic!("not a JSON report ({error}):\n{}", resumed.stdout));
    assert_eq!(report["run_id"], run_id.as_str(), "{report:#}");
    assert_eq!(report["status"], "succeeded", "{report:#}");

    // The resumed session placed a check order and cancelled it, by its id.
    assert_eq!(
        rig.story(),
        concat(&[
            first_story,
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
    assert_eq!(
        order_requests(&rig).await,
        vec![
            "POST /api/trading/orders".to_owned(),
            format!("DELETE /api/trading/orders/{ORDER_ID}"),
            format!("GET /api/trading/orders/{ORDER_ID}"),
        ]
    );
    assert_eq!(rig.orders_placed().len(), 1);

    // The report: the check order and its cancellation ran in this session; neither is restored.
    let runs_of = |id: &str| -> Vec<Value> {
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|step| step["id"] == id)
            .cloned()
            .collect()
    };
    let cancel = runs_of("cancel_check_order");
    assert_eq!(cancel.len(), 1, "{cancel:#?}");
    assert_eq!(cancel[0]["outcome"], "passed", "{cancel:#?}");
    assert_eq!(cancel[0]["attempts"], 1, "{cancel:#?}");
    assert_eq!(cancel[0]["outputs"]["status"], 204, "{cancel:#?}");
    assert_ne!(cancel[0]["restored"], true, "{cancel:#?}");
    assert_ne!(
        cancel[0]["note"], "completed before the run was interrupted; not repeated",
        "{cancel:#?}"
    );
    let check_order = runs_of("check_order");
    assert_eq!(check_order.len(), 1, "{check_order:#?}");
    assert_eq!(check_order[0]["outcome"], "passed", "{check_order:#?}");
    assert_eq!(check_order[0]["attempts"], 1, "{check_order:#?}");
    assert_eq!(check_order[0]["outputs"]["order_id"], ORDER_ID);
    assert_ne!(check_order[0]["restored"], true, "{check_order:#?}");
    // The regeneration group completed in the first session: restored, not run again.
    let regenerate = runs_of("regenerate");
    assert_eq!(
        regenerate[0]["restored"], true,
        "no second regeneration: {regenerate:#?}"
    );
    let new_key = runs_of("new_key");
    assert_eq!(
        new_key[0]["attempts"], 0,
        "no second regeneration: {new_key:#?}"
    );
    assert_eq!(runs_of("propagation")[0]["outcome"], "passed");

    // The journal agrees: after `run_resumed`, cancel_check_order ran (attempts 1), not restored.
    let journal = rig.journal();
    let resumed_at = journal
        .iter()
        .position(|record| record["type"] == "run_resumed")
        .expect("run_resumed");
    let cancels_after: Vec<&Value> = journal[resumed_at..]
        .iter()
        .filter(|r| r["type"] == "step_finished" && r["step"] == "cancel_check_order")
        .collect();
    assert_eq!(cancels_after.len(), 1, "{cancels_after:#?}");
    assert_eq!(cancels_after[0]["outcome"], "passed", "{cancels_after:#?}");
    assert_eq!(cancels_after[0]["attempts"], 1, "{cancels_after:#?}");
    assert!(
        cancels_after[0].get("restored").is_none_or(|r| r != true),
        "{cancels_after:#?}"
    );
    let finished: Vec<&Value> = journal
        .iter()
        .filter(|r| r["type"] == "run_finished")
        .collect();
    assert_eq!(finished.len(), 2, "{finished:#?}");
    // The failure path ran (no compensation): `rolled_back`, and still resumable.
    assert_eq!(finished[0]["status"], "rolled_back", "{finished:#?}");
    assert_eq!(finished[0]["failed_step"], "propagation", "{finished:#?}");
    assert_eq!(finished[1]["status"], "succeeded", "{finished:#?}");

    // The world at the end: new pair everywhere, trading live again, both audit events.
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    assert_eq!(
        rig.infisical_store(),
        format!("ALPACA_LIVE_API_KEY_ID={NEW_KEY_ID}\nALPACA_LIVE_API_SECRET_KEY={NEW_SECRET}\n")
    );
    assert_eq!(
        rig.event_actions(),
        vec!["secret.rotate.failed", "secret.rotate.completed"]
    );
    let completed = event(&rig, "secret.rotate.completed");
    assert_eq!(completed["run_id"], run_id.as_str(), "{completed:#}");
    assert_eq!(completed["context"]["account_number_verified"], true);
    assert_heroku_requests_authorized(&rig).await;
    rig.assert_no_secret_anywhere(&resumed);
}
