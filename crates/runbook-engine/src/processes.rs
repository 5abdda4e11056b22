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
        let text = format!("{pgid}\n");
        // The directory is made by the run's first note, not checked for by every step's (a
        // `mkdir` and a `stat` a step, measurable on W3: docs/performance.md).
        let written = match std::fs::write(path, &text) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => path
                .parent()
                .map_or(Err(error), crate::journal::create_private_dir)
                .and_then(|()| std::fs::write(path, &text)),
            other => other,
        };
        // Best effort: a missing note only loses the check, never the step.
        drop(written);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_note_makes_its_directory_and_each_note_is_removed_when_dropped() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = root.path().join("run").join("processes");
        let first = Note::write(&note_path(&dir, "a"), 41);
        let second = Note::write(&note_path(&dir, "b"), 42);
        let mode = std::fs::metadata(&dir).map(|meta| meta.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o700), "the directory is the owner's only");
        let read = |step: &str| std::fs::read_to_string(note_path(&dir, step)).ok();
        assert_eq!(read("a").as_deref(), Some("41\n"));
        assert_eq!(read("b").as_deref(), Some("42\n"));
        drop(first);
        assert_eq!(read("a"), None);
        drop(second);
        assert_eq!(read("b"), None);
    }
}
