//! Appending to a journal: one [`Entry`] a line, synced before the side effect it announces.
//!
//! Records are serialised into one buffer and reach the file in as few `write`s as their
//! [`Durability`] allows: a step's outcome goes out with the next step's start, in one write, and
//! only the start of a step with side effects is synced (see [`crate::effects`]).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::create_private_dir;
use super::reader::JournalEnd;
use super::record::{Durability, Entry, JournalRecord, RunResumed, RunStarted};
use crate::clock::SharedClock;

/// Appends records to a run's journal.
pub struct JournalWriter {
    file: File,
    path: PathBuf,
    seq: u64,
    /// Serialised records not written yet ([`Durability::Deferred`] ones, then the one being
    /// appended).
    pending: Vec<u8>,
    /// How many times the file was synced: what the durability rule is tested by.
    syncs: u64,
    /// Stamps each entry (a rehearsal's is virtual).
    clock: SharedClock,
}

impl JournalWriter {
    /// Creates the journal of a new run (owner-only permissions) and records its start.
    pub fn create(path: &Path, started: RunStarted) -> std::io::Result<Self> {
        Self::create_with_clock(path, started, SharedClock::system())
    }

    /// [`JournalWriter::create`], with entries stamped by `clock`.
    pub fn create_with_clock(
        path: &Path,
        started: RunStarted,
        clock: SharedClock,
    ) -> std::io::Result<Self> {
        if let Some(parent) = path.parent() {
            create_private_dir(parent)?;
        }
        let mut options = OpenOptions::new();
        options.create_new(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut writer = JournalWriter {
            file: options.open(path)?,
            path: path.to_owned(),
            seq: 0,
            pending: Vec::new(),
            syncs: 0,
            clock,
        };
        writer.append(JournalRecord::RunStarted(started))?;
        Ok(writer)
    }

    /// Opens an existing journal to continue it and records the resume. A torn last line (a record
    /// half written when the machine lost power) is cut off first, so the file stays valid JSON lines.
    pub fn reopen(path: &Path, read: &JournalEnd, resumed: RunResumed) -> std::io::Result<Self> {
        Self::reopen_with_clock(path, read, resumed, SharedClock::system())
    }

    /// [`JournalWriter::reopen`], with entries stamped by `clock`.
    pub fn reopen_with_clock(
        path: &Path,
        read: &JournalEnd,
        resumed: RunResumed,
        clock: SharedClock,
    ) -> std::io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        file.set_len(read.valid_bytes)?;
        file.sync_data()?;
        drop(file);
        let file = OpenOptions::new().append(true).open(path)?;
        let mut writer = JournalWriter {
            file,
            path: path.to_owned(),
            seq: read.last_seq,
            pending: Vec::new(),
            syncs: 0,
            clock,
        };
        writer.append(JournalRecord::RunResumed(resumed))?;
        Ok(writer)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many times this writer synced the file.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Appends one record with its own durability ([`JournalRecord::durability`]).
    pub fn append(&mut self, record: JournalRecord) -> std::io::Result<()> {
        let durability = record.durability();
        self.append_as(record, durability)
    }

    /// Appends one record. [`Durability::Synced`]: it and everything before it are on disk before
    /// this returns; [`Durability::Written`]: in the file; [`Durability::Deferred`]: in memory until
    /// the next record that is not deferred; [`Durability::SyncedIfSynced`]: synced when a record
    /// was synced before, else written.
    pub fn append_as(
        &mut self,
        record: JournalRecord,
        durability: Durability,
    ) -> std::io::Result<()> {
        self.seq += 1;
        let entry = Entry {
            seq: self.seq,
            at: self.clock.now(),
            record,
        };
        serde_json::to_writer(&mut self.pending, &entry).map_err(std::io::Error::other)?;
        self.pending.push(b'\n');
        let sync = match durability {
            Durability::Deferred => return Ok(()),
            Durability::Written => false,
            Durability::Synced => true,
            Durability::SyncedIfSynced => self.syncs > 0,
        };
        let bytes = self.pending.len();
        self.write_pending()?;
        if sync {
            let started = std::time::Instant::now();
            self.file.sync_data()?;
            self.syncs += 1;
            crate::trace::journal_sync(self.seq, bytes, started.elapsed());
        }
        Ok(())
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        let result = self.file.write_all(&self.pending);
        // A failed write is not retried with the same bytes: the error stops the run at its next
        // checkpoint, and resume cuts a torn line off.
        self.pending.clear();
        result
    }
}

impl Drop for JournalWriter {
    /// A session that ends without its last record (an error path) still leaves the outcomes it
    /// knew in the file.
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.write_pending();
        }
    }
}
