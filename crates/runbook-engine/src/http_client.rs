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

/// Clients by (redirects followed within the origin, TLS). A run whose URLs are all `http://`
/// never builds a TLS client, so it never loads the system's root certificates (about 150 files,
/// 4-5 ms: most of a one-request run's start-up).
#[derive(Debug, Default)]
pub struct HttpClients {
    no_redirects: OnceLock<reqwest::Client>,
    same_origin: OnceLock<reqwest::Client>,
    no_redirects_tls: OnceLock<reqwest::Client>,
    same_origin_tls: OnceLock<reqwest::Client>,
}

/// Whether a request needs a client that can speak TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An `http://` URL. Redirects never change the scheme (they are followed only within the
    /// origin), so the request cannot end up needing TLS.
    Plain,
    /// An `https://` URL.
    Tls,
}

impl Transport {
    /// The transport for a URL given as text; one that does not parse gets TLS (and fails in
    /// reqwest with its own message).
    pub fn of_text(url: &str) -> Transport {
        url::Url::parse(url).map_or(Transport::Tls, |url| Transport::of(&url))
    }

    pub fn of(url: &url::Url) -> Transport {
        if url.scheme() == "http" && !proxy_needs_tls(|name| std::env::var(name).ok()) {
            Transport::Plain
        } else {
            Transport::Tls
        }
    }
}

/// An `https://` proxy for plain-HTTP requests (`HTTP_PROXY`, `ALL_PROXY`, as reqwest reads them)
/// is reached over TLS: such a run keeps the certificates.
fn proxy_needs_tls(var: impl Fn(&str) -> Option<String>) -> bool {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .filter_map(|name| var(name))
        .any(|value| {
            value
                .trim()
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
        })
}

impl HttpClients {
    pub fn get(
        &self,
        follow_redirects: bool,
        transport: Transport,
    ) -> Result<&reqwest::Client, reqwest::Error> {
        let cell = match (follow_redirects, transport) {
            (true, Transport::Plain) => &self.same_origin,
            (false, Transport::Plain) => &self.no_redirects,
            (true, Transport::Tls) => &self.same_origin_tls,
            (false, Transport::Tls) => &self.no_redirects_tls,
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
            // Without roots no TLS connection can be verified: a plain client that somehow met an
            // https URL would fail closed, never connect unverified.
            .tls_built_in_root_certs(transport == Transport::Tls)
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
mod transport_tests {
    use super::{Transport, proxy_needs_tls};

    #[test]
    fn only_https_urls_or_an_https_proxy_need_tls() {
        assert_eq!(Transport::of_text("https://example.com/x"), Transport::Tls);
        assert_eq!(Transport::of_text("not a url"), Transport::Tls);
        let plain = Transport::of_text("http://127.0.0.1:8080/x");
        let proxied = proxy_needs_tls(|name| std::env::var(name).ok());
        assert_eq!(plain == Transport::Plain, !proxied);
        let env = |value: &'static str| {
            move |name: &str| (name == "HTTP_PROXY").then(|| value.to_owned())
        };
        assert!(proxy_needs_tls(env("HTTPS://proxy:3128")));
        assert!(!proxy_needs_tls(env("http://proxy:3128")));
        assert!(!proxy_needs_tls(|_| None));
    }

    #[test]
    fn plain_and_tls_clients_are_built_apart_and_only_when_asked_for() {
        let clients = super::HttpClients::default();
        let plain = clients.get(false, Transport::Plain).map(|c| c as *const _);
        let tls = clients.get(false, Transport::Tls).map(|c| c as *const _);
        assert!(plain.is_ok() && tls.is_ok());
        assert_ne!(plain.ok(), tls.ok());
        assert!(clients.no_redirects.get().is_some() && clients.no_redirects_tls.get().is_some());
        assert!(clients.same_origin.get().is_none() && clients.same_origin_tls.get().is_none());
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
