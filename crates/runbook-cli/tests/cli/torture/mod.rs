//! The resume torture test: the real binary is SIGKILLed at every step boundary and in the middle
//! of steps, then `runbook resume` continues the run (once, twice, and after a failed session), and
//! every trial is checked against an uninterrupted reference run.
//!
//! # The runbook
//!
//! [`RUNBOOK`](runbook::RUNBOOK) has a secret input (`token`, from the environment or `--input`), a
//! prompt with a secret answer (`code`, from an answers file kept outside every scanned directory),
//! shell steps, HTTP POSTs, a group with a `finally` (one step always, one only when the group's
//! last step passed), steps with `rollback`, a runbook-level `on_failure` and `finally`. Every
//! shell step sources `gate.sh` and calls `gate STEP VALUE`, which appends `STEP <sha256 of VALUE>
//! <session>` to `ledger.log`; the values come from `{{...}}` references (which reach the shell as
//! `RUNBOOK_REF_n` variables and go to `sha256sum` through a pipe, never through an argv). Every
//! POST carries `{"v": VALUE}`; the [`Recorder`](server::Recorder) server (std::net, one thread per
//! connection) keeps only the sha256 of `v`, per path, in arrival order. `g_flaky` fails the first
//! time it runs in a trial (it consumes `flaky.armed`), so every trial also has a failed session
//! whose failure path ran, and a resume after a failure. Its position (inside the group, before any
//! step with a `rollback`) is forced: a failure after a passed step with `rollback` runs
//! compensation, and a compensated run can no longer be resumed, so such a trial could never
//! complete.
//!
//! # Kill points
//!
//! Nothing sleeps for a fixed time. A kill point ([`KILL_POINTS`]) holds one step (a file
//! `hold/STEP.pre` or `hold/STEP.post`, which `gate` polls before or after its ledger line, or a
//! path on the server, whose response is held) and fires on a trigger: the held point is reached
//! (mid-step), or a given step's `step_finished` record appears in this session's part of the
//! journal (between steps: the next step is held, so the engine cannot get further). A session in
//! which the hold is reached without the trigger (say the trigger wants `g_flaky` passed and it
//! failed) gets the hold released and the kill point moves on to the next session.
//!
//! # How a session is killed
//!
//! `Crash` (most trials): SIGKILL to `runbook`, then SIGKILL to every process still carrying the
//! session's `TORTURE_TAG` environment variable (the shell step's process group, which `runbook`
//! put in a group of its own): a machine that lost power. `RunbookOnly` (the trials marked so):
//! SIGKILL to `runbook` alone; the held shell command is released and finishes its work as an
//! orphan (the test waits until no tagged process is alive, as `runbook resume` would otherwise
//! refuse to start the step again). Both leave the step in doubt; they differ in whether its side
//! effect happened.
//!
//! # What every trial asserts
//!
//! See [`check_trial`]: the run ends `succeeded`; no step whose `step_finished` (passed or skipped,
//! main phase) was journaled before a session ran again in that session; every hashed value equals
//! the reference run's; every group `finally` ran for the group's work; the failure path and
//! `finally` ran in every session that ended on its own; no compensation ran (no session failed
//! after a step with `rollback` passed); no canary secret (or its base64) in any file under the
//! sandbox (which holds the state directory) or in any output. Failures are collected over all
//! trials and reported together at the end, one block per failing trial.
//!
//! # Regressions it pins
//!
//! Two engine defects, both fixed, that this test found: a second (or later) resume fed the
//! steps using the secret prompt answer `code` the mask `********` instead of the answer, and a
//! group's `finally` step journaled in an earlier session (passed, or skipped by its `when`) was
//! restored on resume instead of run, although the group's steps ran again. [`check_trial`]
//! detects each: the first as a value hash differing from the reference run's (diagnosed as "the
//! mask instead of the secret answer"), the second as "ran steps of group `grp` but not its
//! finally step".

mod checks;
mod kill_points;
mod rig;
mod runbook;
mod server;
mod session;

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use checks::check_trial;
use kill_points::{KILL_POINTS, trials};
use rig::Rig;
use runbook::{
    HTTP_STEPS, SHELL_STEPS, check_canaries_catch_encoded_secrets, diagnose, expected_values,
    sha256_hex,
};
use session::run_trial;

