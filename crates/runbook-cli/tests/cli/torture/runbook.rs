//! The runbook, its helper script, the secrets.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

pub(super) const TOKEN: &str = "tok-CANARY-7f3a9c2e";
const CODE: &str = "ans-CANARY-51be02d4";
const TICKET: &str = "T-1001";
const PREP: &str = "PREP-42";
const MASK: &str = "********";

pub(super) const RUNBOOK: &str = r#"
id: torture
title: Resume torture runbook
mode: operator-assisted
inputs:
  base_url: {type: string}
  token:
    secret: true
    env: TORTURE_TOKEN
steps:
  - id: prep
    resume: rerun
    shell:
      command: . ./gate.sh; gate prep {{inputs.token}} && echo PREP-42
  - id: ask
    prompt:
      answers:
        code: {secret: true}
        ticket: {pattern: "^T-"}
  - id: grp
    group:
      steps:
        - id: g_shell
          resume: rerun
          shell:
            command: . ./gate.sh; gate g_shell "{{inputs.token}}|{{steps.ask.outputs.code}}|{{steps.prep.outputs.stdout}}"
        - id: g_post
          resume: rerun
          http:
            method: POST
            url: "{{inputs.base_url}}/g_post"
            json: {v: "{{steps.ask.outputs.code}}|{{steps.ask.outputs.ticket}}"}
        - id: g_flaky
          resume: rerun
          shell:
            command: . ./gate.sh; gate g_flaky {{steps.ask.outputs.ticket}} && flaky
      finally:
        - id: g_fin
          resume: rerun
          shell:
            command: . ./gate.sh; gate g_fin "{{steps.ask.outputs.code}}|{{steps.ask.outputs.ticket}}"
        - id: g_fin_ok
          resume: rerun
          when: {that: "{{steps.g_flaky.outputs.exit_code}}", equals: 0}
          shell:
            command: . ./gate.sh; gate g_fin_ok {{steps.prep.outputs.stdout}}
  - id: commit
    shell:
      command: . ./gate.sh; gate commit "{{inputs.token}}|{{steps.ask.outputs.code}}"
    rollback:
      - id: undo_commit
        shell:
          command: . ./gate.sh; gate undo_commit {{steps.ask.outputs.ticket}}
  - id: notify
    http:
      method: POST
      url: "{{inputs.base_url}}/notify"
      json: {v: "{{inputs.token}}|{{steps.ask.outputs.code}}"}
    rollback:
      - id: undo_notify
        http:
          method: POST
          url: "{{inputs.base_url}}/undo_notify"
          json: {v: "{{steps.ask.outputs.ticket}}"}
  - id: last
    resume: rerun
    shell:
      command: . ./gate.sh; gate last "{{steps.ask.outputs.code}}|{{inputs.token}}|{{steps.ask.outputs.ticket}}"
on_failure:
  - id: of_note
    http:
      method: POST
      url: "{{inputs.base_url}}/of_note"
      json: {v: "{{run.failed_step}}|{{steps.ask.outputs.ticket}}"}
finally:
  - id: fin
    shell:
      command: . ./gate.sh; gate fin "{{inputs.token}}"
"#;

/// Sourced by every shell step (so the values never reach an argv: `printf` is a builtin).
pub(super) const GATE_SH: &str = r#"
gate() {
  echo "$1 $TORTURE_SESSION" >> entered.log
  while [ -e "hold/$1.pre" ]; do sleep 0.02; done
  printf '%s %s %s\n' "$1" "$(printf '%s' "$2" | sha256sum | cut -c1-64)" "$TORTURE_SESSION" >> ledger.log
  while [ -e "hold/$1.post" ]; do sleep 0.02; done
}
flaky() {
  if [ -e flaky.armed ]; then rm -f flaky.armed; echo "failing once" >&2; return 1; fi
}
"#;

/// Decisions for the steps whose `resume` policy is `ask` (one per session that may need one).
pub(super) fn answers_file() -> String {
    let retries = "[retry, retry, retry, retry, retry, retry]";
    format!(
        "ask:\n  code: {CODE}\n  ticket: {TICKET}\ndecisions:\n  ask: {retries}\n  commit: {retries}\n  notify: {retries}\n"
    )
}

