//! What a rehearsal file says, as written: the shapes serde reads (unknown fields are errors) and
//! the JSON Schema is generated from. [`super::check`] makes a [`super::Rehearsal`] of it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::Spanned;

/// A rehearsal: simulated services, commands and operator answers for one runbook, and named
/// scenarios with the outcome each one expects. `NAME.rehearsal.yaml` beside `NAME.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRehearsal {
    /// The runbook rehearsed, relative to this file. Default: `NAME.yaml` for
    /// `NAME.rehearsal.yaml`.
    #[serde(default)]
    pub runbook: Option<Spanned<String>>,
    /// Values of the runbook's inputs for every scenario (secret ones too: rehearsal values are
    /// made up). Inputs not listed take their defaults; nothing is read from the environment.
    #[serde(default)]
    pub inputs: IndexMap<String, Spanned<Value>>,
    /// The simulation's initial state: named values that routes and commands read (`{{state.NAME}}`),
    /// change (`set:`) and scenarios assert.
    #[serde(default)]
    pub state: IndexMap<String, Value>,
    /// Simulated HTTP services, keyed by the host the runbook calls (`api.alpaca.markets`, or
    /// `host:port` for a port other than the scheme's).
    #[serde(default)]
    pub services: IndexMap<String, Spanned<RawService>>,
    /// Simulated programs, keyed by the command name shell steps run (`heroku`, `infisical`).
    #[serde(default)]
    pub commands: IndexMap<String, Spanned<Vec<Spanned<RawCommandRoute>>>>,
    /// The operator's answers, in the answers-file format (docs/prompts.md), keyed by step id.
    #[serde(default)]
    pub answers: Option<Spanned<Value>>,
    /// Named scenarios: faults to inject and the outcome each one declares.
    #[serde(default)]
    pub scenarios: Vec<Spanned<RawScenario>>,
}

/// One simulated HTTP service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Routes, tried in order: the first whose method, path and `when` match answers.
    pub routes: Vec<Spanned<RawRoute>>,
}

/// One route of a simulated service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// What this route stands for, shown when it answers.
    #[serde(default)]
    pub name: Option<String>,
    /// The method it answers (any when absent).
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    /// The path, with `{name}` for a segment read as `{{request.params.name}}`
    /// (`/v2/orders/{id}`). The query string is not part of it: see `request.query`.
    pub path: Spanned<String>,
    /// Conditions on the state and the request, all of which must hold: `PATH: VALUE` (equal),
    /// or `PATH: {not: V}`, `{one_of: [..]}`, `{exists: BOOL}`, `{equals: V}`.
    #[serde(default)]
    pub when: IndexMap<String, Value>,
    /// The response status (200 when absent).
    #[serde(default)]
    pub status: Option<Spanned<u16>>,
    /// Response headers.
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// The response body: JSON (strings may hold `{{state.X}}`, `{{request.Y}}`, `{{inputs.Z}}`),
    /// or text when it is a string.
    #[serde(default)]
    pub body: Option<Value>,
    /// Changes to the state when this route answers: `NAME` or `NAME.field` to a value.
    #[serde(default)]
    pub set: IndexMap<String, Value>,
    /// How long the answer takes, in virtual time (`2s`, `3m`). Longer than the step's timeout:
    /// the step times out.
    #[serde(default)]
    pub latency: Option<Spanned<String>>,
    /// Successive answers: the Nth matching request gets the Nth, the last repeats. Each
    /// replaces `status`, `headers` and `body`.
    #[serde(default)]
    pub sequence: Vec<Spanned<RawResponse>>,
}

/// A response: status, headers and body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResponse {
    #[serde(default)]
    pub status: Option<Spanned<u16>>,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    #[serde(default)]
    pub body: Option<Value>,
}

/// One way a simulated program answers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCommandRoute {
    /// What this stands for.
    #[serde(default)]
    pub name: Option<String>,
    /// Argument patterns, one per argument: literal text, `*` for any text within an argument,
    /// `{name}` to capture it as `{{request.args.name}}`, and `...` as the last pattern for any
    /// further arguments. Absent: any arguments.
    #[serde(default)]
    pub args: Option<Vec<Spanned<String>>>,
    /// Conditions, as for routes (`request.stdin`, `request.args.NAME`, `request.env.NAME`,
    /// `state.NAME`).
    #[serde(default)]
    pub when: IndexMap<String, Value>,
    /// How to read stdin into `{{request.stdin}}`: `text` (default), `json` or `dotenv`.
    #[serde(default)]
    pub stdin: Option<Spanned<Format>>,
    /// Captured arguments that name files the program reads, and how: `{file: dotenv}` makes
    /// the content of the file named by `{file}` `{{request.files.file}}`.
    #[serde(default)]
    pub files: IndexMap<String, Format>,
    /// What it prints on stdout (a JSON value is printed as JSON).
    #[serde(default)]
    pub stdout: Option<Value>,
    /// What it prints on stderr.
    #[serde(default)]
    pub stderr: Option<String>,
    /// Its exit code (0 when absent).
    #[serde(default)]
    pub exit: Option<i32>,
    /// Changes to the state, as for routes.
    #[serde(default)]
    pub set: IndexMap<String, Value>,
}

