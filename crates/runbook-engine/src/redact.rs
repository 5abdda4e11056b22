//! Secret redaction: every string that leaves the engine passes through here.

mod forms;
mod serialize;

use std::sync::{Mutex, MutexGuard, PoisonError};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use serde_json::Value;

pub use forms::MIN_SECRET_CHARS;
pub use serialize::Redacted;

/// What a secret is replaced with.
pub const MASK: &str = "********";

/// The set of secret values known to this run, and every form of each that is masked (see
/// [`forms`]). All forms of all secrets are found in one leftmost-longest pass, so a secret that
/// contains another, or a form that contains another, is masked whole.
///
/// The set only grows, so it can also grow through a shared reference ([`Redactor::add_derived`]):
/// a template function applied to a secret (`{{sha256 inputs.key}}`) yields a new secret while a
/// step renders its fields, and it must be masked from that moment on, everywhere the run's
/// redactor is consulted, before the step's rendered text goes anywhere. Growing can only mask
/// more, never less.
#[derive(Debug, Default)]
pub struct Redactor {
    state: Mutex<State>,
}

#[derive(Debug, Clone, Default)]
struct State {
    /// The secret values as given.
    secrets: Vec<String>,
    /// Every form of every secret, and whether it must stand as a whole token (short secrets).
    patterns: Vec<(String, bool)>,
    /// Built on first use after a change (`Some(None)`: no patterns, nothing to find).
    automaton: Option<Option<AhoCorasick>>,
}

impl Clone for Redactor {
    fn clone(&self) -> Self {
        Redactor {
            state: Mutex::new(self.lock().clone()),
        }
    }
}

impl Redactor {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the set half-updated in a way that unmasks
        // anything (patterns are only appended), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, locked once, with its automaton built: every search reads it without locking
    /// again (a large value's strings are searched under one lock).
    fn ready(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        state.build();
        state
    }

    /// Registers a secret value and its encoded forms. Empty values are ignored. A value shorter
    /// than [`MIN_SECRET_CHARS`] (only captures can be) is masked only where it stands as a whole
    /// token, not inside longer words or numbers.
    pub fn add(&mut self, secret: &str) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.add(secret);
    }

    /// Registers every string inside a value.
    pub fn add_value(&mut self, value: &Value) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.add_value(value);
    }

    /// Registers every string inside a value derived from a secret while a step renders (a
    /// template function's result), through a shared reference: see the type's documentation.
    pub fn add_derived(&self, value: &Value) {
        self.lock().add_value(value);
    }

    /// Adds every secret another redactor knows.
    pub fn merge(&mut self, other: &Redactor) {
        let secrets = other.lock().secrets.clone();
        for secret in &secrets {
            self.add(secret);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lock().secrets.is_empty()
    }

    /// Whether `text` holds a secret in any known form (no copy is made).
    pub fn finds_secret_in(&self, text: &str) -> bool {
        self.ready().finds_secret_in(text)
    }

    /// Whether any string, key or number inside `value` holds a secret (no copy is made).
    pub fn finds_secret_in_value(&self, value: &Value) -> bool {
        self.ready().finds_secret_in_value(value)
    }

    /// The length of the longest form of any secret: a text cut that much past a point holds
    /// whole every secret that starts before it.
    pub fn longest_form(&self) -> usize {
        self.lock()
            .patterns
            .iter()
            .map(|(form, _)| form.len())
            .max()
            .unwrap_or(0)
    }

    /// `text` with every form of every secret replaced by [`MASK`], in one pass.
    pub fn redact(&self, text: &str) -> String {
        self.ready().redact(text)
    }

    /// A copy of `value` with every string redacted.
    pub fn redact_value(&self, value: &Value) -> Value {
        self.ready().redact_value(value)
    }

    /// The start of `text` redacted, at most about `limit` bytes of it (a mask is never cut), and
    /// whether anything was left off. Redacted before it is cut, so no part of a secret that
    /// crosses the cut can show; nothing the size of `text` is allocated.
    pub fn redact_start(&self, text: &str, limit: usize) -> (String, bool) {
        self.ready().redact_start(text, limit)
    }
}

