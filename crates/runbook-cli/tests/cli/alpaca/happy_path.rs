//! The SOP end to end, with and without the MQ-A layer.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_pauses_rotates_verifies_resumes_and_audits() {
    let rig = rig(Scenario::default()).await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 0);

    // The whole story, in order, across every stand-in.
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
                OLD_KEY_DEAD,
                RESUME,
                &format!("{HEALTH_PAUSED} (x2)"),
                HEALTH_LIVE,
            ]),
        ]),
    );
    assert_heroku_requests_authorized(&rig).await;
    // The production app ends with the new pair and trading live; no other app was touched.
    let config = rig.heroku_config(PROD_APP);
    assert_eq!(config["TRADING_LIVE_DISABLED"], "0");
    assert_eq!(config["ALPACA_LIVE_API_KEY_ID"], NEW_KEY_ID);
    assert_eq!(config["ALPACA_LIVE_API_SECRET_KEY"], NEW_SECRET);
    assert_eq!(
        rig.heroku_config(MQA_APP)["ALPACA_LIVE_API_KEY_ID"],
        CURRENT_KEY_ID
    );

    // Alpaca saw the right headers on every request.
    for request in rig.alpaca.received_requests().await.unwrap() {
        let key = header(&request, "APCA-API-KEY-ID").unwrap();
        let secret = header(&request, "APCA-API-SECRET-KEY").unwrap();
        assert!(
            (key, secret) == (CURRENT_KEY_ID, CURRENT_SECRET)
                || (key, secret) == (NEW_KEY_ID, NEW_SECRET),
            "{key}"
        );
    }

    // The check order: tiny, far from market, live, and cancelled by its id.
    let orders = rig.orders_placed();
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0],
        json!({"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit", "limit_price": 1.0,
               "time_in_force": "day", "mode": "live"})
    );

    // Infisical: the pre-flight's read (is the CLI logged in?), then explicit prod, the pair from
    // a private file, never on argv.
    let calls = rig.infisical_calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert_eq!(
        calls[0],
        "secrets get ALPACA_LIVE_API_KEY_ID --plain --projectId=proj-123 --env=prod --silent"
    );
    assert!(
        calls[1].starts_with("secrets set --file /")
            && calls[1].ends_with(" --projectId=proj-123 --env=prod --silent"),
        "{calls:?}"
    );
    let file_line: Vec<&str> = calls[2].split(' ').collect();
    assert_eq!(&file_line[..2], &["file", "600"], "owner-only: {calls:?}");
    assert_eq!(
        calls[3],
        "secrets get ALPACA_LIVE_API_KEY_ID --plain --projectId=proj-123 --env=prod --silent"
    );
    assert_eq!(
        rig.infisical_store(),
        format!("ALPACA_LIVE_API_KEY_ID={NEW_KEY_ID}\nALPACA_LIVE_API_SECRET_KEY={NEW_SECRET}\n")
    );

    // The snapshot: in the run's folder of the state directory (not the current directory),
    // owner-only, UTC timestamp in its name, the account as fetched, no credentials.
    assert!(
        rig.snapshot_dir()
            .starts_with(rig.state_dir.join("runs").join(rig.run_id())),
        "{}",
        rig.snapshot_dir().display()
    );
    assert!(!rig.sandbox.path().join("alpaca-snapshots").exists());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(rig.snapshot_dir())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let snapshots: Vec<PathBuf> = std::fs::read_dir(rig.snapshot_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    let snapshot = &snapshots[0];
    let name = snapshot.file_name().unwrap().to_str().unwrap();
    let stamp = name
        .strip_prefix("alpaca-live-pre-rotate-")
        .and_then(|rest| rest.strip_suffix(".json"))
        .unwrap_or_else(|| panic!("snapshot name {name}"));
    assert_eq!(stamp.len(), "20260424T140211Z".len(), "{name}");
    assert!(
        stamp.ends_with('Z')
            && stamp.as_bytes()[8] == b'T'
            && stamp[..8].bytes().all(|b| b.is_ascii_digit())
            && stamp[9..15].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    let now = jiff::Timestamp::now().strftime("%Y%m%d").to_string();
    assert_eq!(&stamp[..8], now, "UTC date in {name}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(snapshot).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(snapshot).unwrap()).unwrap();
    assert_eq!(saved["account"], live_account());

    // The completed event: who, how, when, and how long trading was down.
    let actions = rig.event_actions();
    assert_eq!(actions, vec!["secret.rotate.completed"], "no failed event");
    let completed = event(&rig, "secret.rotate.completed");
    let context = &completed["context"];
    assert_eq!(completed["actor"], ACTOR);
    assert_eq!(context["actor"], ACTOR, "{completed:#}");
    assert_eq!(context["secret_name"], "ALPACA_LIVE_API_KEY_ID");
    assert_eq!(context["method"], "operator-assisted-dashboard");
    // Computed from the runtime's answer, not written into the runbook.
    assert_eq!(context["account_number_verified"], true, "{completed:#}");
    assert_eq!(context["new_key_comparison"], "match", "{completed:#}");
    assert_eq!(context["new_key_differences"], json!([]), "{completed:#}");
    assert_eq!(context["equity_drift_prompt"], "skipped", "{completed:#}");
    // The operator's MQ-A answer (item 5), with the app given (none).
    assert_eq!(context["mqa_holds_keys"], "no", "{completed:#}");
    assert_eq!(context["mqa_heroku_app"], "", "{completed:#}");
    assert_eq!(
        context["snapshot_file"],
        snapshot.display().to_string(),
        "{completed:#}"
    );
    let downtime = context["downtime_seconds"].as_f64().unwrap_or_else(|| {
        panic!("downtime_seconds is a number: {completed:#}");
    });
    let paused_at: jiff::Timestamp = context["trading_paused_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let resumed_at: jiff::Timestamp = context["trading_resumed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(downtime > 0.0 && downtime < 60.0, "{completed:#}");
    // The pause was requested (trading_paused_at) before it was confirmed.
    let confirmed_at: jiff::Timestamp = context["trading_pause_confirmed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        paused_at < confirmed_at && confirmed_at < resumed_at,
        "{completed:#}"
    );
    let between = resumed_at.duration_since(paused_at).as_secs_f64();
    assert!(
        (between - downtime).abs() < 0.01,
        "downtime {downtime} is resumed_at - paused_at ({between})"
    );

    // The pause and resume are the fragments' steps: each time above is when the journal says
    // that step finished, and the run records both fragments' content hashes (so a resume
    // notices a changed fragment).
    let journal = rig.journal();
    let finished_at = |step: &str| {
        journal
            .iter()
            .find(|r| r["type"] == "step_finished" && r["step"] == step)
            .and_then(|r| r["finished_at"].as_str())
            .unwrap_or_else(|| panic!("no step_finished of {step} with finished_at"))
            .to_owned()
    };
    assert_eq!(
        context["trading_paused_at"],
        finished_at("pause.kill_switch")
    );
    assert_eq!(
        context["trading_pause_confirmed_at"],
        finished_at("pause.confirm")
    );
    assert_eq!(context["trading_resumed_at"], finished_at("resume.confirm"));
    let started = journal
        .iter()
        .find(|r| r["type"] == "run_started")
        .unwrap_or_else(|| panic!("no run_started in {journal:#?}"));
    let fragments: Vec<&str> = started["fragments"]
        .as_array()
        .unwrap_or_else(|| panic!("no fragments in {started:#}"))
        .iter()
        .map(|f| {
            assert_eq!(f["sha256"].as_str().map(str::len), Some(64), "{f:#}");
            f["path"].as_str().unwrap_or_default()
        })
        .collect();
    assert_eq!(fragments.len(), 2, "{started:#}");
    for name in [
        "pause-trading.fragment.yaml",
        "resume-trading.fragment.yaml",
    ] {
        assert!(
            fragments.iter().any(|path| path.ends_with(name)),
            "{started:#}"
        );
    }

    // The journal says every step passed; the run ended well.
    let outcomes = rig.journal_outcomes();
    assert!(
        !outcomes.iter().any(|o| o.ends_with(" failed")),
        "{outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
    assert!(
        output
            .stdout
            .contains("an answers file stood in for the operator"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_mqa_layer_configured_both_production_apps_get_the_new_pair() {
    let rig = rig(Scenario::default())
        .await
        .input("mqa_heroku_app", MQA_APP);
    let output = rig.run(&answers_mqa(&[(NEW_KEY_ID, NEW_SECRET)], "yes"));
    assert_code(&output, 0);
    assert_eq!(
        rig.story(),
        concat(&[
            s(&[
                SNAPSHOT,
                PREFLIGHT_HEROKU,
                "heroku GET raxx-mqa-prod -> 200"
            ]),
            paused()[2..].to_vec(),
            s(&[OPEN_ORDERS, SNAPSHOT, VALIDATE_NEW]),
            stored(),
            s(&[
                PROPAGATE,
                "heroku PATCH raxx-mqa-prod ALPACA_LIVE_API_KEY_ID=NEW_KEY_ID ALPACA_LIVE_API_SECRET_KEY=NEW_SECRET -> 200",
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
    assert_heroku_requests_authorized(&rig).await;
    let mqa = rig.heroku_config(MQA_APP);
    assert_eq!(mqa["ALPACA_LIVE_API_KEY_ID"], NEW_KEY_ID);
    assert_eq!(mqa["ALPACA_LIVE_API_SECRET_KEY"], NEW_SECRET);
    assert_eq!(
        mqa["TRADING_LIVE_DISABLED"], "0",
        "the MQ-A app's kill switch is not touched"
    );
    assert_eq!(
        rig.heroku_config("raxx-api-staging")["ALPACA_LIVE_API_KEY_ID"],
        CURRENT_KEY_ID
    );
    rig.assert_no_secret_anywhere(&output);
}
