//! Reading a journal back: every line a typed [`Entry`], a torn last line tolerated (a write cut short
//! by a crash), anything else a [`JournalError`] naming the file and the line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::record::{Entry, JournalRecord, RunStarted};

/// A journal as read back, every record in memory (tests, and small journals). `runs`, `show` and
/// `resume` read journals as a stream with [`scan_journal`] instead.
#[derive(Debug, Clone, Default)]
pub struct JournalRead {
    pub entries: Vec<Entry>,
    /// Bytes up to the end of the last complete record.
    pub valid_bytes: u64,
    /// A last line that did not parse (a torn write), described for the operator.
    pub torn: Option<String>,
}

impl JournalRead {
    /// The run's start record; a journal without one belongs to no run that can be continued.
    pub fn run_started(&self) -> Option<(&Entry, &RunStarted)> {
        self.entries.iter().find_map(|entry| match &entry.record {
            JournalRecord::RunStarted(started) => Some((entry, started)),
            JournalRecord::RunResumed(_)
            | JournalRecord::PhaseStarted { .. }
            | JournalRecord::StepStarted(_)
            | JournalRecord::StepFinished(_)
            | JournalRecord::Decision { .. }
            | JournalRecord::RunStopped { .. }
            | JournalRecord::CommitPassed { .. }
            | JournalRecord::RunFinished(_) => None,
        })
    }

    pub fn records(&self) -> impl DoubleEndedIterator<Item = &JournalRecord> {
        self.entries.iter().map(|entry| &entry.record)
    }

    /// How the journal began and where it ends, as a scan would tell.
    pub fn end(&self) -> JournalEnd {
        let mut end = JournalEnd {
            valid_bytes: self.valid_bytes,
            torn: self.torn.clone(),
            ..JournalEnd::default()
        };
        self.entries.iter().for_each(|entry| end.note(entry));
        end
    }
}

/// What continuing a journal needs besides its records: how it began (its start record and when
/// it was written), the last sequence number, and where its last complete record ends.
#[derive(Debug, Clone, Default)]
pub struct JournalEnd {
    pub started: Option<(jiff::Timestamp, RunStarted)>,
    pub last_seq: u64,
    /// Bytes up to the end of the last complete record.
    pub valid_bytes: u64,
    /// A last line that did not parse (a torn write), described for the operator.
    pub torn: Option<String>,
}

impl JournalEnd {
    fn note(&mut self, entry: &Entry) {
        self.last_seq = entry.seq;
        if self.started.is_none()
            && let JournalRecord::RunStarted(started) = &entry.record
        {
            self.started = Some((entry.at, started.clone()));
        }
    }
}

/// Why a journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read the journal {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the journal {} is damaged: line {line} is not a journal record ({reason}); the run cannot be \
         read. Keep the file for investigation; start a new run",
        path.display()
    )]
    Damaged {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Reads a journal into memory. A torn last line is reported, not an error; a bad line anywhere
/// else is.
pub fn read_journal(path: &Path) -> Result<JournalRead, JournalError> {
    let mut entries = Vec::new();
    let end = scan_journal(path, |entry| entries.push(entry))?;
    Ok(JournalRead {
        entries,
        valid_bytes: end.valid_bytes,
        torn: end.torn,
    })
}

/// Reads a journal as a stream: `visit` gets each record in order, and only one line is in
/// memory at a time (a 62 MB journal costs what its longest line does). A torn last line is
/// reported in the result, not an error; a bad line anywhere else is.
pub fn scan_journal(path: &Path, mut visit: impl FnMut(Entry)) -> Result<JournalEnd, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_owned(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let mut end = JournalEnd::default();
    let mut line = Vec::new();
    let mut line_number = 0;
    loop {
        line.clear();
        let bytes = reader.read_until(b'\n', &mut line).map_err(io)?;
        if bytes == 0 {
            break;
        }
        line_number += 1;
        let complete = line.ends_with(b"\n");
        match serde_json::from_slice::<Entry>(&line) {
            Ok(entry) if complete => {
                end.note(&entry);
                end.valid_bytes += bytes as u64;
                visit(entry);
            }
            parsed => {
                let mut rest = Vec::new();
                let more = reader.read_until(b'\n', &mut rest).map_err(io)?;
                // Only the last line may be torn, and only a line cut off before its newline.
                if more > 0 || (complete && line.iter().any(|b| !b.is_ascii_whitespace())) {
                    let reason = match parsed {
                        Err(error) => error.to_string(),
                        Ok(_) => "it ends without a newline".to_owned(),
                    };
                    return Err(JournalError::Damaged {
                        path: path.to_owned(),
                        line: line_number,
                        reason,
                    });
                }
                if complete {
                    // A blank last line: nothing was lost.
                    end.valid_bytes += bytes as u64;
                    break;
                }
                end.torn = Some(format!(
                    "the last line ({bytes} bytes, line {line_number}) was cut off mid-write and is ignored"
                ));
                break;
            }
        }
    }
    Ok(end)
}