impl State {
    fn add(&mut self, secret: &str) {
        if secret.is_empty() || self.secrets.iter().any(|known| known == secret) {
            return;
        }
        let short = secret.chars().count() < MIN_SECRET_CHARS;
        self.secrets.push(secret.to_owned());
        for form in forms::forms_of(secret, short) {
            if !self.patterns.iter().any(|(known, _)| *known == form) {
                self.patterns.push((form, short));
            } else if !short {
                // A long secret's form needs no token boundary, even if a short one shares it.
                for pattern in &mut self.patterns {
                    if pattern.0 == form {
                        pattern.1 = false;
                    }
                }
            }
        }
        self.automaton = None;
    }

    fn add_value(&mut self, value: &Value) {
        match value {
            Value::String(text) => self.add(text),
            Value::Array(items) => items.iter().for_each(|item| self.add_value(item)),
            Value::Object(fields) => fields.values().for_each(|item| self.add_value(item)),
            Value::Number(number) => self.add(&number.to_string()),
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// Builds the automaton if a secret was added since it was last built.
    fn build(&mut self) {
        if self.automaton.is_none() {
            let built = if self.patterns.is_empty() {
                None
            } else {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(self.patterns.iter().map(|(form, _)| form.as_str()))
                    .ok()
            };
            self.automaton = Some(built);
        }
    }

    fn is_secret_number(&self, number: &serde_json::Number) -> bool {
        !self.secrets.is_empty() && self.secrets.contains(&number.to_string())
    }

    fn finds_secret_in(&self, text: &str) -> bool {
        self.next_secret(text, 0).is_some()
    }

    fn finds_secret_in_value(&self, value: &Value) -> bool {
        if self.secrets.is_empty() {
            return false;
        }
        match value {
            Value::String(text) => self.finds_secret_in(text),
            Value::Array(items) => items.iter().any(|item| self.finds_secret_in_value(item)),
            Value::Object(fields) => fields
                .iter()
                .any(|(key, item)| self.finds_secret_in(key) || self.finds_secret_in_value(item)),
            Value::Number(number) => self.is_secret_number(number),
            Value::Null | Value::Bool(_) => false,
        }
    }

    /// The next secret form in `text` at or after `from`, as a byte range: leftmost-longest, and a
    /// short secret's form only where it stands as a whole token. Needs [`State::build`] first
    /// (without it nothing is found, which [`Redactor::ready`] rules out).
    fn next_secret(&self, text: &str, mut from: usize) -> Option<std::ops::Range<usize>> {
        let Some(Some(automaton)) = &self.automaton else {
            return None;
        };
        let bytes = text.as_bytes();
        while from < bytes.len() {
            let found = automaton.find(Input::new(text).span(from..text.len()))?;
            let whole_token = self
                .patterns
                .get(found.pattern().as_usize())
                .is_some_and(|(_, short)| *short);
            let is_word = |at: Option<&u8>| at.is_some_and(|b| b.is_ascii_alphanumeric());
            if whole_token
                && (is_word(found.start().checked_sub(1).and_then(|i| bytes.get(i)))
                    || is_word(bytes.get(found.end())))
            {
                // Not a token of its own: look again one character further on.
                from = next_char(text, found.start());
                continue;
            }
            return Some(found.range());
        }
        None
    }

    fn redact(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        while let Some(found) = self.next_secret(text, copied) {
            out.push_str(text.get(copied..found.start).unwrap_or_default());
            out.push_str(MASK);
            copied = found.end.max(found.start + 1);
        }
        out.push_str(text.get(copied..).unwrap_or_default());
        out
    }

    fn redact_start(&self, text: &str, limit: usize) -> (String, bool) {
        let mut out = String::with_capacity(limit.min(text.len()) + MASK.len());
        let mut copied = 0;
        while copied < text.len() && out.len() < limit {
            let found = self.next_secret(text, copied);
            // Up to the next secret there is none: that stretch may be cut anywhere.
            let clear_end = found.as_ref().map_or(text.len(), |found| found.start);
            let room = limit - out.len();
            let end = floor_char(text, clear_end.min(copied.saturating_add(room)));
            out.push_str(text.get(copied..end).unwrap_or_default());
            copied = end;
            match found {
                Some(found) if end == found.start && out.len() < limit => {
                    out.push_str(MASK);
                    copied = found.end.max(found.start + 1);
                }
                Some(_) | None => break,
            }
        }
        (out, copied < text.len())
    }

    fn redact_value(&self, value: &Value) -> Value {
        if self.secrets.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(text) => Value::String(self.redact(text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, v)| (self.redact(key), self.redact_value(v)))
                    .collect(),
            ),
            Value::Number(number) if self.is_secret_number(number) => {
                Value::String(MASK.to_owned())
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        }
    }
}

/// The largest character boundary of `text` at or before `at`.
fn floor_char(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The byte index of the character after the one starting at `at`.
fn next_char(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(text.len(), |c| at + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_of_a_text_is_redacted_before_it_is_cut() {
        let mut redactor = Redactor::default();
        redactor.add("s3cret-value");
        let text = format!("{}s3cret-value tail", "x".repeat(10));
        // The cut falls inside the secret: it is masked whole, never shown in part.
        let (start, cut) = redactor.redact_start(&text, 14);
        assert_eq!(start, format!("{}{MASK}", "x".repeat(10)));
        assert!(cut);
        let (whole, cut) = redactor.redact_start(&text, 1000);
        assert_eq!(whole, redactor.redact(&text));
        assert!(!cut);
        let (start, cut) = redactor.redact_start("ééé", 3);
        assert_eq!((start.as_str(), cut), ("é", true));
        let (start, cut) = Redactor::default().redact_start(&text, 4);
        assert_eq!((start.as_str(), cut), ("xxxx", true));
    }

    #[test]
    fn masks_every_occurrence_longest_first() {
        let mut redactor = Redactor::default();
        redactor.add("abc");
        redactor.add("abcdef");
        assert_eq!(
            redactor.redact("x abcdef y abc"),
            format!("x {MASK} y {MASK}")
        );
    }

    #[test]
    fn masks_escaped_and_encoded_forms() {
        let mut redactor = Redactor::default();
        redactor.add("p@ss word\"x");
        assert_eq!(
            redactor.redact("/hooks/p%40ss%20word%22x"),
            format!("/hooks/{MASK}")
        );
        assert_eq!(
            redactor.redact(r#"{"v":"p@ss word\"x"}"#),
            format!(r#"{{"v":"{MASK}"}}"#)
        );
    }

    #[test]
    fn masks_inside_values() {
        let mut redactor = Redactor::default();
        redactor.add("s3cret");
        let value = serde_json::json!({"a": ["token s3cret"], "s3cret": 1});
        let redacted = redactor.redact_value(&value).to_string();
        assert!(!redacted.contains("s3cret"), "{redacted}");
    }

    #[test]
    fn short_secrets_are_masked_only_as_whole_tokens() {
        let mut redactor = Redactor::default();
        redactor.add("2");
        assert_eq!(
            redactor.redact("12 and 2026, 2"),
            format!("12 and 2026, {MASK}")
        );
        redactor.add("x");
        assert_eq!(redactor.redact("xx x"), format!("xx {MASK}"));
    }

    #[test]
    fn masks_the_canary_in_every_listed_encoding() {
        let canary = "CANARY s3cr3t+91ab#?\u{df}&";
        let mut redactor = Redactor::default();
        redactor.add(canary);
        for form in [
            "CANARY%20s3cr3t%2B91ab%23%3F%C3%9F%26",
            "CANARY%20s3cr3t+91ab%23%3F%C3%9F&",
            "CANARY+s3cr3t%2b91ab%23%3f%c3%9f%26",
            r"CANARY s3cr3t+91ab#?\u00df\u0026",
            r"CANARY s3cr3t+91ab#?\\u00df\\u0026",
            "Q0FOQVJZIHMzY3IzdCs5MWFiIz/DnyY=",
            "Q0FOQVJZIHMzY3IzdCs5MWFiIz_DnyY",
        ] {
            let text = format!("<{form}>");
            assert_eq!(redactor.redact(&text), format!("<{MASK}>"), "{form}");
        }
    }
}
