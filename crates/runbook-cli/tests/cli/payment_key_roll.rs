//! `examples/payment-key-roll.yaml` end to end, offline: wiremock stands in for the feature-flag
//! service, the payment provider, Vault and the health endpoint; a `kubectl` script on PATH logs
//! what it was asked. Ctrl-C (SIGINT to the real binary) at three points produces the undo the
//! SOP asks for, and an old key that still works ends the run with warnings (exit 8).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, Background, Finished, Sandbox, wait_until, workspace_root};

const OLD_KEY: &str = "rk_live_OLDKEY0001";
const NEW_KEY: &str = "rk_live_NEWKEY0002";

/// Logs every call (and how many bytes a `create secret` read from stdin); `rollout status` waits
/// while the file `hold` exists, until a `rollout undo` has been asked for.
const KUBECTL: &str = r#"#!/bin/sh
dir="$(dirname "$0")/.."
extra=""
case "$*" in *"--from-file=key=/dev/stdin"*) extra=" stdin-bytes=$(wc -c | tr -d ' ')";; esac
printf '%s%s\n' "$*" "$extra" >> "$dir/kubectl.log"
case "$*" in
  *"rollout undo"*) : > "$dir/undone" ;;
  *"rollout status"*)
    if [ ! -e "$dir/undone" ]; then
      while [ -e "$dir/hold" ]; do sleep 0.05; done
    fi ;;
esac
exit 0
"#;

const ANSWERS: &str = "preconditions:\n  confirm: true\nroll_key:\n  new_key: rk_live_NEWKEY0002\n";

/// How the stand-ins behave.
#[derive(Clone, Copy, Default)]
struct Setup {
    /// The old key keeps working after it was expired.
    old_key_alive: bool,
    /// Vault's write takes a minute (a point before propagation to press Ctrl-C at).
    slow_vault_write: bool,
    /// `kubectl rollout status` waits until the test lets it go (during propagation).
    hold_rollout: bool,
    /// How long `old_key_dead` waits for the old key to stop working.
    grace: &'static str,
}

struct Rig {
    server: MockServer,
}

fn fingerprint(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..16]
        .to_owned()
}

