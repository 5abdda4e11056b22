//! A rig: one trial's sandbox, state directory, answers file and server; and one invocation of
//! the binary in the background.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::{Sandbox, wait_until};

use super::kill_points::{Hold, Mode};
use super::runbook::{GATE_SH, RUNBOOK, TOKEN, answers_file};
use super::server::Recorder;

pub(super) const MAX_SESSIONS: usize = 6;
pub(super) const DEADLINE: Duration = Duration::from_secs(30);
pub(super) const POLL: Duration = Duration::from_millis(5);

pub(super) struct Rig {
    pub(super) sandbox: Sandbox,
    /// The answers file holds the secret answer, so it lives outside the scanned sandbox.
    operator: tempfile::TempDir,
    pub(super) server: Arc<Recorder>,
    base_url: String,
    tag: String,
}

impl Rig {
    pub(super) fn new(label: &str) -> Rig {
        let sandbox = Sandbox::new();
        sandbox.write("rb.yaml", RUNBOOK);
        sandbox.write("gate.sh", GATE_SH);
        std::fs::create_dir_all(sandbox.path().join("hold"))
            .unwrap_or_else(|error| panic!("mkdir hold: {error}"));
        let operator =
            tempfile::tempdir().unwrap_or_else(|error| panic!("cannot create a temp dir: {error}"));
        std::fs::write(operator.path().join("answers.yaml"), answers_file())
            .unwrap_or_else(|error| panic!("write the answers file: {error}"));
        let (server, base_url) = Recorder::start();
        Rig {
            sandbox,
            operator,
            server,
            base_url,
            tag: format!("{}-{label}", std::process::id()),
        }
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.sandbox.path().join(name)
    }

    fn state(&self) -> PathBuf {
        self.path(".state")
    }

    pub(super) fn arm_flaky(&self) {
        self.sandbox.write("flaky.armed", "");
    }

    fn session_tag(&self, session: usize) -> String {
        format!("{}-{session}", self.tag)
    }

