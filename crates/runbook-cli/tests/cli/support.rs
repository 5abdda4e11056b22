//! A small builder over the real binary in a temp dir.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A temp dir holding runbook files, and a way to run the binary there.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir()
                .unwrap_or_else(|error| panic!("cannot create a temp dir: {error}")),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` inside the sandbox and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|error| panic!("mkdir: {error}"));
        }
        std::fs::write(&path, contents).unwrap_or_else(|error| panic!("write {name}: {error}"));
        path
    }

    /// Runs `runbook ARGS...` with the sandbox as working directory and a clean colour setup.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = runbook();
        command.current_dir(self.dir.path()).args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        finish(command)
    }
}

/// The real binary, with colour off and a predictable environment. Each command gets its own state
/// directory (journals, locks, audit log), so tests running in parallel never share a run lock.
pub fn runbook() -> Command {
    let mut command =
        Command::cargo_bin("runbook").unwrap_or_else(|error| panic!("binary: {error}"));
    command
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("RUNBOOK_ACTOR")
        .env_remove("RUNBOOK_AUDIT_LOG")
        .env("RUNBOOK_STATE_DIR", fresh_state_dir());
    command
}

/// A new, empty directory under the target's temp dir (cleaned by `cargo clean`, not left in /tmp).
pub fn fresh_state_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("state-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn finish(mut command: Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run runbook: {error}"));
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
