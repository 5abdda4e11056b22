//! The parent-death signal for shell steps' commands, without `unsafe`.
//!
//! On Linux a child can ask to be SIGKILLed when its parent dies (`PR_SET_PDEATHSIG`), which ends a
//! step's command even when runbook itself is SIGKILLed. The request must be made in the child,
//! between `fork` and `exec`; the workspace forbids the `unsafe` a `pre_exec` hook needs. So
//! runbook starts each command through itself: `runbook __launch PARENT_PID sh -c COMMAND` sets the
//! signal, checks that its parent is still runbook (it may have died in between), and `exec`s the
//! command, which keeps the process id, process group, environment and the signal. When the small
//! `runbook-launch` binary is installed next to `runbook`, it does the same for a fraction of the
//! start-up cost (see `src/bin/runbook-launch.rs`).

use std::ffi::OsString;

/// The hidden first argument that makes `runbook` a launcher.
const LAUNCH: &str = "__launch";

/// The small launcher binary, installed next to `runbook`.
const LAUNCHER_BINARY: &str = "runbook-launch";

/// The argv prefix shell steps are started with (see [`runbook_engine::EngineOptions::launcher`]):
/// the small `runbook-launch` next to this binary when it is there, else this binary itself
/// (`runbook __launch`); empty where there is no parent-death signal, or runbook cannot find its
/// own binary.
pub fn launcher() -> Vec<OsString> {
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    let Ok(exe) = std::env::current_exe() else {
        return Vec::new();
    };
    let parent = std::process::id().to_string().into();
    let small = exe.with_file_name(LAUNCHER_BINARY);
    if is_executable(&small) {
        return vec![small.into_os_string(), parent];
    }
    vec![exe.into_os_string(), LAUNCH.into(), parent]
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// When runbook was started as a launcher: becomes the command (never returns). Otherwise returns.
pub fn launch_if_asked() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(LAUNCH.as_ref()) {
        return;
    }
    crate::launch_exec::become_command(args);
}
