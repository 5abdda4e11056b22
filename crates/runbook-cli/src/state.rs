//! Where runs are kept: the state directory (`--state-dir`, `RUNBOOK_STATE_DIR`, or the XDG state
//! directory), with one folder per run (its journal) and the run locks.

use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// In `files/`: no run keeps its files beside its journal any more (see
/// [`StateDir::remove_leftover_files`]). Run ids never start with a dot.
const OLD_PLACE_CLEANED: &str = ".old-place-cleaned";

/// The state directory and the paths inside it.
#[derive(Debug, Clone)]
pub struct StateDir {
    pub root: PathBuf,
    /// Given as `--state-dir` (not through `RUNBOOK_STATE_DIR`, which the next command inherits):
    /// a suggested `runbook resume ID` must then say `--state-dir` too, or it finds no such run.
    from_flag: bool,
}

impl StateDir {
    /// `--state-dir` / `RUNBOOK_STATE_DIR` (clap reads both), else `$XDG_STATE_HOME/runbook`, else
    /// `~/.local/state/runbook`.
    pub fn resolve(given: Option<&Path>) -> Result<StateDir, Failure> {
        if let Some(path) = given {
            let from_env = std::env::var_os("RUNBOOK_STATE_DIR").map(PathBuf::from);
            return Ok(StateDir {
                root: path.to_owned(),
                from_flag: from_env.as_deref() != Some(path),
            });
        }
        if let Some(xdg) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
            return Ok(StateDir {
                root: PathBuf::from(xdg).join("runbook"),
                from_flag: false,
            });
        }
        match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => Ok(StateDir {
                root: PathBuf::from(home).join(".local/state/runbook"),
                from_flag: false,
            }),
            None => Err(Failure::usage(
                "no state directory: set RUNBOOK_STATE_DIR or pass --state-dir",
            )),
        }
    }

    /// How a suggested command names the run: `ID`, or `ID --state-dir PATH` when the state
    /// directory was given on this command line (quoted for a POSIX shell when it needs it).
    pub fn run_target(&self, run_id: &str) -> String {
        if !self.from_flag {
            return run_id.to_owned();
        }
        let path = self.root.display().to_string();
        let plain = !path.is_empty()
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./,:=@+%".contains(c));
        if plain {
            format!("{run_id} --state-dir {path}")
        } else {
            format!("{run_id} --state-dir '{}'", path.replace('\'', "'\\''"))
        }
    }

    pub fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }

    pub fn journal(&self, run_id: &str) -> PathBuf {
        self.runs().join(run_id).join("journal.jsonl")
    }

    /// Process groups of commands running now (see `runbook_engine::processes`).
    pub fn processes(&self, run_id: &str) -> PathBuf {
        self.runs().join(run_id).join("processes")
    }

    /// Shell steps' `files:` (secrets, on purpose) while their step runs. They are kept apart
    /// from the runs' journals, in one folder: finding what killed runs left there is one listing
    /// at every start, not two `stat`s per past run (with 2,000 past runs, a one-request run took
    /// 12.6 ms to start instead of 5.6).
    pub fn files(&self, run_id: &str) -> PathBuf {
        self.root.join("files").join(run_id)
    }

    /// Where runs kept their `files:` before [`StateDir::files`]: beside their journal.
    pub fn files_beside_journal(&self, run_id: &str) -> PathBuf {
        self.runs().join(run_id).join("files")
    }

    /// Removes the `files:` that runs whose process is gone left behind (a SIGKILL, a crash, a
    /// power cut: no exit path of theirs ran). A run still in progress keeps its files; so does a
    /// run whose journal cannot be read, since whether its process is alive is unknown.
    pub fn remove_leftover_files(&self) {
        let all = self.root.join("files");
        // A state directory from before `files/` kept each run's files beside its journal. Those
        // are looked at until none is left (a run still in progress keeps its own until it
        // ends); then a mark says so, and past runs are never looked at one by one again.
        let cleaned = all.join(OLD_PLACE_CLEANED);
        if !cleaned.exists() && self.runs().is_dir() {
            let mut kept = false;
            for run_id in self.run_ids() {
                kept |= !self.remove_if_finished(&run_id, &self.files_beside_journal(&run_id));
            }
            if !kept && runbook_engine::journal::create_private_dir(&all).is_ok() {
                let _ = std::fs::File::create(&cleaned);
            }
        }
        let Ok(entries) = std::fs::read_dir(&all) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            if let Ok(run_id) = entry.file_name().into_string()
                && !run_id.starts_with('.')
            {
                self.remove_if_finished(&run_id, &entry.path());
            }
        }
    }

    /// Removes `files` unless `run_id` is still running (or its journal cannot be read); whether
    /// they are gone.
    fn remove_if_finished(&self, run_id: &str, files: &Path) -> bool {
        if !files.exists() {
            return true;
        }
        let scanned = runbook_engine::journal::RunSummary::scan(run_id, &self.journal(run_id));
        let Ok((summary, _)) = scanned else {
            return false;
        };
        if matches!(
            summary.state,
            runbook_engine::journal::RunState::Running { .. }
        ) {
            return false;
        }
        std::fs::remove_dir_all(files).is_ok()
    }

    pub fn locks(&self) -> PathBuf {
        self.root.join("locks")
    }

    pub fn default_audit_log(&self) -> PathBuf {
        self.root.join("audit.jsonl")
    }

    /// Every run id with a journal, oldest first (ids sort by start time).
    pub fn run_ids(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.runs()) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.path().join("journal.jsonl").is_file())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        ids.sort();
        ids
    }

    /// A run id as given, or the unique run whose id starts with it.
    pub fn find_run(&self, given: &str) -> Result<String, Failure> {
        let ids = self.run_ids();
        if ids.iter().any(|id| id == given) {
            return Ok(given.to_owned());
        }
        let matches: Vec<&String> = ids.iter().filter(|id| id.starts_with(given)).collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Failure::usage(format!(
                "no run `{given}` in {}; `runbook runs` lists them",
                self.runs().display()
            ))),
            many => Err(Failure::usage(format!(
                "`{given}` matches {} runs; give more of the id",
                many.len()
            ))),
        }
    }
}

/// A new run id: UTC start time plus a random suffix, so ids sort by time and never collide.
pub fn new_run_id() -> String {
    let now = jiff::Timestamp::now();
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut bytes = [0u8; 3];
    let entropy = getrandom::fill(&mut bytes).is_ok();
    let suffix = if entropy {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    } else {
        format!(
            "{:06x}",
            (now.subsec_nanosecond() as u32 ^ std::process::id()) & 0xff_ffff
        )
    };
    format!("{stamp}-{suffix}")
}
