//! The one place that renders errors and picks exit codes.

use std::io::Write;
use std::process::ExitCode;

use crate::exit_code;

/// A command's failure with the exit code it maps to. The message is already redacted.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub code: u8,
    pub message: String,
    /// Printed already (e.g. lint diagnostics): only the exit code remains to be set.
    pub reported: bool,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: exit_code::USAGE,
            message: message.into(),
            reported: false,
        }
    }

    /// The disk, a permission or the file system failed runbook (see [`exit_code::ENVIRONMENT`]).
    pub fn environment(message: impl Into<String>) -> Self {
        Failure {
            code: exit_code::ENVIRONMENT,
            message: message.into(),
            reported: false,
        }
    }

    pub fn invalid_runbook(message: impl Into<String>) -> Self {
        Failure {
            code: exit_code::INVALID_RUNBOOK,
            message: message.into(),
            reported: false,
        }
    }

    /// The output already told the user; exit with `code`.
    pub fn reported(code: u8) -> Self {
        Failure {
            code,
            message: String::new(),
            reported: true,
        }
    }
}

/// Renders an error (if any) on stderr and turns the result into the process exit code.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(exit_code::SUCCESS),
        Err(error) => {
            // A closed pipe (`runbook lint ... | head`): say nothing, and exit as a process killed by
            // SIGPIPE would (128 + 13), so `set -o pipefail` still sees that the output was cut.
            let broken_pipe = error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::from(exit_code::BROKEN_PIPE);
            }
            let (code, reported) = match error.downcast_ref::<Failure>() {
                Some(failure) => (failure.code, failure.reported),
                None => (exit_code::INTERNAL, false),
            };
            if !reported {
                let mut stderr = std::io::stderr().lock();
                let _ = writeln!(stderr, "error: {error:#}");
            }
            ExitCode::from(code)
        }
    }
}
