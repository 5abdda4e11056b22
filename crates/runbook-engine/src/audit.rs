//! The audit log: one JSON line per run start, step outcome, prompt answered, compensation, audit
//! event and run end, with actor, host, run id and timestamps. Secrets never reach it: every record
//! is built from redacted reports. The record format is documented in `docs/audit.md`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use runbook_dsl::{Runbook, Step};

use crate::observer::{CheckpointError, Observer, Position, Progress};
use crate::prompter::Decision;
use crate::report::{Phase, RunReport, StepOutcome, StepReport};

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
}

/// Where audit records go.
pub trait AuditSink: Send {
    fn write(&mut self, record: &Value) -> Result<(), AuditError>;
    /// Delivers whatever is still queued; returns what could not be delivered.
    fn finish(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Appends records to a JSON-lines file, each flushed and synced.
pub struct FileSink {
    file: File,
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
        })
    }
}

impl AuditSink for FileSink {
    fn write(&mut self, record: &Value) -> Result<(), AuditError> {
        let mut line = record.to_string();
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(AuditError::Write)?;
        // The run's end and the runbook's own events are synced; step records ride along with them.
        if matches!(record["type"].as_str(), Some("run_finished" | "event")) {
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
}

pub type SharedAudit = Arc<Mutex<AuditLog>>;

impl AuditLog {
    pub fn new(identity: AuditIdentity, sinks: Vec<Box<dyn AuditSink>>) -> Self {
        AuditLog { identity, sinks }
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

    /// Writes one record of `kind` with `fields`, stamped with time and identity.
    pub fn record(&mut self, kind: &str, fields: Map<String, Value>) -> Result<Value, AuditError> {
        let mut record = Map::new();
        record.insert(
            "ts".into(),
            Value::String(jiff::Timestamp::now().to_string()),
        );
        record.insert("type".into(), Value::String(kind.to_owned()));
        record.insert("run_id".into(), Value::String(self.identity.run_id.clone()));
        record.insert(
            "runbook".into(),
            Value::String(self.identity.runbook.clone()),
        );
        record.insert("actor".into(), Value::String(self.identity.actor.clone()));
        record.insert("host".into(), Value::String(self.identity.host.clone()));
        record.extend(fields);
        let record = Value::Object(record);
        for sink in &mut self.sinks {
            sink.write(&record)?;
        }
        Ok(record)
    }
}

/// Writes lifecycle records from the run's (redacted) progress events.
pub struct AuditObserver {
    pub audit: SharedAudit,
    pub inputs: Map<String, Value>,
    /// This session continues an earlier run (`runbook resume`).
    pub resumed: bool,
    /// The first write failure, reported at the end (an audit failure must not go unnoticed).
    pub error: Option<AuditError>,
}

impl AuditObserver {
    fn write(&mut self, kind: &str, fields: Value) {
        let Value::Object(fields) = fields else {
            return;
        };
        let result = match self.audit.lock() {
            Ok(mut audit) => audit.record(kind, fields).map(|_| ()),
            Err(_) => Err(AuditError::Unavailable),
        };
        if let Err(error) = result {
            self.error.get_or_insert(error);
        }
    }
}

impl Observer for AuditObserver {
    fn run_started(&mut self, runbook: &Runbook) {
        let path = std::fs::canonicalize(&runbook.path).unwrap_or_else(|_| runbook.path.clone());
        let fields = json!({
            "path": path.display().to_string(),
            "title": runbook.meta.title,
            "inputs": self.inputs,
        });
        let kind = if self.resumed {
            "run_resumed"
        } else {
            "run_started"
        };
        self.write(kind, fields);
    }

    fn phase_started(&mut self, phase: Phase, reason: &str) {
        if phase == Phase::Rollback {
            self.write("compensation_started", json!({ "reason": reason }));
        }
    }

    fn step_finished(&mut self, step: &Step, _at: &Position, report: &StepReport) {
        if step.kind.prompt().is_some() && report.outcome == StepOutcome::Passed {
            // Outputs are already redacted: a secret answer reads as the mask.
            self.write(
                "prompt_answered",
                json!({ "step": step.id, "answers": report.outputs }),
            );
        }
        let kind = if report.phase == Phase::Rollback {
            "compensation"
        } else {
            "step_finished"
        };
        self.write(
            kind,
            json!({
                "step": step.id,
                "name": step.name,
                "kind": report.kind,
                "phase": report.phase,
                "outcome": report.outcome,
                "duration_ms": report.duration_ms,
                "attempts": report.attempts,
                "irreversible": step.irreversible,
                "error": report.error.as_ref().map(|e| json!({"kind": e.kind, "message": e.message})),
                "note": report.note,
            }),
        );
    }

    fn decision(&mut self, step: &Step, decision: Decision) {
        self.write(
            "operator_decision",
            json!({ "step": step.id, "decision": decision }),
        );
    }

    fn step_started(&mut self, _step: &Step, _at: &Position) {}

    fn checkpoint(&mut self, _step: &Step, _at: &Position) -> Result<(), CheckpointError> {
        Ok(())
    }

    fn step_progress(&mut self, _step: &Step, _progress: &Progress) {}

    fn run_finished(&mut self, report: &RunReport) {
        self.write(
            "run_finished",
            json!({
                "status": report.status,
                "duration_ms": report.duration_ms,
                "failed_step": report.failed_step,
                "irreversible_done": report.irreversible_done,
                "operator": report.operator,
            }),
        );
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
