//! `shell` steps: `sh -c COMMAND` as a real child process in its own process group.
//!
//! Template references reach the command only as environment variables (see
//! [`crate::render::render_shell`]), so neither shell syntax nor a secret ever enters argv. On timeout
//! the whole process group is killed, so `sleep` in a pipeline does not outlive the step.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use runbook_dsl::{ShellStep, StdoutMode};

use super::{StepEnv, capture, check_own};
use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::render::{render_shell, render_string};
use crate::steps::http::humanize;

/// Most bytes kept from stdout or stderr; the rest is read and dropped so the child never blocks.
const MAX_CAPTURED_BYTES: usize = 8 * 1024 * 1024;
/// How long output may keep flowing after the shell itself has exited.
const OUTPUT_GRACE: Duration = Duration::from_millis(500);
/// How long the output may take to close once the command's process group was killed; after it,
/// whatever still holds it open is a detached process (a daemon), and the pipes are closed.
const KILLED_GRACE: Duration = Duration::from_millis(100);

pub(super) async fn execute(
    step: &ShellStep,
    timeout: Option<Duration>,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let scope = Scope::new(env.context);
    let (command_text, ref_env) = render_shell(&step.command, scope)?;
    let mut command = match env.launcher.split_first() {
        Some((program, first_args)) => {
            let mut command = tokio::process::Command::new(program);
            command.args(first_args).arg("sh");
            command
        }
        None => tokio::process::Command::new("sh"),
    };
    command
        .arg("-c")
        .arg(&command_text)
        .stdin(if step.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    for (name, value) in &step.env {
        command.env(name, render_string(value, scope)?);
    }
    command.envs(ref_env);
    if let Some(workdir) = &step.workdir {
        let dir = render_string(workdir, scope)?;
        if !std::path::Path::new(&dir).is_dir() {
            return Err(StepError::new(
                StepErrorKind::Process,
                format!("the working directory `{dir}` does not exist (or is not a directory)"),
            ));
        }
        command.current_dir(dir);
    }
    // Private files: written owner-only in a private directory, removed when `_files` drops (the
    // caller removes what a run killed before that left, see `EngineOptions::files_dir`).
    let _files = if step.files.is_empty() {
        None
    } else {
        let cannot = |error: std::io::Error| {
            StepError::new(
                StepErrorKind::Process,
                format!("cannot create a private directory: {error}"),
            )
        };
        let mut builder = tempfile::Builder::new();
        builder
            .prefix("step-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let dir = match env.files_dir {
            Some(parent) => {
                crate::journal::create_private_dir(parent).map_err(cannot)?;
                builder.tempdir_in(parent)
            }
            None => builder.tempdir(),
        }
        .map_err(cannot)?;
        for (index, (name, content)) in step.files.iter().enumerate() {
            let text = render_string(content, scope)?;
            let path = dir.path().join(format!("file-{}", index + 1));
            write_private(&path, &text).map_err(|error| {
                StepError::new(
                    StepErrorKind::Process,
                    format!("cannot write the file for {name}: {error}"),
                )
            })?;
            command.env(name, &path);
        }
        Some(dir)
    };
    let stdin_text = match &step.stdin {
        Some(template) => Some(render_string(template, scope)?),
        None => None,
    };

    let mut child = command.spawn().map_err(|error| {
        StepError::new(
            StepErrorKind::Process,
            format!("cannot start `sh -c {}`: {error}", step.command.source),
        )
    })?;
    // Kills the command's whole process group when this step ends for any reason: finished, timed
    // out, or cancelled by Ctrl-C (the future is dropped).
    let group = GroupGuard::new(child.id());
    // Noted until the step ends: if runbook itself is killed, the command may outlive it, and a
    // resume must not start it a second time while the first is still running.
    let _note = env.process_note.as_deref().and_then(|path| {
        child
            .id()
            .map(|pid| crate::processes::Note::write(path, pid))
    });
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let timeout = timeout.unwrap_or(ShellStep::DEFAULT_TIMEOUT);

    // Which pipes the command's output goes through, to tell who holds them open later.
    let pipes: Vec<std::path::PathBuf> = [
        stdout.as_ref().map(std::os::fd::AsRawFd::as_raw_fd),
        stderr.as_ref().map(std::os::fd::AsRawFd::as_raw_fd),
    ]
    .into_iter()
    .flatten()
    .filter_map(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok())
    .collect();
    // Readers run as tasks so a full pipe never blocks the command while we wait for it.
    let (stop_reading, reading) = tokio::sync::watch::channel(false);
    let out_reader = tokio::spawn(read_limited(stdout, reading.clone()));
    let err_reader = tokio::spawn(read_limited(stderr, reading));
    let work = async {
        let write = async {
            if let (Some(mut pipe), Some(text)) = (stdin, stdin_text.as_deref()) {
                // A command that exits without reading stdin closes the pipe: not an error.
                let _ = pipe.write_all(text.as_bytes()).await;
                drop(pipe);
            }
        };
        let (_, status) = tokio::join!(write, child.wait());
        status
    };
    let status = match tokio::time::timeout(timeout, work).await {
        Ok(status) => status,
        Err(_) => {
            return Err(StepError::new(
                StepErrorKind::Timeout,
                format!(
                    "`{}` did not finish within {}; it was killed",
                    step.command.source,
                    humanize(timeout)
                ),
            ));
        }
    };
    // The shell has exited: the step ends. A background child that still holds stdout would keep
    // the pipes open forever: give the output a moment to drain, then end whatever the command
    // left in its process group. A process that left the group (`setsid`, a daemon) survives
    // that: it is reported, and its output is no longer read.
    let drained = async {
        let out = out_reader.await.unwrap_or_default();
        let err = err_reader.await.unwrap_or_default();
        (out, err)
    };
    tokio::pin!(drained);
    let (stdout, stderr) = match tokio::time::timeout(OUTPUT_GRACE, &mut drained).await {
        Ok(output) => output,
        Err(_) => {
            group.kill();
            match tokio::time::timeout(KILLED_GRACE, &mut drained).await {
                Ok(output) => output,
                Err(_) => {
                    let holders = pipe_holders(&pipes);
                    if !holders.is_empty() {
                        env.note = Some(env.context.redactor.redact(&format!(
                            "left running, detached from the step: {}; it still held the \
                             command's output when the command exited, and what it printed after \
                             {} was not read",
                            holders.join(", "),
                            humanize(OUTPUT_GRACE)
                        )));
                    }
                    let _ = stop_reading.send(true);
                    drained.await
                }
            }
        }
    };
    let status = status.map_err(|error| {
        StepError::new(
            StepErrorKind::Process,
            format!("waiting for the command failed: {error}"),
        )
    })?;
    let (stdout, stdout_truncated) = stdout;
    let (stderr, _) = stderr;
    // Redacted before any cutting, so a secret across a cut cannot show in part.
    let redact = |text: &str| env.context.redactor.redact(&env.new_secrets.redact(text));
    let stderr_text = redact(String::from_utf8_lossy(&stderr).trim_end());

    let Some(code) = status.code() else {
        return Err(StepError::new(
            StepErrorKind::UnexpectedResult,
            format!(
                "`{}` was killed by a signal{}",
                step.command.source,
                tail(&stderr_text)
            ),
        ));
    };
    if !step.expect_exit.contains(&code) {
        let wanted = step
            .expect_exit
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        let mut produced = Map::new();
        produced.insert("exit_code".into(), Value::from(code));
        produced.insert(
            "stdout".into(),
            Value::String(String::from_utf8_lossy(&stdout).trim().to_owned()),
        );
        produced.insert("stderr".into(), Value::String(stderr_text.clone()));
        return Err(StepError::new(
            StepErrorKind::UnexpectedResult,
            format!(
                "`{}` exited with {code}, expected {wanted}{}",
                step.command.source,
                tail(&stderr_text)
            ),
        )
        .with_outputs(produced));
    }

    let stdout_text = String::from_utf8_lossy(&stdout).into_owned();
    let (stdout_value, json) = match step.stdout {
        StdoutMode::Text => (Value::String(stdout_text), None),
        StdoutMode::Trimmed => (Value::String(stdout_text.trim().to_owned()), None),
        StdoutMode::Json => {
            if stdout_truncated {
                return Err(StepError::new(
                    StepErrorKind::Capture,
                    format!(
                        "stdout exceeds {MAX_CAPTURED_BYTES} bytes and cannot be parsed as JSON"
                    ),
                ));
            }
            let parsed: Value = serde_json::from_str(&stdout_text).map_err(|error| {
                StepError::new(
                    StepErrorKind::Capture,
                    format!(
                        "stdout is not valid JSON ({error}); it begins: {}",
                        first_line(&stdout_text)
                    ),
                )
            })?;
            (parsed.clone(), Some(parsed))
        }
    };
    let mut outputs = Map::new();
    outputs.insert("exit_code".into(), Value::from(code));
    outputs.insert("stdout".into(), stdout_value);
    outputs.insert("stderr".into(), Value::String(stderr_text));
    capture::apply(
        &step.captures,
        json.as_ref(),
        None,
        &mut outputs,
        &mut env.new_secrets,
    )?;
    check_own(&step.asserts, env.context, &outputs)
        .map_err(|error| error.with_outputs(outputs.clone()))?;
    Ok(outputs)
}

/// Reads a pipe to its end, or until `stop` turns true.
async fn read_limited<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (Vec<u8>, bool) {
    let Some(mut pipe) = pipe else {
        return (Vec::new(), false);
    };
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = pipe.read(&mut buffer) => read,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                let room = MAX_CAPTURED_BYTES.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..read.min(room)]);
                truncated |= read > room;
            }
        }
    }
    (kept, truncated)
}

