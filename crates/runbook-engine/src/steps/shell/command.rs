//! A shell step's command, ready to spawn: `sh -c` in its own process group (dying with runbook
//! when asked, see [`super::death_signal`]), with the rendered references, `env`, `workdir`, private `files` and the
//! text for stdin.

use std::process::Stdio;

use runbook_dsl::ShellStep;

use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::render::{render_shell, render_string};
use crate::steps::StepEnv;

/// A command not started yet, and what must live as long as it runs.
pub(super) struct Prepared {
    pub command: tokio::process::Command,
    /// The private files' directory, removed when dropped.
    pub files: Option<tempfile::TempDir>,
    pub stdin_text: Option<String>,
}

pub(super) fn prepare(step: &ShellStep, env: &StepEnv<'_>) -> Result<Prepared, StepError> {
    let scope = Scope::new(env.context);
    let (command_text, ref_env) = render_shell(&step.command, scope)?;
    // A rehearsal names the shell by absolute path: its `PATH` holds only stand-ins.
    let shell = env.commands.map_or_else(
        || std::ffi::OsString::from("sh"),
        |c| c.shell.clone().into(),
    );
    let mut command = tokio::process::Command::new(&shell);
    if env.die_with_runbook {
        super::death_signal::die_with_this_process(command.as_std_mut());
    }
    if env.commands.is_some_and(|c| c.clear) {
        command.env_clear();
    }
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
    let files = if step.files.is_empty() {
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
    // Last, so neither `env:` nor `files:` can point `PATH` away from a rehearsal's stand-ins.
    if let Some(commands) = env.commands {
        command.envs(commands.vars.iter().map(|(name, value)| (name, value)));
    }

    Ok(Prepared {
        command,
        files,
        stdin_text,
    })
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
