//! Simulated commands. Shell steps run under a real `sh` whose `PATH` holds only stand-ins: small
//! scripts that `exec` this binary as `runbook __shim NAME ARGS...` ([`super::shim`]). The shim
//! sends its argv, stdin, environment and working directory over a Unix socket in the rehearsal's
//! private directory (no network, not even loopback) to the [`ShimServer`] thread here, which
//! answers from the rehearsal's `commands:` and applies their effects to the world in process.
//!
//! Why a socket file rather than an inherited socketpair: the commands of one pipeline
//! (`heroku ... | infisical ...`) run at once, and each needs a conversation of its own; an
//! inherited descriptor would be shared by all of them.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use runbook_dsl::rehearsal::{CommandRoute, FaultKind, Rehearsal};

use super::world::{Answer, SharedWorld, lock, read_as};

/// The largest stdin or file a stand-in reads.
pub const MAX_INPUT: u64 = 1024 * 1024;

/// The environment variable that tells a shim where to call.
pub const SOCKET_VAR: &str = "RUNBOOK_REHEARSAL_SOCKET";

/// What a shim sends.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShimRequest {
    pub name: String,
    pub args: Vec<String>,
    pub stdin: String,
    pub env: Map<String, Value>,
    pub cwd: String,
}

/// What it gets back.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShimResponse {
    pub stdout: String,
    pub stderr: String,
    pub exit: i32,
}

/// The stand-ins' directory and the thread answering them.
pub struct ShimServer {
    pub bin: PathBuf,
    pub socket: PathBuf,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

impl ShimServer {
    /// Writes a stand-in for each simulated command into `dir/bin` and starts answering.
    pub fn start(
        dir: &Path,
        rehearsal: Arc<Rehearsal>,
        world: SharedWorld,
    ) -> std::io::Result<ShimServer> {
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin)?;
        let exe = std::env::current_exe()?;
        for command in &rehearsal.commands {
            write_shim(&bin.join(&command.name), &exe, &command.name)?;
        }
        let socket = dir.join("shim.sock");
        let listener = UnixListener::bind(&socket)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let worker = std::thread::Builder::new()
            .name("runbook-rehearsal-shims".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &rehearsal, &world);
                    }
                }
            })?;
        Ok(ShimServer {
            bin,
            socket,
            stop,
            worker: Some(worker),
        })
    }
}

impl Drop for ShimServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.socket);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn write_shim(path: &Path, exe: &Path, name: &str) -> std::io::Result<()> {
    let quote = |text: &str| format!("'{}'", text.replace('\'', "'\\''"));
    let script = format!(
        "#!/bin/sh\n# A rehearsal stand-in: runbook answers for `{name}`.\nexec {} __shim {} \"$@\"\n",
        quote(&exe.to_string_lossy()),
        quote(name)
    );
    std::fs::write(path, script)?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o700))
}

fn serve(stream: UnixStream, rehearsal: &Rehearsal, world: &SharedWorld) {
    let mut reader = BufReader::new(&stream).take(4 * MAX_INPUT);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let response = match serde_json::from_str::<ShimRequest>(&line) {
        Ok(request) => answer(&request, rehearsal, world),
        Err(error) => ShimResponse {
            stdout: String::new(),
            stderr: format!("runbook rehearsal: a malformed stand-in request: {error}\n"),
            exit: 70,
        },
    };
    let mut writer = &stream;
    if let Ok(mut text) = serde_json::to_string(&response) {
        text.push('\n');
        let _ = writer.write_all(text.as_bytes());
    }
}

