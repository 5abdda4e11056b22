//! A checked rehearsal: every step id, input and state name resolved against its runbook, every
//! pattern compiled, every value parsed. Only [`super::check`] makes one.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use super::expr::{Expr, Path};
use super::raw::{ExpectedStatus, Format};
use crate::{HttpMethod, Span};

/// Simulated services, commands and answers for one runbook, and its scenarios.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    pub path: PathBuf,
    /// The runbook rehearsed.
    pub runbook: PathBuf,
    /// Input values for every scenario.
    pub inputs: Vec<(String, Value)>,
    pub state: Map<String, Value>,
    pub services: Vec<Service>,
    pub commands: Vec<Command>,
    /// In the answers-file format.
    pub answers: Value,
    pub scenarios: Vec<Scenario>,
}

impl Rehearsal {
    pub fn service(&self, host: &str) -> Option<&Service> {
        self.services.iter().find(|service| service.host == host)
    }

    pub fn command(&self, name: &str) -> Option<&Command> {
        self.commands.iter().find(|command| command.name == name)
    }
}

/// A simulated HTTP service.
#[derive(Debug, Clone)]
pub struct Service {
    /// `host` or `host:port`, lowercase.
    pub host: String,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct Route {
    /// What it stands for (its name, or `METHOD PATH`).
    pub name: String,
    pub method: Option<HttpMethod>,
    pub path: PathPattern,
    pub when: Vec<Condition>,
    pub response: Response,
    /// Successive answers; empty: always `response`.
    pub sequence: Vec<Response>,
    pub set: Vec<Assignment>,
    pub latency: Duration,
    pub span: Span,
}

/// A response a route or fault gives.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, Expr)>,
    pub body: Option<Expr>,
}

/// A path with `{name}` segments.
#[derive(Debug, Clone)]
pub struct PathPattern {
    pub segments: Vec<Segment>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param(String),
}

impl PathPattern {
    /// The parameters when `path` matches.
    pub fn matches(&self, path: &str) -> Option<Map<String, Value>> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(text) if text == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    params.insert(name.clone(), Value::String(part.to_owned()));
                }
            }
        }
        Some(params)
    }
}

/// A condition on the state or the request.
#[derive(Debug, Clone)]
pub struct Condition {
    pub path: Path,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub enum Test {
    Equals(Expr),
    Not(Expr),
    OneOf(Vec<Expr>),
    Exists(bool),
}

/// `set: {NAME.field: value}`.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The state value, then fields within it.
    pub target: Vec<String>,
    pub value: Expr,
}

/// A simulated program.
#[derive(Debug, Clone)]
pub struct Command {
    pub name: String,
    pub routes: Vec<CommandRoute>,
}

#[derive(Debug, Clone)]
pub struct CommandRoute {
    pub name: String,
    pub args: Option<ArgsPattern>,
    pub when: Vec<Condition>,
    pub stdin: Format,
    /// Captured arguments that name files to read, and how.
    pub files: Vec<(String, Format)>,
    pub stdout: Option<Expr>,
    pub stderr: Option<Expr>,
    pub exit: i32,
    pub set: Vec<Assignment>,
    pub span: Span,
}

/// Argument patterns.
#[derive(Debug, Clone)]
pub struct ArgsPattern {
    pub args: Vec<ArgPattern>,
    /// `...` at the end: any further arguments.
    pub rest: bool,
}

/// One argument's pattern, compiled.
#[derive(Debug, Clone)]
pub struct ArgPattern {
    pub regex: regex::Regex,
    /// The `{name}` captures, in order.
    pub names: Vec<String>,
}

impl ArgsPattern {
    /// The captured arguments when `args` match.
    pub fn matches(&self, args: &[String]) -> Option<Map<String, Value>> {
        let fits = if self.rest {
            args.len() >= self.args.len()
        } else {
            args.len() == self.args.len()
        };
        if !fits {
            return None;
        }
        let mut captured = Map::new();
        for (pattern, arg) in self.args.iter().zip(args) {
            let found = pattern.regex.captures(arg)?;
            for name in &pattern.names {
                if let Some(value) = found.name(name) {
                    captured.insert(name.clone(), Value::String(value.as_str().to_owned()));
                }
            }
        }
        Some(captured)
    }
}

/// A named scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub inputs: Vec<(String, Value)>,
    pub state: Map<String, Value>,
    /// Answers replacing the rehearsal's, by step id.
    pub answers: Option<Map<String, Value>>,
    pub faults: Vec<Fault>,
    pub interrupt: Option<String>,
    pub kill: Option<String>,
    pub expect: Expect,
    pub span: Span,
}

/// A fault at one step.
#[derive(Debug, Clone)]
pub struct Fault {
    pub step: String,
    pub kind: FaultKind,
    /// How many requests or runs get it; `None`: all.
    pub times: Option<u32>,
}

#[derive(Debug, Clone)]
pub enum FaultKind {
    /// Replaces what the service answers (fields left out keep the service's), after a delay.
    Http {
        status: Option<u16>,
        headers: Vec<(String, Expr)>,
        body: Option<Expr>,
        latency: Duration,
    },
    /// No answer within the step's timeout.
    Timeout,
    /// Replaces what the program answers.
    Command {
        exit: Option<i32>,
        stdout: Option<String>,
        stderr: Option<String>,
    },
    /// Every later attempt gets the first attempt's answer.
    NeverConverges,
}

/// What a scenario declares.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub status: Option<ExpectedStatus>,
    pub exit_code: Option<u8>,
    pub failed_step: Option<String>,
    pub ran: Vec<String>,
    pub not_ran: Vec<String>,
    pub audit: Vec<String>,
    pub no_audit: Vec<String>,
    /// `(path within the state, value)`.
    pub state: Vec<(Vec<String>, Value)>,
}
