//! Test support for plugin authors: a [`Host`] that answers HTTP requests from a script and records
//! what it was asked, with no network and no engine.

use std::sync::Mutex;

use crate::{BoxFuture, Host, HttpRequest, HttpResponse, PluginError, PluginErrorKind};

/// Answers each request with the first scripted response whose URL suffix matches.
#[derive(Default)]
pub struct FakeHost {
    responses: Mutex<Vec<(String, HttpResponse)>>,
    pub requests: Mutex<Vec<HttpRequest>>,
    pub secrets: Mutex<Vec<String>>,
    /// What [`Host::run_dir`] answers (see [`FakeHost::with_run_dir`]).
    pub run_dir: Option<std::path::PathBuf>,
}

impl FakeHost {
    pub fn respond(self, url_suffix: &str, status: u16, body: &str) -> Self {
        if let Ok(mut responses) = self.responses.lock() {
            responses.push((
                url_suffix.to_owned(),
                HttpResponse {
                    status,
                    body: body.to_owned(),
                },
            ));
        }
        self
    }

    /// Lends actions this folder as the run's folder.
    pub fn with_run_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.run_dir = Some(dir.into());
        self
    }
}

impl Host for FakeHost {
    fn http(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PluginError>> {
        let found = self.responses.lock().ok().and_then(|responses| {
            responses
                .iter()
                .find(|(suffix, _)| request.url.ends_with(suffix.as_str()))
                .map(|(_, response)| response.clone())
        });
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request.clone());
        }
        Box::pin(async move {
            found.ok_or_else(|| {
                PluginError::new(
                    PluginErrorKind::Transport,
                    format!("no scripted response for {}", request.url),
                )
            })
        })
    }

    fn add_secret(&self, value: &str) {
        if let Ok(mut secrets) = self.secrets.lock() {
            secrets.push(value.to_owned());
        }
    }

    fn run_dir(&self) -> Option<&std::path::Path> {
        self.run_dir.as_deref()
    }
}