// ---------------------------------------------------------------------------------------------
// The reference run and the test.

/// An uninterrupted run (`g_flaky` not armed): the value hash of every step that runs in it,
/// checked against the values the runbook is built to pass. `of_note` (failure path) and the
/// compensation steps do not run in it; their expected hashes come from [`expected_values`].
fn reference_run() -> BTreeMap<String, String> {
    let rig = Rig::new("reference");
    let ended = rig.spawn(1, false).wait();
    assert_eq!(
        ended.code,
        Some(0),
        "the reference run failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&ended.stdout),
        String::from_utf8_lossy(&ended.stderr)
    );
    let mut observed: BTreeMap<String, String> = BTreeMap::new();
    for (step, hash, _) in rig.ledger() {
        observed.insert(step, hash);
    }
    for (path, hash) in rig.server.requests() {
        observed.insert(path, hash);
    }
    let mut reference = BTreeMap::new();
    for (step, value) in expected_values() {
        let expected = sha256_hex(&value);
        if let Some(seen) = observed.get(step) {
            assert_eq!(
                seen,
                &expected,
                "the reference run passed `{step}` a different value than the runbook is built to{}",
                diagnose(step, seen)
            );
        }
        reference.insert(step.to_owned(), expected);
    }
    let ran: Vec<&String> = observed.keys().collect();
    for step in SHELL_STEPS.iter().chain(HTTP_STEPS) {
        let cleanup_only = ["undo_commit", "undo_notify", "of_note"].contains(step);
        assert_eq!(
            observed.contains_key(*step),
            !cleanup_only,
            "reference run: `{step}` ran or not as expected? ran: {ran:?}"
        );
    }
    reference
}

#[test]
fn resume_torture_sigkill_at_every_step_boundary_and_mid_step() {
    let started = Instant::now();
    check_canaries_catch_encoded_secrets();
    let reference = reference_run();
    let trials = trials();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, String, Vec<String>)>> = Mutex::new(Vec::new());
    let workers = 3;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(trial) = trials.get(index) else {
                        break;
                    };
                    let rig = Rig::new(&format!("t{index}"));
                    let outcome = run_trial(&rig, trial);
                    let failures = check_trial(&rig, &outcome, &reference);
                    results
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner())
                        .push((index, trial.name(), failures));
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    results.sort_by_key(|(index, _, _)| *index);
    let failed: Vec<&(usize, String, Vec<String>)> = results
        .iter()
        .filter(|(_, _, failures)| !failures.is_empty())
        .collect();
    eprintln!(
        "resume torture: {} trials ({} kill points), {} failed, in {:.1?}",
        results.len(),
        KILL_POINTS.len(),
        failed.len(),
        started.elapsed()
    );
    if !failed.is_empty() {
        let mut report = String::new();
        for (index, name, failures) in &failed {
            report.push_str(&format!("\ntrial {index}: {name}\n"));
            for failure in failures.iter() {
                report.push_str(&format!("  - {failure}\n"));
            }
        }
        report.push_str("\nfailures by kind (trials):\n");
        for (kind, trials) in tally(failed.iter().map(|(_, _, failures)| failures)) {
            report.push_str(&format!("  {trials:>3}  {kind}\n"));
        }
        panic!(
            "{} of {} resume torture trials failed:{report}",
            failed.len(),
            results.len()
        );
    }
}

/// How many trials had each kind of failure: the message without its story and session numbers.
fn tally<'a>(trials: impl Iterator<Item = &'a Vec<String>>) -> Vec<(String, usize)> {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for failures in trials {
        let mut seen = HashSet::new();
        for failure in failures {
            let kind = failure.split(" (session ").next().unwrap_or(failure);
            let kind: String = kind
                .split(' ')
                .map(|word| {
                    if word.parse::<usize>().is_ok() {
                        "N"
                    } else {
                        word
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            if seen.insert(kind.clone()) {
                *kinds.entry(kind).or_insert(0) += 1;
            }
        }
    }
    let mut kinds: Vec<(String, usize)> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    kinds
}