/// The processes (other than runbook) that hold any of `pipes` (`pipe:[INODE]`, as
/// `/proc/self/fd` shows them) open, as `pid N (`ARGV`)`. Empty without /proc.
fn pipe_holders(pipes: &[std::path::PathBuf]) -> Vec<String> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut holders: Vec<(u32, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let pid: u32 = name.parse().ok()?;
            if name == me {
                return None;
            }
            let holds = std::fs::read_dir(entry.path().join("fd"))
                .ok()?
                .filter_map(Result::ok)
                .any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|target| pipes.contains(&target))
                });
            if !holds {
                return None;
            }
            let argv = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let argv = String::from_utf8_lossy(&argv)
                .split('\0')
                .filter(|arg| !arg.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Some((pid, argv))
        })
        .collect();
    holders.sort();
    holders
        .into_iter()
        .map(|(pid, argv)| format!("pid {pid} (`{argv}`)"))
        .collect()
}

/// Process groups of commands running now, so an immediate exit (a second Ctrl-C) can end them
/// too: `std::process::exit` runs no destructors.
static RUNNING: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Kills every command this process is running. For the moment before an immediate exit.
pub fn kill_running_commands() {
    let groups = RUNNING
        .lock()
        .map(|groups| groups.clone())
        .unwrap_or_default();
    for pid in groups {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Kills a process group when dropped (or on demand).
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn new(pid: Option<u32>) -> Self {
        if let (Some(pid), Ok(mut groups)) =
            (pid.and_then(|p| i32::try_from(p).ok()), RUNNING.lock())
        {
            groups.push(pid);
        }
        GroupGuard(pid)
    }

    fn kill(&self) {
        if let Some(pid) = self.0.and_then(|pid| i32::try_from(pid).ok()) {
            // The group is usually gone already; that is fine.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
        if let (Some(pid), Ok(mut groups)) =
            (self.0.and_then(|p| i32::try_from(p).ok()), RUNNING.lock())
        {
            groups.retain(|group| *group != pid);
        }
    }
}

fn tail(stderr: &str) -> String {
    if stderr.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines.len().saturating_sub(5);
    format!("\n  stderr: {}", lines[start..].join("\n          "))
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    line.chars().take(120).collect()
}
