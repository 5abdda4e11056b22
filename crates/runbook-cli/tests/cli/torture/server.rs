//! A recording HTTP server: every POST's path and sha256 of its `v`, in order; paths can be held.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::runbook::sha256_hex;

#[derive(Default)]
struct ServerState {
    /// (path without the leading `/`, sha256 of `v`).
    requests: Vec<(String, String)>,
    held: HashSet<String>,
}

#[derive(Default)]
pub(super) struct Recorder {
    state: Mutex<ServerState>,
    changed: Condvar,
}

impl Recorder {
    /// Starts a server on 127.0.0.1 (its thread lives as long as the test binary).
    pub(super) fn start() -> (Arc<Recorder>, String) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|error| panic!("cannot bind the recording server: {error}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("server address: {error}"));
        let recorder = Arc::new(Recorder::default());
        let shared = recorder.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorder = shared.clone();
                std::thread::spawn(move || recorder.serve(stream));
            }
        });
        (recorder, format!("http://{address}"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn serve(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let Some((path, body)) = read_request(&mut stream) else {
            return;
        };
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let hash = match value["v"].as_str() {
            Some(v) => sha256_hex(v),
            None => format!("no string `v` in a body of {} bytes", body.len()),
        };
        let mut state = self.lock();
        state.requests.push((path.clone(), hash));
        self.changed.notify_all();
        let deadline = Instant::now() + Duration::from_secs(60);
        while state.held.contains(&path) && Instant::now() < deadline {
            state = self
                .changed
                .wait_timeout(state, Duration::from_millis(200))
                .unwrap_or_else(|poison| poison.into_inner())
                .0;
        }
        drop(state);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        );
    }

    pub(super) fn hold(&self, path: &str) {
        self.lock().held.insert(path.to_owned());
    }

    pub(super) fn release(&self, path: &str) {
        self.lock().held.remove(path);
        self.changed.notify_all();
    }

    pub(super) fn requests(&self) -> Vec<(String, String)> {
        self.lock().requests.clone()
    }

    pub(super) fn count(&self) -> usize {
        self.lock().requests.len()
    }
}

/// Reads one HTTP/1.1 request: its path (without the leading `/`) and body.
fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let path = head
        .split_whitespace()
        .nth(1)?
        .trim_start_matches('/')
        .to_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&buffer[..n]);
    }
    Some((path, bytes[head_end..head_end + length].to_vec()))
}
