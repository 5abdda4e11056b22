//! The start gate, end to end through the engine: a shell command is forked while its start record
//! is synced, and does not start before the sync succeeded (nor at all when it failed). The sync
//! thread is held by a test hook, standing for a slow disk.

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Map;

use super::sync::SyncHook;
use super::{JournalObserver, JournalWriter, RunStarted, read_journal};
use crate::report::{RunReport, RunStatus};
use crate::runner::{Engine, EngineOptions};

const DEADLINE: Duration = Duration::from_secs(20);

fn started() -> RunStarted {
    RunStarted {
        run_id: "r1".into(),
        runbook: "gate".into(),
        title: "Gate".into(),
        path: "/tmp/gate.yaml".into(),
        sha256: "00".into(),
        inputs: Map::new(),
        secret_inputs: Vec::new(),
        actor: "alice".into(),
        host: "nowhere.invalid".into(),
        pid: 1,
        fragments: Vec::new(),
    }
}

/// Runs a one-step runbook whose command touches `marker`, on its own thread, with every deferred
/// sync held by `hook`. Returns the thread, which gives the report back.
fn run_touching(dir: &Path, marker: &Path, hook: SyncHook) -> std::thread::JoinHandle<RunReport> {
    let text = format!(
        "id: gate\ntitle: Gate\nsteps:\n  - id: touch\n    shell: {{command: \"touch '{}'\"}}\n",
        marker.display()
    );
    let runbook = runbook_dsl::load_and_check(&runbook_dsl::Source::new("gate.yaml", &text))
        .unwrap_or_else(|findings| panic!("the test runbook has findings: {findings:#?}"));
    let path = dir.join("journal.jsonl");
    let mut writer = JournalWriter::create(&path, started()).unwrap_or_else(|e| panic!("{e}"));
    writer.sync_hook = Some(hook);
    std::thread::spawn(move || {
        let mut journal = JournalObserver::new(writer);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(async {
            let inputs = crate::inputs::resolve_inputs(&runbook, &[], &|_| None)
                .unwrap_or_else(|error| panic!("inputs: {error}"));
            let options = EngineOptions {
                env: Some(Vec::new()),
                commands_die_with_runbook: true,
                ..EngineOptions::default()
            };
            Engine::new(options)
                .run(&runbook, inputs, &mut journal)
                .await
        })
    })
}

/// A hook that tells `reached` each time a sync is asked for, then blocks until `release` gives
/// it the sync's fate.
fn held_sync() -> (
    SyncHook,
    mpsc::Receiver<()>,
    mpsc::Sender<std::io::Result<()>>,
) {
    let (reached_tx, reached) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<std::io::Result<()>>();
    let reached_tx = Mutex::new(reached_tx);
    let release_rx = Mutex::new(release_rx);
    let hook: SyncHook = Arc::new(move || {
        if let Ok(reached) = reached_tx.lock() {
            let _ = reached.send(());
        }
        match release_rx.lock() {
            Ok(release) => release
                .recv()
                .unwrap_or_else(|_| Err(std::io::Error::other("the test let go"))),
            Err(_) => Err(std::io::Error::other("the test panicked")),
        }
    });
    (hook, reached, release)
}

/// Children of this process that have not `exec`d yet (they still run this test binary) and
/// sleep: forked and waiting at the gate. (Another test's child in the same instant, forked but not
/// yet exec'd, would not be sleeping.)
fn children_waiting_at_the_gate() -> Vec<i32> {
    let me = std::process::id().to_string();
    let own_exe = std::fs::read_link("/proc/self/exe").ok();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let fields = crate::processes::stat_fields(&entry.path())?;
            let exe = std::fs::read_link(entry.path().join("exe")).ok();
            (fields.first()? == "S" && fields.get(1)? == &me && exe == own_exe).then_some(pid)
        })
        .collect()
}

fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(start.elapsed() < DEADLINE, "gave up waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn a_shell_command_is_forked_during_its_start_records_sync_and_starts_only_after_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let marker = dir.path().join("ran");
    let (hook, reached, release) = held_sync();
    let run = run_touching(dir.path(), &marker, hook);

    reached
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|e| panic!("the step's start was never synced: {e}"));
    // The sync is held: the command is forked meanwhile, and waits.
    let waiting = wait_for("the command's child to wait at the gate", || {
        Some(children_waiting_at_the_gate()).filter(|children| !children.is_empty())
    });
    assert!(
        !marker.exists(),
        "the command ran before its start record was synced (children waiting: {waiting:?})"
    );

    release.send(Ok(())).unwrap_or_else(|e| panic!("{e}"));
    let report = run.join().unwrap_or_else(|_| panic!("the run panicked"));
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");
    assert!(marker.exists(), "the command did not run after the sync");
}

#[test]
fn a_failed_sync_keeps_the_command_from_starting_and_fails_the_step() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let marker = dir.path().join("ran");
    let (hook, reached, release) = held_sync();
    let run = run_touching(dir.path(), &marker, hook);

    reached
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|e| panic!("the step's start was never synced: {e}"));
    release
        .send(Err(std::io::Error::other("the disk is on fire")))
        .unwrap_or_else(|e| panic!("{e}"));
    let report = run.join().unwrap_or_else(|_| panic!("the run panicked"));
    assert_eq!(report.status, RunStatus::Failed, "{report:#?}");
    let step = report
        .steps
        .iter()
        .find(|step| step.id == "touch")
        .unwrap_or_else(|| panic!("no report for `touch`: {report:#?}"));
    let message = step
        .error
        .as_ref()
        .map(|error| error.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("cannot write the journal") && message.contains("the disk is on fire"),
        "{message}"
    );
    assert!(
        !marker.exists(),
        "the command ran though its start was never synced"
    );
    // The start record was written (not synced); nothing after it says the step ran.
    let read = read_journal(&dir.path().join("journal.jsonl")).unwrap_or_else(|e| panic!("{e}"));
    assert!(!read.entries.is_empty());
}
