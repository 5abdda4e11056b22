//! The HTTP clients a run uses, built once per run, on first use.
//!
//! Credentialed requests must not leak: reqwest strips `Authorization` and cookies on a cross-origin
//! redirect but forwards custom headers such as `APCA-API-SECRET-KEY`, and sends the old URL as
//! `Referer`. So redirects are never followed to another origin (and not at all unless a step asks),
//! and no Referer is sent.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};

/// How long to wait for a TCP/TLS connection before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most redirects followed within one origin.
const MAX_REDIRECTS: usize = 5;

/// One client that never follows redirects, one that follows them within the origin.
#[derive(Debug, Default)]
pub struct HttpClients {
    no_redirects: OnceLock<reqwest::Client>,
    same_origin: OnceLock<reqwest::Client>,
}

impl HttpClients {
    pub fn get(&self, follow_redirects: bool) -> Result<&reqwest::Client, reqwest::Error> {
        let cell = if follow_redirects {
            &self.same_origin
        } else {
            &self.no_redirects
        };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let policy = if follow_redirects {
            Policy::custom(same_origin_only)
        } else {
            Policy::none()
        };
        let client = reqwest::Client::builder()
            .redirect(policy)
            .referer(false)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("runbook/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(cell.get_or_init(|| client))
    }
}

fn same_origin_only(attempt: Attempt) -> reqwest::redirect::Action {
    let Some(first) = attempt.previous().first() else {
        return attempt.stop();
    };
    if attempt.previous().len() > MAX_REDIRECTS || !same_origin(first, attempt.url()) {
        attempt.stop()
    } else {
        attempt.follow()
    }
}

/// Scheme, host and port all equal.
pub fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `url` as it may appear in a message: without user name, password, query string and fragment,
/// where credentials and tokens travel.
pub fn url_for_messages(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let without_query = url.get(..end).unwrap_or(url);
    let (scheme, rest) = match without_query.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, without_query),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    match scheme {
        Some(scheme) => format!("{scheme}://{host}{path}"),
        None => format!("{host}{path}"),
    }
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn messages_show_no_credentials() {
        assert_eq!(
            super::url_for_messages("https://u:p@host:8/a/b?token=x#f"),
            "https://host:8/a/b"
        );
        assert_eq!(super::url_for_messages("ftp://h?x"), "ftp://h");
    }
}
