//! The run lock: two runs of the same runbook, or of runbooks touching the same secrets, cannot
//! proceed at once on this machine. Built on the standard library's advisory file locks
//! (`File::try_lock`): the OS releases them when a process dies, so a dead holder never blocks; the
//! holder's details are written in the file so a refusal can say who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// Who holds a lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub run_id: String,
    pub since: String,
    pub runbook: String,
}

/// Held locks; released when dropped (and by the OS if the process dies).
#[derive(Debug)]
pub struct RunLock {
    files: Vec<File>,
    /// Locks left behind by processes that no longer exist, taken over (for the operator's info).
    pub stale: Vec<Holder>,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        for file in &mut self.files {
            let _ = file.set_len(0);
            let _ = file.unlock();
        }
    }
}

/// Takes every lock in `keys` (e.g. `runbook-alpaca-live`, `secret-ALPACA_LIVE_API_KEY_ID`) or none.
///
/// A lock whose holder is gone is taken over, unless `busy` says why that holder's run must not be
/// taken over yet (a command it started still runs): then nothing is taken and the lock files keep
/// naming that holder.
pub fn acquire(
    dir: &Path,
    keys: &[String],
    holder: &Holder,
    busy: impl Fn(&Holder) -> Option<String>,
) -> Result<RunLock, Failure> {
    runbook_engine::journal::create_private_dir(dir).map_err(|error| {
        Failure::environment(format!("cannot create {}: {error}", dir.display()))
    })?;
    // First every OS lock, reading who held each before; only then write ourselves in, so a
    // refusal below leaves the files as they were.
    let mut taken: Vec<(File, std::path::PathBuf)> = Vec::new();
    let mut stale: Vec<Holder> = Vec::new();
    for key in keys {
        let path = dir.join(format!("{}.lock", sanitize(key)));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|error| {
            Failure::environment(format!("cannot open {}: {error}", path.display()))
        })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let who = read_holder(&mut file)
                    .map(|h| {
                        format!(
                            "{}@{} (pid {}, run {}) since {}",
                            h.user, h.host, h.pid, h.run_id, h.since
                        )
                    })
                    .unwrap_or_else(|| "another process".to_owned());
                return Err(Failure {
                    code: crate::exit_code::LOCKED,
                    message: format!(
                        "`{key}` is locked by {who}: a run that touches it is in progress.\n\
                         Wait for it to finish (or `runbook show` it); the lock is released when \
                         that process ends. Lock file: {}",
                        path.display()
                    ),
                    reported: false,
                });
            }
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(Failure::environment(format!(
                    "cannot lock {}: {error}",
                    path.display()
                )));
            }
        }
        // We hold the OS lock, so any holder written in the file is gone.
        if let Some(previous) = read_holder(&mut file) {
            if let Some(reason) = busy(&previous) {
                return Err(Failure {
                    code: crate::exit_code::LOCKED,
                    message: format!(
                        "`{key}` was held by run {} (pid {}, {}@{}), whose process is gone, but \
                         {reason}. Wait for it to finish, then try again. Lock file: {}",
                        previous.run_id,
                        previous.pid,
                        previous.user,
                        previous.host,
                        path.display()
                    ),
                    reported: false,
                });
            }
            stale.push(previous);
        }
        taken.push((file, path));
    }
    let mut lock = RunLock {
        files: Vec::new(),
        stale,
    };
    let text = serde_json::to_string(holder).unwrap_or_default();
    for (mut file, path) in taken {
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_data())
            .map_err(|error| {
                Failure::environment(format!("cannot write {}: {error}", path.display()))
            })?;
        lock.files.push(file);
    }
    Ok(lock)
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The lock keys of a runbook: itself, and every secret it applies to.
pub fn keys_for(runbook: &runbook_dsl::Runbook) -> Vec<String> {
    let mut keys = vec![format!("runbook-{}", runbook.meta.id)];
    keys.extend(
        runbook
            .meta
            .applies_to
            .iter()
            .map(|secret| format!("secret-{secret}")),
    );
    keys
}
