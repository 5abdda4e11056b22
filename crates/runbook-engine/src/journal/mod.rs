//! The run journal: an append-only JSON-lines record of a run, each line synced before the step it
//! announces has side effects, so `runbook resume` knows what was done. Secrets are never written:
//! inputs marked secret are listed by name only, and an output that holds a secret is withheld (its
//! name is kept so resume can say why it is missing). Format: `docs/durable-runs.md`.
//!
//! This module owns the format: [`record`] defines it, [`writer`] and [`observer`] write it,
//! [`reader`] reads it, and [`summary`] is the one answer to "what state is this run in, and can it
//! be resumed". Nothing else reads journal lines.

pub mod observer;
pub mod reader;
pub mod record;
pub mod summary;
pub mod writer;

use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use runbook_dsl::Runbook;

pub use observer::JournalObserver;
pub use reader::{JournalEnd, JournalError, JournalRead, read_journal, scan_journal};
pub use record::{Durability, Entry, FragmentHash, JournalRecord, RunResumed, RunStarted};
pub use summary::{Resumability, RunState, RunSummary};
pub use writer::JournalWriter;

/// The SHA-256 of a runbook's text, to notice a file changed between a run and its resume.
pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl RunStarted {
    /// The start record of a new run. Secret inputs are kept by name only.
    pub fn new(
        runbook: &Runbook,
        source_text: &str,
        inputs: &Map<String, Value>,
        secret_inputs: &[String],
        identity: &crate::audit::AuditIdentity,
    ) -> RunStarted {
        let path = std::fs::canonicalize(&runbook.path).unwrap_or_else(|_| runbook.path.clone());
        RunStarted {
            run_id: identity.run_id.clone(),
            runbook: runbook.meta.id.clone(),
            title: runbook.meta.title.clone(),
            path: path.display().to_string(),
            sha256: content_hash(source_text),
            fragments: runbook
                .fragments
                .iter()
                .map(|fragment| record::FragmentHash {
                    path: std::fs::canonicalize(&fragment.path)
                        .unwrap_or_else(|_| fragment.path.clone())
                        .display()
                        .to_string(),
                    sha256: fragment.sha256.clone(),
                })
                .collect(),
            inputs: inputs
                .iter()
                .filter(|(name, _)| !secret_inputs.contains(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            secret_inputs: secret_inputs.to_vec(),
            actor: identity.actor.clone(),
            host: identity.host.clone(),
            pid: std::process::id(),
        }
    }
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
mod durability_tests;
#[cfg(test)]
mod tests;
