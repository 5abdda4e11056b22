//! The run journal: an append-only JSON-lines record of a run, each line flushed and synced before
//! the step it announces has side effects, so `runbook resume` knows what was done. Secrets are never
//! written: inputs marked secret are listed by name only, and an output that holds a secret is
//! withheld (its name is kept so resume can say why it is missing). Format: `docs/durable-runs.md`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use runbook_dsl::{Runbook, Step};

use crate::observer::{Observer, Position};
use crate::report::{RunReport, StepReport};

/// Appends records to a run's journal.
pub struct JournalWriter {
    file: File,
    path: PathBuf,
    seq: u64,
}

impl JournalWriter {
    /// Creates the journal of a new run (owner-only permissions).
    pub fn create(path: &Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent() {
            create_private_dir(parent)?;
        }
        let mut options = OpenOptions::new();
        options.create_new(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(JournalWriter {
            file: options.open(path)?,
            path: path.to_owned(),
            seq: 0,
        })
    }

    /// Opens an existing journal to continue it, first cutting off a torn last line (a record half
    /// written when the machine lost power) so the file stays valid JSON lines.
    pub fn resume(path: &Path, read: &JournalRead) -> std::io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        file.set_len(read.valid_bytes)?;
        file.sync_data()?;
        drop(file);
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(JournalWriter {
            file,
            path: path.to_owned(),
            seq: read.records.len() as u64,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and syncs it to disk before returning.
    pub fn append(&mut self, kind: &str, fields: Value) -> std::io::Result<()> {
        self.write_record(kind, fields)?;
        self.file.sync_data()
    }

    /// Appends one record without waiting for the disk: for records that announce no side effect
    /// (a step's outcome). The next synced record, which comes before any further side effect,
    /// makes it durable too.
    pub fn append_unsynced(&mut self, kind: &str, fields: Value) -> std::io::Result<()> {
        self.write_record(kind, fields)
    }

    fn write_record(&mut self, kind: &str, fields: Value) -> std::io::Result<()> {
        self.seq += 1;
        let mut record = Map::new();
        record.insert("seq".into(), Value::from(self.seq));
        record.insert(
            "at".into(),
            Value::String(jiff::Timestamp::now().to_string()),
        );
        record.insert("type".into(), Value::String(kind.to_owned()));
        if let Value::Object(fields) = fields {
            record.extend(fields);
        }
        let mut line = Value::Object(record).to_string();
        line.push('\n');
        self.file.write_all(line.as_bytes())
    }
}

/// Writes the journal from the run's progress. A write failure stops the run at the next step:
/// a run that cannot be recorded must not go on changing things.
pub struct JournalObserver {
    pub writer: JournalWriter,
    pub error: Option<String>,
}

impl JournalObserver {
    fn write(&mut self, kind: &str, fields: Value) {
        // Synced: the records that come before side effects, and the run's end.
        let synced = matches!(
            kind,
            "step_started" | "phase_started" | "decision" | "run_finished"
        );
        let result = if synced {
            self.writer.append(kind, fields)
        } else {
            self.writer.append_unsynced(kind, fields)
        };
        if let Err(error) = result {
            self.error.get_or_insert(format!(
                "cannot write the journal {}: {error}",
                self.writer.path().display()
            ));
        }
    }
}

impl Observer for JournalObserver {
    fn checkpoint(&mut self, step: &Step, at: &Position) -> Result<(), String> {
        self.write(
            "step_started",
            json!({ "step": step.id, "phase": at.phase, "depth": at.depth }),
        );
        match &self.error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn phase_started(&mut self, phase: crate::report::Phase, reason: &str) {
        self.write("phase_started", json!({ "phase": phase, "reason": reason }));
    }

    fn step_finished(&mut self, step: &Step, _at: &Position, report: &StepReport) {
        let outputs: Map<String, Value> = report
            .outputs
            .iter()
            .filter(|(name, _)| !report.secret_outputs.contains(name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        self.write(
            "step_finished",
            json!({
                "step": step.id,
                "phase": report.phase,
                "outcome": report.outcome,
                "attempts": report.attempts,
                "duration_ms": report.duration_ms,
                "started_at": report.started_at,
                "finished_at": report.finished_at,
                "outputs": outputs,
                "secret_outputs": report.secret_outputs,
                "error": report.error.as_ref().map(|e| json!({"kind": e.kind, "message": e.message})),
                "note": report.note,
            }),
        );
    }

    fn decision(&mut self, step: &Step, decision: &str) {
        // Synced like a step start: a skip changes what a later resume must do.
        self.write("decision", json!({ "step": step.id, "decision": decision }));
    }

    fn run_finished(&mut self, report: &RunReport) {
        self.write(
            "run_finished",
            json!({
                "status": report.status,
                "failed_step": report.failed_step,
                "duration_ms": report.duration_ms,
                "irreversible_done": report.irreversible_done,
            }),
        );
    }
}

/// A journal as read back.
#[derive(Debug, Clone, Default)]
pub struct JournalRead {
    pub records: Vec<Value>,
    /// Bytes up to the end of the last complete record.
    pub valid_bytes: u64,
    /// A last line that did not parse (a torn write), described for the operator.
    pub torn: Option<String>,
}

impl JournalRead {
    /// The first record of a type.
    pub fn first(&self, kind: &str) -> Option<&Value> {
        self.records.iter().find(|record| record["type"] == kind)
    }

    /// The last record of a type.
    pub fn last(&self, kind: &str) -> Option<&Value> {
        self.records
            .iter()
            .rev()
            .find(|record| record["type"] == kind)
    }
}

/// Reads a journal. A torn last line is reported, not an error; a bad line in the middle is.
pub fn read_journal(path: &Path) -> Result<JournalRead, String> {
    let file =
        File::open(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut read = JournalRead::default();
    let mut line = Vec::new();
    let mut offset: u64 = 0;
    let mut line_number = 0;
    loop {
        line.clear();
        let bytes = reader
            .read_until(b'\n', &mut line)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        if bytes == 0 {
            break;
        }
        line_number += 1;
        let complete = line.ends_with(b"\n");
        match serde_json::from_slice::<Value>(&line) {
            Ok(record) if complete => {
                read.records.push(record);
                offset += bytes as u64;
                read.valid_bytes = offset;
            }
            _ => {
                // Only the last line may be torn; anything after it means the file is damaged.
                let mut rest = Vec::new();
                let more = reader
                    .read_until(b'\n', &mut rest)
                    .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
                if more > 0 {
                    return Err(format!(
                        "{} is damaged: line {line_number} is not a journal record",
                        path.display()
                    ));
                }
                read.torn = Some(format!(
                    "the last line ({bytes} bytes, line {line_number}) was cut off mid-write and is ignored"
                ));
                break;
            }
        }
    }
    Ok(read)
}

/// The SHA-256 of a runbook's text, to notice a file changed between a run and its resume.
pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The `run_started` record's fields.
pub fn run_started_fields(
    runbook: &Runbook,
    source_text: &str,
    inputs: &Map<String, Value>,
    secret_inputs: &[String],
    identity: &crate::audit::AuditIdentity,
) -> Value {
    let path = std::fs::canonicalize(&runbook.path).unwrap_or_else(|_| runbook.path.clone());
    let public_inputs: Map<String, Value> = inputs
        .iter()
        .filter(|(name, _)| !secret_inputs.contains(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    json!({
        "run_id": identity.run_id,
        "runbook": runbook.meta.id,
        "title": runbook.meta.title,
        "path": path.display().to_string(),
        "sha256": content_hash(source_text),
        "inputs": public_inputs,
        "secret_inputs": secret_inputs,
        "actor": identity.actor,
        "host": identity.host,
        "pid": std::process::id(),
    })
}

/// Creates a directory (and parents) readable by the owner only.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_detected_and_cut_on_resume() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("journal.jsonl");
        let mut writer = JournalWriter::create(&path).map_err(|e| e.to_string())?;
        writer
            .append("run_started", json!({"run_id": "r1"}))
            .map_err(|e| e.to_string())?;
        writer
            .append("step_started", json!({"step": "a"}))
            .map_err(|e| e.to_string())?;
        drop(writer);
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| e.to_string())?;
        file.write_all(br#"{"seq":3,"type":"step_fini"#)
            .map_err(|e| e.to_string())?;
        drop(file);

        let read = read_journal(&path)?;
        assert_eq!(read.records.len(), 2);
        assert!(read.torn.is_some());
        let mut writer = JournalWriter::resume(&path, &read).map_err(|e| e.to_string())?;
        writer
            .append("run_resumed", json!({}))
            .map_err(|e| e.to_string())?;
        let again = read_journal(&path)?;
        assert_eq!(again.records.len(), 3);
        assert!(again.torn.is_none());
        assert_eq!(again.records[2]["seq"], 3);
        Ok(())
    }

    #[test]
    fn damage_in_the_middle_is_an_error() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, "{\"type\":\"a\"}\nnot json\n{\"type\":\"b\"}\n")
            .map_err(|e| e.to_string())?;
        assert!(read_journal(&path).is_err());
        Ok(())
    }
}
