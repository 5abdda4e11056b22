//! The parent-death signal for shell steps' commands, without `unsafe`.
//!
//! On Linux a child can ask to be SIGKILLed when its parent dies (`PR_SET_PDEATHSIG`), which ends a
//! step's command even when runbook itself is SIGKILLed. The request must be made in the child,
//! between `fork` and `exec`; the workspace forbids the `unsafe` a `pre_exec` hook needs. So
//! runbook starts each command through itself: `runbook __launch PARENT_PID sh -c COMMAND` sets the
//! signal, checks that its parent is still runbook (it may have died in between), and `exec`s the
//! command, which keeps the process id, process group, environment and the signal.

use std::ffi::OsString;

/// The hidden first argument that makes `runbook` a launcher.
const LAUNCH: &str = "__launch";

/// The argv prefix shell steps are started with (see [`runbook_engine::EngineOptions::launcher`]);
/// empty where there is no parent-death signal, or runbook cannot find its own binary.
pub fn launcher() -> Vec<OsString> {
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    match std::env::current_exe() {
        Ok(exe) => vec![
            exe.into_os_string(),
            LAUNCH.into(),
            std::process::id().to_string().into(),
        ],
        Err(_) => Vec::new(),
    }
}

/// When runbook was started as a launcher: becomes the command (never returns). Otherwise returns.
pub fn launch_if_asked() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(LAUNCH.as_ref()) {
        return;
    }
    let parent: Option<u32> = args
        .next()
        .and_then(|pid| pid.into_string().ok())
        .and_then(|pid| pid.parse().ok());
    let Some(program) = args.next() else {
        std::process::exit(127);
    };
    #[cfg(target_os = "linux")]
    {
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        // runbook died before the signal was set: the command must not start at all.
        if parent != Some(std::os::unix::process::parent_id()) {
            std::process::exit(137);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    let mut command = std::process::Command::new(&program);
    command.args(args);
    let error = std::os::unix::process::CommandExt::exec(&mut command);
    let mut err = std::io::stderr().lock();
    let _ = std::io::Write::write_fmt(
        &mut err,
        format_args!(
            "runbook: cannot start {}: {error}\n",
            program.to_string_lossy()
        ),
    );
    std::process::exit(127);
}
