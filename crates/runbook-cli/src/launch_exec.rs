//! What a launcher does once started, shared by `runbook __launch` and the small `runbook-launch`
//! binary (`src/bin/runbook-launch.rs`): set the parent-death signal, check that the parent is
//! still the runbook that asked, and `exec` the command. Only std and nix: the small binary must
//! stay small, since its start-up is paid once per shell step.

use std::ffi::OsString;

/// Becomes the command given as `PARENT_PID PROGRAM ARGS...` (never returns).
pub fn become_command(mut args: impl Iterator<Item = OsString>) -> ! {
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
