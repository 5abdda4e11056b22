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
/// directory (journals, locks, audit log), so tests running in parallel never share a run lock, and
/// a HOME of the tests' own (see [`sandbox_home`]). `COLUMNS` is unset: output is not wrapped
/// unless a test asks for a width.
pub fn runbook() -> Command {
    let mut command =
        Command::cargo_bin("runbook").unwrap_or_else(|error| panic!("binary: {error}"));
    command
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("RUNBOOK_LOG")
        .env_remove("RUNBOOK_ACTOR")
        .env_remove("RUNBOOK_AUDIT_LOG")
        .env_remove("COLUMNS")
        .env_remove("XDG_STATE_HOME")
        .env("HOME", sandbox_home())
        .env("RUNBOOK_STATE_DIR", fresh_state_dir());
    command
}

/// The HOME every binary a test starts sees: a directory of the test target's own, so that a test
/// that forgot its state directory writes there, never into the developer's
/// `~/.local/state/runbook` and its audit log, which real rotations use.
pub fn sandbox_home() -> PathBuf {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("home-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);
    home
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

/// The real binary running in the background, its output collected: for tests that signal it
/// (Ctrl-C, SIGKILL) or watch it while it runs.
pub struct Background {
    child: std::process::Child,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
    /// Kept alive as long as the process, when the process runs in it.
    sandbox: Option<Sandbox>,
}

/// How a background run ended.
#[derive(Debug)]
pub struct Finished {
    /// `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Background {
    /// Starts `command` with stdin closed and stdout and stderr collected.
    pub fn spawn(mut command: std::process::Command) -> Self {
        use std::process::Stdio;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start runbook: {error}"));
        let collect = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
        };
        let stdout = collect(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        );
        let stderr = collect(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        );
        Background {
            child,
            stdout,
            stderr,
            sandbox: None,
        }
    }

    /// Keeps `sandbox` (where the process runs) alive until the process is done.
    pub fn keeping(mut self, sandbox: Sandbox) -> Self {
        self.sandbox = Some(sandbox);
        self
    }

    pub fn sandbox(&self) -> &Sandbox {
        self.sandbox
            .as_ref()
            .unwrap_or_else(|| panic!("this background run keeps no sandbox"))
    }

    /// Takes the sandbox, so that it outlives the process (a test that SIGKILLs runbook and then
    /// runs another command in the same place).
    pub fn take_sandbox(&mut self) -> Option<Sandbox> {
        self.sandbox.take()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = i32::try_from(self.child.id()).unwrap_or_else(|_| panic!("pid out of range"));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal)
            .unwrap_or_else(|error| panic!("cannot send {signal}: {error}"));
    }

    /// Ctrl-C.
    pub fn sigint(&self) {
        self.signal(nix::sys::signal::Signal::SIGINT);
    }

    /// SIGKILL: no handler runs, nothing is cleaned up. Reaps the process, so its pid is gone
    /// when this returns.
    pub fn sigkill(mut self) -> Finished {
        self.signal(nix::sys::signal::Signal::SIGKILL);
        let status = self
            .child
            .wait()
            .unwrap_or_else(|error| panic!("wait: {error}"));
        Finished {
            code: status.code(),
            stdout: self.stdout.join().unwrap_or_default(),
            stderr: self.stderr.join().unwrap_or_default(),
        }
    }

    /// Waits for the exit (killing the process after `limit`, which fails the test).
    pub async fn finish(mut self, limit: std::time::Duration) -> Finished {
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .unwrap_or_else(|error| panic!("try_wait: {error}"))
            {
                break Some(status);
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let stdout = self.stdout.join().unwrap_or_default();
        let stderr = self.stderr.join().unwrap_or_default();
        let Some(status) = status else {
            panic!("runbook did not exit within {limit:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        };
        Finished {
            code: status.code(),
            stdout,
            stderr,
        }
    }
}

/// Polls an async `look` every 20 ms until it returns `Ok`, or panics after `within` naming `what`
/// and the last `Err` it saw (what was there instead: the requests a stand-in received, say).
pub async fn wait_until_async<F, Fut>(within: std::time::Duration, what: &str, mut look: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        let seen = match look().await {
            Ok(()) => return,
            Err(seen) => seen,
        };
        assert!(
            std::time::Instant::now() < deadline,
            "waited in vain ({within:?}) for {what}; saw: {seen}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Polls `condition` every 20 ms until it holds or `within` has passed; returns whether it held.
/// Tests wait on a condition like this, never on a fixed sleep that races the thing waited for.
pub fn poll_until(within: std::time::Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Waits until `condition` holds; panics with `waited in vain for WHAT` when `within` passes first.
pub fn wait_until(within: std::time::Duration, what: &str, condition: impl FnMut() -> bool) {
    assert!(
        poll_until(within, condition),
        "waited in vain ({within:?}) for {what}"
    );
}

/// Whether any process of the group is alive. Zombies (dead, not yet reaped, as happens under a
/// container's init) do not count.
pub fn group_alive(group: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(|entry| entry.ok()).any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // Fields after the command name (in parentheses): state, ppid, pgrp, ...
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            return false;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        fields.first().is_some_and(|state| *state != "Z")
            && fields.get(2).and_then(|pgrp| pgrp.parse::<i32>().ok()) == Some(group)
    })
}

/// SIGKILLs a process group when dropped, so a command a test leaves behind (on purpose, or
/// because an assertion failed first) never outlives the test.
pub struct KillGroupOnDrop(pub i32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        if self.0 > 1 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The run id a human-format run prints on its second line (`rb.yaml · 3 steps · run ID`).
pub fn run_id_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.rsplit_once(" · run "))
        .map(|(_, id)| id.trim().to_owned())
        .unwrap_or_else(|| panic!("no run id in:\n{stdout}"))
}
