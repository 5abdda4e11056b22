//! A shell step's output: pipes read without ever blocking the command, the grace period after the
//! shell exits (a detached daemon may hold the pipes), and the step's result from the exit code
//! and stdout.

use std::os::fd::AsRawFd;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt};

use runbook_dsl::{ShellStep, StdoutMode};

use super::group::GroupGuard;
use crate::error::{StepError, StepErrorKind};
use crate::steps::{StepEnv, capture, check_own};
use runbook_dsl::duration::format_duration;

/// Most bytes kept from stdout or stderr; the rest is read and dropped so the child never blocks.
pub(super) const MAX_CAPTURED_BYTES: usize = 8 * 1024 * 1024;
/// How long output may keep flowing after the shell itself has exited.
pub(super) const OUTPUT_GRACE: Duration = Duration::from_millis(500);
/// How long the output may take to close once the command's process group was killed; after it,
/// whatever still holds it open is a detached process (a daemon), and the pipes are closed.
pub(super) const KILLED_GRACE: Duration = Duration::from_millis(100);

/// What a pipe gave: the bytes kept, and whether more were dropped.
pub(super) type Read = (Vec<u8>, bool);

/// What a reader task ends with: what it read, and the pipe itself when it was told to stop
/// before the pipe's end (someone else still holds the pipe open: [`drain`] names them).
pub(super) struct Reading<R> {
    read: Read,
    unfinished: Option<R>,
}

impl<R> Default for Reading<R> {
    fn default() -> Self {
        Reading {
            read: Read::default(),
            unfinished: None,
        }
    }
}

/// The tasks reading a command's output, and what is needed to stop them.
pub(super) struct Readers<O, E> {
    pub stdout: tokio::task::JoinHandle<Reading<O>>,
    pub stderr: tokio::task::JoinHandle<Reading<E>>,
    /// Tells both readers to stop.
    pub stop: tokio::sync::watch::Sender<bool>,
}

/// The output of a command whose shell has exited. A background child that still holds stdout
/// would keep the pipes open forever: the output gets a moment to drain, then whatever the command
/// left in its process group is ended. A process that left the group (`setsid`, a daemon) survives
/// that: it is named in the step's note, and its output is no longer read.
pub(super) async fn drain<O: AsRawFd, E: AsRawFd>(
    readers: Readers<O, E>,
    group: &GroupGuard,
    env: &mut StepEnv<'_>,
) -> (Read, Read) {
    let Readers {
        stdout,
        stderr,
        stop,
    } = readers;
    let drained = async {
        let out = stdout.await.unwrap_or_default();
        let err = stderr.await.unwrap_or_default();
        (out, err)
    };
    tokio::pin!(drained);
    if let Ok((out, err)) = tokio::time::timeout(OUTPUT_GRACE, &mut drained).await {
        return (out.read, err.read);
    }
    group.kill();
    if let Ok((out, err)) = tokio::time::timeout(KILLED_GRACE, &mut drained).await {
        return (out.read, err.read);
    }
    let _ = stop.send(true);
    let (out, err) = drained.await;
    // The pipes are named only now, while the stopped readers still hold them open (so a writer
    // is not cut off before it is listed), and only in this rare case: not two `readlink`s a step.
    let pipes: Vec<std::path::PathBuf> = [
        out.unfinished.as_ref().map(AsRawFd::as_raw_fd),
        err.unfinished.as_ref().map(AsRawFd::as_raw_fd),
    ]
    .into_iter()
    .flatten()
    .filter_map(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok())
    .collect();
    let holders = pipe_holders(&pipes);
    if !holders.is_empty() {
        env.note = Some(env.context.redactor.redact(&format!(
            "left running, detached from the step: {}; it still held the command's output when \
             the command exited, and what it printed after {} was not read",
            holders.join(", "),
            format_duration(OUTPUT_GRACE)
        )));
    }
    (out.read, err.read)
}

/// The outputs of a command that exited with `code`, or why they are a failure.
pub(super) fn outcome(
    step: &ShellStep,
    env: &mut StepEnv<'_>,
    status: std::process::ExitStatus,
    stdout: Read,
    stderr: Read,
) -> Result<Map<String, Value>, StepError> {
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
                        // Masked before it is cut, so a secret across the cut cannot show in part.
                        first_line(&redact(&stdout_text))
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
    let captured = capture::apply(&step.captures, json.as_ref(), None, &mut env.new_secrets)?;
    outputs.extend(captured);
    check_own(&step.asserts, env.context, &outputs, &env.new_secrets)
        .map_err(|error| error.with_outputs(outputs.clone()))?;
    Ok(outputs)
}

/// Reads a pipe to its end, or until `stop` turns true (then the pipe is handed back, open).
pub(super) async fn read_limited<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Reading<R> {
    let Some(mut pipe) = pipe else {
        return Reading::default();
    };
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = pipe.read(&mut buffer) => read,
            _ = stop.wait_for(|stop| *stop) => {
                return Reading { read: (kept, truncated), unfinished: Some(pipe) };
            }
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
    Reading {
        read: (kept, truncated),
        unfinished: None,
    }
}

/// The processes (other than runbook) that hold any of `pipes` (`pipe:[INODE]`, as
/// `/proc/self/fd` shows them) open, as `pid N (`ARGV`)`. Empty without /proc.
pub(super) fn pipe_holders(pipes: &[std::path::PathBuf]) -> Vec<String> {
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
