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
}
