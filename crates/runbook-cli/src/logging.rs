//! Traces (`-v`, `RUST_LOG`, `--log-file`): a `tracing` subscriber, installed only when asked, so
//! a plain `runbook lint` pays nothing for it.
//!
//! Two rules keep secrets out of traces:
//! - Only runbook's own events are written (targets `runbook::*` and the `runbook_*` crates),
//!   whatever RUST_LOG says: the engine redacts what it traces ([`runbook_engine::trace`]), but
//!   hyper, h2, reqwest and rustls trace headers and bodies before any redactor could see them.
//! - Every line is redacted once more, as it is written, with the secret inputs of the run
//!   ([`know_secrets`]), in case a future event forgets.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use runbook_engine::Redactor;

use crate::args::GlobalArgs;
use crate::failure::Failure;
use crate::output::{Stream, color};

/// Secrets known to the command (a run's secret inputs), masked in every line written.
static SECRETS: LazyLock<Mutex<Redactor>> = LazyLock::new(|| Mutex::new(Redactor::default()));

/// Adds secrets to mask in every trace line from now on.
pub fn know_secrets(redactor: &Redactor) {
    SECRETS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .merge(redactor);
}

/// Installs the subscriber when `-v`, `--log-file`/RUNBOOK_LOG or RUST_LOG ask for traces.
pub fn install(global: &GlobalArgs) -> Result<(), Failure> {
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|spec| !spec.trim().is_empty());
    if global.verbose == 0 && global.log_file.is_none() && rust_log.is_none() {
        return Ok(());
    }
    let level = match global.verbose {
        0 | 1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut filter = match &rust_log {
        // Invalid directives are skipped (with a note on stderr), as most tools do.
        Some(spec) => EnvFilter::builder().parse_lossy(spec),
        None => EnvFilter::new(format!("runbook={level}")),
    };
    if rust_log.is_some()
        && global.verbose > 0
        && let Ok(directive) = format!("runbook={level}").parse()
    {
        filter = filter.add_directive(directive);
    }
    let (sink, ansi) = match &global.log_file {
        Some(path) => (Sink::File(Arc::new(Mutex::new(open_log(path)?))), false),
        None => (Sink::Stderr, color(Stream::Stderr)),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(sink)
        .with_ansi(ansi)
        .with_target(true);
    tracing_subscriber::registry()
        .with(filter)
        .with(filter_fn(|metadata| is_ours(metadata.target())))
        .with(layer)
        .try_init()
        .map_err(|error| Failure::usage(format!("cannot set up tracing: {error}")))
}

/// runbook's own targets: `runbook::http` and the like, and the modules of the `runbook_*` crates.
fn is_ours(target: &str) -> bool {
    target == "runbook" || target.starts_with("runbook::") || target.starts_with("runbook_")
}

/// Opens the log file for appending, owner-only when created (traces name hosts and paths).
fn open_log(path: &Path) -> Result<File, Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|error| {
        Failure::usage(format!(
            "cannot open the log file {}: {error} (--log-file / RUNBOOK_LOG)",
            path.display()
        ))
    })
}

/// Where trace lines go.
#[derive(Clone)]
enum Sink {
    Stderr,
    File(Arc<Mutex<File>>),
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter { sink: self.clone() }
    }
}

/// Writes one formatted event (the subscriber writes each in one call), redacted.
struct LineWriter {
    sink: Sink,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let text = SECRETS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .redact(&text);
        match &self.sink {
            Sink::Stderr => std::io::stderr().lock().write_all(text.as_bytes())?,
            Sink::File(file) => file
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write_all(text.as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &self.sink {
            Sink::Stderr => std::io::stderr().flush(),
            Sink::File(file) => file.lock().unwrap_or_else(PoisonError::into_inner).flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_runbook_targets_are_ours() {
        assert!(is_ours("runbook::http"));
        assert!(is_ours("runbook_engine::trace"));
        assert!(is_ours("runbook"));
        for other in [
            "hyper::proto::h1",
            "h2::codec",
            "reqwest::connect",
            "rustls",
            "runbooky",
        ] {
            assert!(!is_ours(other), "{other}");
        }
    }
}