    /// `runbook run` (session 1) or `runbook resume RUN_ID`, in the background.
    pub(super) fn spawn(&self, session: usize, input_flag: bool) -> Invocation {
        let answers = self.operator.path().join("answers.yaml");
        let answers = answers.to_string_lossy().into_owned();
        let mut args: Vec<String> = if session == 1 {
            vec![
                "run".into(),
                "rb.yaml".into(),
                "--input".into(),
                format!("base_url={}", self.base_url),
            ]
        } else {
            vec!["resume".into(), self.run_id()]
        };
        args.extend([
            "--answers".into(),
            answers,
            "--allow-answers-file-on-live-run".into(),
        ]);
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("runbook"));
        command
            .current_dir(self.sandbox.path())
            .env("NO_COLOR", "1")
            .env("RUNBOOK_STATE_DIR", self.state())
            .env("TORTURE_SESSION", session.to_string())
            .env("TORTURE_TAG", self.session_tag(session))
            .env_remove("RUST_LOG")
            .env_remove("RUNBOOK_ACTOR")
            .env_remove("RUNBOOK_AUDIT_LOG");
        if input_flag && session > 1 {
            command.env_remove("TORTURE_TOKEN");
            args.extend(["--input".into(), format!("token={TOKEN}")]);
        } else {
            command.env("TORTURE_TOKEN", TOKEN);
        }
        command.args(&args);
        Invocation::spawn(command, args.join(" "))
    }

    fn run_id(&self) -> String {
        let runs = self.state().join("runs");
        let mut ids: Vec<String> = std::fs::read_dir(&runs)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids.pop().unwrap_or_default()
    }

    pub(super) fn journal(&self) -> Vec<Value> {
        let id = self.run_id();
        if id.is_empty() {
            return Vec::new();
        }
        let path = self.state().join("runs").join(id).join("journal.jsonl");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // A line cut short by the kill (or being written right now) is not a record.
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// `(step, hash, session)` for each ledger line, in order.
    pub(super) fn ledger(&self) -> Vec<(String, String, usize)> {
        read_lines(&self.path("ledger.log"))
            .iter()
            .filter_map(|line| {
                let mut parts = line.split(' ');
                let step = parts.next()?.to_owned();
                let hash = parts.next()?.to_owned();
                let session = parts.next()?.parse().ok()?;
                Some((step, hash, session))
            })
            .collect()
    }

    fn entered(&self, step: &str, session: usize) -> bool {
        let wanted = format!("{step} {session}");
        read_lines(&self.path("entered.log")).contains(&wanted)
    }

    pub(super) fn arm(&self, hold: Hold) {
        match hold {
            Hold::Pre(step) => self.sandbox.write(&format!("hold/{step}.pre"), ""),
            Hold::Post(step) => self.sandbox.write(&format!("hold/{step}.post"), ""),
            Hold::Http(at) => {
                self.server.hold(at);
                PathBuf::new()
            }
        };
    }

    pub(super) fn release(&self, hold: Hold) {
        match hold {
            Hold::Pre(step) => remove(&self.path(&format!("hold/{step}.pre"))),
            Hold::Post(step) => remove(&self.path(&format!("hold/{step}.post"))),
            Hold::Http(at) => self.server.release(at),
        }
    }

    /// Whether this session is at the hold (read before the journal: see [`Rig::watch`]).
    pub(super) fn reached(&self, hold: Hold, session: usize, requests_before: usize) -> bool {
        match hold {
            Hold::Pre(step) => self.entered(step, session),
            Hold::Post(step) => self
                .ledger()
                .iter()
                .any(|(s, _, n)| s == step && *n == session),
            Hold::Http(at) => self.server.requests()[requests_before..]
                .iter()
                .any(|(path, _)| path == at),
        }
    }

    /// SIGKILLs the session as `mode` says and waits until none of its processes is left.
    pub(super) fn kill(
        &self,
        invocation: Invocation,
        mode: Mode,
        hold: Hold,
        session: usize,
    ) -> Ended {
        let ended = invocation.sigkill();
        let tag = self.session_tag(session);
        if mode == Mode::Crash {
            let deadline = Instant::now() + DEADLINE;
            loop {
                let alive = tagged_processes(&tag);
                if alive.is_empty() {
                    break;
                }
                for pid in alive {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
                assert!(
                    Instant::now() < deadline,
                    "processes tagged {tag} survive SIGKILL"
                );
                std::thread::sleep(POLL);
            }
        }
        self.release(hold);
        wait_until(
            DEADLINE,
            &format!("the orphaned commands of {tag} end"),
            || tagged_processes(&tag).is_empty(),
        );
        ended
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn remove(path: &Path) {
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        panic!("remove {}: {error}", path.display());
    }
}

/// Live (not zombie) processes whose environment has `TORTURE_TAG=tag`.
fn tagged_processes(tag: &str) -> Vec<i32> {
    let marker = format!("TORTURE_TAG={tag}\0");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
            !zombie
                && environ
                    .windows(marker.len())
                    .any(|w| w == marker.as_bytes())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// One invocation of the binary in the background.

pub(super) struct Invocation {
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
    command_line: String,
}

/// How a session ended.
pub(super) struct Ended {
    /// `None`: killed.
    pub(super) code: Option<i32>,
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
    pub(super) command_line: String,
}

impl Invocation {
    fn spawn(mut command: Command, command_line: String) -> Invocation {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start runbook: {error}"));
        fn collect(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        }
        let stdout = collect(child.stdout.take());
        let stderr = collect(child.stderr.take());
        Invocation {
            child,
            stdout,
            stderr,
            command_line,
        }
    }

    pub(super) fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Reaps the process and collects its output; `code` is `None` when a signal ended it.
    pub(super) fn wait(mut self) -> Ended {
        let status = self
            .child
            .wait()
            .unwrap_or_else(|error| panic!("wait for runbook: {error}"));
        Ended {
            code: status.code(),
            stdout: self.stdout.join().unwrap_or_default(),
            stderr: self.stderr.join().unwrap_or_default(),
            command_line: self.command_line,
        }
    }

    /// SIGKILL to the runbook process only; reaps it.
    pub(super) fn sigkill(self) -> Ended {
        let pid = i32::try_from(self.child.id()).unwrap_or_else(|_| panic!("pid out of range"));
        kill(Pid::from_raw(pid), Signal::SIGKILL)
            .unwrap_or_else(|error| panic!("cannot SIGKILL runbook: {error}"));
        self.wait()
    }
}