/// How a program's input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// As text.
    Text,
    /// As JSON.
    Json,
    /// `KEY=VALUE` lines, as a mapping.
    Dotenv,
}

/// A named scenario: what differs from the rehearsal's defaults, and what must happen.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Unique name, used with `--scenario`.
    pub name: Spanned<String>,
    /// What this scenario exercises, in a sentence.
    #[serde(default)]
    pub description: Option<String>,
    /// Input values that differ from the rehearsal's.
    #[serde(default)]
    pub inputs: IndexMap<String, Spanned<Value>>,
    /// State values that differ from the initial state.
    #[serde(default)]
    pub state: IndexMap<String, Value>,
    /// Answers that replace the rehearsal's for the step ids given (and `decisions`).
    #[serde(default)]
    pub answers: Option<Spanned<Value>>,
    /// Faults injected at steps.
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    /// Ctrl-C, delivered as the step starts.
    #[serde(default)]
    pub interrupt: Option<RawAt>,
    /// The process dies as the step starts (no cleanup); the run is then resumed from its
    /// journal, as `runbook resume` would.
    #[serde(default)]
    pub kill: Option<RawAt>,
    /// The outcome this scenario declares.
    pub expect: Spanned<RawExpect>,
}

/// A step a scenario acts at.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAt {
    pub at: Spanned<String>,
}

/// A fault at one step: exactly one of `http`, `timeout`, `command`, `never_converges`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// The step whose requests or commands get the fault.
    pub at: Spanned<String>,
    /// Instead of the service's answer: this status, headers, body, or a delay.
    #[serde(default)]
    pub http: Option<RawHttpFault>,
    /// The request gets no answer within the step's timeout.
    #[serde(default)]
    pub timeout: Option<bool>,
    /// Instead of the program's answer: this exit code and output.
    #[serde(default)]
    pub command: Option<RawCommandFault>,
    /// Every attempt after the first gets the first attempt's answer: a wait never sees change.
    #[serde(default)]
    pub never_converges: Option<bool>,
    /// How many requests (or command runs) of the step get the fault; absent: all of them.
    #[serde(default)]
    pub times: Option<Spanned<u32>>,
}

/// An HTTP answer a fault puts in place of the service's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttpFault {
    #[serde(default)]
    pub status: Option<Spanned<u16>>,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    #[serde(default)]
    pub body: Option<Value>,
    /// Added before the answer, in virtual time.
    #[serde(default)]
    pub latency: Option<Spanned<String>>,
}

/// A program's answer a fault puts in place of the stand-in's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCommandFault {
    #[serde(default)]
    pub exit: Option<i32>,
    #[serde(default)]
    pub stdout: Option<String>,
    #[serde(default)]
    pub stderr: Option<String>,
}

/// What a scenario declares about its outcome. Only what is given is compared.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// How the run ends: `succeeded`, `failed`, `rolled_back`, `rollback_failed` or
    /// `interrupted`.
    #[serde(default)]
    pub status: Option<Spanned<ExpectedStatus>>,
    /// The exit code `runbook run` would give.
    #[serde(default)]
    pub exit_code: Option<u8>,
    /// The step the run failed at.
    #[serde(default)]
    pub failed_step: Option<Spanned<String>>,
    /// Steps that ran (passed or failed) at least once, in any phase.
    #[serde(default)]
    pub ran: Vec<Spanned<String>>,
    /// Steps that did not run (skipped, or never reached).
    #[serde(default)]
    pub not_ran: Vec<Spanned<String>>,
    /// Audit events written by `audit` steps, by action.
    #[serde(default)]
    pub audit: Vec<String>,
    /// Audit events that must not be written.
    #[serde(default)]
    pub no_audit: Vec<String>,
    /// State values at the end (`NAME` or `NAME.field`), compared for equality.
    #[serde(default)]
    pub state: IndexMap<String, Value>,
}

/// How a rehearsed run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedStatus {
    Succeeded,
    /// The steps completed, and a step with `on_error: warn` failed (exit code 8).
    SucceededWithWarnings,
    Failed,
    RolledBack,
    RollbackFailed,
    Interrupted,
}

impl ExpectedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedStatus::Succeeded => "succeeded",
            ExpectedStatus::SucceededWithWarnings => "succeeded_with_warnings",
            ExpectedStatus::Failed => "failed",
            ExpectedStatus::RolledBack => "rolled_back",
            ExpectedStatus::RollbackFailed => "rollback_failed",
            ExpectedStatus::Interrupted => "interrupted",
        }
    }
}
