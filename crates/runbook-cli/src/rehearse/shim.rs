//! `runbook __shim NAME ARGS...`: a simulated program, as a shell step's command sees it. Reads
//! stdin, asks the rehearsing process (over the socket named in the environment) what `NAME`
//! answers, and prints that answer with its exit code. Runs only inside a rehearsal.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

use super::commands::{MAX_INPUT, SOCKET_VAR, ShimRequest, ShimResponse};

/// The hidden first argument that makes `runbook` a stand-in.
const SHIM: &str = "__shim";

/// When started as a stand-in: answers and exits (never returns). Otherwise returns.
pub fn run_if_asked() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(SHIM.as_ref()) {
        return;
    }
    let name = args
        .next()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args: Vec<String> = args.map(|arg| arg.to_string_lossy().into_owned()).collect();
    let code = match ask(name.clone(), args) {
        Ok(response) => {
            let _ = std::io::stdout().write_all(response.stdout.as_bytes());
            let _ = std::io::stderr().write_all(response.stderr.as_bytes());
            response.exit
        }
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "{name}: runbook rehearsal stand-in: {error}"
            );
            70
        }
    };
    std::process::exit(code);
}

fn ask(name: String, args: Vec<String>) -> std::io::Result<ShimResponse> {
    let socket = std::env::var_os(SOCKET_VAR)
        .ok_or_else(|| std::io::Error::other("not inside a rehearsal (no socket to ask)"))?;
    let mut bytes = Vec::new();
    std::io::stdin().take(MAX_INPUT).read_to_end(&mut bytes)?;
    let stdin = String::from_utf8_lossy(&bytes).into_owned();
    let env = std::env::vars()
        .filter(|(key, _)| key != SOCKET_VAR)
        .map(|(key, value)| (key, serde_json::Value::String(value)))
        .collect();
    let cwd = std::env::current_dir()
        .map(|dir| dir.to_string_lossy().into_owned())
        .unwrap_or_default();
    let request = ShimRequest {
        name,
        args,
        stdin,
        env,
        cwd,
    };
    let stream = UnixStream::connect(socket)?;
    let mut line = serde_json::to_string(&request).map_err(std::io::Error::other)?;
    line.push('\n');
    (&stream).write_all(line.as_bytes())?;
    let mut reader = BufReader::new(&stream).take(8 * MAX_INPUT);
    let mut answer = String::new();
    reader.read_line(&mut answer)?;
    serde_json::from_str(&answer).map_err(std::io::Error::other)
}
