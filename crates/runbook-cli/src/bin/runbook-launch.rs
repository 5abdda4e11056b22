//! `runbook-launch PARENT_PID PROGRAM ARGS...`: what `runbook __launch` does (see `src/launch.rs`),
//! in a binary a twentieth the size. Every shell step starts through a launcher, and starting the
//! 17 MB `runbook` binary (about 24,000 relocations, 150 more page faults) cost about 0.5 ms of CPU
//! a step; this one costs a fraction of that. runbook uses it when it sits next to `runbook`, and
//! falls back to `runbook __launch` otherwise.

#[path = "../launch_exec.rs"]
mod launch_exec;

fn main() {
    launch_exec::become_command(std::env::args_os().skip(1));
}
