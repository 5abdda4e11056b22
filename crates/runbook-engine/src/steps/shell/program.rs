//! Which `sh` a shell step starts. Named by bare `sh`, the child itself searches `PATH` after the
//! `fork` (`execvp`): one failed `execve` for every `PATH` entry before the one holding `sh`, in
//! every step (8 a step with this project's `PATH`). Instead the shell is looked up once per run,
//! in the same `PATH` with the same rules, and started by its full path under `argv[0]` `sh`, so the
//! command sees exactly what it saw before.
//!
//! The lookup is only used when the child's `PATH` is runbook's own: a step that sets `PATH` (in
//! `env:` or `files:`) and a rehearsal (absolute shell) keep their own. A `PATH` the lookup cannot
//! answer for exactly (unset, a relative entry before the hit, an unusual error) leaves the search
//! to `execvp` as before.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The shell's name: what `PATH` is searched for, and the command's `argv[0]`.
pub(super) const SHELL: &str = "sh";

/// What `execvp` skips a `PATH` entry for: no such file, not a directory, permission denied, and
/// the unreachable (a stale NFS handle, no such device, a timeout).
const SKIPPED: [i32; 6] = {
    use nix::errno::Errno;
    [
        Errno::ENOENT as i32,
        Errno::ENOTDIR as i32,
        Errno::EACCES as i32,
        Errno::ESTALE as i32,
        Errno::ENODEV as i32,
        Errno::ETIMEDOUT as i32,
    ]
};

/// `sh` in runbook's own `PATH`, looked up by the first shell step of a run that needs it.
#[derive(Debug, Default)]
pub struct ShellLookup(OnceLock<Option<PathBuf>>);

impl ShellLookup {
    pub const fn new() -> Self {
        ShellLookup(OnceLock::new())
    }

    /// What to start for a command whose environment inherits runbook's `PATH`: the shell's full
    /// path when the lookup can stand in for `execvp`'s, else `sh` for `execvp` to find.
    pub(super) fn program(&self) -> OsString {
        let found = self
            .0
            .get_or_init(|| std::env::var_os("PATH").and_then(|path| find_in(&path, SHELL)));
        match found {
            Some(path) => path.clone().into_os_string(),
            None => OsString::from(SHELL),
        }
    }
}

/// `name` in the directories of `path`, found as glibc's `execvp` finds it: the first entry where
/// `execve` would not fail with "no such file", "not a directory" or "permission denied" (which
/// `execvp` skips), i.e. a regular file this process may execute. `None` when the answer depends on
/// the child (a relative entry: its working directory) or on an error `execvp` would stop at.
fn find_in(path: &OsStr, name: &str) -> Option<PathBuf> {
    for dir in std::env::split_paths(path) {
        // An empty or relative entry is resolved against the child's working directory (`workdir`).
        if !dir.is_absolute() {
            return None;
        }
        let candidate = dir.join(name);
        match std::fs::metadata(&candidate) {
            Ok(meta) if meta.is_file() && executable(&candidate) => return Some(candidate),
            // A directory or a file without execute permission: `execve` says EACCES, skipped.
            Ok(_) => {}
            // The errors glibc's `execvp` goes on to the next entry after (posix/execvpe.c).
            Err(error)
                if error
                    .raw_os_error()
                    .is_some_and(|errno| SKIPPED.contains(&errno)) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Whether this process may execute `path`, by its effective ids as `execve` decides.
fn executable(path: &Path) -> bool {
    nix::unistd::eaccess(path, nix::unistd::AccessFlags::X_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn file(path: &Path, mode: u32) {
        std::fs::write(path, "#!/bin/sh\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn finds_the_first_executable_file_skipping_what_execvp_skips() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dirs: Vec<PathBuf> = ["missing", "a_dir", "not_exec", "is_file", "good", "later"]
            .iter()
            .map(|name| root.path().join(name))
            .collect();
        // `missing` does not exist; in `a_dir`, `sh` is a directory; in `not_exec`, a file without
        // execute permission; `is_file` is a file, not a directory.
        std::fs::create_dir_all(dirs[1].join("sh")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir(&dirs[2]).unwrap_or_else(|e| panic!("{e}"));
        file(&dirs[2].join("sh"), 0o644);
        std::fs::write(&dirs[3], "").unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir(&dirs[4]).unwrap_or_else(|e| panic!("{e}"));
        file(&dirs[4].join("sh"), 0o755);
        std::fs::create_dir(&dirs[5]).unwrap_or_else(|e| panic!("{e}"));
        file(&dirs[5].join("sh"), 0o755);
        let path = std::env::join_paths(&dirs).unwrap_or_else(|e| panic!("{e}"));
        // Root may read any file but executes only one with an execute bit: `not_exec` is skipped
        // for every user.
        assert_eq!(find_in(&path, "sh"), Some(dirs[4].join("sh")));
    }

    #[test]
    fn leaves_a_relative_entry_before_the_hit_to_execvp() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        file(&root.path().join("sh"), 0o755);
        let dir = root.path().display();
        for path in [format!("bin:{dir}"), format!(":{dir}"), format!(".:{dir}")] {
            assert_eq!(find_in(OsStr::new(&path), "sh"), None, "{path}");
        }
        // After the hit, a relative entry changes nothing.
        let path = format!("{dir}:bin");
        assert_eq!(
            find_in(OsStr::new(&path), "sh"),
            Some(root.path().join("sh"))
        );
    }

    #[test]
    fn nothing_found_is_left_to_execvp() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(find_in(root.path().as_os_str(), "sh"), None);
    }

    #[test]
    fn the_shell_of_this_process_path_is_the_one_execvp_runs() {
        let Some(path) = std::env::var_os("PATH") else {
            return;
        };
        // A relative entry is left to `execvp` (tested above).
        if !std::env::split_paths(&path).all(|dir| dir.is_absolute()) {
            return;
        }
        let program = ShellLookup::new().program();
        // What `command -v sh` (POSIX `sh`'s own lookup) names.
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg("command -v sh")
            .env("PATH", &path)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let named = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert_eq!(program, OsString::from(named));
    }
}
