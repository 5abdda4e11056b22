//! What stops the run before anything changes: lint, the production-only check, a paper current
//! key, the MQ-A answer without an app.

use super::*;

/// No findings at all: no errors and no warnings (the header's preconditions are the prompt
/// before `pause`, the first side effect).
#[test]
fn the_runbook_lints_clean() {
    let mut command = runbook();
    command.args(["lint", "runbooks/alpaca-live.yaml"]);
    command.current_dir(workspace_root());
    let output = finish(command);
    assert_code(&output, 0);
    assert_eq!(output.stdout, "1 runbook checked: no findings\n");
}

/// A non-production target is known from the inputs before anything starts: the run must refuse
/// before pausing trading and, above all, before the operator regenerates the key (the point of no
/// return), not after.
#[tokio::test(flavor = "multi_thread")]
async fn a_staging_target_is_refused_before_trading_is_paused_or_a_key_regenerated() {
    let rig = rig(Scenario::default())
        .await
        .input("mqa_heroku_app", "raxx-mqa-staging");
    let answers = format!(
        "{}decisions:\n  propagation: [abort]\n",
        answers(&[(NEW_KEY_ID, NEW_SECRET)])
    );
    let output = rig.run(&answers);
    assert!(
        output
            .stdout
            .contains("the MQ-A app is not a production app; live keys belong only to production"),
        "{}",
        output.stdout
    );
    assert_ne!(output.code, 0);
    // Nothing stored or propagated anywhere; refused even before the pre-flight's reads.
    assert!(rig.infisical_calls().is_empty());
    assert!(
        !rig.timeline()
            .iter()
            .any(|line| line.contains("ALPACA_LIVE")),
        "{:#?}",
        rig.timeline()
    );
    // The refusal came first: no key regenerated, trading never paused.
    let outcomes = rig.journal_outcomes();
    assert!(
        !outcomes.iter().any(|o| o.starts_with("new_key ")),
        "the operator was sent to regenerate the live key before the refusal: {outcomes:#?}"
    );
    assert!(
        !rig.timeline().contains(&PAUSE.to_owned()),
        "trading was paused for a run that could never complete: {:#?}",
        rig.timeline()
    );
}

/// The production-only check must not refuse a production app whose name merely contains one of
/// the words as letters ("pri-ci-ng" has "ci"); it runs after the point of no return, so a false
/// refusal leaves production with a dead key.
#[tokio::test(flavor = "multi_thread")]
async fn a_production_app_whose_name_contains_ci_is_not_refused() {
    let rig = rig(Scenario::default())
        .await
        .input("mqa_heroku_app", MQA_PRICING_APP);
    let output = rig.run(&answers_mqa(&[(NEW_KEY_ID, NEW_SECRET)], "yes"));
    assert_code(&output, 0);
    assert_eq!(
        rig.heroku_config(MQA_PRICING_APP)["ALPACA_LIVE_API_KEY_ID"],
        NEW_KEY_ID
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.completed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_current_key_of_a_paper_account_stops_before_the_point_of_no_return() {
    let rig = rig(Scenario {
        current_account: paper_account(),
        ..Scenario::default()
    })
    .await;
    let output = rig.run(&answers(&[(NEW_KEY_ID, NEW_SECRET)]));
    assert_code(&output, 10);
    assert!(
        output.stdout.contains(
            "the CURRENT key (ALPACA_LIVE_API_KEY_ID) belongs to the PAPER account PA3KQ9Z1X2Y3"
        ) && output.stdout.contains("Nothing was changed."),
        "{}",
        output.stdout
    );
    // The pre-flight's read, and nothing else: trading was never paused (issue 13 item 4).
    assert_eq!(rig.story(), s(&[SNAPSHOT]));
    assert_prod_config(&rig, "0", CURRENT_KEY_ID);
    let outcomes = rig.journal_outcomes();
    assert!(
        !outcomes
            .iter()
            .any(|o| o.starts_with("new_key ") || o.starts_with("confirm_live_dashboard ")),
        "{outcomes:#?}"
    );
    assert_eq!(rig.event_actions(), vec!["secret.rotate.failed"]);
    rig.assert_no_secret_anywhere(&output);
}

/// Issue 13 item 5: the operator says MQ-A holds the keys but no MQ-A app was given: the run stops
/// before trading is paused, and the answer is on the record.
#[tokio::test(flavor = "multi_thread")]
async fn mqa_holding_the_keys_without_an_app_stops_before_anything_changes() {
    let rig = rig(Scenario::default()).await;
    let output = rig.run(&answers_mqa(&[(NEW_KEY_ID, NEW_SECRET)], "yes"));
    assert_ne!(output.code, 0);
    assert!(
        output
            .stdout
            .contains("start again with --input mqa_heroku_app=APP"),
        "{}",
        output.stdout
    );
    assert!(rig.timeline().is_empty(), "{:#?}", rig.timeline());
    assert_prod_config(&rig, "0", CURRENT_KEY_ID);
    let answered: Vec<Value> = rig
        .audit()
        .into_iter()
        .filter(|r| r["type"] == "prompt_answered" && r["step"] == "mqa_holds_keys")
        .collect();
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0]["answers"]["holds_keys"], "yes", "{answered:#?}");
}