impl Rig {
    async fn new(setup: Setup) -> Rig {
        let server = MockServer::start().await;
        let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
        Mock::given(method("POST"))
            .and(path("/flags/webhooks_enabled"))
            .respond_with(ok(json!({"ok": true})))
            .mount(&server)
            .await;
        let account = json!({"id": "acct_1", "livemode": true});
        // The old key answers the snapshot; afterwards it is alive or expired.
        Mock::given(method("GET"))
            .and(path("/v1/account"))
            .and(header(
                "authorization",
                format!("Bearer {OLD_KEY}").as_str(),
            ))
            .respond_with(ok(account.clone()))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        let later = if setup.old_key_alive {
            ok(account.clone())
        } else {
            ResponseTemplate::new(401).set_body_json(json!({"error": "expired"}))
        };
        Mock::given(method("GET"))
            .and(path("/v1/account"))
            .and(header(
                "authorization",
                format!("Bearer {OLD_KEY}").as_str(),
            ))
            .respond_with(later)
            .with_priority(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/account"))
            .and(header(
                "authorization",
                format!("Bearer {NEW_KEY}").as_str(),
            ))
            .respond_with(ok(account))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/secret/metadata/payments/provider"))
            .respond_with(ok(json!({"data": {"current_version": 7}})))
            .mount(&server)
            .await;
        let written = ok(json!({"data": {"version": 8}}));
        let written = if setup.slow_vault_write {
            written.set_delay(Duration::from_secs(60))
        } else {
            written
        };
        Mock::given(method("POST"))
            .and(path("/v1/secret/data/payments/provider"))
            .respond_with(written)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/health/provider-key"))
            .respond_with(ok(json!({"key_fingerprint": fingerprint(NEW_KEY)})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/api_keys/expire"))
            .respond_with(ok(json!({"expired": true})))
            .mount(&server)
            .await;
        Rig { server }
    }

    /// `runbook run examples/payment-key-roll.yaml` in a new sandbox, with the stand-ins.
    fn start(&self, setup: Setup, extra: &[&str]) -> Background {
        let sandbox = Sandbox::new();
        let kubectl = sandbox.write("bin/kubectl", KUBECTL);
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        if setup.hold_rollout {
            sandbox.write("hold", "");
        }
        sandbox.write("roll.answers.yaml", ANSWERS);
        let path = format!(
            "{}:{}",
            sandbox.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let uri = self.server.uri();
        let grace = if setup.grace.is_empty() {
            "1s"
        } else {
            setup.grace
        };
        let example = workspace_root().join("examples/payment-key-roll.yaml");
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"));
        command
            .current_dir(sandbox.path())
            .arg("run")
            .arg(&example)
            .args([
                "--answers",
                "roll.answers.yaml",
                "--allow-answers-file-on-live-run",
            ])
            .args(["--input", &format!("flags_url={uri}")])
            .args(["--input", &format!("provider_url={uri}")])
            .args(["--input", &format!("vault_url={uri}")])
            .args(["--input", &format!("health_url={uri}")])
            .args(["--input", &format!("old_key_grace={grace}")])
            .args(extra)
            .env("PAYMENT_PROVIDER_OLD_KEY", OLD_KEY)
            .env("VAULT_TOKEN", "hvs.test-token")
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env("RUNBOOK_STATE_DIR", sandbox.path().join(".state"))
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env_remove("COLUMNS")
            .env_remove("RUNBOOK_AUDIT_LOG")
            .env_remove("RUST_LOG");
        Background::spawn(command).keeping(sandbox)
    }

    /// The requests received, as `METHOD /path BODY`.
    async fn received(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .expect("wiremock records requests")
            .iter()
            .map(|request| {
                format!(
                    "{} {} {}",
                    request.method,
                    request.url.path(),
                    String::from_utf8_lossy(&request.body)
                )
            })
            .collect()
    }

    async fn until_received(&self, what: &str, done: impl Fn(&[String]) -> bool) {
        let done = &done;
        support::wait_until_async(Duration::from_secs(20), what, || async move {
            let received = self.received().await;
            if done(&received) {
                Ok(())
            } else {
                Err(format!("{received:#?}"))
            }
        })
        .await;
    }

    /// The webhook flag posts, in order: `false`, `true`, ...
    async fn webhook_flags(&self) -> Vec<String> {
        self.received()
            .await
            .iter()
            .filter(|line| line.starts_with("POST /flags/webhooks_enabled "))
            .map(|line| {
                let body: Value = serde_json::from_str(line.splitn(3, ' ').nth(2).unwrap_or(""))
                    .unwrap_or(Value::Null);
                body["enabled"].to_string()
            })
            .collect()
    }

    /// The keys written to Vault, in order.
    async fn vault_writes(&self) -> Vec<String> {
        self.received()
            .await
            .iter()
            .filter(|line| line.starts_with("POST /v1/secret/data/payments/provider "))
            .map(|line| {
                let body: Value = serde_json::from_str(line.splitn(3, ' ').nth(2).unwrap_or(""))
                    .unwrap_or(Value::Null);
                body["data"]["key"].as_str().unwrap_or("").to_owned()
            })
            .collect()
    }
}

fn kubectl_log(run: &Background) -> String {
    std::fs::read_to_string(run.sandbox().path().join("kubectl.log")).unwrap_or_default()
}

fn audit_records(sandbox: &Sandbox) -> Vec<Value> {
    std::fs::read_to_string(sandbox.path().join(".state/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

async fn finish(mut run: Background) -> (Finished, Sandbox) {
    let sandbox = run.take_sandbox().expect("the run keeps its sandbox");
    (run.finish(Duration::from_secs(60)).await, sandbox)
}

#[tokio::test]
async fn the_roll_succeeds_and_records_its_commit_point_and_preconditions() {
    let setup = Setup::default();
    let rig = Rig::new(setup).await;
    let (done, _sandbox) = finish(rig.start(setup, &["--output", "json"])).await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let report: Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(report["status"], "succeeded");
    assert_eq!(report["commit_point"], "verify");
    assert_eq!(report["preconditions"]["confirmed"], true);
    assert_eq!(report["preconditions"]["answered_by"], "answers file");
    assert_eq!(rig.webhook_flags().await, ["false", "true"]);
    assert_eq!(rig.vault_writes().await, [NEW_KEY]);
    assert!(!done.stdout.contains(NEW_KEY) && !done.stdout.contains(OLD_KEY));
}

#[tokio::test]
async fn an_old_key_that_still_works_is_a_warning_with_its_own_exit_code() {
    let setup = Setup {
        old_key_alive: true,
        ..Setup::default()
    };
    let rig = Rig::new(setup).await;
    let (done, sandbox) = finish(rig.start(setup, &[])).await;
    assert_eq!(done.code, Some(8), "{}\n{}", done.stdout, done.stderr);
    let out = &done.stdout;
    // The SOP header reached the operator, then the one confirmation.
    assert!(
        out.contains("required role: payments-oncall · takes about 20m"),
        "{out}"
    );
    assert!(out.contains("gotchas"), "{out}");
    assert!(
        out.contains("✓ preconditions confirmed (answers file)"),
        "{out}"
    );
    assert!(out.contains("[commit point]"), "{out}");
    assert!(
        out.contains("! [13/15] The old key no longer works"),
        "{out}"
    );
    assert!(
        out.contains("The old key still works after 1s. Do not roll back"),
        "{out}"
    );
    assert!(out.contains("succeeded with warnings:"), "{out}");
    assert!(out.contains("warning: `old_key_dead`"), "{out}");
    assert!(
        out.contains("commit point passed: `verify` (undo disarmed)"),
        "{out}"
    );
    // Nothing was undone: webhooks paused and resumed once, Vault written once.
    assert_eq!(rig.webhook_flags().await, ["false", "true"]);
    assert_eq!(rig.vault_writes().await, [NEW_KEY]);
    let audit = audit_records(&sandbox);
    let finished = audit
        .iter()
        .find(|record| record["type"] == "run_finished")
        .expect("a run_finished record");
    assert_eq!(finished["status"], "succeeded_with_warnings");
    assert_eq!(finished["warnings"], json!(["old_key_dead"]));
    assert_eq!(finished["commit_point"], "verify");
    assert!(audit.iter().any(|record| record["type"] == "event"
        && record["action"] == "secret.rotate.old_key_still_valid"));
    assert!(
        audit
            .iter()
            .any(|record| record["type"] == "preconditions" && record["confirmed"] == true)
    );
    // `runbook runs` says so too.
    let runs = crate::support::finish({
        let mut command = crate::support::runbook();
        command
            .current_dir(sandbox.path())
            .env("RUNBOOK_STATE_DIR", sandbox.path().join(".state"))
            .env("HOME", crate::support::sandbox_home())
            .env_remove("XDG_STATE_HOME")
            .env_remove("COLUMNS")
            .arg("runs");
        command
    });
    assert!(
        runs.stdout.contains("succeeded_with_warnings"),
        "{}",
        runs.stdout
    );
}

#[tokio::test]
async fn ctrl_c_before_propagation_only_resumes_webhooks() {
    let setup = Setup {
        slow_vault_write: true,
        ..Setup::default()
    };
    let rig = Rig::new(setup).await;
    let run = rig.start(setup, &[]);
    rig.until_received("the Vault write", |received| {
        received
            .iter()
            .any(|line| line.starts_with("POST /v1/secret/data/payments/provider "))
    })
    .await;
    run.sigint();
    let log_path = run.sandbox().path().join("kubectl.log");
    let (done, _sandbox) = finish(run).await;
    assert_eq!(done.code, Some(130), "{}\n{}", done.stdout, done.stderr);
    assert_eq!(rig.webhook_flags().await, ["false", "true"]);
    assert_eq!(rig.vault_writes().await, [NEW_KEY], "Vault is not restored");
    assert!(!log_path.exists(), "kubectl was never called");
    assert!(
        done.stdout.contains("Resume webhook processing (undo)"),
        "{}",
        done.stdout
    );
    assert!(!done.stdout.contains("Undo the rollout"), "{}", done.stdout);
}

#[tokio::test]
async fn ctrl_c_during_propagation_undoes_the_rollout_and_vault_then_resumes_webhooks() {
    let setup = Setup {
        hold_rollout: true,
        ..Setup::default()
    };
    let rig = Rig::new(setup).await;
    let run = rig.start(setup, &[]);
    wait_until(
        Duration::from_secs(20),
        "`kubectl rollout status` to be waiting",
        || kubectl_log(&run).contains("rollout status"),
    );
    run.sigint();
    let (done, sandbox) = finish(run).await;
    assert_eq!(done.code, Some(130), "{}\n{}", done.stdout, done.stderr);
    let log = std::fs::read_to_string(sandbox.path().join("kubectl.log")).unwrap();
    let calls: Vec<&str> = log.lines().collect();
    assert_eq!(calls.len(), 6, "{log}");
    // The two ends of the pipe start together, in either order.
    let create = calls
        .iter()
        .take(2)
        .find(|call| call.contains("create secret generic provider-key"))
        .expect("the secret was created");
    assert!(
        create.ends_with(&format!("stdin-bytes={}", NEW_KEY.len())),
        "{log}"
    );
    assert!(
        calls
            .iter()
            .take(2)
            .any(|call| call.starts_with("apply -f -")),
        "{log}"
    );
    assert!(
        calls[2].contains("rollout restart deployment/payments-api"),
        "{log}"
    );
    assert!(calls[3].contains("rollout status"), "{log}");
    assert!(
        calls[4].contains("rollout undo deployment/payments-api"),
        "{log}"
    );
    assert!(calls[5].contains("rollout status"), "{log}");
    // Vault got the old key back, and webhooks resumed after the undo.
    assert_eq!(rig.vault_writes().await, [NEW_KEY, OLD_KEY]);
    assert_eq!(rig.webhook_flags().await, ["false", "true"]);
    let order: Vec<String> = rig
        .received()
        .await
        .into_iter()
        .filter(|line| line.starts_with("POST "))
        .map(|line| line.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        order,
        [
            "POST /flags/webhooks_enabled",
            "POST /v1/secret/data/payments/provider",
            "POST /v1/secret/data/payments/provider",
            "POST /flags/webhooks_enabled"
        ]
    );
    let out = &done.stdout;
    let undo = out.find("Undo the rollout").expect("the undo ran");
    let resume = out
        .find("Resume webhook processing (undo)")
        .expect("webhooks resumed");
    assert!(undo < resume, "the phase's undo runs first:\n{out}");
    assert!(
        out.contains("The key roll stopped at `wait_rollout`: interrupted (Ctrl-C)"),
        "{out}"
    );
    assert!(!out.contains(OLD_KEY) && !out.contains(NEW_KEY), "{out}");
}

#[tokio::test]
async fn ctrl_c_after_the_commit_point_undoes_nothing() {
    let setup = Setup {
        old_key_alive: true,
        grace: "60s",
        ..Setup::default()
    };
    let rig = Rig::new(setup).await;
    let run = rig.start(setup, &[]);
    // The old key is being polled: verification passed long ago.
    rig.until_received("the old key to be polled", |received| {
        received
            .iter()
            .position(|line| line.starts_with("POST /v1/api_keys/expire "))
            .is_some_and(|at| {
                received[at..]
                    .iter()
                    .any(|line| line.starts_with("GET /v1/account "))
            })
    })
    .await;
    run.sigint();
    let log_path = run.sandbox().path().join("kubectl.log");
    let (done, _sandbox) = finish(run).await;
    assert_eq!(done.code, Some(130), "{}\n{}", done.stdout, done.stderr);
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(!log.contains("rollout undo"), "{log}");
    assert_eq!(rig.vault_writes().await, [NEW_KEY]);
    assert_eq!(rig.webhook_flags().await, ["false", "true"]);
    assert!(!done.stdout.contains("rolling back"), "{}", done.stdout);
    assert!(
        done.stdout
            .contains("commit point passed: `verify` (undo disarmed)"),
        "{}",
        done.stdout
    );
}
