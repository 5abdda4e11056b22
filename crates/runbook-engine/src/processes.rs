//! Commands that may outlive a killed run.
//!
//! Each shell step runs in its own process group, which runbook kills when the step ends, times
//! out or is interrupted. A SIGKILLed runbook gets no chance to: the command keeps running. So
//! while a command runs, its process group is noted in the run's directory (`processes/STEP.pgid`),
//! and `runbook resume` checks the note of a step in doubt before deciding about it.

use std::path::{Path, PathBuf};

/// The note file of a step.
pub fn note_path(dir: &Path, step_id: &str) -> PathBuf {
    dir.join(format!("{step_id}.pgid"))
}

/// A note that is removed when dropped (the step ended normally).
pub struct Note(PathBuf);

impl Note {
    pub fn write(path: &Path, pgid: u32) -> Note {
        if let Some(parent) = path.parent() {
            let _ = crate::journal::create_private_dir(parent);
        }
        // Best effort: a missing note only loses the check, never the step.
        let _ = std::fs::write(path, format!("{pgid}\n"));
        Note(path.to_owned())
    }
}

impl Drop for Note {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The process group noted for a step, if any of its processes is still alive.
pub fn still_running(dir: &Path, step_id: &str) -> Option<i32> {
    let path = note_path(dir, step_id);
    let pgid: i32 = std::fs::read_to_string(&path).ok()?.trim().parse().ok()?;
    if group_alive(pgid) {
        Some(pgid)
    } else {
        let _ = std::fs::remove_file(&path);
        None
    }
}

/// A step of the run whose command is still running, and its process group: the first such note
/// in `dir` (the run's processes directory), by step id. Notes of ended commands are removed.
pub fn any_running(dir: &Path) -> Option<(String, i32)> {
    let mut steps: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".pgid").map(str::to_owned)
        })
        .collect();
    steps.sort();
    steps
        .into_iter()
        .find_map(|step| still_running(dir, &step).map(|pgid| (step, pgid)))
}

/// Whether a process of the group is alive. Zombies (dead, not yet reaped, as under a container's
/// init) do not count; without /proc, the kernel's answer to signal 0 decides.
fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_ok();
    };
    entries.filter_map(Result::ok).any(|entry| {
        let Some(fields) = stat_fields(&entry.path()) else {
            return false;
        };
        fields.first().is_some_and(|state| state != "Z")
            && fields.get(2).and_then(|pgrp| pgrp.parse::<i32>().ok()) == Some(pgid)
    })
}

/// The fields of `/proc/PID/stat` after the command name (which is in parentheses and may hold
/// spaces): state (field 3), ppid, pgrp, ... starttime (field 22) is at index 19. None without
/// /proc or for a process that is gone.
pub(crate) fn stat_fields(proc_dir: &Path) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}
