//! Checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::rig::Rig;
use super::runbook::{GROUP_MAIN, HTTP_STEPS, ONCE_DONE_STEPS, canaries, diagnose};
use super::session::{Outcome, Session, is_start, session_records};

/// Executions of `step` in `session`: ledger lines (shell) or requests (http).
fn executions(outcome: &Outcome, step: &str, session: &Session) -> Vec<String> {
    if HTTP_STEPS.contains(&step) {
        let end = outcome
            .sessions
            .iter()
            .find(|s| s.number == session.number + 1)
            .map_or(outcome.requests.len(), |s| s.requests_before);
        outcome.requests[session.requests_before..end]
            .iter()
            .filter(|(path, _)| path == step)
            .map(|(_, hash)| hash.clone())
            .collect()
    } else {
        outcome
            .ledger
            .iter()
            .filter(|(s, _, n)| s == step && *n == session.number)
            .map(|(_, hash, _)| hash.clone())
            .collect()
    }
}

/// Steps whose last main-phase record before the session started says they finished.
fn finished_before(journal: &[Value], starts_before: usize) -> Vec<String> {
    let starts: Vec<usize> = journal
        .iter()
        .enumerate()
        .filter(|(_, r)| is_start(r))
        .map(|(i, _)| i)
        .collect();
    let Some(&until) = starts.get(starts_before) else {
        return Vec::new();
    };
    let mut last: BTreeMap<String, &Value> = BTreeMap::new();
    for record in &journal[..until] {
        let main = record["phase"] == "main";
        let kind = record["type"].as_str().unwrap_or_default();
        if main && (kind == "step_started" || kind == "step_finished") {
            last.insert(
                record["step"].as_str().unwrap_or_default().to_owned(),
                record,
            );
        }
    }
    last.into_iter()
        .filter(|(_, r)| {
            r["type"] == "step_finished" && (r["outcome"] == "passed" || r["outcome"] == "skipped")
        })
        .map(|(step, _)| step)
        .collect()
}

fn session_passed(records: &[Value], step: &str) -> bool {
    records.iter().any(|r| {
        r["type"] == "step_finished"
            && r["step"] == step
            && r["outcome"] == "passed"
            && r["attempts"].as_u64().unwrap_or(0) >= 1
    })
}

