//! `plugin` steps: render the parameters, lend the plugin the engine's host services, map its result.

use std::sync::Mutex;

use serde_json::{Map, Value};

use runbook_dsl::PluginStep;
use runbook_plugin::{BoxFuture, Host, HttpRequest, HttpResponse, PluginError, PluginErrorKind};

use super::StepEnv;
use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::http_client::{HttpClients, Transport};
use crate::redact::Redactor;
use crate::render::render_value;

/// Largest response a plugin may read through the host.
const MAX_PLUGIN_RESPONSE: usize = 10 * 1024 * 1024;

pub(super) async fn execute(
    step: &PluginStep,
    env: &mut StepEnv<'_>,
) -> Result<Map<String, Value>, StepError> {
    let Some((plugin, _)) = env.plugins.and_then(|registry| registry.find(&step.action)) else {
        return Err(StepError::new(
            StepErrorKind::Process,
            format!(
                "no plugin offering `{}` is linked into this build",
                step.action
            ),
        ));
    };
    let scope = Scope::new(env.context);
    let mut params = Map::new();
    for (name, value) in &step.params {
        let value = render_value(value, scope)?;
        if step.secret_params.contains(name) {
            env.new_secrets.add_value(&value);
        }
        params.insert(name.clone(), value);
    }
    let host = EngineHost {
        http: env.http,
        secrets: Mutex::new(Redactor::default()),
    };
    let result = plugin.run(&step.action, params, &host).await;
    if let Ok(secrets) = host.secrets.lock() {
        env.new_secrets.merge(&secrets);
    }
    result.map_err(|error| {
        let kind = match error.kind {
            PluginErrorKind::Assertion => StepErrorKind::Assertion,
            PluginErrorKind::UnexpectedResult => StepErrorKind::UnexpectedResult,
            PluginErrorKind::Transport => StepErrorKind::Transport,
            PluginErrorKind::Invalid => StepErrorKind::Process,
        };
        StepError::new(kind, format!("{}: {}", step.action, error.message))
    })
}

/// What a plugin may use of the engine: the same safe HTTP client as `http` steps.
struct EngineHost<'a> {
    http: &'a HttpClients,
    secrets: Mutex<Redactor>,
}

impl Host for EngineHost<'_> {
    fn http(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PluginError>> {
        Box::pin(async move {
            let transport = |message: String| PluginError::new(PluginErrorKind::Transport, message);
            let client = self
                .http
                .get(false, Transport::of_text(&request.url))
                .map_err(|error| transport(format!("cannot build the HTTP client: {error}")))?;
            let method = reqwest::Method::from_bytes(request.method.as_bytes())
                .map_err(|_| PluginError::invalid(format!("invalid method {}", request.method)))?;
            let mut builder = client
                .request(method, &request.url)
                .timeout(request.timeout);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(body) = request.body {
                builder = builder.body(body);
            }
            let shown = request
                .url
                .split('?')
                .next()
                .unwrap_or(&request.url)
                .to_owned();
            let mut response = builder.send().await.map_err(|error| {
                if error.is_timeout() {
                    transport(format!("{shown}: no response in time"))
                } else {
                    transport(format!("{shown}: request failed: {error}"))
                }
            })?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|error| {
                transport(format!("{shown}: reading the response failed: {error}"))
            })? {
                if body.len() + chunk.len() > MAX_PLUGIN_RESPONSE {
                    return Err(transport(format!(
                        "{shown}: response larger than {MAX_PLUGIN_RESPONSE} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        })
    }

    fn add_secret(&self, value: &str) {
        if let Ok(mut secrets) = self.secrets.lock() {
            secrets.add(value);
        }
    }
}
