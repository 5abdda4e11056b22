//! The process group of a running command: killed when the step ends for any reason, and listed so
//! an immediate exit (a second signal, a panic) can end it too.

/// Process groups of commands running now, so an immediate exit (a second Ctrl-C) can end them
/// too: `std::process::exit` runs no destructors.
static RUNNING: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Kills every command this process is running. For the moment before an immediate exit.
pub fn kill_running_commands() {
    let groups = RUNNING
        .lock()
        .map(|groups| groups.clone())
        .unwrap_or_default();
    for pid in groups {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Kills a process group when dropped (or on demand).
pub(super) struct GroupGuard(Option<u32>);

impl GroupGuard {
    pub(super) fn new(pid: Option<u32>) -> Self {
        if let (Some(pid), Ok(mut groups)) =
            (pid.and_then(|p| i32::try_from(p).ok()), RUNNING.lock())
        {
            groups.push(pid);
        }
        GroupGuard(pid)
    }

    pub(super) fn kill(&self) {
        if let Some(pid) = self.0.and_then(|pid| i32::try_from(pid).ok()) {
            // The group is usually gone already; that is fine.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
        if let (Some(pid), Ok(mut groups)) =
            (self.0.and_then(|p| i32::try_from(p).ok()), RUNNING.lock())
        {
            groups.retain(|group| *group != pid);
        }
    }
}