pub(super) fn check_trial(
    rig: &Rig,
    outcome: &Outcome,
    reference: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |message: String| failures.push(message);
    let story: Vec<String> = outcome
        .sessions
        .iter()
        .map(|s| match (s.killed_at, s.ended.code) {
            (Some(at), _) => format!("session {} killed ({at})", s.number),
            (None, code) => format!("session {} exited {code:?}", s.number),
        })
        .collect();
    let story = story.join("; ");

    // 1. The run completes.
    let last = outcome.sessions.last();
    if last.and_then(|s| s.ended.code) != Some(0) {
        let detail = last
            .map(|s| {
                String::from_utf8_lossy(&s.ended.stdout).into_owned()
                    + &String::from_utf8_lossy(&s.ended.stderr)
            })
            .unwrap_or_default();
        fail(format!(
            "the run did not complete ({story}); last output:\n{}",
            indent(&detail)
        ));
    }
    let status = outcome
        .journal
        .iter()
        .rev()
        .find(|r| r["type"] == "run_finished")
        .map(|r| r["status"].clone());
    if status != Some(Value::from("succeeded")) {
        fail(format!(
            "the journal's last run_finished status is {status:?}, not succeeded"
        ));
    }
    for name in &outcome.unreached {
        fail(format!("kill point `{name}` was never reached ({story})"));
    }

    // 2. No step journaled as finished ran again.
    for session in &outcome.sessions {
        for step in finished_before(&outcome.journal, session.starts_before) {
            if !ONCE_DONE_STEPS.contains(&step.as_str()) {
                continue;
            }
            let n = executions(outcome, &step, session).len();
            if n > 0 {
                fail(format!(
                    "`{step}` ran {n} time(s) in session {} although the journal had it finished ({story})",
                    session.number
                ));
            }
        }
    }
    for step in ONCE_DONE_STEPS {
        let total: usize = outcome
            .sessions
            .iter()
            .map(|s| executions(outcome, step, s).len())
            .sum();
        if total == 0 {
            fail(format!("`{step}` never ran ({story})"));
        }
    }

    // 3. Every value a step received is the reference run's.
    for (step, hash, session) in &outcome.ledger {
        check_hash(
            &mut fail,
            step,
            hash,
            &format!("session {session}"),
            reference,
        );
    }
    for session in &outcome.sessions {
        for step in HTTP_STEPS {
            for hash in executions(outcome, step, session) {
                check_hash(
                    &mut fail,
                    step,
                    &hash,
                    &format!("session {}", session.number),
                    reference,
                );
            }
        }
    }

    // 4. Group finally: in every session that ran group steps and got past the group, and after
    // the last time group steps ran at all.
    // The story-wide check only speaks when no session-level one did (same defect, one message).
    let mut last_group_work = None;
    let mut missed = false;
    for session in &outcome.sessions {
        let records = session_records(&outcome.journal, session.starts_before);
        let group_ran = GROUP_MAIN
            .iter()
            .any(|step| !executions(outcome, step, session).is_empty());
        if group_ran {
            last_group_work = Some(session.number);
        }
        let past_group = records
            .iter()
            .any(|r| r["type"] == "step_finished" && r["step"] == "grp");
        if group_ran && past_group && executions(outcome, "g_fin", session).is_empty() {
            missed = true;
            fail(format!(
                "session {} ran steps of group `grp` but not its finally step `g_fin` ({story})",
                session.number
            ));
        }
        if session_passed(records, "g_flaky")
            && past_group
            && executions(outcome, "g_fin_ok", session).is_empty()
        {
            missed = true;
            fail(format!(
                "session {} ran `g_flaky` (passed) but not the group's finally step `g_fin_ok`, whose `when` now holds ({story})",
                session.number
            ));
        }
    }
    if let Some(n) = last_group_work.filter(|_| !missed) {
        let later = outcome.sessions.iter().filter(|s| s.number >= n);
        if later
            .clone()
            .all(|s| executions(outcome, "g_fin", s).is_empty())
        {
            fail(format!(
                "the group's work of session {n} was never followed by its finally step `g_fin` ({story})"
            ));
        }
        if later
            .clone()
            .all(|s| executions(outcome, "g_fin_ok", s).is_empty())
        {
            fail(format!(
                "`g_fin_ok` (group finally, after `g_flaky` passed) never ran after session {n} ({story})"
            ));
        }
    }

    // 5. The failure path and finally ran in every session that ended on its own; no compensation.
    for session in outcome.sessions.iter().filter(|s| s.killed_at.is_none()) {
        let code = session.ended.code;
        if executions(outcome, "fin", session).is_empty() {
            fail(format!(
                "session {} exited {code:?} without running `finally` ({story})",
                session.number
            ));
        }
        let noted = !executions(outcome, "of_note", session).is_empty();
        match code {
            Some(0) if noted => fail(format!(
                "session {} succeeded but ran the failure path ({story})",
                session.number
            )),
            Some(0) => {}
            Some(10) if noted => {}
            _ => fail(format!(
                "session {} exited {code:?}; expected 10 (failed, failure path ran) with `of_note` run, and it {} ({story})\n{}",
                session.number,
                if noted { "ran" } else { "did not run" },
                indent(&String::from_utf8_lossy(&session.ended.stdout))
            )),
        }
    }
    for session in &outcome.sessions {
        for step in ["undo_commit", "undo_notify"] {
            if !executions(outcome, step, session).is_empty() {
                fail(format!(
                    "compensation `{step}` ran in session {} ({story})",
                    session.number
                ));
            }
        }
    }
    if rig.path("flaky.armed").exists() {
        fail(format!(
            "`g_flaky` never failed: the failure path was not exercised ({story})"
        ));
    }

    // 6. No secret anywhere.
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    for session in &outcome.sessions {
        texts.push((
            format!(
                "stdout of session {} (`{}`)",
                session.number, session.ended.command_line
            ),
            session.ended.stdout.clone(),
        ));
        texts.push((
            format!(
                "stderr of session {} (`{}`)",
                session.number, session.ended.command_line
            ),
            session.ended.stderr.clone(),
        ));
    }
    for file in files_under(rig.sandbox.path()) {
        let bytes =
            std::fs::read(&file).unwrap_or_else(|error| panic!("read {}: {error}", file.display()));
        texts.push((file.display().to_string(), bytes));
    }
    for (what, bytes) in &texts {
        for (canary, needle) in canaries() {
            if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                fail(format!("{canary} appears in {what}"));
            }
        }
    }
    failures
}

fn check_hash(
    fail: &mut impl FnMut(String),
    step: &str,
    hash: &str,
    when: &str,
    reference: &BTreeMap<String, String>,
) {
    match reference.get(step) {
        Some(expected) if expected == hash => {}
        Some(_) => fail(format!(
            "`{step}` received a value different from the reference run's in {when}{}",
            diagnose(step, hash)
        )),
        None => fail(format!(
            "`{step}` ran in {when}, but it has no reference value"
        )),
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("read_dir {}: {error}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                out.push(path);
            }
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("      {line}\n")).collect()
}
