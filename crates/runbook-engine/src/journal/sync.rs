//! A step's start record synced while the step gets ready, for a shell command: the `fdatasync`
//! runs on the journal's sync thread while runbook forks the command, and the child waits, before
//! it `exec`s, for a byte that is written only once the sync succeeded (see
//! `steps/shell/death_signal.rs` for the child's side). Forking runbook costs about as much as the
//! sync on a fast disk (docs/performance.md, W3), and neither waits for the other any more.
//!
//! The guarantee is unchanged: nothing of a step with side effects runs before its start record is
//! on disk. A [`PendingSync`] is the proof still owed: [`PendingSync::wait`] before acting, or
//! [`PendingSync::gate`] for a command that waits in the child. Dropping one waits too.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Instant;

use crate::observer::CheckpointError;

/// The byte that lets a gated command start; any other byte, or the pipe's end, stops it.
pub const GO: u8 = 1;
/// What the sync thread writes when the sync failed.
const NO_GO: u8 = 0;

/// A test's hold on the sync thread: called before each sync, whose result it can replace.
#[cfg(test)]
pub(crate) type SyncHook = Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>;

/// The sync requested of the thread.
struct Request {
    shared: Arc<Shared>,
    seq: u64,
    bytes: usize,
}

/// The journal's sync thread: started by the first deferred sync, ended when the writer drops.
pub(super) struct SyncThread {
    requests: mpsc::Sender<Request>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncThread {
    pub(super) fn start(
        file: Arc<File>,
        #[cfg(test)] hook: Option<SyncHook>,
    ) -> std::io::Result<Self> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("journal-sync".into())
            .spawn(move || {
                for request in incoming {
                    let started = Instant::now();
                    #[cfg(test)]
                    let synced = match &hook {
                        Some(hook) => hook().and_then(|()| file.sync_data()),
                        None => file.sync_data(),
                    };
                    #[cfg(not(test))]
                    let synced = file.sync_data();
                    if synced.is_ok() {
                        crate::trace::journal_sync(request.seq, request.bytes, started.elapsed());
                    }
                    request
                        .shared
                        .resolve(synced.map_err(|error| error.to_string()));
                }
            })?;
        Ok(SyncThread {
            requests,
            thread: Some(thread),
        })
    }

    /// Asks for `file` to be synced; the answer comes through the returned [`PendingSync`].
    pub(super) fn request(&self, path: PathBuf, seq: u64, bytes: usize) -> PendingSync {
        let shared = Arc::new(Shared {
            path,
            state: Mutex::new(State {
                outcome: None,
                gate: None,
            }),
            resolved: Condvar::new(),
        });
        let request = Request {
            shared: Arc::clone(&shared),
            seq,
            bytes,
        };
        if let Err(mpsc::SendError(request)) = self.requests.send(request) {
            // The thread is gone (it panicked): nothing will sync, so nothing may run.
            request
                .shared
                .resolve(Err("the journal's sync thread stopped".to_owned()));
        }
        PendingSync(shared)
    }
}

impl Drop for SyncThread {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop once the syncs asked for are done.
        let (closed, _) = mpsc::channel();
        self.requests = closed;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Shared {
    /// The journal, for the error.
    path: PathBuf,
    state: Mutex<State>,
    resolved: Condvar,
}

struct State {
    /// `None` while the sync runs; then whether it succeeded (the error's text if not).
    outcome: Option<Result<(), String>>,
    /// A gated command's pipe (write end): told [`GO`] or [`NO_GO`] once the outcome is known.
    /// Closed only when the [`PendingSync`] and the thread are done with it, so its number stays
    /// this pipe's until the command has been forked (the child closes its own copy by number).
    gate: Option<OwnedFd>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves nothing half-done worth refusing.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn resolve(&self, outcome: Result<(), String>) {
        let mut state = self.lock();
        if let Some(gate) = &state.gate {
            tell(gate, outcome.is_ok());
        }
        state.outcome = Some(outcome);
        self.resolved.notify_all();
    }

    fn error(&self, reason: &str) -> CheckpointError {
        CheckpointError::Journal {
            path: self.path.clone(),
            reason: reason.to_owned(),
        }
    }
}

/// Writes the gate's one byte. The pipe is new and its reader holds it open until the
/// [`PendingSync`] is resolved (see [`Gate`]), so the write cannot block or fail short of a broken
/// system; a child that never gets the byte does not start (it sees the pipe's end or dies with
/// runbook).
fn tell(gate: &OwnedFd, go: bool) {
    let _ = nix::unistd::write(gate, &[if go { GO } else { NO_GO }]);
}

/// A step's start record, written and being synced. See the module's documentation.
#[must_use = "a step may act only once its start record is synced: wait for it, or gate on it"]
pub struct PendingSync(Arc<Shared>);

impl std::fmt::Debug for PendingSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSync")
            .field("journal", &self.0.path)
            .finish_non_exhaustive()
    }
}

impl PendingSync {
    /// Another handle on the same sync (the writer keeps one to stop at a failure).
    pub(super) fn share(&self) -> PendingSync {
        PendingSync(Arc::clone(&self.0))
    }

    /// Blocks until the sync is done; its error if it failed. Asking again gives the same answer.
    pub fn wait(&self) -> Result<(), CheckpointError> {
        let mut state = self.0.lock();
        loop {
            match &state.outcome {
                Some(Ok(())) => return Ok(()),
                Some(Err(reason)) => return Err(self.0.error(reason)),
                None => {
                    state = self
                        .0
                        .resolved
                        .wait(state)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            }
        }
    }

    /// A pipe for a command to wait on before it `exec`s: it carries [`GO`] once the sync
    /// succeeded (at once when it already has). Fails when the sync already failed, or no pipe
    /// could be made (the caller then has nothing to gate on, and must not start the command).
    pub fn gate(&self) -> Result<Gate<'_>, CheckpointError> {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| {
            self.0
                .error(&format!("cannot make the start gate: {errno}"))
        })?;
        let mut state = self.0.lock();
        match &state.outcome {
            Some(Err(reason)) => return Err(self.0.error(reason)),
            Some(Ok(())) => tell(&write, true),
            None => {}
        }
        let write_fd = write.as_raw_fd();
        // A second gate on the same sync would replace (and close) the first one's write end
        // while a child may still hold its number: one gate per sync.
        if state.gate.is_some() {
            return Err(self.0.error("the start gate was asked for twice"));
        }
        state.gate = Some(write);
        Ok(Gate {
            read,
            write: write_fd,
            sync: self,
        })
    }
}

impl Drop for PendingSync {
    /// Nothing goes on while a sync it owes is still running (an early return cannot skip it).
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

/// The pipe a gated command waits on, as the child needs it: the read end, and the number of the
/// write end (open in runbook for as long as the [`PendingSync`] lives), which the child closes
/// in itself so that runbook's death ends its wait.
pub struct Gate<'a> {
    read: OwnedFd,
    write: RawFd,
    sync: &'a PendingSync,
}

impl Drop for Gate<'_> {
    /// The read end stays open until the byte is written: a write to a pipe nobody reads would
    /// raise SIGPIPE.
    fn drop(&mut self) {
        let _ = self.sync.wait();
    }
}

impl Gate<'_> {
    /// The read end's and the write end's numbers, for the child (both close on `exec`).
    pub fn fds(&self) -> (RawFd, RawFd) {
        (self.read.as_raw_fd(), self.write)
    }
}
