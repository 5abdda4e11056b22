//! `shell` steps: `sh -c COMMAND` as a real child process in its own process group.
//!
//! Template references reach the command only as environment variables (see
//! [`crate::render::render_shell`]), so neither shell syntax nor a secret ever enters argv. On timeout
//! the whole process group is killed, so `sleep` in a pipeline does not outlive the step.

mod command;
mod death_signal;
mod group;
mod output;
mod program;

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

use runbook_dsl::ShellStep;

use super::StepEnv;
use crate::error::{StepError, StepErrorKind};
use group::GroupGuard;
use output::read_limited;
use runbook_dsl::duration::format_duration;

pub use group::kill_running_commands;
pub use program::ShellLookup;

pub(super) async fn execute(
    step: &ShellStep,
    timeout: Option<Duration>,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let command::Prepared {
        mut command,
        argv0,
        files: _files,
        stdin_text,
    } = command::prepare(step, env)?;
    let traced =
        crate::trace::CommandCall::start(&argv0, command.as_std(), &[&env.context.redactor]);
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
            if let Some(traced) = traced {
                traced.finish(None);
            }
            return Err(StepError::new(
                StepErrorKind::Timeout,
                format!(
                    "`{}` did not finish within {}; it was killed",
                    step.command.source,
                    format_duration(timeout)
                ),
            ));
        }
    };
    let (stdout, stderr) = output::drain(
        output::Readers {
            stdout: out_reader,
            stderr: err_reader,
            stop: stop_reading,
        },
        &group,
        env,
    )
    .await;
    if let (Some(traced), Ok(status)) = (traced, &status) {
        traced.finish(Some(status));
    }
    let status = status.map_err(|error| {
        StepError::new(
            StepErrorKind::Process,
            format!("waiting for the command failed: {error}"),
        )
    })?;
    output::outcome(step, env, status, stdout, stderr)
}