/// Answers one command run.
pub fn answer(request: &ShimRequest, rehearsal: &Rehearsal, world: &SharedWorld) -> ShimResponse {
    let mut world = lock(world);
    let fail = |exit: i32, message: String| ShimResponse {
        stdout: String::new(),
        stderr: format!("{message}\n"),
        exit,
    };
    if world.killed {
        return fail(137, "runbook rehearsal: the process was killed".into());
    }
    let Some(command) = rehearsal.command(&request.name) else {
        return fail(127, format!("{}: not found (not simulated)", request.name));
    };
    let (step, call, fault) = world.next_call();
    let step = step.unwrap_or_default();
    if let Some(fault) = &fault {
        match &fault.kind {
            FaultKind::Command {
                exit,
                stdout,
                stderr,
            } => {
                return ShimResponse {
                    stdout: stdout.clone().unwrap_or_default(),
                    stderr: stderr.clone().unwrap_or_default(),
                    exit: exit.unwrap_or(1),
                };
            }
            FaultKind::NeverConverges if call > 1 => {
                if let Some(Answer::Command {
                    stdout,
                    stderr,
                    exit,
                }) = world.first_answers.get(&step).cloned()
                {
                    return ShimResponse {
                        stdout,
                        stderr,
                        exit,
                    };
                }
            }
            FaultKind::NeverConverges | FaultKind::Http { .. } | FaultKind::Timeout => {}
        }
    }
    let mut found = None;
    for route in &command.routes {
        let captured = match &route.args {
            Some(pattern) => match pattern.matches(&request.args) {
                Some(captured) => captured,
                None => continue,
            },
            None => Map::new(),
        };
        let document = document(request, route, captured);
        if world.scope(&document).holds(&route.when).unwrap_or(false) {
            found = Some((route, document));
            break;
        }
    }
    let Some((route, document)) = found else {
        let message = format!(
            "no stand-in of `{}` matches `{} {}`",
            request.name,
            request.name,
            request.args.join(" ")
        );
        world.problems.push(format!("step `{step}`: {message}"));
        return fail(2, format!("runbook rehearsal: {message}"));
    };
    let scope = world.scope(&document);
    let text = |value: &Option<runbook_dsl::rehearsal::expr::Expr>| -> Result<String, String> {
        Ok(match value {
            Some(expr) => match scope.eval(expr)? {
                Value::String(text) => text,
                other @ (Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::Array(_)
                | Value::Object(_)) => format!("{other}\n"),
            },
            None => String::new(),
        })
    };
    let response = match (text(&route.stdout), text(&route.stderr)) {
        (Ok(stdout), Ok(stderr)) => ShimResponse {
            stdout,
            stderr,
            exit: route.exit,
        },
        (Err(problem), _) | (_, Err(problem)) => {
            world.problems.push(format!("step `{step}`: {problem}"));
            return fail(70, format!("runbook rehearsal: {problem}"));
        }
    };
    if let Err(problem) = world.apply(&route.set, &document) {
        world.problems.push(format!("step `{step}`: {problem}"));
    }
    world
        .first_answers
        .entry(step.clone())
        .or_insert(Answer::Command {
            stdout: response.stdout.clone(),
            stderr: response.stderr.clone(),
            exit: response.exit,
        });
    world.log.push(serde_json::json!({
        "step": step,
        "command": format!("{} {}", request.name, request.args.join(" ")),
        "exit": response.exit,
    }));
    response
}

/// What a command route reads as `request`.
fn document(request: &ShimRequest, route: &CommandRoute, captured: Map<String, Value>) -> Value {
    let mut files = Map::new();
    for (name, format) in &route.files {
        if let Some(Value::String(path)) = captured.get(name) {
            let path = Path::new(&request.cwd).join(path);
            let content = std::fs::File::open(&path).and_then(|file| {
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut std::io::Read::take(file, MAX_INPUT),
                    &mut text,
                )?;
                Ok(text)
            });
            if let Ok(content) = content {
                files.insert(name.clone(), read_as(*format, &content));
            }
        }
    }
    serde_json::json!({
        "args": captured,
        "argv": request.args,
        "stdin": read_as(route.stdin, &request.stdin),
        "env": request.env,
        "files": files,
    })
}
