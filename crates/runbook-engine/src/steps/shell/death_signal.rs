//! The parent-death signal: a shell step's command is SIGKILLed by the kernel when runbook dies,
//! even when runbook itself is SIGKILLed and can clean nothing up.
//!
//! On Linux a process asks for this with `prctl(PR_SET_PDEATHSIG)`, and only for itself: the
//! request must be made in the child, between `fork` and `exec`. That needs a `pre_exec` hook, the
//! one place the workspace allows `unsafe` (lint `unsafe_code = "deny"`, allowed on
//! [`die_with`] only). Until 2026-11-30 runbook started every command through a launcher
//! (`runbook-launch PID sh -c ...`) to avoid the `unsafe`; its extra `exec` cost about 1.1 ms of CPU
//! a step, as much as the `sh` it started (docs/performance.md, W3).
//!
//! Two things the hook must get right:
//! - runbook can die between the `fork` and the `prctl`: the signal would then never come. The
//!   child compares its parent with runbook's pid taken before the `fork` and refuses to start the
//!   command when they differ (it was reparented to init or a subreaper).
//! - The signal fires when the *thread* that forked exits, not the process. The caller must spawn
//!   from a thread that lives as long as the command may run (see
//!   [`crate::runner::EngineOptions::commands_die_with_runbook`]).

#[cfg(target_os = "linux")]
use nix::{errno::Errno, sys::signal::Signal, unistd::Pid};

/// Makes `command`, once spawned, die by SIGKILL when this process dies; it does not start at all
/// when this process is already gone by the time the child runs. A no-op where the kernel has no
/// parent-death signal.
pub(super) fn die_with_this_process(command: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    die_with(command, Pid::this());
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// [`die_with_this_process`], with the parent the child must find (a test passes another one).
/// The one `unsafe` in the workspace.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with(command: &mut std::process::Command, parent: Pid) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: `pre_exec` runs the closure in the child after `fork` and before `exec`, where only
    // async-signal-safe work is allowed (another thread of runbook may have held the allocator's
    // or any other lock at the moment of the fork; that lock stays held forever in the child).
    // The closure:
    // - captures only `parent`, a `Copy` integer taken in the parent before the fork;
    // - calls `nix::sys::prctl::set_pdeathsig`, which is `libc::prctl(PR_SET_PDEATHSIG, SIGKILL,
    //   0, 0, 0)` and, on failure, reads `errno` (nix 0.31.4, src/sys/prctl.rs:119-128): a system
    //   call and a thread-local read, no allocation, no lock;
    // - calls `nix::unistd::getppid`, which is `libc::getppid()` (src/unistd.rs:304-306): a
    //   system call;
    // - returns `std::io::Error::from_raw_os_error`, an integer packed into the error (no
    //   allocation). On an error std sends the errno to the parent over its pipe and ends the
    //   child with `_exit` (no atexit handlers, no stdio flush), so the command never starts and
    //   `spawn` returns the error (the first test below checks that it does).
    // Nothing else touches memory the fork may have left inconsistent.
    unsafe {
        command.pre_exec(move || {
            if let Err(errno) = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL) {
                return Err(std::io::Error::from_raw_os_error(errno as i32));
            }
            // runbook died before the signal was set: the signal will never come, and the command
            // would run unwatched. ESRCH: "no such process", the parent.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(Errno::ESRCH as i32));
            }
            Ok(())
        });
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Polls `child` until it exits, for at most `deadline`.
    fn wait_exit(
        child: &mut std::process::Child,
        deadline: Duration,
    ) -> std::io::Result<Option<std::process::ExitStatus>> {
        let start = Instant::now();
        while start.elapsed() < deadline {
            if let Some(status) = child.try_wait()? {
                return Ok(Some(status));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(None)
    }

    #[test]
    fn a_child_whose_parent_is_not_the_one_expected_never_runs_its_command() -> TestResult {
        let dir = tempfile::tempdir()?;
        let marker = dir.path().join("ran");
        let mut command = std::process::Command::new("sh");
        command
            .arg("-c")
            .arg(format!("touch '{}'", marker.display()));
        // Stands for "runbook died between fork and prctl": the child's parent is not the pid
        // captured before the fork. No process has pid i32::MAX (pid_max is at most 2^22).
        die_with(&mut command, Pid::from_raw(i32::MAX));
        match command.spawn() {
            Ok(mut child) => {
                let status = child.wait()?;
                panic!("the command started ({status}) though its parent was not the one expected");
            }
            Err(error) => assert_eq!(error.raw_os_error(), Some(Errno::ESRCH as i32), "{error}"),
        }
        assert!(!marker.exists(), "the command ran");
        Ok(())
    }

    #[test]
    fn the_command_runs_when_its_parent_is_alive() -> TestResult {
        let mut command = std::process::Command::new("sh");
        command.arg("-c").arg("exit 7");
        die_with_this_process(&mut command);
        let status = command.spawn()?.wait()?;
        assert_eq!(status.code(), Some(7));
        Ok(())
    }

    /// The kernel sends the signal when the thread that forked exits (not only the process): why
    /// commands must be spawned from a thread that lives as long as the run.
    #[test]
    fn the_command_is_killed_when_the_thread_that_spawned_it_exits() -> TestResult {
        use std::os::unix::process::ExitStatusExt as _;
        let spawner = std::thread::spawn(|| {
            let mut command = std::process::Command::new("sleep");
            command.arg("1000");
            die_with_this_process(&mut command);
            command.spawn()
        });
        let Ok(spawned) = spawner.join() else {
            panic!("the spawning thread panicked");
        };
        let mut child = spawned?;
        let status = wait_exit(&mut child, Duration::from_secs(10));
        let Ok(Some(status)) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`sleep 1000` outlived the thread that spawned it ({status:?})");
        };
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32), "{status:?}");
        Ok(())
    }
}
