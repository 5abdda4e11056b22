//! Appending to a journal: one [`Entry`] a line, synced before the side effect it announces.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::create_private_dir;
use super::reader::JournalRead;
use super::record::{Entry, JournalRecord, RunResumed, RunStarted};
use crate::clock::SharedClock;

/// Appends records to a run's journal.
pub struct JournalWriter {
    file: File,
    path: PathBuf,
    seq: u64,
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
            clock,
        };
        writer.append(JournalRecord::RunStarted(started))?;
        Ok(writer)
    }

    /// Opens an existing journal to continue it and records the resume. A torn last line (a record
    /// half written when the machine lost power) is cut off first, so the file stays valid JSON lines.
    pub fn reopen(path: &Path, read: &JournalRead, resumed: RunResumed) -> std::io::Result<Self> {
        Self::reopen_with_clock(path, read, resumed, SharedClock::system())
    }

    /// [`JournalWriter::reopen`], with entries stamped by `clock`.
    pub fn reopen_with_clock(
        path: &Path,
        read: &JournalRead,
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
            seq: read.entries.last().map_or(0, |entry| entry.seq),
            clock,
        };
        writer.append(JournalRecord::RunResumed(resumed))?;
        Ok(writer)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record; records that come before side effects are synced to disk before this
    /// returns ([`JournalRecord::needs_sync`]).
    pub fn append(&mut self, record: JournalRecord) -> std::io::Result<()> {
        let sync = record.needs_sync();
        self.seq += 1;
        let entry = Entry {
            seq: self.seq,
            at: self.clock.now(),
            record,
        };
        let mut line = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        if sync {
            let started = std::time::Instant::now();
            self.file.sync_data()?;
            crate::trace::journal_sync(self.seq, line.len(), started.elapsed());
        }
        Ok(())
    }
}
