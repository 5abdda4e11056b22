//! The simulation's state and the reading of a rehearsal's values against it: one `World` per
//! scenario run, shared (behind a lock) by the HTTP transport, the command stand-ins and the
//! observers that track which step is running.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value};

use runbook_dsl::rehearsal::expr::{Expr, Path, Piece, Root};
use runbook_dsl::rehearsal::{Assignment, Condition, Fault, Test};

/// Everything a scenario's simulation knows.
#[derive(Debug, Default)]
pub struct World {
    pub state: Map<String, Value>,
    pub inputs: Map<String, Value>,
    /// The step running now (steps run one at a time), from the observer.
    pub step: Option<String>,
    /// Requests or command runs each step made, for `times:` and `never_converges`.
    pub calls: HashMap<String, u32>,
    /// How often each route (service host, index) answered, for `sequence:`.
    pub route_calls: HashMap<(String, usize), u32>,
    /// The first answer each step got, for `never_converges`.
    pub first_answers: HashMap<String, Answer>,
    pub faults: Vec<Fault>,
    /// The process "died": nothing may change the world any more.
    pub killed: bool,
    /// What the simulation could not do (a route reading a state value that is not set).
    pub problems: Vec<String>,
    /// Every exchange, in order, for `--keep`.
    pub log: Vec<Value>,
}

/// A recorded answer, HTTP or command.
#[derive(Debug, Clone)]
pub enum Answer {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Command {
        stdout: String,
        stderr: String,
        exit: i32,
    },
}

pub type SharedWorld = Arc<Mutex<World>>;

pub fn lock(world: &SharedWorld) -> MutexGuard<'_, World> {
    world
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl World {
    /// The fault for the current step's next call, counting the call.
    pub fn next_call(&mut self) -> (Option<String>, u32, Option<Fault>) {
        let Some(step) = self.step.clone() else {
            return (None, 0, None);
        };
        let count = self.calls.entry(step.clone()).or_insert(0);
        *count += 1;
        let call = *count;
        let fault = self
            .faults
            .iter()
            .find(|fault| fault.step == step && fault.times.is_none_or(|times| call <= times))
            .cloned();
        (Some(step), call, fault)
    }

    /// The document a value reads: the state, the inputs and the request.
    pub fn scope<'a>(&'a self, request: &'a Value) -> Scope<'a> {
        Scope {
            state: &self.state,
            inputs: &self.inputs,
            request,
        }
    }

    /// Applies `set:` (each value read before any is written).
    pub fn apply(&mut self, set: &[Assignment], request: &Value) -> Result<(), String> {
        let mut values = Vec::new();
        for assignment in set {
            values.push(self.scope(request).eval(&assignment.value)?);
        }
        for (assignment, value) in set.iter().zip(values) {
            assign(&mut self.state, &assignment.target, value);
        }
        Ok(())
    }
}

fn assign(state: &mut Map<String, Value>, target: &[String], value: Value) {
    let Some((first, rest)) = target.split_first() else {
        return;
    };
    if rest.is_empty() {
        state.insert(first.clone(), value);
        return;
    }
    let slot = state
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(inner) = slot {
        assign(inner, rest, value);
    }
}

/// The values a rehearsal expression reads.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub state: &'a Map<String, Value>,
    pub inputs: &'a Map<String, Value>,
    pub request: &'a Value,
}

impl Scope<'_> {
    pub fn lookup(&self, path: &Path) -> Option<Value> {
        let (root, segments) = (path.root, path.segments.as_slice());
        let (first, rest) = segments.split_first()?;
        let start = match root {
            Root::State => self.state.get(first)?,
            Root::Inputs => self.inputs.get(first)?,
            Root::Request => self.request.get(first)?,
        };
        // Header names are case-insensitive; they are kept lowercase.
        let lower = root == Root::Request && first == "headers";
        walk(start, rest, lower)
    }

    pub fn eval(&self, expr: &Expr) -> Result<Value, String> {
        Ok(match expr {
            Expr::Literal(value) => value.clone(),
            Expr::Ref(path) => self.lookup(path).ok_or_else(|| unset(path))?,
            Expr::Text(pieces) => {
                let mut text = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(literal) => text.push_str(literal),
                        Piece::Ref(path) => {
                            text.push_str(&as_text(&self.lookup(path).ok_or_else(|| unset(path))?))
                        }
                    }
                }
                Value::String(text)
            }
            Expr::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.eval(item))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, item)| Ok((name.clone(), self.eval(item)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// Whether every condition holds.
    pub fn holds(&self, conditions: &[Condition]) -> Result<bool, String> {
        for condition in conditions {
            let actual = self.lookup(&condition.path);
            let holds = match &condition.test {
                Test::Exists(wanted) => actual.is_some() == *wanted,
                Test::Equals(expected) => {
                    actual.is_some_and(|a| same(&a, &self.eval(expected).ok()))
                }
                Test::Not(expected) => !actual.is_some_and(|a| same(&a, &self.eval(expected).ok())),
                Test::OneOf(options) => actual.is_some_and(|a| {
                    options
                        .iter()
                        .any(|option| same(&a, &self.eval(option).ok()))
                }),
            };
            if !holds {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn unset(path: &Path) -> String {
    format!("`{{{{{}}}}}` is not set", path.text)
}

/// Equal as JSON; a number and its text are not equal, as in runbook conditions.
fn same(actual: &Value, expected: &Option<Value>) -> bool {
    expected.as_ref().is_some_and(|expected| actual == expected)
}

fn walk(start: &Value, rest: &[String], lower: bool) -> Option<Value> {
    let mut at = start;
    for segment in rest {
        at = match at {
            Value::Object(fields) if lower => fields.get(&segment.to_ascii_lowercase())?,
            Value::Object(fields) => fields.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => return None,
        };
    }
    Some(at.clone())
}

/// A value as text: strings as they are, anything else as JSON.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
            value.to_string()
        }
    }
}

/// Reads a value at `target` (`NAME.field`) in the state.
pub fn state_at(state: &Map<String, Value>, target: &[String]) -> Option<Value> {
    let (first, rest) = target.split_first()?;
    walk(state.get(first)?, rest, false)
}

/// `KEY=VALUE` lines as a mapping.
pub fn parse_dotenv(text: &str) -> Value {
    let mut map = Map::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            map.insert(key.trim().to_owned(), Value::String(value.to_owned()));
        }
    }
    Value::Object(map)
}

/// Input read in the given format; text that is not valid JSON stays text.
pub fn read_as(format: runbook_dsl::rehearsal::Format, text: &str) -> Value {
    match format {
        runbook_dsl::rehearsal::Format::Text => Value::String(text.to_owned()),
        runbook_dsl::rehearsal::Format::Json => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        }
        runbook_dsl::rehearsal::Format::Dotenv => parse_dotenv(text),
    }
}
