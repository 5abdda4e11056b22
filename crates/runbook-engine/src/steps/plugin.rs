//! `plugin` steps: render the parameters, lend the plugin the engine's host services, map its result.

use std::sync::Mutex;

use serde_json::{Map, Value};

use runbook_dsl::{HttpMethod, PluginStep};
use runbook_plugin::{BoxFuture, Host, HttpRequest, HttpResponse, PluginError, PluginErrorKind};

use super::StepEnv;
use crate::context::Scope;
use crate::error::{StepError, StepErrorKind};
use crate::redact::Redactor;
use crate::render::render_value;
use crate::transport::HttpTransport;

/// Largest response a plugin may read through the host.
const MAX_PLUGIN_RESPONSE: u64 = 10 * 1024 * 1024;

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
        run_secrets: &env.context.redactor,
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
    http: &'a dyn HttpTransport,
    /// The run's secrets, to redact the traces of the plugin's requests.
    run_secrets: &'a Redactor,
    secrets: Mutex<Redactor>,
}

impl EngineHost<'_> {
    /// Calls `trace` with the run's secrets and those the plugin added (the lock is not held
    /// across an await).
    fn traced<T>(&self, trace: impl FnOnce(&[&Redactor]) -> T) -> T {
        // A poisoned lock still holds every secret added (they are only appended).
        let secrets = self
            .secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        trace(&[self.run_secrets, &secrets])
    }
}

impl Host for EngineHost<'_> {
    fn http(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PluginError>> {
        Box::pin(async move {
            let transport = |message: String| PluginError::new(PluginErrorKind::Transport, message);
            let method = HttpMethod::parse(&request.method).ok_or_else(|| {
                PluginError::invalid(format!("invalid method {}", request.method))
            })?;
            let shown = request
                .url
                .split('?')
                .next()
                .unwrap_or(&request.url)
                .to_owned();
            let url = url::Url::parse(&request.url)
                .map_err(|error| PluginError::invalid(format!("{shown}: not a URL: {error}")))?;
            let sent = crate::transport::HttpRequest {
                method,
                url,
                headers: request.headers.into_iter().collect(),
                body: request.body.map(String::into_bytes),
                timeout: request.timeout,
                follow_redirects: false,
                max_response_bytes: MAX_PLUGIN_RESPONSE,
            };
            let traced = self.traced(|redactors| crate::trace::HttpCall::start(&sent, redactors));
            let response = self.http.send(sent).await;
            if let Some(traced) = traced {
                self.traced(|redactors| traced.finish(&response, redactors));
            }
            let response = response.map_err(|error| match error {
                crate::transport::TransportError::ConnectTimeout { .. }
                | crate::transport::TransportError::Timeout { .. } => {
                    transport(format!("{shown}: no response in time"))
                }
                crate::transport::TransportError::TooLarge { .. } => transport(format!(
                    "{shown}: response larger than {MAX_PLUGIN_RESPONSE} bytes"
                )),
                crate::transport::TransportError::Failed { .. }
                | crate::transport::TransportError::NotSimulated { .. } => {
                    transport(format!("{shown}: {error}"))
                }
            })?;
            Ok(HttpResponse {
                status: response.status,
                body: String::from_utf8_lossy(&response.body).into_owned(),
            })
        })
    }

    fn add_secret(&self, value: &str) {
        if let Ok(mut secrets) = self.secrets.lock() {
            secrets.add(value);
        }
    }
}