/// Steps whose work is recorded in the ledger (shell) and on the server (http).
pub(super) const SHELL_STEPS: &[&str] = &[
    "prep",
    "g_shell",
    "g_flaky",
    "g_fin",
    "g_fin_ok",
    "commit",
    "undo_commit",
    "last",
    "fin",
];
pub(super) const HTTP_STEPS: &[&str] = &["g_post", "notify", "undo_notify", "of_note"];
/// Main-phase steps that must never run again once journaled as finished. (The group's `finally`
/// steps are journaled in the main phase too, but they are cleanup: they run every time the group
/// runs.)
pub(super) const ONCE_DONE_STEPS: &[&str] = &[
    "prep", "g_shell", "g_post", "g_flaky", "commit", "notify", "last",
];
pub(super) const GROUP_MAIN: &[&str] = &["g_shell", "g_post", "g_flaky"];

/// The value each step must receive, by construction.
pub(super) fn expected_values() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("prep", TOKEN.to_owned()),
        ("g_shell", format!("{TOKEN}|{CODE}|{PREP}")),
        ("g_post", format!("{CODE}|{TICKET}")),
        ("g_flaky", TICKET.to_owned()),
        ("g_fin", format!("{CODE}|{TICKET}")),
        ("g_fin_ok", PREP.to_owned()),
        ("commit", format!("{TOKEN}|{CODE}")),
        ("undo_commit", TICKET.to_owned()),
        ("notify", format!("{TOKEN}|{CODE}")),
        ("undo_notify", TICKET.to_owned()),
        ("last", format!("{CODE}|{TOKEN}|{TICKET}")),
        ("of_note", format!("grp|{TICKET}")),
        ("fin", TOKEN.to_owned()),
    ])
}

pub(super) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What a wrong hash was, when it is one of the likely mistakes.
pub(super) fn diagnose(step: &str, hash: &str) -> String {
    let Some(value) = expected_values().get(step).cloned() else {
        return String::new();
    };
    let candidates = [
        (
            "the mask instead of the secret answer",
            value.replace(CODE, MASK),
        ),
        (
            "the mask instead of the secret input",
            value.replace(TOKEN, MASK),
        ),
        (
            "the mask instead of both secrets",
            value.replace(CODE, MASK).replace(TOKEN, MASK),
        ),
        ("an empty secret answer", value.replace(CODE, "")),
    ];
    candidates
        .iter()
        .find(|(_, candidate)| sha256_hex(candidate) == hash)
        .map(|(what, _)| format!(" (it received {what})"))
        .unwrap_or_default()
}

/// The byte strings that must appear nowhere: each secret, and the stable part of its base64 at
/// each of the three alignments it can have inside a longer encoded text.
pub(super) fn canaries() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for secret in [TOKEN, CODE] {
        out.push((secret.to_owned(), secret.as_bytes().to_vec()));
        for shift in 0..3 {
            let mut bytes = vec![0u8; shift];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = base64(&bytes);
            // Characters touched by the padding prefix or by whatever follows are unstable.
            let start = (shift * 4).div_ceil(3);
            let end = ((shift + secret.len()) * 4 / 3).saturating_sub(1);
            let core = &encoded[start..end];
            out.push((
                format!("base64 of {secret} ({core})"),
                core.as_bytes().to_vec(),
            ));
        }
    }
    out
}

/// The scan would see each secret however it is embedded in base64 text.
pub(super) fn check_canaries_catch_encoded_secrets() {
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    let canaries = canaries();
    for secret in [TOKEN, CODE] {
        for prefix in ["", "a", "ab"] {
            let encoded = base64(format!("{prefix}{secret}\n").as_bytes());
            assert!(
                canaries.iter().any(|(_, needle)| encoded
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w == needle.as_slice())),
                "no canary matches {encoded}"
            );
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
        for _ in chunk.len()..3 {
            out.push('=');
        }
    }
    out
}
