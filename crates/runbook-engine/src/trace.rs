//! Traces of what a run sends and starts, for `runbook -v` and `RUST_LOG`: each HTTP request
//! (method, URL, headers, status, timing, body size), each command (argv, the names of the
//! variables it gets, exit status, timing), each retry and poll attempt, each journal sync.
//!
//! Every text that goes into an event is a [`Redacted`], and the only way to make one is through
//! the run's [`Redactor`]: a secret cannot reach a trace by forgetting to redact it. On top of
//! that, a header whose name says it carries a credential is masked whatever its value, since a
//! credential that did not come from a secret input (a literal in the runbook, an environment
//! variable read as a plain input) is unknown to the redactor. Nothing here runs, and nothing is
//! redacted, unless a subscriber listens at the event's level.
//!
//! Targets are `runbook::http`, `runbook::command`, `runbook::retry`, `runbook::poll` and
//! `runbook::journal`, so `RUST_LOG=runbook::http=debug` picks one.

use std::fmt;
use std::time::{Duration, Instant};

use crate::redact::{MASK, Redactor};
use crate::transport::{HttpRequest, HttpResponse, TransportError};

/// Text that went through a redactor. Private to this module, as is [`redacted`], the only way
/// to make one: callers hand over raw text and the redactor, never a finished field.
struct Redacted(String);

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` with every secret the redactors know masked.
fn redacted(redactors: &[&Redactor], text: &str) -> Redacted {
    let mut text = text.to_owned();
    for redactor in redactors {
        text = redactor.redact(&text);
    }
    Redacted(text)
}

/// Header names whose values are credentials by convention, masked even when the redactor does
/// not know the value. Matched case-insensitively, as parts of the name.
const CREDENTIAL_HEADER_PARTS: &[&str] = &[
    "authorization",
    "cookie",
    "secret",
    "token",
    "password",
    "api-key",
    "apikey",
    "x-api",
    "signature",
];

fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_HEADER_PARTS
        .iter()
        .any(|part| name.contains(part))
}

/// One HTTP request being traced: started by [`HttpCall::start`] (nothing when no subscriber
/// listens), ended by [`HttpCall::finish`].
pub struct HttpCall {
    method: &'static str,
    url: Redacted,
    started: Instant,
}

impl HttpCall {
    /// Traces the request about to be sent (`runbook::http`, debug: with its headers and body
    /// size). `None` when no one listens to `runbook::http` at info.
    pub fn start(request: &HttpRequest, redactors: &[&Redactor]) -> Option<HttpCall> {
        if !tracing::enabled!(target: "runbook::http", tracing::Level::INFO) {
            return None;
        }
        let url = redacted(redactors, &url_for_trace(&request.url));
        let method = request.method.as_str();
        if tracing::enabled!(target: "runbook::http", tracing::Level::DEBUG) {
            let headers = request
                .headers
                .iter()
                .map(|(name, value)| {
                    if is_credential_header(name) {
                        format!("{name}: {MASK}")
                    } else {
                        format!("{name}: {value}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let headers = redacted(redactors, &format!("{{{headers}}}"));
            let body_bytes = request.body.as_ref().map_or(0, Vec::len);
            tracing::debug!(
                target: "runbook::http",
                %method,
                %url,
                %headers,
                body_bytes,
                timeout_ms = millis(request.timeout),
                "sending"
            );
        }
        Some(HttpCall {
            method,
            url,
            started: Instant::now(),
        })
    }

    /// Traces what came back (`runbook::http`, info): status, timing and body size, or why
    /// nothing did.
    pub fn finish(self, result: &Result<HttpResponse, TransportError>, redactors: &[&Redactor]) {
        let HttpCall {
            method,
            url,
            started,
        } = self;
        let elapsed_ms = millis(started.elapsed());
        match result {
            Ok(response) => tracing::info!(
                target: "runbook::http",
                %method,
                %url,
                status = response.status,
                elapsed_ms,
                body_bytes = response.body.len(),
                "response"
            ),
            Err(error) => {
                let error = redacted(redactors, &error.to_string());
                tracing::info!(
                    target: "runbook::http",
                    %method,
                    %url,
                    %error,
                    elapsed_ms,
                    "no response"
                );
            }
        }
    }
}

/// The URL without user name, password and fragment (the query is kept: it is what was sent, and
/// the redactor masks secrets in it in their URL encodings).
fn url_for_trace(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// One command being traced.
pub struct CommandCall {
    argv: Redacted,
    started: Instant,
}

impl CommandCall {
    /// Traces a command about to start (`runbook::command`, info; debug adds the names of the
    /// variables set for it, never their values), as `argv0` and its arguments. `None` when no one
    /// listens.
    pub fn start(
        argv0: &std::ffi::OsStr,
        command: &std::process::Command,
        redactors: &[&Redactor],
    ) -> Option<CommandCall> {
        if !tracing::enabled!(target: "runbook::command", tracing::Level::INFO) {
            return None;
        }
        let argv = std::iter::once(argv0)
            .chain(command.get_args())
            .map(|arg| shell_word(&arg.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ");
        let argv = redacted(redactors, &argv);
        if tracing::enabled!(target: "runbook::command", tracing::Level::DEBUG) {
            let env_names = command
                .get_envs()
                .map(|(name, _)| name.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", ");
            let env_names = redacted(redactors, &env_names);
            tracing::debug!(target: "runbook::command", %argv, %env_names, "starting");
        }
        Some(CommandCall {
            argv,
            started: Instant::now(),
        })
    }

    /// Traces how the command ended (`runbook::command`, info): its exit status, or that it was
    /// killed at its timeout.
    pub fn finish(self, status: Option<&std::process::ExitStatus>) {
        let CommandCall { argv, started } = self;
        let elapsed_ms = millis(started.elapsed());
        match status {
            Some(status) => match status.code() {
                Some(exit_code) => tracing::info!(
                    target: "runbook::command",
                    %argv,
                    exit_code,
                    elapsed_ms,
                    "finished"
                ),
                None => {
                    let signal = std::os::unix::process::ExitStatusExt::signal(status);
                    tracing::info!(
                        target: "runbook::command",
                        %argv,
                        signal,
                        elapsed_ms,
                        "killed by a signal"
                    );
                }
            },
            None => tracing::info!(
                target: "runbook::command",
                %argv,
                elapsed_ms,
                "killed at its timeout"
            ),
        }
    }
}

/// An argument as a shell would need it quoted, so the traced argv reads unambiguously.
fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The span an attempt of a step runs in: its events read `step{id=...}: ...`. A step id is
/// written in the runbook, never a secret.
pub fn step_span(id: &str) -> tracing::Span {
    tracing::info_span!(target: "runbook::step", "step", id)
}

/// A failed attempt that will be retried (`runbook::retry`, debug).
pub fn retry(step: &str, attempt: u32, of: u32, error: &str, wait: Duration, redactor: &Redactor) {
    if !tracing::enabled!(target: "runbook::retry", tracing::Level::DEBUG) {
        return;
    }
    let step = redacted(&[redactor], step);
    let error = redacted(&[redactor], error);
    tracing::debug!(
        target: "runbook::retry",
        %step,
        attempt,
        of,
        %error,
        wait_ms = millis(wait),
        "attempt failed; retrying"
    );
}

/// A poll whose condition did not hold yet (`runbook::poll`, debug).
pub fn poll(step: &str, attempt: u32, elapsed: Duration, observed: &str, redactor: &Redactor) {
    if !tracing::enabled!(target: "runbook::poll", tracing::Level::DEBUG) {
        return;
    }
    let step = redacted(&[redactor], step);
    let observed = redacted(&[redactor], observed);
    tracing::debug!(
        target: "runbook::poll",
        %step,
        attempt,
        elapsed_ms = millis(elapsed),
        %observed,
        "condition does not hold yet"
    );
}

/// A journal record written and synced to disk before the run went on (`runbook::journal`,
/// debug). Only numbers: the record itself is already redacted, and not repeated here.
pub fn journal_sync(seq: u64, bytes: usize, took: Duration) {
    tracing::debug!(
        target: "runbook::journal",
        seq,
        bytes,
        sync_ms = millis(took),
        "synced"
    );
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_recognised_by_name() {
        for name in [
            "Authorization",
            "APCA-API-SECRET-KEY",
            "X-Api-Key",
            "Cookie",
            "x-auth-token",
        ] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["content-type", "accept", "user-agent"] {
            assert!(!is_credential_header(name), "{name}");
        }
    }

    #[test]
    fn redacted_text_masks_every_redactor_s_secrets() {
        let mut run = Redactor::default();
        run.add("hunter2-very-secret");
        let mut step = Redactor::default();
        step.add("captured-token-42");
        let text = redacted(
            &[&run, &step],
            "a=hunter2-very-secret b=captured-token-42 c=plain",
        );
        assert_eq!(text.to_string(), format!("a={MASK} b={MASK} c=plain"));
    }

    #[test]
    fn traced_urls_lose_their_credentials_and_fragment() {
        let url = url::Url::parse("https://user:pw@example.com/a?x=1#frag").unwrap_or_else(|e| {
            panic!("{e}");
        });
        assert_eq!(url_for_trace(&url), "https://example.com/a?x=1");
    }

    #[test]
    fn traced_argv_is_quoted_as_a_shell_would_read_it() {
        assert_eq!(shell_word("sh"), "sh");
        assert_eq!(shell_word("echo 'hi'"), r"'echo '\''hi'\'''");
        assert_eq!(shell_word(""), "''");
    }
}
