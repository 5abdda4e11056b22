//! Running a trial.

use std::time::Instant;

use serde_json::Value;

use super::kill_points::{KillPoint, Mode, Trial, Trigger};
use super::rig::{DEADLINE, Ended, Invocation, MAX_SESSIONS, POLL, Rig};

pub(super) struct Session {
    pub(super) number: usize,
    /// How many `run_started`/`run_resumed` records the journal had when it was spawned.
    pub(super) starts_before: usize,
    /// How many requests the server had when it was spawned.
    pub(super) requests_before: usize,
    pub(super) killed_at: Option<&'static str>,
    pub(super) ended: Ended,
}

/// What a trial left behind, for [`check_trial`](super::checks::check_trial).
pub(super) struct Outcome {
    pub(super) sessions: Vec<Session>,
    pub(super) unreached: Vec<&'static str>,
    pub(super) ledger: Vec<(String, String, usize)>,
    pub(super) requests: Vec<(String, String)>,
    pub(super) journal: Vec<Value>,
}

pub(super) fn is_start(record: &Value) -> bool {
    record["type"] == "run_started" || record["type"] == "run_resumed"
}

/// The records of the session whose start record is the `starts_before`-th (0-based).
pub(super) fn session_records(journal: &[Value], starts_before: usize) -> &[Value] {
    let starts: Vec<usize> = journal
        .iter()
        .enumerate()
        .filter(|(_, r)| is_start(r))
        .map(|(i, _)| i)
        .collect();
    let Some(&from) = starts.get(starts_before) else {
        return &[];
    };
    let to = starts
        .get(starts_before + 1)
        .copied()
        .unwrap_or(journal.len());
    &journal[from..to]
}

fn triggered(trigger: Trigger, records: &[Value]) -> bool {
    match trigger {
        Trigger::Held => false,
        Trigger::Finished(step, outcome) => records.iter().any(|r| {
            r["type"] == "step_finished"
                && r["step"] == step
                && r["attempts"].as_u64().unwrap_or(0) >= 1
                && outcome.is_none_or(|o| r["outcome"] == o)
        }),
    }
}

pub(super) fn run_trial(rig: &Rig, trial: &Trial) -> Outcome {
    rig.arm_flaky();
    let mut pending = trial.kills.iter().copied().peekable();
    let mut sessions = Vec::new();
    for number in 1..=MAX_SESSIONS {
        let kill_point = pending.peek().copied();
        if let Some(point) = kill_point {
            rig.arm(point.hold);
        }
        let starts_before = rig.journal().iter().filter(|r| is_start(r)).count();
        let requests_before = rig.server.count();
        let invocation = rig.spawn(number, trial.input_flag);
        let (ended, killed_at) = watch(
            rig,
            invocation,
            kill_point,
            trial.mode,
            number,
            starts_before,
            requests_before,
        );
        if killed_at.is_some() {
            pending.next();
        } else if let Some(point) = kill_point {
            rig.release(point.hold);
        }
        let done = ended.code == Some(0);
        let refused = ended.code == Some(2);
        sessions.push(Session {
            number,
            starts_before,
            requests_before,
            killed_at,
            ended,
        });
        if done || refused {
            break;
        }
    }
    Outcome {
        sessions,
        unreached: pending.map(|p| p.name).collect(),
        ledger: rig.ledger(),
        requests: rig.server.requests(),
        journal: rig.journal(),
    }
}

/// Waits for the session to exit, or for its kill point to fire (then kills it).
fn watch(
    rig: &Rig,
    mut invocation: Invocation,
    kill_point: Option<KillPoint>,
    mode: Mode,
    number: usize,
    starts_before: usize,
    requests_before: usize,
) -> (Ended, Option<&'static str>) {
    let deadline = Instant::now() + DEADLINE;
    let mut released = false;
    loop {
        if let Some(point) = kill_point.filter(|_| !released) {
            // The hold first, then the journal: a step that reached its hold has every record of
            // the steps before it on disk already, so a trigger that is not in the journal now
            // will not come (in this session).
            let reached = rig.reached(point.hold, number, requests_before);
            let fire = match point.trigger {
                Trigger::Held => reached,
                trigger => triggered(trigger, session_records(&rig.journal(), starts_before)),
            };
            if fire {
                return (
                    rig.kill(invocation, mode, point.hold, number),
                    Some(point.name),
                );
            }
            if reached {
                rig.release(point.hold);
                released = true;
            }
        }
        if invocation.exited() {
            return (invocation.wait(), None);
        }
        if Instant::now() > deadline {
            if let Some(point) = kill_point {
                rig.release(point.hold);
            }
            let ended = invocation.sigkill();
            panic!(
                "session {number} ({}) neither exited nor reached its kill point within {DEADLINE:?}\nstdout:\n{}\nstderr:\n{}",
                ended.command_line,
                String::from_utf8_lossy(&ended.stdout),
                String::from_utf8_lossy(&ended.stderr)
            );
        }
        std::thread::sleep(POLL);
    }
}
