//! Tests and examples never write into the default audit log, `~/.local/state/runbook/audit.jsonl`,
//! which is the one real rotations append to: a test run's records go to its own state directory.
//! HOME is a sandbox here, holding a default audit log with one record in it.

use std::path::{Path, PathBuf};

use crate::support::{self, Output};

const EARLIER_RECORD: &str = "{\"record\":\"a real rotation, earlier\"}\n";

/// A HOME whose default audit log already holds a record.
fn home_with_an_audit_log() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap_or_else(|error| panic!("tempdir: {error}"));
    let log = home.path().join(".local/state/runbook/audit.jsonl");
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|error| panic!("mkdir: {error}"));
    }
    std::fs::write(&log, EARLIER_RECORD).unwrap_or_else(|error| panic!("write: {error}"));
    (home, log)
}

fn run_hello(home: &Path, keep_test_state_dir: bool) -> Output {
    let mut command = support::runbook();
    command
        .current_dir(support::workspace_root())
        .env("HOME", home)
        .args(["run", "examples/hello.yaml"]);
    if !keep_test_state_dir {
        command.env_remove("RUNBOOK_STATE_DIR");
    }
    support::finish(command)
}

#[test]
fn a_test_run_leaves_the_default_audit_log_untouched() {
    let (home, log) = home_with_an_audit_log();
    let output = run_hello(home.path(), true);
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap_or_default(),
        EARLIER_RECORD,
        "a test run wrote into the default audit log"
    );
    // Its records are in the state directory the test harness gave it.
    let run_id = support::run_id_of(&output.stdout);
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let state = std::fs::read_dir(tmp)
        .unwrap_or_else(|error| panic!("{}: {error}", tmp.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|dir| dir.join("runs").join(&run_id).is_dir())
        .unwrap_or_else(|| panic!("no state directory under {} has {run_id}", tmp.display()));
    let audit = std::fs::read_to_string(state.join("audit.jsonl")).unwrap_or_default();
    assert!(
        audit.contains(&run_id) && audit.contains("run_finished"),
        "the run's audit records are beside its journal:\n{audit}"
    );
}

/// The check above looks where the default really is: without the harness's state directory, a
/// run appends there.
#[test]
fn without_a_state_directory_a_run_appends_to_the_default_audit_log() {
    let (home, log) = home_with_an_audit_log();
    let output = run_hello(home.path(), false);
    assert_eq!(output.code, 0, "{output:?}");
    let written = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        written.starts_with(EARLIER_RECORD)
            && written.contains(&support::run_id_of(&output.stdout)),
        "{written}"
    );
}
