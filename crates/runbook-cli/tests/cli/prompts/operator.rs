//! No operator; operator-assisted runbooks and answers files.

use std::time::{Duration, Instant};

use super::helpers::{prompt_runbook, server};
use crate::control::{assert_code, posts, recorded, report, run_runbook};
use crate::support::Sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn no_terminal_and_no_answers_file_fails_at_once() {
    let server = server().await;
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        &prompt_runbook("confirm: Pause live trading now?"),
    );
    let mut command = crate::support::runbook();
    command
        .current_dir(sandbox.path())
        .args(["run", "rb.yaml", "--input"])
        .arg(format!("base_url={}", server.uri()))
        .env("RUNBOOK_STATE_DIR", crate::control::state_dir(&sandbox))
        .env("HOME", crate::support::sandbox_home())
        .env_remove("XDG_STATE_HOME")
        .env_remove("COLUMNS")
        .timeout(Duration::from_secs(20));
    let started = Instant::now();
    let output = crate::support::finish(command);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang: {:?}",
        started.elapsed()
    );
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(
        output.stderr.contains(
            "asks an operator (it has prompt steps), but standard input is not a terminal"
        ),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("--answers FILE"),
        "{}",
        output.stderr
    );
    // Refused before anything ran: nothing was assumed, not even the steps before the prompt.
    assert_eq!(recorded(&server).await, posts(&[]));
}

fn operator_assisted() -> String {
    prompt_runbook("confirm: Pause live trading now?").replace(
        "title: Prompts\n",
        "title: Prompts\nmode: operator-assisted\n",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answers_file_cannot_stand_in_for_the_operator_without_the_flag() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &operator_assisted(),
        Some("ask:\n  confirm: true\n"),
        &[],
    );
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("operator-assisted"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("--allow-answers-file-on-live-run"),
        "{}",
        output.stderr
    );
    assert!(
        recorded(&server).await.is_empty(),
        "refused before anything ran"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_flag_the_answers_file_stands_in_and_the_record_says_so() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &operator_assisted(),
        Some("ask:\n  confirm: true\n"),
        &["--allow-answers-file-on-live-run", "--output", "json"],
    );
    assert_code(&output, 0);
    assert_eq!(recorded(&server).await, posts(&["/before", "/after"]));
    let report = report(&output);
    assert_eq!(
        report["operator"]["answers_file_replaced_operator"], true,
        "{report:#}"
    );
    assert_eq!(report["operator"]["prompts"], "answers file");

    let server = super::helpers::server().await;
    let output = run_runbook(
        &server,
        &operator_assisted(),
        Some("ask:\n  confirm: true\n"),
        &["--allow-answers-file-on-live-run"],
    );
    assert_code(&output, 0);
    assert!(output.stderr.contains("WARNING"), "{}", output.stderr);
    assert!(
        output
            .stdout
            .contains("an answers file stood in for the operator"),
        "{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answers_file_for_a_runbook_without_operator_mode_is_not_a_replacement() {
    let server = server().await;
    let output = run_runbook(
        &server,
        &prompt_runbook("confirm: Go?"),
        Some("ask:\n  confirm: true\n"),
        &["--output", "json"],
    );
    assert_code(&output, 0);
    let report = report(&output);
    assert!(
        report["operator"]
            .get("answers_file_replaced_operator")
            .is_none(),
        "{report:#}"
    );
}
