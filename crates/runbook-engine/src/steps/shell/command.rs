//! A shell step's command, ready to spawn: `sh -c` in its own process group (dying with runbook
//! when asked, see [`super::death_signal`]), with the rendered references, `env`, `workdir`, private `files` and the
//! text for stdin.

use std::process::Stdio;

use runbook_dsl::ShellStep;

use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::render::{render_shell, render_string};
use crate::steps::StepEnv;

use super::program::SHELL;

/// A command not started yet, and what must live as long as it runs.
pub(super) struct Prepared {
    pub command: tokio::process::Command,
    /// The command's `argv[0]` (`sh`, or a rehearsal's shell path), for its trace.
    pub argv0: std::ffi::OsString,
    /// The private files' directory, removed when dropped.
    pub files: Option<tempfile::TempDir>,
    pub stdin_text: Option<String>,
}

pub(super) fn prepare(step: &ShellStep, env: &StepEnv<'_>) -> Result<Prepared, StepError> {
    let scope = Scope::new(env.context);
    let (command_text, ref_env) = render_shell(&step.command, scope)?;
    // A rehearsal names the shell by absolute path: its `PATH` holds only stand-ins. A step that
    // sets `PATH` leaves the search to the child, in its own `PATH`.
    let sets_path = |vars: &[(String, runbook_dsl::template::Template)]| {
        vars.iter().any(|(name, _)| name == "PATH")
    };
    let (shell, argv0) = match env.commands {
        Some(commands) => (commands.shell.clone().into_os_string(), None),
        None if sets_path(&step.env) || sets_path(&step.files) => (SHELL.into(), None),
        // Named `sh` as before, whichever way it was found.
        None => (env.shell.program(), Some(SHELL)),
    };
    let mut command = tokio::process::Command::new(&shell);
    if let Some(argv0) = argv0 {
        command.arg0(argv0);
    }
    let argv0 = argv0.map_or(shell, std::ffi::OsString::from);
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
        argv0,
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
