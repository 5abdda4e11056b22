//! Open orders on the account: shown to the operator, who continues or stops (answers file and a
//! real terminal).

use super::*;

// Open orders present: the operator sees them and decides.

fn with_open_orders() -> Scenario {
    Scenario {
        open_orders: json!([open_order()]),
        ..Scenario::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn open_orders_are_shown_and_the_operator_may_continue() {
    let rig = rig(with_open_orders()).await;
    let answers = format!(
        "decide_open_orders:\n  confirm: true\n{}",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert_code(&output, 0);
    // The operator's answer is on the record (the terminal variant below shows what they see).
    let answered: Vec<Value> = rig
        .audit()
        .into_iter()
        .filter(|record| {
            record["type"] == "prompt_answered" && record["step"] == "decide_open_orders"
        })
        .collect();
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0]["answers"]["confirmed"], true, "{answered:#?}");
    // The rotation went on as on the happy path; the open order was left alone.
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
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    rig.assert_no_secret_anywhere(&output);
}

#[tokio::test(flavor = "multi_thread")]
async fn open_orders_declined_stop_the_rotation_with_trading_paused() {
    let rig = rig(with_open_orders()).await;
    let answers = format!(
        "decide_open_orders:\n  confirm: false\n{}",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    // Declined, and the failure path (keep paused, audit) ran cleanly.
    assert_code(&output, 10);
    assert!(
        output
            .stdout
            .contains("the operator answered no to: Continue the rotation with these orders open?"),
        "{}",
        output.stdout
    );
    // Paused, orders listed, then only the failure path: no snapshot, no key, nothing stored or
    // propagated, no check order, no resume.
    assert_eq!(rig.story(), concat(&[paused(), s(&[OPEN_ORDERS, PAUSE])]));
    assert_only_preflight_infisical(&rig);
    assert!(!rig.snapshot_dir().exists());
    assert_prod_config(&rig, "1", CURRENT_KEY_ID);
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    assert_failed_event(&rig);
    let outcomes = rig.journal_outcomes();
    assert!(
        outcomes.contains(&"decide_open_orders failed".to_owned())
            && !outcomes.iter().any(|o| o.starts_with("new_key ")),
        "{outcomes:#?}"
    );
    rig.assert_no_secret_anywhere(&output);
}

/// The open-orders path at a real terminal (a pseudo-terminal): the operator sees the orders,
/// answers y, types LIVE and the new pair (the secret masked, twice); nothing echoes the secret.
#[tokio::test(flavor = "multi_thread")]
async fn open_orders_at_the_terminal_the_operator_sees_them_and_continues() {
    use rexpect::process::WaitStatus;

    let rig = rig(with_open_orders()).await;
    let binary = assert_cmd::cargo::cargo_bin("runbook");
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("stty echo; exec \"$@\"")
        .arg("sh")
        .arg(binary)
        .args(rig.run_args())
        .current_dir(rig.sandbox.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("RUST_LOG")
        .env_remove("INFISICAL_PROJECT_ID")
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS");
    for (name, value) in rig.run_env() {
        command.env(name, value);
    }
    let mut session = rexpect::session::spawn_command(command, Some(20_000)).expect("pty");
    // Everything the terminal shows, including the text each expectation matched.
    let mut seen = String::new();
    let mut expect = |session: &mut rexpect::session::PtySession, text: &str| {
        let before = session
            .exp_string(text)
            .unwrap_or_else(|e| panic!("`{text}` never shown: {e}\n{seen}"));
        seen.push_str(&before);
        seen.push_str(text);
    };
    // The SOP's Critical section first: the preconditions, confirmed once.
    expect(
        &mut session,
        "Before the first step, confirm that all of these hold:",
    );
    expect(&mut session, "algorithmic strategies that use these keys");
    expect(&mut session, "Do they all hold?");
    session.send_line("y").expect("answer");
    // The MQ-A question (a list, "yes" first): down to "no", then Enter.
    expect(&mut session, "Does MQ-A hold the live Alpaca keys");
    session.send("j").expect("down");
    session.send_line("").expect("pick");
    expect(&mut session, "There are open orders on the live account");
    expect(
        &mut session,
        "Continue the rotation with these orders open?",
    );
    session.send_line("y").expect("answer");
    expect(&mut session, "Type LIVE to continue");
    session.send_line("LIVE").expect("type");
    expect(&mut session, "New Key ID");
    session.send_line(NEW_KEY_ID).expect("type");
    expect(&mut session, "New Secret Key");
    session.send_line(NEW_SECRET).expect("type");
    expect(&mut session, "(again)");
    session.send_line(NEW_SECRET).expect("type again");
    seen.push_str(&session.exp_eof().expect("the run ends"));
    let code = match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}\n{seen}"),
    };
    eprintln!(
        "--- terminal\n{seen}\n--- timeline\n{}",
        rig.timeline().join("\n")
    );
    assert_eq!(code, 0, "{seen}");
    // What the operator saw: the order itself, and the live account to rotate.
    for shown in [OPEN_ORDER_ID, "MSFT", "401.25", ACCOUNT_NUMBER] {
        assert!(seen.contains(shown), "`{shown}` not shown:\n{seen}");
    }
    assert!(!seen.contains(NEW_SECRET), "the secret was echoed:\n{seen}");
    assert!(
        !seen.contains(NEW_KEY_ID),
        "the key id is masked like the current one:\n{seen}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
    assert_prod_config(&rig, "0", NEW_KEY_ID);
    assert_eq!(
        rig.heroku_config(PROD_APP)["ALPACA_LIVE_API_SECRET_KEY"],
        NEW_SECRET
    );
    let output = Output {
        code,
        stdout: seen,
        stderr: String::new(),
    };
    rig.assert_no_secret_anywhere(&output);
}
