//! The audit log: one JSON line per run start, step outcome, prompt answered, compensation, audit
//! event and run end, with actor, host, run id and timestamps. Secrets never reach it: every record
//! is built from redacted reports. The records are one typed enum ([`record::AuditRecord`]); the
//! format is documented in `docs/audit.md`.

mod observer;
pub mod record;

pub use observer::AuditObserver;
pub use record::AuditRecord;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Why an audit record could not be written, or a sink not set up. Messages never carry a
/// collector's credentials (header values, URL user info or query).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot write the audit log: {0}")]
    Write(std::io::Error),
    #[error("cannot sync the audit log: {0}")]
    Sync(std::io::Error),
    #[error("the audit log is unavailable (an earlier write panicked)")]
    Unavailable,
    #[error("the audit delivery thread has stopped")]
    CollectorStopped,
    #[error("the audit HTTP sink is closed")]
    CollectorClosed,
    #[error("the audit URL `{url}` is not an http:// or https:// URL")]
    NotHttp {
        /// Without user info, query or fragment.
        url: String,
    },
    #[error(
        "--audit-header number {number}: the name is not a valid HTTP header name (letters, \
         digits and `!#$%&'*+-.^_`|~` only, no spaces)"
    )]
    HeaderName { number: usize },
    #[error(
        "--audit-header number {number}: the value is not a valid HTTP header value (visible \
         ASCII, spaces and tabs only)"
    )]
    HeaderValue { number: usize },
    #[error("cannot start the audit delivery thread: {0}")]
    Thread(std::io::Error),
    #[error("cannot encode an audit record: {0}")]
    Encode(serde_json::Error),
}

/// Where audit records go, as the JSON lines the log holds.
pub trait AuditSink: Send {
    /// `sync`: the record must be on disk before this returns ([`AuditRecord::needs_sync`]).
    fn write(&mut self, record: &Value, sync: bool) -> Result<(), AuditError>;
    /// Delivers whatever is still queued; returns what could not be delivered.
    fn finish(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Appends records to a JSON-lines file, each in one write, synced when the record asks.
pub struct FileSink {
    file: File,
    /// The line being written, kept to reuse its allocation.
    line: Vec<u8>,
}

impl FileSink {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(FileSink {
            file: options.open(path)?,
            line: Vec::new(),
        })
    }
}

impl AuditSink for FileSink {
    fn write(&mut self, record: &Value, sync: bool) -> Result<(), AuditError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record).map_err(AuditError::Encode)?;
        self.line.push(b'\n');
        self.file.write_all(&self.line).map_err(AuditError::Write)?;
        if sync {
            self.file.sync_data().map_err(AuditError::Sync)?;
        }
        Ok(())
    }
}

/// Who and where, stamped on every record.
#[derive(Debug, Clone, Default)]
pub struct AuditIdentity {
    pub run_id: String,
    pub actor: String,
    pub host: String,
    pub runbook: String,
}

/// The audit log of one run: identity plus sinks.
pub struct AuditLog {
    identity: AuditIdentity,
    sinks: Vec<Box<dyn AuditSink>>,
    /// Stamps each record (a rehearsal's is virtual).
    clock: crate::clock::SharedClock,
}

pub type SharedAudit = Arc<Mutex<AuditLog>>;

impl AuditLog {
    pub fn new(identity: AuditIdentity, sinks: Vec<Box<dyn AuditSink>>) -> Self {
        AuditLog {
            identity,
            sinks,
            clock: crate::clock::SharedClock::system(),
        }
    }

    /// Stamps records with `clock`'s time.
    pub fn with_clock(mut self, clock: crate::clock::SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Delivers what the sinks still hold (the HTTP sink's queue); returns the failures.
    pub fn finish(&mut self) -> Vec<String> {
        self.sinks
            .iter_mut()
            .flat_map(|sink| sink.finish())
            .collect()
    }

    pub fn shared(self) -> SharedAudit {
        Arc::new(Mutex::new(self))
    }

    /// Writes one record, stamped with time and identity; returns the line as written.
    pub fn record(&mut self, record: &AuditRecord) -> Result<Value, AuditError> {
        let sync = record.needs_sync();
        let Value::Object(mut record) = serde_json::to_value(record).map_err(AuditError::Encode)?
        else {
            return Err(AuditError::Encode(serde::ser::Error::custom(
                "an audit record is not a JSON object",
            )));
        };
        // Stamped into the record's own map (keys stay sorted, as before): no second map.
        let identity = &self.identity;
        let stamp = [
            ("ts", self.clock.now().to_string()),
            ("run_id", identity.run_id.clone()),
            ("runbook", identity.runbook.clone()),
            ("actor", identity.actor.clone()),
            ("host", identity.host.clone()),
        ];
        for (name, value) in stamp {
            record.insert(name.to_owned(), Value::String(value));
        }
        let record = Value::Object(record);
        for sink in &mut self.sinks {
            sink.write(&record, sync)?;
        }
        Ok(record)
    }
}

/// The machine's host name, or "unknown".
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The OS user running this process.
pub fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|user| user.name)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}
