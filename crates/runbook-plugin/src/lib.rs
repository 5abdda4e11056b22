//! The runbook plugin SDK.
//!
//! A plugin offers named actions (`alpaca.account_snapshot`) that runbooks call with a `plugin:`
//! step. It depends on this crate only: the [`Plugin`] trait it implements, the [`ActionSpec`]s lint
//! checks steps against, and the [`Host`] services the engine lends it (HTTP with the engine's safe
//! client, secret registration). [`testing`] has a fake host for plugin unit tests.
//!
//! `docs/plugins.md` walks through writing one, with `runbook-alpaca` as the example.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{Map, Value};

pub mod testing;

/// A boxed future, so the traits stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One action's signature: what lint checks a step against.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    /// Full name, `namespace.action`.
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    /// Outputs the action always returns (it may return more).
    pub outputs: &'static [&'static str],
    /// The action changes nothing outside runbook: it reads from services, or computes. `plan`
    /// then calls it read-only, and the journal need not sync before it (repeating it after a
    /// crash is harmless). A file it writes in the run's own folder does not count.
    pub read_only: bool,
}

/// One parameter of an action.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub required: bool,
    /// The value is a credential: the engine registers it as a secret.
    pub secret: bool,
    /// What the value is, for the JSON Schema editors use (any value may also be a template).
    pub kind: ParamKind,
    pub summary: &'static str,
}

/// The type of a parameter's value. A value may always be a template string instead (a single
/// `{{reference}}` keeps the referenced value's type), so this types literal values only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Boolean,
    /// A list of strings.
    StringList,
    /// A mapping (e.g. an account snapshot, per-field tolerances).
    Object,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// Anything JSON can hold.
    Any,
}

impl ActionSpec {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|param| param.name == name)
    }
}

/// Why an action failed. The engine maps the kind to its own failure classes (and exit codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PluginError {
    pub kind: PluginErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginErrorKind {
    /// A check the action makes did not hold (e.g. snapshots differ).
    Assertion,
    /// The service answered, but not as expected (e.g. 401).
    UnexpectedResult,
    /// The service could not be reached.
    Transport,
    /// Bad parameters or a local failure (a file that cannot be written).
    Invalid,
}

impl PluginError {
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        PluginError::new(PluginErrorKind::Invalid, message)
    }
}

/// An HTTP request made through the host (same client rules as `http` steps: no cross-origin
/// redirects, no Referer, bounded response size, a timeout).
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub timeout: Duration,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
            timeout: Duration::from_secs(30),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

impl HttpResponse {
    pub fn json(&self) -> Result<Value, PluginError> {
        serde_json::from_str(&self.body).map_err(|error| {
            PluginError::new(
                PluginErrorKind::UnexpectedResult,
                format!("the response is not JSON ({error})"),
            )
        })
    }
}

/// Services the engine lends a running action.
pub trait Host: Send + Sync {
    fn http(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PluginError>>;
    /// Registers a value that must be redacted from every output.
    fn add_secret(&self, value: &str);
    /// The run's own folder in the state directory (owner-only, kept after the run, beside its
    /// journal), for files an action keeps for the record (the Alpaca snapshot). `None` when the
    /// host has no run folder (a unit test's host).
    fn run_dir(&self) -> Option<&std::path::Path> {
        None
    }
}

/// A plugin: a namespace of actions.
pub trait Plugin: Send + Sync {
    /// The namespace, e.g. `alpaca`.
    fn namespace(&self) -> &'static str;
    fn actions(&self) -> &'static [ActionSpec];
    /// Runs `action` (its full name) with rendered parameters; returns its outputs.
    fn run<'a>(
        &'a self,
        action: &'a str,
        params: Map<String, Value>,
        host: &'a dyn Host,
    ) -> BoxFuture<'a, Result<Map<String, Value>, PluginError>>;
}

/// The plugins a binary links, looked up by action name (lint uses the specs, the engine runs).
#[derive(Default)]
pub struct Registry {
    plugins: Vec<Box<dyn Plugin>>,
}

impl Registry {
    pub fn with(mut self, plugin: impl Plugin + 'static) -> Self {
        self.plugins.push(Box::new(plugin));
        self
    }

    /// The plugin and spec of an action.
    pub fn find(&self, action: &str) -> Option<(&dyn Plugin, &'static ActionSpec)> {
        self.plugins.iter().find_map(|plugin| {
            plugin
                .actions()
                .iter()
                .find(|spec| spec.name == action)
                .map(|spec| (plugin.as_ref(), spec))
        })
    }

    /// Every action name, for "did you mean".
    pub fn action_names(&self) -> Vec<&'static str> {
        self.plugins
            .iter()
            .flat_map(|plugin| plugin.actions().iter().map(|spec| spec.name))
            .collect()
    }
}

/// What lint needs to know about plugins: the action signatures.
pub trait Catalog {
    fn spec(&self, action: &str) -> Option<&ActionSpec>;
    fn names(&self) -> Vec<&'static str>;
}

impl Catalog for Registry {
    fn spec(&self, action: &str) -> Option<&ActionSpec> {
        self.find(action).map(|(_, spec)| spec)
    }
    fn names(&self) -> Vec<&'static str> {
        self.action_names()
    }
}

/// A catalog with no plugins.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPlugins;

impl Catalog for NoPlugins {
    fn spec(&self, _: &str) -> Option<&ActionSpec> {
        None
    }
    fn names(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// Reads a string parameter.
pub fn string_param(params: &Map<String, Value>, name: &str) -> Result<String, PluginError> {
    match params.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(PluginError::invalid(format!(
            "parameter `{name}` must be a string, got {other}"
        ))),
        None => Err(PluginError::invalid(format!(
            "parameter `{name}` is missing"
        ))),
    }
}
